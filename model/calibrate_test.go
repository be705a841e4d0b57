package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFitPlattRecovers(t *testing.T) {
	tests := []struct {
		name         string
		giveA, giveB float64
	}{
		{"steep", 2, -1},
		{"shallow", 0.5, 0.3},
		{"decreasing", -1.5, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			n := 40000
			m := make([]float64, n)
			y := make([]float64, n)
			for i := range n {
				m[i] = rng.NormFloat64() * 2
				if rng.Float64() < Sigmoid(tt.giveA*m[i]+tt.giveB) {
					y[i] = 1
				}
			}
			p, err := FitPlatt(m, y, nil)
			if err != nil {
				t.Fatalf("FitPlatt() error = %v", err)
			}
			if math.Abs(p.A-tt.giveA) > 0.06 || math.Abs(p.B-tt.giveB) > 0.06 {
				t.Errorf("FitPlatt() = %+v, want A=%v B=%v", *p, tt.giveA, tt.giveB)
			}
			if got, want := p.Prob(1), Sigmoid(p.A+p.B); got != want {
				t.Errorf("Prob(1) = %v, want %v", got, want)
			}
		})
	}
}

func TestFitPlattSeparable(t *testing.T) {
	m := []float64{-2, -1, 1, 2}
	y := []float64{0, 0, 1, 1}
	p, err := FitPlatt(m, y, nil)
	if err != nil {
		t.Fatalf("FitPlatt() error = %v", err)
	}
	if math.IsNaN(p.A) || math.IsInf(p.A, 0) || p.A <= 0 {
		t.Errorf("FitPlatt(separable) = %+v, want a finite positive slope", *p)
	}
	if _, err := FitPlatt([]float64{1, 2}, []float64{1, 1}, nil); err == nil {
		t.Errorf("FitPlatt(one class) error = nil, want an error")
	}
}

func TestFitIsotonic(t *testing.T) {
	tests := []struct {
		name         string
		score, y, w  []float64
		wantX, wantY []float64
	}{
		{
			name:  "hand PAV",
			score: []float64{1, 2, 3, 4, 5, 6},
			y:     []float64{0, 1, 0, 0, 1, 1},
			wantX: []float64{1, 3, 5, 6},
			wantY: []float64{0, 1.0 / 3, 1, 1},
		},
		{
			name:  "ties pooled",
			score: []float64{1, 1, 2, 2, 3},
			y:     []float64{0, 1, 1, 1, 0},
			wantX: []float64{1, 2.333333333333333},
			wantY: []float64{0.5, 2.0 / 3},
		},
		{
			name:  "weighted pooling",
			score: []float64{1, 2, 3},
			y:     []float64{1, 0, 1},
			w:     []float64{3, 1, 1},
			wantX: []float64{1.25, 3},
			wantY: []float64{0.75, 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iso, err := FitIsotonic(tt.score, tt.y, tt.w)
			if err != nil {
				t.Fatalf("FitIsotonic() error = %v", err)
			}
			if len(iso.X) != len(tt.wantX) {
				t.Fatalf("FitIsotonic() = %+v, want X=%v Y=%v", *iso, tt.wantX, tt.wantY)
			}
			for k := range iso.X {
				if math.Abs(iso.X[k]-tt.wantX[k]) > 1e-12 || math.Abs(iso.Y[k]-tt.wantY[k]) > 1e-12 {
					t.Errorf("FitIsotonic() = %+v, want X=%v Y=%v", *iso, tt.wantX, tt.wantY)
				}
			}
		})
	}
}

func TestIsotonicProbMonotone(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := 2000
	s := make([]float64, n)
	y := make([]float64, n)
	for i := range n {
		s[i] = rng.NormFloat64()
		if rng.Float64() < Sigmoid(2*s[i]) {
			y[i] = 1
		}
	}
	iso, err := FitIsotonic(s, y, nil)
	if err != nil {
		t.Fatalf("FitIsotonic() error = %v", err)
	}
	prev := math.Inf(-1)
	for v := -4.0; v <= 4; v += 0.01 {
		p := iso.Prob(v)
		if p < prev {
			t.Fatalf("Prob(%v) = %v < Prob(previous) = %v", v, p, prev)
		}
		prev = p
	}
	if got := iso.Prob(-100); got != iso.Y[0] {
		t.Errorf("Prob(-100) = %v, want %v", got, iso.Y[0])
	}
	if got := iso.Prob(100); got != iso.Y[len(iso.Y)-1] {
		t.Errorf("Prob(100) = %v, want %v", got, iso.Y[len(iso.Y)-1])
	}
	// Halfway between two block centres.
	mid := (iso.X[0] + iso.X[1]) / 2
	if got, want := iso.Prob(mid), (iso.Y[0]+iso.Y[1])/2; math.Abs(got-want) > 1e-12 {
		t.Errorf("Prob(%v) = %v, want %v", mid, got, want)
	}
}

func TestReliability(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n := 1003
	p := make([]float64, n)
	y := make([]float64, n)
	for i := range n {
		p[i] = rng.Float64()
		if i%7 == 0 {
			p[i] = 0.5 // ties
		}
		if rng.Float64() < p[i] {
			y[i] = 1
		}
	}
	bins := Reliability(y, p, 10)
	if len(bins) == 0 || len(bins) > 10 {
		t.Fatalf("Reliability() has %d bins, want 1..10", len(bins))
	}
	total := 0
	for k, b := range bins {
		total += b.N
		if b.Lo > b.MeanPredicted || b.MeanPredicted > b.Hi {
			t.Errorf("bin %d: MeanPredicted %v outside [%v, %v]", k, b.MeanPredicted, b.Lo, b.Hi)
		}
		if k > 0 && b.Lo <= bins[k-1].Hi {
			t.Errorf("bin %d: Lo %v <= previous Hi %v", k, b.Lo, bins[k-1].Hi)
		}
		if math.Abs(b.Observed-b.MeanPredicted) > 0.2 {
			t.Errorf("bin %d: Observed %v far from MeanPredicted %v", k, b.Observed, b.MeanPredicted)
		}
	}
	if total != n {
		t.Errorf("Reliability() counts sum to %d, want %d", total, n)
	}
}
