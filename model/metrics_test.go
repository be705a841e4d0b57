package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func metricsNear(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= tol
}

func TestROCAUC(t *testing.T) {
	tests := []struct {
		name    string
		y, p, w []float64
		want    float64
	}{
		{name: "perfect", y: []float64{0, 0, 1, 1}, p: []float64{0.1, 0.2, 0.3, 0.4}, want: 1},
		{name: "reversed", y: []float64{1, 1, 0, 0}, p: []float64{0.1, 0.2, 0.3, 0.4}, want: 0},
		{name: "all tied", y: []float64{1, 0, 1, 0}, p: []float64{0.5, 0.5, 0.5, 0.5}, want: 0.5},
		// Positives at 0.8, 0.6, 0.6; negatives at 0.9, 0.6, 0.1.
		// Pair wins: 0.8 beats 0.6 and 0.1 (2); each 0.6 ties 0.6 (0.5) and
		// beats 0.1 (1), so 1.5 each. AUC = (2 + 1.5 + 1.5) / 9 = 5/9.
		{name: "ties", y: []float64{0, 1, 1, 0, 1, 0}, p: []float64{0.9, 0.8, 0.6, 0.6, 0.6, 0.1}, want: 5.0 / 9},
		// Weight 3 on the negative at 0.9: the positive at 0.8 now wins 2 of
		// 5 negative units, each 0.6 wins 1.5 of 5: (2+1.5+1.5)/(3*5) = 1/3.
		{name: "weighted", y: []float64{0, 1, 1, 0, 1, 0}, p: []float64{0.9, 0.8, 0.6, 0.6, 0.6, 0.1},
			w: []float64{3, 1, 1, 1, 1, 1}, want: 1.0 / 3},
		{name: "one class", y: []float64{1, 1}, p: []float64{0.2, 0.3}, want: math.NaN()},
		{name: "zero weight class", y: []float64{1, 0}, p: []float64{0.2, 0.3}, w: []float64{1, 0}, want: math.NaN()},
		{name: "NaN score", y: []float64{1, 0}, p: []float64{math.NaN(), 0.3}, want: math.NaN()},
		{name: "empty", want: math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ROCAUC(tt.y, tt.p, tt.w); !metricsNear(got, tt.want, 1e-12) {
				t.Errorf("ROCAUC(%v, %v, %v) = %v, want %v", tt.y, tt.p, tt.w, got, tt.want)
			}
		})
	}
}

func TestROCAUCPairwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for trial := range 20 {
		n := 50 + rng.IntN(300)
		y := make([]float64, n)
		p := make([]float64, n)
		w := make([]float64, n)
		for i := range y {
			if rng.Float64() < 0.3 {
				y[i] = 1
			}
			p[i] = math.Round(rng.Float64()*20) / 20 // plenty of ties
			if trial%2 == 0 {
				w[i] = 1
			} else {
				w[i] = rng.Float64() * 3
			}
		}
		var num, den float64
		for i := range y {
			for j := range y {
				if y[i] != 1 || y[j] != 0 {
					continue
				}
				ww := w[i] * w[j]
				den += ww
				switch {
				case p[i] > p[j]:
					num += ww
				case p[i] == p[j]:
					num += ww / 2
				}
			}
		}
		want := num / den
		if got := ROCAUC(y, p, w); math.Abs(got-want) > 1e-12 {
			t.Errorf("trial %d: ROCAUC = %v, want pairwise %v", trial, got, want)
		}
	}
}

func TestPRAUC(t *testing.T) {
	tests := []struct {
		name    string
		y, p, w []float64
		want    float64
	}{
		{name: "perfect", y: []float64{0, 0, 1, 1}, p: []float64{0.1, 0.2, 0.3, 0.4}, want: 1},
		// Thresholds in descending order, with 3 positives:
		//   0.9: TP=0 FP=1, R=0          (no recall gain)
		//   0.8: TP=1 FP=1, P=1/2, R=1/3 -> 1/3 * 1/2 = 1/6
		//   0.6: TP=3 FP=2, P=3/5, R=1   -> 2/3 * 3/5 = 2/5 (the tie enters at once)
		//   0.1: TP=3 FP=3, R=1          (no recall gain)
		// AP = 1/6 + 2/5 = 17/30, scikit-learn's average_precision_score.
		{name: "ties", y: []float64{0, 1, 1, 0, 1, 0}, p: []float64{0.9, 0.8, 0.6, 0.6, 0.6, 0.1}, want: 17.0 / 30},
		// Same with weight 2 on the top negative and 3 on the positive at 0.8
		// (5 positive units):
		//   0.9: TP=0 FP=2
		//   0.8: TP=3 FP=2, P=3/5, R=3/5 -> 3/5 * 3/5 = 9/25
		//   0.6: TP=5 FP=3, P=5/8, R=1   -> 2/5 * 5/8 = 1/4
		// AP = 9/25 + 1/4 = 61/100.
		{name: "weighted", y: []float64{0, 1, 1, 0, 1, 0}, p: []float64{0.9, 0.8, 0.6, 0.6, 0.6, 0.1},
			w: []float64{2, 3, 1, 1, 1, 1}, want: 0.61},
		// Rank 1 positive (P=1, R=1/2), rank 2 negative, rank 3 positive
		// (P=2/3, R=1): AP = 1/2 + 1/2 * 2/3 = 5/6.
		{name: "no ties", y: []float64{1, 0, 1}, p: []float64{0.9, 0.5, 0.2}, want: 5.0 / 6},
		{name: "all tied", y: []float64{1, 0, 0, 0}, p: []float64{0.5, 0.5, 0.5, 0.5}, want: 0.25},
		{name: "no positive", y: []float64{0, 0}, p: []float64{0.2, 0.3}, want: math.NaN()},
		{name: "no negative", y: []float64{1, 1}, p: []float64{0.2, 0.3}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PRAUC(tt.y, tt.p, tt.w); !metricsNear(got, tt.want, 1e-12) {
				t.Errorf("PRAUC(%v, %v, %v) = %v, want %v", tt.y, tt.p, tt.w, got, tt.want)
			}
		})
	}
}

// TestPRAUCDefinition compares PRAUC with a direct O(n^2) evaluation of
// sum_k (R_k - R_{k-1}) P_k over the distinct thresholds.
func TestPRAUCDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for trial := range 20 {
		n := 20 + rng.IntN(200)
		y := make([]float64, n)
		p := make([]float64, n)
		for i := range y {
			if rng.Float64() < 0.2 {
				y[i] = 1
			}
			p[i] = math.Round(rng.Float64()*30) / 30
		}
		y[0] = 1
		thresholds := slices.Clone(p)
		slices.Sort(thresholds)
		thresholds = slices.Compact(thresholds)
		slices.Reverse(thresholds)
		var want, prevR, pos float64
		for _, v := range y {
			pos += v
		}
		for _, th := range thresholds {
			var tp, fp float64
			for i := range p {
				if p[i] >= th {
					tp += y[i]
					fp += 1 - y[i]
				}
			}
			r := tp / pos
			want += (r - prevR) * tp / (tp + fp)
			prevR = r
		}
		if got := PRAUC(y, p, nil); math.Abs(got-want) > 1e-12 {
			t.Errorf("trial %d: PRAUC = %v, want %v", trial, got, want)
		}
	}
}

func TestLogLossBrier(t *testing.T) {
	tests := []struct {
		name             string
		y, p, w          []float64
		wantLog, wantBri float64
	}{
		{name: "uniform", y: []float64{1, 0}, p: []float64{0.8, 0.4},
			wantLog: -(math.Log(0.8) + math.Log(0.6)) / 2, wantBri: (0.04 + 0.16) / 2},
		{name: "weighted", y: []float64{1, 0}, p: []float64{0.8, 0.4}, w: []float64{1, 3},
			wantLog: -(math.Log(0.8) + 3*math.Log(0.6)) / 4, wantBri: (0.04 + 3*0.16) / 4},
		{name: "clipped", y: []float64{1, 0}, p: []float64{0, 1},
			// 1-1e-15 is not exact in binary, so the second term is
			// -log(1-(1-1e-15)) ≈ 34.43, not 34.54.
			wantLog: -(math.Log(1e-15) + math.Log1p(-(1 - 1e-15))) / 2, wantBri: 1},
		{name: "soft label", y: []float64{0.25}, p: []float64{0.5},
			wantLog: math.Log(2), wantBri: 0.0625},
		{name: "three rows", y: []float64{1, 0, 1}, p: []float64{0.9, 0.2, 0.4},
			wantLog: -(math.Log(0.9) + math.Log(0.8) + math.Log(0.4)) / 3, wantBri: 0.41 / 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LogLoss(tt.y, tt.p, tt.w); !metricsNear(got, tt.wantLog, 1e-9) {
				t.Errorf("LogLoss(%v, %v, %v) = %v, want %v", tt.y, tt.p, tt.w, got, tt.wantLog)
			}
			if got := Brier(tt.y, tt.p, tt.w); !metricsNear(got, tt.wantBri, 1e-12) {
				t.Errorf("Brier(%v, %v, %v) = %v, want %v", tt.y, tt.p, tt.w, got, tt.wantBri)
			}
		})
	}
}

func TestLiftAtTop(t *testing.T) {
	// Sorted by score: rows 0 (0.9), 1 (0.8), 2 (0.8), 9 (0.7), ...
	// Rows 1 and 2 tie; row 1 comes first by index.
	y := []float64{1, 0, 1, 0, 0, 0, 1, 0, 0, 0}
	p := []float64{0.9, 0.8, 0.8, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7}
	tests := []struct {
		give float64
		want float64
	}{
		{give: 0.1, want: 1 / 0.3},          // top 1: row 0, rate 1
		{give: 0.2, want: 0.5 / 0.3},        // top 2: rows 0, 1 (tie by index)
		{give: 0.3, want: (2.0 / 3) / 0.3},  // top 3: rows 0, 1, 2
		{give: 0.25, want: (2.0 / 3) / 0.3}, // ceil(2.5) = 3 rows
		{give: 1, want: 1},                  // everything
		{give: 1e-9, want: 1 / 0.3},         // at least one row
	}
	for _, tt := range tests {
		if got := LiftAtTop(y, p, tt.give); !metricsNear(got, tt.want, 1e-12) {
			t.Errorf("LiftAtTop(y, p, %v) = %v, want %v", tt.give, got, tt.want)
		}
	}
	if got := LiftAtTop([]float64{0, 0}, []float64{1, 2}, 0.5); !math.IsNaN(got) {
		t.Errorf("LiftAtTop(no positives) = %v, want NaN", got)
	}
}

func TestAdjustedRandIndex(t *testing.T) {
	tests := []struct {
		name string
		a, b []int
		want float64
	}{
		{name: "identical", a: []int{0, 0, 1, 1, 2}, b: []int{0, 0, 1, 1, 2}, want: 1},
		{name: "relabeled", a: []int{0, 0, 1, 1, 2}, b: []int{7, 7, -1, -1, 3}, want: 1},
		// Contingency {2}, {1, 1}: sum C(n_ij,2) = 1, rows C(2,2)+C(2,2) = 2,
		// columns C(2,2) = 1, C(4,2) = 6; expected = 2*1/6 = 1/3,
		// max = 3/2, ARI = (1 - 1/3)/(3/2 - 1/3) = 4/7.
		{name: "split cluster", a: []int{0, 0, 1, 1}, b: []int{0, 0, 1, 2}, want: 4.0 / 7},
		// Crossed halves: index 0, expected 2/3, max 2: (0-2/3)/(2-2/3) = -1/2.
		{name: "crossed", a: []int{0, 1, 0, 1}, b: []int{0, 0, 1, 1}, want: -0.5},
		{name: "one vs singletons", a: []int{0, 0, 0, 0}, b: []int{0, 1, 2, 3}, want: 0},
		{name: "both trivial", a: []int{5, 5, 5}, b: []int{1, 1, 1}, want: 1},
		{name: "empty", want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AdjustedRandIndex(tt.a, tt.b); !metricsNear(got, tt.want, 1e-12) {
				t.Errorf("AdjustedRandIndex(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestMetricsPanics(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{name: "ROCAUC lengths", f: func() { ROCAUC([]float64{1}, []float64{1, 2}, nil) }},
		{name: "ROCAUC weights", f: func() { ROCAUC([]float64{1, 0}, []float64{1, 2}, []float64{1}) }},
		{name: "ROCAUC label", f: func() { ROCAUC([]float64{2, 0}, []float64{1, 2}, nil) }},
		{name: "PRAUC lengths", f: func() { PRAUC([]float64{1}, nil, nil) }},
		{name: "LogLoss lengths", f: func() { LogLoss([]float64{1}, nil, nil) }},
		{name: "Brier weights", f: func() { Brier([]float64{1}, []float64{1}, []float64{}) }},
		{name: "LiftAtTop frac", f: func() { LiftAtTop([]float64{1}, []float64{1}, 0) }},
		{name: "ARI lengths", f: func() { AdjustedRandIndex([]int{1}, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", tt.name)
				}
			}()
			tt.f()
		})
	}
}

func BenchmarkROCAUC(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 100_000
	y := make([]float64, n)
	p := make([]float64, n)
	for i := range y {
		p[i] = rng.Float64()
		if rng.Float64() < p[i] {
			y[i] = 1
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		ROCAUC(y, p, nil)
	}
}
