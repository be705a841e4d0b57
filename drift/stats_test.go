package drift

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

const tol = 1e-9

func approx(a, b, eps float64) bool {
	return math.Abs(a-b) <= eps*math.Max(1, math.Abs(b))
}

func TestPSI(t *testing.T) {
	tests := []struct {
		name     string
		ref, cur []float64
		want     float64
	}{
		{"identical", []float64{0.2, 0.3, 0.5}, []float64{0.2, 0.3, 0.5}, 0},
		// 0.25*ln 2 + 0.25*ln 1.5
		{"two bins", []float64{0.5, 0.5}, []float64{0.25, 0.75}, 0.2746530721670274},
		// 0.5*ln 2 + (1e-4-0.5)*ln(1e-4/0.5): the empty bin takes PSIEpsilon.
		{"empty bin", []float64{0.5, 0.5}, []float64{1, 0}, 4.60431846666895},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PSI(tt.ref, tt.cur); !approx(got, tt.want, tol) {
				t.Errorf("PSI(%v, %v) = %v, want %v", tt.ref, tt.cur, got, tt.want)
			}
		})
	}
}

func TestPSIBand(t *testing.T) {
	tests := []struct {
		give float64
		want string
	}{
		{0, "stable"}, {0.099, "stable"}, {0.1, "watch"}, {0.25, "watch"}, {0.26, "alert"},
	}
	for _, tt := range tests {
		if got := PSIBand(tt.give); got != tt.want {
			t.Errorf("PSIBand(%v) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestKSTwoSample(t *testing.T) {
	tests := []struct {
		name  string
		a, b  []float64
		wantD float64
		wantP float64
	}{
		// n_e = 1.5, lambda = (sqrt(1.5)+0.12+0.11/sqrt(1.5))*1 = 1.43456,
		// Q = 2*sum (-1)^(k-1) exp(-2 k^2 lambda^2).
		{"disjoint", []float64{1, 2, 3}, []float64{4, 5, 6}, 1, 0.03262165165202117},
		// Ties at 3 and 4: F_a steps to 0.75 and 1 while F_b steps to 0.25
		// and 0.5, so D = 0.5; n_e = 2, lambda = 0.805998.
		{"ties", []float64{4, 3, 2, 1}, []float64{3, 4, 5, 6}, 0.5, 0.5344157192165071},
		{"identical", []float64{1, 2, 3}, []float64{3, 2, 1}, 0, 1},
		{"empty", nil, []float64{1}, 0, 1},
		{"NaN ignored", []float64{1, math.NaN(), 2, 3}, []float64{4, 5, 6}, 1, 0.03262165165202117},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, p := KSTwoSample(tt.a, tt.b)
			if !approx(d, tt.wantD, tol) || !approx(p, tt.wantP, 1e-7) {
				t.Errorf("KSTwoSample(%v, %v) = %v, %v, want %v, %v", tt.a, tt.b, d, p, tt.wantD, tt.wantP)
			}
		})
	}
}

func TestKolmogorovQContinuity(t *testing.T) {
	// The two series forms must agree where they switch.
	lo, hi := kolmogorovQ(1.18-1e-9), kolmogorovQ(1.18+1e-9)
	if !approx(lo, hi, 1e-7) {
		t.Errorf("kolmogorovQ around 1.18 = %v and %v, want equal", lo, hi)
	}
}

func TestChiSquare(t *testing.T) {
	// Table [[10 20] [30 40]]: expected 12, 18, 28, 42.
	stat, df, p := ChiSquare([]float64{10, 20}, []float64{30, 40})
	wantStat := 4.0/12 + 4.0/18 + 4.0/28 + 4.0/42
	// With one degree of freedom the chi-square tail is erfc(sqrt(x/2)).
	wantP := math.Erfc(math.Sqrt(wantStat / 2))
	if !approx(stat, wantStat, tol) || df != 1 || !approx(p, wantP, 1e-9) {
		t.Errorf("ChiSquare = %v, %v, %v, want %v, 1, %v", stat, df, p, wantStat, wantP)
	}
	if gp := (distuv.ChiSquared{K: 1}).Survival(stat); !approx(p, gp, tol) {
		t.Errorf("ChiSquare p = %v, want distuv %v", p, gp)
	}
	// Categories empty on both sides do not count towards df.
	if _, df, _ := ChiSquare([]float64{10, 0, 20, 5}, []float64{30, 0, 40, 5}); df != 2 {
		t.Errorf("ChiSquare df with an empty category = %d, want 2", df)
	}
	if _, df, p := ChiSquare([]float64{0, 0}, []float64{3, 4}); df != 0 || p != 1 {
		t.Errorf("ChiSquare(empty ref) = _, %d, %v, want 0, 1", df, p)
	}
}

func TestChiSquareGoodnessOfFit(t *testing.T) {
	stat, df, p := ChiSquareGoodnessOfFit([]float64{0.5, 0.5}, []float64{60, 40})
	if !approx(stat, 4, tol) || df != 1 || !approx(p, math.Erfc(math.Sqrt(2)), 1e-9) {
		t.Errorf("ChiSquareGoodnessOfFit = %v, %v, %v, want 4, 1, %v", stat, df, p, math.Erfc(math.Sqrt(2)))
	}
	stat, df, p = ChiSquareGoodnessOfFit([]float64{0.2, 0.3, 0.5, 0}, []float64{20, 30, 50, 0})
	if stat != 0 || df != 2 || p != 1 {
		t.Errorf("ChiSquareGoodnessOfFit(perfect fit) = %v, %v, %v, want 0, 2, 1", stat, df, p)
	}
	counts := []float64{25 + 5, 25 - 5, 25 + 5, 25 - 5} // stat = 4 * 25/25 = 4
	stat, _, p = ChiSquareGoodnessOfFit([]float64{1, 1, 1, 1}, counts)
	if !approx(stat, 4, tol) {
		t.Errorf("ChiSquareGoodnessOfFit(%v) stat = %v, want 4", counts, stat)
	}
	if gp := (distuv.ChiSquared{K: 3}).Survival(4); !approx(p, gp, tol) {
		t.Errorf("ChiSquareGoodnessOfFit p = %v, want distuv %v", p, gp)
	}
}

func TestWasserstein1FromQuantiles(t *testing.T) {
	uniform := make([]float64, 101) // Q(u) = 100u: uniform on [0, 100]
	mids := make([]float64, 100)    // 0.5, 1.5, ..., 99.5
	for k := range uniform {
		uniform[k] = float64(k)
	}
	for i := range mids {
		mids[i] = float64(i) + 0.5
	}
	shift := func(x []float64, s float64) []float64 {
		out := make([]float64, len(x))
		for i := range x {
			out[i] = x[i] + s
		}
		return out
	}
	tests := []struct {
		name string
		refQ []float64
		cur  []float64
		want float64
	}{
		// On each percentile the linear reference runs from j to j+1 against
		// the constant j+0.5: a mean absolute difference of 0.25.
		{"midpoints", uniform, mids, 0.25},
		{"shift by 3", uniform, shift(mids, 3), 3},
		{"shift by -10", uniform, shift(mids, -10), 10},
		// Three knots, no trimming: integral_0^1 |2u - 1| du = 0.5.
		{"three knots", []float64{0, 1, 2}, []float64{1}, 0.5},
		{"empty", uniform, nil, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Wasserstein1FromQuantiles(tt.refQ, tt.cur)
			if math.IsNaN(tt.want) != math.IsNaN(got) || (!math.IsNaN(got) && !approx(got, tt.want, 1e-9)) {
				t.Errorf("Wasserstein1FromQuantiles(%s) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestWassersteinNoiseScale(t *testing.T) {
	// For the uniform on [0, 1], J = integral_0.01^0.99 sqrt(u(1-u)) du,
	// close to pi/8 minus the two trimmed tails.
	q := make([]float64, 101)
	for k := range q {
		q[k] = float64(k) / 100
	}
	got := wassersteinNoiseScale(q)
	var want float64
	for i := range 98000 {
		u := 0.01 + (float64(i)+0.5)/98000*0.98
		want += math.Sqrt(u*(1-u)) * 0.98 / 98000
	}
	if !approx(got, want, 1e-4) {
		t.Errorf("wassersteinNoiseScale(uniform) = %v, want %v", got, want)
	}
}

func TestJensenShannonDistance(t *testing.T) {
	tests := []struct {
		name string
		p, q []float64
		want float64
	}{
		{"identical", []float64{0.2, 0.8}, []float64{0.2, 0.8}, 0},
		{"disjoint", []float64{1, 0}, []float64{0, 1}, 1},
		// m = (0.75, 0.25): JSD = H(m) - (H(p)+H(q))/2 = 0.811278 - 0.5.
		{"half", []float64{0.5, 0.5}, []float64{1, 0}, 0.5579230452841438},
		{"counts are normalized", []float64{5, 5}, []float64{10, 0}, 0.5579230452841438},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := JensenShannonDistance(tt.p, tt.q); !approx(got, tt.want, 1e-9) {
				t.Errorf("JensenShannonDistance(%v, %v) = %v, want %v", tt.p, tt.q, got, tt.want)
			}
		})
	}
}

func TestCohensW(t *testing.T) {
	// One level moving from 13% to 23%, the rest scaled: 0.1/sqrt(0.13*0.87).
	ref := []float64{130, 870 * 0.5, 870 * 0.5}
	cur := []float64{230, 770 * 0.5, 770 * 0.5}
	if got, want := CohensW(ref, cur), 0.1/math.Sqrt(0.13*0.87); !approx(got, want, 1e-9) {
		t.Errorf("CohensW(%v, %v) = %v, want %v", ref, cur, got, want)
	}
	if got := CohensW([]float64{1, 1}, []float64{2, 2}); got != 0 {
		t.Errorf("CohensW(same shares) = %v, want 0", got)
	}
	// A level unseen in the reference adds twice its share.
	got := CohensW([]float64{100, 0}, []float64{90, 10})
	want := math.Sqrt(0.1*0.1/1 + 2*0.1)
	if !approx(got, want, 1e-9) {
		t.Errorf("CohensW(new level) = %v, want %v", got, want)
	}
}

func TestBinomialTestGreater(t *testing.T) {
	tests := []struct {
		k, n int
		p0   float64
		want float64
	}{
		{8, 10, 0.5, 56.0 / 1024}, // (45 + 10 + 1) / 2^10
		// 10*0.2^3*0.8^2 + 5*0.2^4*0.8 + 0.2^5
		{3, 5, 0.2, 0.05792},
		{0, 10, 0.3, 1},
		{11, 10, 0.3, 0},
		{1, 10, 0, 0},
		{10, 10, 1, 1},
	}
	for _, tt := range tests {
		if got := BinomialTestGreater(tt.k, tt.n, tt.p0); !approx(got, tt.want, 1e-12) {
			t.Errorf("BinomialTestGreater(%d, %d, %v) = %v, want %v", tt.k, tt.n, tt.p0, got, tt.want)
		}
	}
	// Against the exact term-by-term sum for a larger n.
	n, k, p0 := 200, 55, 0.2
	var want float64
	for i := k; i <= n; i++ {
		lc, _ := math.Lgamma(float64(n + 1))
		la, _ := math.Lgamma(float64(i + 1))
		lb, _ := math.Lgamma(float64(n - i + 1))
		want += math.Exp(lc - la - lb + float64(i)*math.Log(p0) + float64(n-i)*math.Log(1-p0))
	}
	if got := BinomialTestGreater(k, n, p0); !approx(got, want, 1e-10) {
		t.Errorf("BinomialTestGreater(%d, %d, %v) = %v, want %v", k, n, p0, got, want)
	}
	if got, g := BinomialTestGreater(k, n, p0), (distuv.Binomial{N: float64(n), P: p0}).Survival(float64(k-1)); !approx(got, g, 1e-8) {
		t.Errorf("BinomialTestGreater(%d, %d, %v) = %v, want distuv %v", k, n, p0, got, g)
	}
}
