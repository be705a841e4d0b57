package model

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// logisticSimulate draws n rows of p standard normal features and labels
// from the logistic model with the given coefficients.
func logisticSimulate(seed uint64, n int, coef []float64, intercept float64) (*mat.Dense, []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	p := len(coef)
	x := mat.NewDense(n, p, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		z := intercept
		for j := 0; j < p; j++ {
			v := rng.NormFloat64()
			x.Set(i, j, v)
			z += coef[j] * v
		}
		if rng.Float64() < Sigmoid(z) {
			y[i] = 1
		}
	}
	return x, y
}

// logisticNewton solves the same penalized problem as FitLogistic with plain
// Newton iterations (IRLS) on the full Hessian. It is the reference.
func logisticNewton(t *testing.T, x *mat.Dense, y, w []float64, l2 float64) (coef []float64, intercept float64) {
	t.Helper()
	n, p := x.Dims()
	theta := make([]float64, p+1) // coef..., intercept
	for iter := 0; iter < 100; iter++ {
		g := mat.NewVecDense(p+1, nil)
		h := mat.NewSymDense(p+1, nil)
		for i := 0; i < n; i++ {
			wi := 1.0
			if w != nil {
				wi = w[i]
			}
			xi := append(mat.Row(nil, i, x), 1)
			z := floats.Dot(theta, xi)
			mu := Sigmoid(z)
			for a := 0; a <= p; a++ {
				g.SetVec(a, g.AtVec(a)+wi*(mu-y[i])*xi[a])
				for b := a; b <= p; b++ {
					h.SetSym(a, b, h.At(a, b)+wi*mu*(1-mu)*xi[a]*xi[b])
				}
			}
		}
		for a := 0; a < p; a++ {
			g.SetVec(a, g.AtVec(a)+l2*theta[a])
			h.SetSym(a, a, h.At(a, a)+l2)
		}
		var step mat.VecDense
		if err := step.SolveVec(h, g); err != nil {
			t.Fatalf("newton solve: %v", err)
		}
		for a := range theta {
			theta[a] -= step.AtVec(a)
		}
		if mat.Norm(&step, math.Inf(1)) < 1e-13 {
			break
		}
	}
	return theta[:p], theta[p]
}

// logisticGradNorm returns the infinity norm of the gradient of the
// penalized objective (not divided by the weight) at m.
func logisticGradNorm(m *Logistic, x *mat.Dense, y, w []float64, l2 float64) float64 {
	n, p := x.Dims()
	g := make([]float64, p+1)
	for i := 0; i < n; i++ {
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		row := x.RawRowView(i)
		r := wi * (m.Prob(row) - y[i])
		floats.AddScaled(g[:p], r, row)
		g[p] += r
	}
	floats.AddScaled(g[:p], l2, m.Coef)
	return floats.Norm(g, math.Inf(1))
}

func TestFitLogisticRecoversCoefficients(t *testing.T) {
	coef := []float64{1.5, -2, 0.5, 0, 1}
	const intercept = -0.5
	x, y := logisticSimulate(7, 20000, coef, intercept)
	m, err := FitLogistic(x, y, nil, &LogisticConfig{L2: 1e-6})
	if err != nil {
		t.Fatalf("FitLogistic: %v", err)
	}
	for j, want := range coef {
		if got := m.Coef[j]; math.Abs(got-want) > 0.1 {
			t.Errorf("FitLogistic coef[%d] = %v, want %v ± 0.1", j, got, want)
		}
	}
	if math.Abs(m.Intercept-intercept) > 0.1 {
		t.Errorf("FitLogistic intercept = %v, want %v ± 0.1", m.Intercept, intercept)
	}
}

func TestFitLogisticMatchesNewton(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tests := []struct {
		name    string
		n       int
		weights bool
		l2      float64 // as passed in the config
		l2Eff   float64 // the penalty actually applied
		scale   []float64
	}{
		{name: "default penalty", n: 40, l2: 0, l2Eff: 1, scale: []float64{1, 1, 1}},
		{name: "weighted", n: 40, weights: true, l2: 0.3, l2Eff: 0.3, scale: []float64{1, 2, 0.5}},
		{name: "no penalty", n: 200, l2: -1, l2Eff: 0, scale: []float64{1, 1, 1}},
		{name: "badly scaled", n: 200, l2: 0.01, l2Eff: 0.01, scale: []float64{1e4, 1e-3, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, y := logisticSimulate(rng.Uint64(), tt.n, []float64{1, -1, 0.5}, 0.3)
			for i := 0; i < tt.n; i++ {
				for j, s := range tt.scale {
					x.Set(i, j, x.At(i, j)*s+10*s) // shifted too, to exercise the intercept
				}
			}
			var w []float64
			if tt.weights {
				w = make([]float64, tt.n)
				for i := range w {
					w[i] = 0.2 + 2*rng.Float64()
				}
			}
			got, err := FitLogistic(x, y, w, &LogisticConfig{L2: tt.l2})
			if err != nil {
				t.Fatalf("FitLogistic: %v", err)
			}
			wantCoef, wantIntercept := logisticNewton(t, x, y, w, tt.l2Eff)
			for j := range wantCoef {
				tol := 1e-6 * math.Max(1, math.Abs(wantCoef[j]))
				if math.Abs(got.Coef[j]-wantCoef[j]) > tol {
					t.Errorf("FitLogistic coef[%d] = %v, want %v (Newton)", j, got.Coef[j], wantCoef[j])
				}
			}
			if math.Abs(got.Intercept-wantIntercept) > 1e-5*math.Max(1, math.Abs(wantIntercept)) {
				t.Errorf("FitLogistic intercept = %v, want %v (Newton)", got.Intercept, wantIntercept)
			}
			if g := logisticGradNorm(got, x, y, w, tt.l2Eff); g > 1e-5*float64(tt.n) {
				t.Errorf("gradient norm at FitLogistic optimum = %v, want ~0", g)
			}
		})
	}
}

func TestFitLogisticWeightsAsDuplication(t *testing.T) {
	x, y := logisticSimulate(11, 300, []float64{0.8, -0.4, 1.2}, 0.1)
	n, p := x.Dims()
	rng := rand.New(rand.NewPCG(5, 6))
	w := make([]float64, n)
	var rows [][]float64
	var yd []float64
	for i := range w {
		w[i] = float64(rng.IntN(4)) // 0 drops the row
		for k := 0; k < int(w[i]); k++ {
			rows = append(rows, x.RawRowView(i))
			yd = append(yd, y[i])
		}
	}
	xd := mat.NewDense(len(rows), p, nil)
	for i, r := range rows {
		xd.SetRow(i, r)
	}
	cfg := &LogisticConfig{L2: 2}
	mw, err := FitLogistic(x, y, w, cfg)
	if err != nil {
		t.Fatalf("FitLogistic(weighted): %v", err)
	}
	md, err := FitLogistic(xd, yd, nil, cfg)
	if err != nil {
		t.Fatalf("FitLogistic(duplicated): %v", err)
	}
	for j := range mw.Coef {
		if math.Abs(mw.Coef[j]-md.Coef[j]) > 1e-6 {
			t.Errorf("FitLogistic(weighted) coef[%d] = %v, want %v (duplicated rows)", j, mw.Coef[j], md.Coef[j])
		}
	}
	if math.Abs(mw.Intercept-md.Intercept) > 1e-6 {
		t.Errorf("FitLogistic(weighted) intercept = %v, want %v (duplicated rows)", mw.Intercept, md.Intercept)
	}
}

func TestFitLogisticDeterministic(t *testing.T) {
	x, y := logisticSimulate(21, 10000, []float64{1, -1, 0.5, 0.25}, 0)
	a, err := FitLogistic(x, y, nil, nil)
	if err != nil {
		t.Fatalf("FitLogistic: %v", err)
	}
	b, err := FitLogistic(x, y, nil, nil)
	if err != nil {
		t.Fatalf("FitLogistic: %v", err)
	}
	// A matrix that is not a *mat.Dense takes the copying path.
	c, err := FitLogistic(mat.DenseCopyOf(x.T()).T(), y, nil, nil)
	if err != nil {
		t.Fatalf("FitLogistic(transposed view): %v", err)
	}
	for _, m := range []*Logistic{b, c} {
		if !floats.Equal(a.Coef, m.Coef) || a.Intercept != m.Intercept {
			t.Errorf("FitLogistic is not deterministic: %v then %v", a, m)
		}
	}
}

func TestFitLogisticErrors(t *testing.T) {
	good := mat.NewDense(4, 2, []float64{0, 1, 1, 0, 2, 2, 3, 1})
	goodY := []float64{0, 1, 0, 1}
	withValue := func(v float64) *mat.Dense {
		d := mat.DenseCopyOf(good)
		d.Set(2, 1, v)
		return d
	}
	tests := []struct {
		name string
		x    mat.Matrix
		y, w []float64
		cfg  *LogisticConfig
	}{
		{name: "single class", x: good, y: []float64{1, 1, 1, 1}},
		{name: "single weighted class", x: good, y: goodY, w: []float64{0, 1, 0, 0}},
		{name: "NaN in x", x: withValue(math.NaN()), y: goodY},
		{name: "Inf in x", x: withValue(math.Inf(-1)), y: goodY},
		{name: "NaN in y", x: good, y: []float64{0, math.NaN(), 0, 1}},
		{name: "label not binary", x: good, y: []float64{0, 2, 0, 1}},
		{name: "short y", x: good, y: goodY[:3]},
		{name: "short weights", x: good, y: goodY, w: []float64{1, 1}},
		{name: "negative weight", x: good, y: goodY, w: []float64{1, -1, 1, 1}},
		{name: "NaN weight", x: good, y: goodY, w: []float64{1, math.NaN(), 1, 1}},
		{name: "NaN penalty", x: good, y: goodY, cfg: &LogisticConfig{L2: math.NaN()}},
		{name: "no columns", x: &mat.Dense{}, y: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := FitLogistic(tt.x, tt.y, tt.w, tt.cfg)
			if err == nil {
				t.Fatalf("FitLogistic = %v, nil error; want an error", m)
			}
		})
	}
}

func TestLogisticAttributions(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	const p = 60
	m := &Logistic{Coef: make([]float64, p), Intercept: -1.25}
	x := make([]float64, p)
	ref := make([]float64, p)
	for j := 0; j < p; j++ {
		m.Coef[j] = rng.NormFloat64()
		x[j] = 10 * rng.NormFloat64()
		ref[j] = rng.NormFloat64()
	}
	for _, r := range [][]float64{ref, nil} {
		base, contrib := m.Attributions(x, r, nil)
		got := base + floats.Sum(contrib)
		want := m.Margin(x)
		if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Errorf("base + sum(Attributions) = %v, want Margin %v", got, want)
		}
	}
	dst := make([]float64, p)
	if _, c := m.Attributions(x, ref, dst); &c[0] != &dst[0] {
		t.Errorf("Attributions did not write into dst")
	}
}

func TestLogisticMarginBatch(t *testing.T) {
	x, _ := logisticSimulate(1, 50, []float64{1, 2, 3}, 0)
	m := &Logistic{Coef: []float64{0.5, -1, 2}, Intercept: 0.25}
	views := []struct {
		name string
		x    mat.Matrix
	}{
		{name: "dense", x: x},
		{name: "strided slice", x: mat.NewDense(50, 5, nil).Slice(0, 50, 1, 4)},
		{name: "transposed", x: mat.DenseCopyOf(x.T()).T()},
	}
	views[1].x.(*mat.Dense).Copy(x)
	for _, tt := range views {
		t.Run(tt.name, func(t *testing.T) {
			got := m.MarginBatch(tt.x, nil)
			for i := range got {
				want := m.Margin(x.RawRowView(i))
				if math.Abs(got[i]-want) > 1e-12 {
					t.Errorf("MarginBatch[%d] = %v, want %v", i, got[i], want)
				}
			}
		})
	}
}

func TestLogisticJSON(t *testing.T) {
	m := &Logistic{Coef: []float64{0.1, -2.5, 1e-300}, Intercept: -0.75}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	var got Logistic
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("json.Unmarshal(%s): %v", b, err)
	}
	if !floats.Equal(got.Coef, m.Coef) || got.Intercept != m.Intercept {
		t.Errorf("JSON round trip = %v, want %v", got, *m)
	}
}

func TestSigmoidLogit(t *testing.T) {
	tests := []struct {
		give, want float64
	}{
		{give: 0, want: 0.5},
		{give: 2, want: 1 / (1 + math.Exp(-2))},
		{give: -2, want: 1 / (1 + math.Exp(2))},
		{give: -745, want: math.Exp(-745)},
		{give: 800, want: 1},
		{give: math.Inf(1), want: 1},
		{give: math.Inf(-1), want: 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.give), func(t *testing.T) {
			if got := Sigmoid(tt.give); math.Abs(got-tt.want) > 1e-15*math.Max(tt.want, 1e-300) && got != tt.want {
				t.Errorf("Sigmoid(%v) = %v, want %v", tt.give, got, tt.want)
			}
			if math.IsInf(tt.give, 0) || math.Abs(tt.give) > 30 {
				return
			}
			if got := Logit(Sigmoid(tt.give)); math.Abs(got-tt.give) > 1e-12 {
				t.Errorf("Logit(Sigmoid(%v)) = %v, want %v", tt.give, got, tt.give)
			}
		})
	}
	if got := Logit(1e-300); math.Abs(got-math.Log(1e-300)) > 1e-12 {
		t.Errorf("Logit(1e-300) = %v, want %v", got, math.Log(1e-300))
	}
	for _, p := range []float64{-0.1, 1.1, math.NaN()} {
		if got := Logit(p); !math.IsNaN(got) {
			t.Errorf("Logit(%v) = %v, want NaN", p, got)
		}
	}
	if got := Logit(0); !math.IsInf(got, -1) {
		t.Errorf("Logit(0) = %v, want -Inf", got)
	}
}

func BenchmarkFitLogistic(b *testing.B) {
	coef := make([]float64, 60)
	rng := rand.New(rand.NewPCG(1, 2))
	for j := range coef {
		coef[j] = 0.3 * rng.NormFloat64()
	}
	for _, n := range []int{10_000, 100_000} {
		x, y := logisticSimulate(uint64(n), n, coef, -1)
		b.Run(fmt.Sprintf("rows=%d/cols=60", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := FitLogistic(x, y, nil, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLogisticMargin(b *testing.B) {
	m := &Logistic{Coef: make([]float64, 60), Intercept: 0.5}
	x := make([]float64, 60)
	for j := range x {
		m.Coef[j] = float64(j) / 60
		x[j] = 1 - float64(j)/60
	}
	b.ReportAllocs()
	var s float64
	for b.Loop() {
		s += m.Margin(x)
	}
	_ = s
}
