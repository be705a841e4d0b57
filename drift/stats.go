package drift

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// PSIEpsilon is the proportion that PSI substitutes for an empty bin (on
// either side) so that the logarithm stays finite. The proportions are not
// renormalized afterwards; with 10 bins the effect on PSI is below 1e-3
// unless a bin is empty.
const PSIEpsilon = 1e-4

// The PSI bands: below PSIWatch the feature is stable, from PSIWatch up to
// PSIAlert it is worth watching, above PSIAlert it has shifted materially.
const (
	PSIWatch = 0.1
	PSIAlert = 0.25
)

// PSI returns the population stability index of the current proportions cur
// against the reference proportions ref, over the same bins:
//
//	PSI = sum_i (cur_i - ref_i) * ln(cur_i / ref_i)
//
// where a proportion below PSIEpsilon is replaced by PSIEpsilon. PSI is the
// symmetrized Kullback-Leibler divergence (Jeffreys divergence) of the two
// binned distributions; the usual reading (Siddiqi, Credit Risk Scorecards,
// 2006) is below 0.1 stable, 0.1 to 0.25 watch, above 0.25 alert (see
// PSIBand). Under no drift, with n current and N reference rows over k bins,
// PSI is about chi-square(k-1) * (1/n + 1/N), so small windows read higher.
// PSI panics if the lengths differ.
func PSI(ref, cur []float64) float64 {
	if len(ref) != len(cur) {
		panic("drift: PSI slice length mismatch")
	}
	var psi float64
	for i := range ref {
		r := math.Max(ref[i], PSIEpsilon)
		c := math.Max(cur[i], PSIEpsilon)
		psi += (c - r) * math.Log(c/r)
	}
	return psi
}

// PSIBand names the band of a PSI value: "stable" below PSIWatch, "watch"
// up to PSIAlert, "alert" above it.
func PSIBand(psi float64) string {
	switch {
	case psi < PSIWatch:
		return "stable"
	case psi <= PSIAlert:
		return "watch"
	default:
		return "alert"
	}
}

// KSTwoSample returns the two-sample Kolmogorov-Smirnov statistic
//
//	D = sup_x |F_a(x) - F_b(x)|
//
// computed exactly from the two empirical distribution functions (ties are
// stepped over together), and its asymptotic p-value from the Kolmogorov
// distribution with Stephens' small-sample correction (Stephens 1970;
// Numerical Recipes, 3rd ed., section 14.3.3):
//
//	n_e = n_a*n_b/(n_a+n_b),  lambda = (sqrt(n_e) + 0.12 + 0.11/sqrt(n_e)) * D
//	p = Q_KS(lambda) = 2 * sum_{k>=1} (-1)^(k-1) * exp(-2 k^2 lambda^2)
//
// With tied values (integer counts) the p-value is conservative. NaN values
// are ignored; the inputs are not modified. When either sample is empty,
// KSTwoSample returns d = 0 and p = 1.
func KSTwoSample(a, b []float64) (d, p float64) {
	x := finiteSorted(a)
	y := finiteSorted(b)
	return ksSorted(x, y)
}

func ksSorted(x, y []float64) (d, p float64) {
	if len(x) == 0 || len(y) == 0 {
		return 0, 1
	}
	na, nb := float64(len(x)), float64(len(y))
	i, j := 0, 0
	for i < len(x) && j < len(y) {
		v := math.Min(x[i], y[j])
		for i < len(x) && x[i] <= v {
			i++
		}
		for j < len(y) && y[j] <= v {
			j++
		}
		d = math.Max(d, math.Abs(float64(i)/na-float64(j)/nb))
	}
	ne := na * nb / (na + nb)
	sq := math.Sqrt(ne)
	return d, kolmogorovQ((sq + 0.12 + 0.11/sq) * d)
}

// kolmogorovQ returns P[K > lambda] for the Kolmogorov distribution, using
// the alternating series for large lambda and the Jacobi theta form
// P[K <= lambda] = sqrt(2 pi)/lambda * sum_k exp(-(2k-1)^2 pi^2/(8 lambda^2))
// for small lambda, where the first converges slowly.
func kolmogorovQ(lambda float64) float64 {
	switch {
	case lambda <= 0:
		return 1
	case lambda < 1.18:
		var s float64
		for k := 1; k <= 5; k++ {
			t := float64(2*k - 1)
			s += math.Exp(-t * t * math.Pi * math.Pi / (8 * lambda * lambda))
		}
		return clamp01(1 - math.Sqrt(2*math.Pi)/lambda*s)
	default:
		var s float64
		sign := 1.0
		for k := 1; k <= 100; k++ {
			term := math.Exp(-2 * float64(k*k) * lambda * lambda)
			s += sign * term
			if term < 1e-17 {
				break
			}
			sign = -sign
		}
		return clamp01(2 * s)
	}
}

// ChiSquare returns Pearson's chi-square test of homogeneity of two count
// vectors over the same categories (a 2 x k contingency table):
//
//	E_ri = R_r * C_i / T,  stat = sum_{r,i} (O_ri - E_ri)^2 / E_ri
//
// with R_r the row totals, C_i the category totals and T the grand total;
// df = k' - 1 where k' counts the categories with a non-zero total, and p is
// the upper tail of the chi-square distribution with df degrees of freedom
// (gonum distuv.ChiSquared). Use it when the reference is itself a sample
// (counts); use ChiSquareGoodnessOfFit when the reference proportions are
// known. Cells with an expected count below 5 make the p-value unreliable;
// pool them first (CompareFeatures does). ChiSquare returns df = 0, p = 1
// when either row is empty. It panics if the lengths differ.
func ChiSquare(refCounts, curCounts []float64) (stat float64, df int, p float64) {
	if len(refCounts) != len(curCounts) {
		panic("drift: ChiSquare slice length mismatch")
	}
	var r1, r2 float64
	for i := range refCounts {
		r1 += refCounts[i]
		r2 += curCounts[i]
	}
	if r1 <= 0 || r2 <= 0 {
		return 0, 0, 1
	}
	t := r1 + r2
	k := 0
	for i := range refCounts {
		c := refCounts[i] + curCounts[i]
		if c <= 0 {
			continue
		}
		k++
		e1, e2 := r1*c/t, r2*c/t
		stat += (refCounts[i]-e1)*(refCounts[i]-e1)/e1 + (curCounts[i]-e2)*(curCounts[i]-e2)/e2
	}
	df = k - 1
	if df < 1 {
		return 0, 0, 1
	}
	return stat, df, distuv.ChiSquared{K: float64(df)}.Survival(stat)
}

// ChiSquareGoodnessOfFit returns Pearson's goodness-of-fit test of the
// counts cur against known proportions props:
//
//	E_i = n * props_i / sum(props),  stat = sum_i (cur_i - E_i)^2 / E_i
//
// with df = k - 1 over the k categories with props_i > 0. A count in a
// category with zero expected share makes stat infinite and p zero. It
// returns df = 0, p = 1 when cur is empty and panics if the lengths differ.
func ChiSquareGoodnessOfFit(props, cur []float64) (stat float64, df int, p float64) {
	if len(props) != len(cur) {
		panic("drift: ChiSquareGoodnessOfFit slice length mismatch")
	}
	var n, s float64
	for i := range props {
		n += cur[i]
		s += props[i]
	}
	if n <= 0 || s <= 0 {
		return 0, 0, 1
	}
	k := 0
	for i := range props {
		e := n * props[i] / s
		if e <= 0 {
			if cur[i] > 0 {
				stat = math.Inf(1)
			}
			continue
		}
		k++
		stat += (cur[i] - e) * (cur[i] - e) / e
	}
	df = k - 1
	if df < 1 {
		return 0, 0, 1
	}
	return stat, df, distuv.ChiSquared{K: float64(df)}.Survival(stat)
}

// Wasserstein1FromQuantiles returns the first Wasserstein (earth mover's)
// distance between the reference, given by its quantile function refQ, and
// the current values cur, in the units of the data:
//
//	W1 = 1/(hi-lo) * integral_lo^hi |Q_ref(u) - Q_cur(u)| du
//
// Q_ref interpolates linearly between the L = len(refQ) knots at u = k/(L-1)
// (101 knots: the percentiles of NumericRef.Quantiles); Q_cur is the
// empirical quantile function (a step function) of cur. The integral is
// computed exactly over the central range: the first and last knot segment
// are trimmed (lo = 1/(L-1), hi = 1-lo, that is the central 98% with 101
// knots) when L >= 4, because a stored percentile says nothing about the
// shape of the extreme 1%, and a window's extreme percent is a handful of
// rows. A pure shift by s therefore yields exactly |s|. CompareFeatures
// divides the result by the reference standard deviation (see
// NumericRef.Std). NaN values in cur are ignored; an empty cur or a refQ
// with fewer than 2 knots yields NaN. The inputs are not modified.
func Wasserstein1FromQuantiles(refQ []float64, cur []float64) float64 {
	return wassersteinSorted(refQ, finiteSorted(cur))
}

func wassersteinSorted(refQ, c []float64) float64 {
	L := len(refQ)
	if L < 2 || len(c) == 0 {
		return math.NaN()
	}
	seg := float64(L - 1)
	lo, hi := 0.0, 1.0
	if L >= 4 {
		lo, hi = 1/seg, 1-1/seg
	}
	n := float64(len(c))
	k := min(int(lo*seg), L-2)
	j := min(int(lo*n), len(c)-1)
	qr := func(u float64) float64 {
		t := u*seg - float64(k)
		return refQ[k] + t*(refQ[k+1]-refQ[k])
	}
	u := lo
	var sum float64
	for u < hi {
		uk := float64(k+1) / seg
		uj := float64(j+1) / n
		next := math.Min(math.Min(uk, uj), hi)
		if next > u {
			da := qr(u) - c[j]
			db := qr(next) - c[j]
			w := next - u
			if (da >= 0) == (db >= 0) {
				sum += math.Abs(da+db) / 2 * w
			} else {
				sum += (da*da + db*db) / (2 * (math.Abs(da) + math.Abs(db))) * w
			}
		}
		if next >= uk && k < L-2 {
			k++
		}
		if next >= uj && j < len(c)-1 {
			j++
		}
		if next >= hi || (next <= u && k == L-2 && j == len(c)-1) {
			break
		}
		u = next
	}
	return sum / (hi - lo)
}

// wassersteinNoiseScale returns J = integral_lo^hi sqrt(u(1-u)) dQ(u) over
// the same central range as Wasserstein1FromQuantiles, in the units of the
// data. Under no drift, sqrt(n_eff) * W1 * (hi-lo) behaves like
// integral |B(u)| dQ(u) for a Brownian bridge B (del Barrio, Gine and Matran
// 1999), whose mean is sqrt(2/pi) * J.
func wassersteinNoiseScale(refQ []float64) float64 {
	L := len(refQ)
	if L < 2 {
		return 0
	}
	first, last := 0, L-1
	if L >= 4 {
		first, last = 1, L-2
	}
	seg := float64(L - 1)
	var j float64
	for k := first; k < last; k++ {
		u := (float64(k) + 0.5) / seg
		j += math.Sqrt(u*(1-u)) * (refQ[k+1] - refQ[k])
	}
	return j
}

// JensenShannonDistance returns the Jensen-Shannon distance between the
// distributions p and q, in base 2 so that it lies in [0, 1]:
//
//	m = (p+q)/2,  JSD = (KL(p||m) + KL(q||m)) / 2,  distance = sqrt(JSD)
//
// with KL in bits and 0*log(0) = 0 (Lin 1991; Endres and Schindelin 2003 for
// the square root being a metric). p and q are normalized to sum to one
// first; an all-zero input yields NaN. It panics if the lengths differ.
func JensenShannonDistance(p, q []float64) float64 {
	if len(p) != len(q) {
		panic("drift: JensenShannonDistance slice length mismatch")
	}
	var sp, sq float64
	for i := range p {
		sp += p[i]
		sq += q[i]
	}
	if sp <= 0 || sq <= 0 {
		return math.NaN()
	}
	var js float64
	for i := range p {
		a, b := p[i]/sp, q[i]/sq
		m := (a + b) / 2
		if a > 0 {
			js += a * math.Log2(a/m) / 2
		}
		if b > 0 {
			js += b * math.Log2(b/m) / 2
		}
	}
	return math.Sqrt(clamp01(js))
}

// BinomialTestGreater returns the exact one-sided p-value P[X >= k] for
// X ~ Binomial(n, p0):
//
//	P[X >= k] = sum_{i=k}^{n} C(n,i) p0^i (1-p0)^(n-i)
//
// summed term by term from the log-pmf at k (log-gamma) and the ratio
// pmf(i+1)/pmf(i) = (n-i)/(i+1) * p0/(1-p0). It returns 1 for k <= 0 and 0
// for k > n, and panics if n < 0 or p0 is outside [0, 1].
func BinomialTestGreater(k, n int, p0 float64) float64 {
	if n < 0 || p0 < 0 || p0 > 1 || math.IsNaN(p0) {
		panic("drift: BinomialTestGreater bad arguments")
	}
	switch {
	case k <= 0:
		return 1
	case k > n:
		return 0
	case p0 == 0:
		return 0
	case p0 == 1:
		return 1
	}
	lg := func(x float64) float64 { v, _ := math.Lgamma(x); return v }
	logTerm := lg(float64(n+1)) - lg(float64(k+1)) - lg(float64(n-k+1)) +
		float64(k)*math.Log(p0) + float64(n-k)*math.Log1p(-p0)
	term := math.Exp(logTerm)
	odds := p0 / (1 - p0)
	sum := term
	for i := k; i < n; i++ {
		term *= float64(n-i) / float64(i+1) * odds
		sum += term
		if term < sum*1e-17 && float64(i) > float64(n)*p0 {
			break
		}
	}
	return clamp01(sum)
}

func clamp01(x float64) float64 { return math.Min(1, math.Max(0, x)) }
