package drift

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/icpengine/icp"
)

// The statuses of an icp.FeatureDrift.
const (
	// StatusStable means no test crossed its threshold.
	StatusStable = "stable"
	// StatusWatch means a warning sign short of drift: PSI of 0.1 or more, a
	// p-value below the uncorrected alpha, or a distance above the threshold
	// that sampling noise could still explain.
	StatusWatch = "watch"
	// StatusDrift means the test crossed its threshold; it raises an alert.
	StatusDrift = "drift"
	// StatusInsufficient means too few values on either side to test.
	StatusInsufficient = "insufficient_data"
)

// The test names reported in icp.FeatureDrift.Test.
const (
	KSTest           = "ks"
	ChiSquareTest    = "chi_square"
	ChiSquareGOFTest = "chi_square_gof"
	WassersteinTest  = "wasserstein"
	CohensWTest      = "cohens_w"
)

// Level names used by CompareFeatures for the pooled categorical cells.
const (
	// MissingLevel is the cell of missing ("") categorical values.
	MissingLevel = "(missing)"
	// NewLevel is the cell of current levels absent from the reference.
	NewLevel = "(new)"
)

// Window holds the current values of each monitored feature, for example
// the last 1,000 scored accounts. Missing values are NaN (numeric) or ""
// (categorical).
type Window struct {
	Numeric     map[string][]float64 `json:"numeric"`
	Categorical map[string][]string  `json:"categorical"`
}

// Config holds the decision rules of the drift tests. The zero value is
// ready to use.
type Config struct {
	// MinWindow is the least number of current values (non-missing for
	// numeric features, all rows for categorical ones) a test needs; below it
	// the feature reports insufficient_data. Zero means 200.
	MinWindow int
	// MinReference is the least number of reference values a test needs.
	// Zero means 50.
	MinReference int
	// Alpha is the family-wise false-alarm rate of the p-value tests; it is
	// divided by the number of features tested (Bonferroni). Zero means 0.05.
	Alpha float64
	// DistanceThreshold is the Wasserstein (in reference standard
	// deviations) and Jensen-Shannon distance above which a large-reference
	// feature drifts. Zero means 0.1.
	DistanceThreshold float64
	// MinExpected is the least expected count of a chi-square cell; smaller
	// cells are pooled. Zero means 5.
	MinExpected float64
}

func (c Config) withDefaults() Config {
	if c.MinWindow <= 0 {
		c.MinWindow = 200
	}
	if c.MinReference <= 0 {
		c.MinReference = 50
	}
	if c.Alpha <= 0 || c.Alpha >= 1 {
		c.Alpha = 0.05
	}
	if c.DistanceThreshold <= 0 {
		c.DistanceThreshold = 0.1
	}
	if c.MinExpected <= 0 {
		c.MinExpected = 5
	}
	return c
}

// CompareFeatures tests every feature of ref against the current window w
// and returns one result per reference feature, sorted by feature name (then
// kind). A feature absent from w reports insufficient_data. Features of w
// missing from ref are ignored.
//
// Numeric features use the two-sample KS test when the reference keeps its
// raw Sample (at most SmallReferenceRows rows) and the Wasserstein distance
// otherwise; categorical features use the chi-square test of homogeneity or
// the Jensen-Shannon distance by the same rule. The p-value tests drift at
// p < Alpha/m, with m the number of features that had enough data; the
// distance tests drift when the distance exceeds DistanceThreshold and
// sampling noise alone would reach it with probability below Alpha/m.
func CompareFeatures(ref *Reference, w Window, cfg Config) []icp.FeatureDrift {
	cfg = cfg.withDefaults()
	if ref == nil {
		return nil
	}
	m := 0
	for i := range ref.Numeric {
		r := &ref.Numeric[i]
		if enoughNumeric(r, w.Numeric[r.Name], cfg) {
			m++
		}
	}
	for i := range ref.Categorical {
		r := &ref.Categorical[i]
		if len(w.Categorical[r.Name]) >= cfg.MinWindow && r.N >= cfg.MinReference {
			m++
		}
	}
	m = max(m, 1)
	out := make([]icp.FeatureDrift, 0, len(ref.Numeric)+len(ref.Categorical))
	for i := range ref.Numeric {
		out = append(out, compareNumeric(&ref.Numeric[i], w.Numeric[ref.Numeric[i].Name], cfg, m, "numeric"))
	}
	for i := range ref.Categorical {
		out = append(out, compareCategorical(&ref.Categorical[i], w.Categorical[ref.Categorical[i].Name], cfg, m))
	}
	for i := range out {
		sanitize(&out[i])
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Feature != out[j].Feature {
			return out[i].Feature < out[j].Feature
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

// ScoreDrift compares the current fit scores cur with the reference score
// distribution, with the same rules as a numeric feature tested alone (no
// Bonferroni correction).
func ScoreDrift(refScores NumericRef, cur []float64, cfg Config) icp.FeatureDrift {
	if refScores.Name == "" {
		refScores.Name = "score"
	}
	res := compareNumeric(&refScores, cur, cfg.withDefaults(), 1, "score")
	sanitize(&res)
	return res
}

// TierMix compares the current count of accounts per tier with the
// reference tier shares, by the chi-square goodness-of-fit test and PSI.
// Because with thousands of accounts a chi-square test flags shifts too
// small to matter, the mix drifts only when p < Alpha and PSI >= PSIWatch
// (0.1); either alone is a watch. Tiers are ordered as icp.Tiers, then any
// other tier names in ascending order.
func TierMix(ref map[icp.Tier]float64, cur map[icp.Tier]int, cfg Config) icp.FeatureDrift {
	cfg = cfg.withDefaults()
	tiers := icp.Tiers()
	known := make(map[icp.Tier]bool, len(tiers))
	for _, t := range tiers {
		known[t] = true
	}
	var extra []icp.Tier
	for t := range ref {
		if !known[t] {
			known[t] = true
			extra = append(extra, t)
		}
	}
	for t := range cur {
		if !known[t] {
			known[t] = true
			extra = append(extra, t)
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i] < extra[j] })
	tiers = append(tiers, extra...)
	props := make([]float64, len(tiers))
	counts := make([]float64, len(tiers))
	var n, s float64
	for i, t := range tiers {
		props[i] = math.Max(0, ref[t])
		counts[i] = float64(max(0, cur[t]))
		n += counts[i]
		s += props[i]
	}
	res := icp.FeatureDrift{
		Feature: "tier_mix", Kind: "tier_mix", Test: ChiSquareGOFTest,
		Threshold: cfg.Alpha, CorrectedAlpha: cfg.Alpha, Tests: 1,
		Window: int(n), N: int(n), PValue: 1,
	}
	if s <= 0 || n < float64(cfg.MinWindow) {
		res.Status = StatusInsufficient
		res.PSIBand = PSIBand(0)
		res.Detail = fmt.Sprintf("%d scored accounts, need %d", int(n), cfg.MinWindow)
		return res
	}
	rp := make([]float64, len(tiers))
	cp := make([]float64, len(tiers))
	for i := range tiers {
		rp[i] = props[i] / s
		cp[i] = counts[i] / n
	}
	res.PSI = PSI(rp, cp)
	res.PSIBand = PSIBand(res.PSI)
	res.Statistic, res.DF, res.PValue = ChiSquareGoodnessOfFit(rp, counts)
	sig := res.PValue < cfg.Alpha
	switch {
	case sig && res.PSI >= PSIWatch:
		res.Status = StatusDrift
	case sig || res.PSI >= PSIWatch:
		res.Status = StatusWatch
	default:
		res.Status = StatusStable
	}
	sanitize(&res)
	res.Detail = fmt.Sprintf("chi-square %.3g on %d df, p=%.2g (alpha %.2g); PSI %.3f (%s); drift needs both", res.Statistic, res.DF, res.PValue, cfg.Alpha, res.PSI, res.PSIBand)
	return res
}

func enoughNumeric(r *NumericRef, cur []float64, cfg Config) bool {
	if r.Count() < cfg.MinReference || len(r.Quantiles) == 0 {
		return false
	}
	n := 0
	for _, v := range cur {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			n++
		}
	}
	return n >= cfg.MinWindow
}

// numericScale is the reference standard deviation, or for a constant
// reference |mean| (1 when the mean is zero), so that Wasserstein distances
// are in reference standard deviations.
func numericScale(r *NumericRef) float64 {
	if r.Std > 0 {
		return r.Std
	}
	if r.Mean != 0 {
		return math.Abs(r.Mean)
	}
	return 1
}

func compareNumeric(r *NumericRef, cur []float64, cfg Config, m int, kind string) icp.FeatureDrift {
	x := finiteSorted(cur)
	res := icp.FeatureDrift{
		Feature: r.Name, Kind: kind, Window: len(cur), N: len(x), RefN: r.Count(),
		RefMissingRate: r.MissingRate, Tests: m, CorrectedAlpha: cfg.Alpha / float64(m), PValue: 1,
	}
	if len(cur) > 0 {
		res.MissingRate = float64(len(cur)-len(x)) / float64(len(cur))
	}
	if r.Sample != nil {
		res.Test = KSTest
		res.Threshold = res.CorrectedAlpha
	} else {
		res.Test = WassersteinTest
		res.Threshold = cfg.DistanceThreshold
	}
	if len(x) > 0 && len(r.Props) == len(r.Edges)+1 {
		res.PSI = PSI(r.Props, binProps(nil, r.Edges, x))
	}
	res.PSIBand = PSIBand(res.PSI)
	missing := fmt.Sprintf("missing %.1f%% (reference %.1f%%)", 100*res.MissingRate, 100*r.MissingRate)
	if !enoughNumeric(r, cur, cfg) {
		res.Status = StatusInsufficient
		res.Detail = fmt.Sprintf("%d current values (need %d), %d reference values (need %d); %s",
			len(x), cfg.MinWindow, res.RefN, cfg.MinReference, missing)
		return res
	}
	watch := res.PSI >= PSIWatch
	if r.Sample != nil {
		res.Statistic, res.PValue = ksSorted(r.Sample, x)
		watch = watch || res.PValue < cfg.Alpha
		res.Status = status(res.PValue < res.CorrectedAlpha, watch)
		res.Detail = fmt.Sprintf("KS D=%.3f, p=%.2g against corrected alpha %.2g (%d tests); PSI %.3f (%s); %s",
			res.Statistic, res.PValue, res.CorrectedAlpha, m, res.PSI, res.PSIBand, missing)
		return res
	}
	scale := numericScale(r)
	raw := wassersteinSorted(r.Quantiles, x)
	res.Statistic = raw / scale
	j := wassersteinNoiseScale(r.Quantiles)
	neff := 1 / (1/float64(len(x)) + 1/float64(res.RefN))
	trim := trimmedFraction(len(r.Quantiles))
	res.NoiseFloor = math.Sqrt(2/math.Pi) * j / (math.Sqrt(neff) * trim * scale)
	switch {
	case j > 0:
		// Under no drift sqrt(neff)*trim*W1 is a weighted average of |N(0,1)|
		// terms with total weight J. A single J*|Z| (all terms perfectly
		// correlated) dominates it in convex order; its two-sided normal tail
		// is used as a noise p-value that errs towards larger values.
		z := math.Sqrt(neff) * trim * raw / j
		res.PValue = math.Erfc(z / math.Sqrt2)
	case raw > 0:
		res.PValue = 0
	}
	over := res.Statistic > res.Threshold
	res.Status = status(over && res.PValue < res.CorrectedAlpha, watch || over)
	res.Detail = fmt.Sprintf("Wasserstein %.3f reference SDs (threshold %.3g, noise floor %.3f for %d values, noise p=%.2g against corrected alpha %.2g); PSI %.3f (%s); %s",
		res.Statistic, res.Threshold, res.NoiseFloor, len(x), res.PValue, res.CorrectedAlpha, res.PSI, res.PSIBand, missing)
	return res
}

func trimmedFraction(knots int) float64 {
	if knots >= 4 {
		return 1 - 2/float64(knots-1)
	}
	return 1
}

func status(drift, watch bool) string {
	switch {
	case drift:
		return StatusDrift
	case watch:
		return StatusWatch
	default:
		return StatusStable
	}
}

func compareCategorical(r *CategoricalRef, cur []string, cfg Config, m int) icp.FeatureDrift {
	// Cells: the reference levels, then the missing cell, then one pooled
	// cell for levels the reference never saw.
	k := len(r.Levels)
	refC := make([]float64, k+2)
	curC := make([]float64, k+2)
	copy(refC, r.Counts)
	refC[k] = math.Round(r.MissingRate * float64(r.N))
	index := make(map[string]int, k)
	for i, l := range r.Levels {
		index[l] = i
	}
	var missing int
	for _, v := range cur {
		switch i, ok := index[v]; {
		case v == "":
			curC[k]++
			missing++
		case ok:
			curC[i]++
		default:
			curC[k+1]++
		}
	}
	res := icp.FeatureDrift{
		Feature: r.Name, Kind: "categorical", Window: len(cur), N: len(cur), RefN: r.N,
		RefMissingRate: r.MissingRate, Tests: m, CorrectedAlpha: cfg.Alpha / float64(m), PValue: 1,
	}
	if len(cur) > 0 {
		res.MissingRate = float64(missing) / float64(len(cur))
	}
	small := r.N <= SmallReferenceRows
	if small {
		res.Test = ChiSquareTest
		res.Threshold = res.CorrectedAlpha
	} else {
		res.Test = CohensWTest
		res.Threshold = cfg.DistanceThreshold
	}
	var refT float64
	for _, c := range refC {
		refT += c
	}
	if len(cur) > 0 && refT > 0 {
		rp := make([]float64, len(refC))
		cp := make([]float64, len(curC))
		for i := range refC {
			rp[i] = refC[i] / refT
			cp[i] = curC[i] / float64(len(cur))
		}
		res.PSI = PSI(rp, cp)
	}
	res.PSIBand = PSIBand(res.PSI)
	newShare := 0.0
	if len(cur) > 0 {
		newShare = curC[k+1] / float64(len(cur))
	}
	extra := fmt.Sprintf("missing %.1f%% (reference %.1f%%), new levels %.1f%%", 100*res.MissingRate, 100*r.MissingRate, 100*newShare)
	if len(cur) < cfg.MinWindow || r.N < cfg.MinReference {
		res.Status = StatusInsufficient
		res.Detail = fmt.Sprintf("%d current rows (need %d), %d reference rows (need %d); %s",
			len(cur), cfg.MinWindow, r.N, cfg.MinReference, extra)
		return res
	}
	watch := res.PSI >= PSIWatch
	if small {
		a, b := poolCells(refC, curC, cfg.MinExpected)
		res.Statistic, res.DF, res.PValue = ChiSquare(a, b)
		watch = watch || res.PValue < cfg.Alpha
		res.Status = status(res.PValue < res.CorrectedAlpha, watch)
		res.Detail = fmt.Sprintf("chi-square %.3g on %d df, p=%.2g against corrected alpha %.2g (%d tests); PSI %.3f (%s); %s",
			res.Statistic, res.DF, res.PValue, res.CorrectedAlpha, m, res.PSI, res.PSIBand, extra)
		return res
	}
	res.JSDistance = JensenShannonDistance(refC, curC)
	neff := 1 / (1/float64(len(cur)) + 1/refT)
	df := -1
	for i := range refC {
		if refC[i] > 0 || curC[i] > 0 {
			df++
		}
	}
	res.DF = max(df, 1)
	w := CohensW(refC, curC)
	// Bias correction (Bergsma 2013): under no drift neff*w^2 ~ chi-square(df),
	// so w^2 carries a noise term of df/neff; subtract it.
	res.Statistic = math.Sqrt(math.Max(0, w*w-float64(res.DF)/neff))
	res.PValue = distuv.ChiSquared{K: float64(res.DF)}.Survival(neff * w * w)
	res.NoiseFloor = math.Sqrt(float64(res.DF) / neff)
	over := res.Statistic > res.Threshold
	res.Status = status(over && res.PValue < res.CorrectedAlpha, watch || over)
	res.Detail = fmt.Sprintf("Cohen's w %.3f after removing the noise floor %.3f for %d rows (threshold %.3g, noise p=%.2g against corrected alpha %.2g); Jensen-Shannon distance %.3f; PSI %.3f (%s); %s",
		res.Statistic, res.NoiseFloor, len(cur), res.Threshold, res.PValue, res.CorrectedAlpha, res.JSDistance, res.PSI, res.PSIBand, extra)
	return res
}

// CohensW returns Cohen's w, the square root of Pearson's chi-square
// divergence of the current distribution from the reference one:
//
//	w = sqrt( sum_i (q_i - p_i)^2 / p_i )
//
// with p = ref/sum(ref) and q = cur/sum(cur) (Cohen, Statistical Power
// Analysis, 1988, ch. 7: 0.1 is a small effect, 0.3 medium, 0.5 large). For
// a shift of one level's share from p to q, with the other levels scaled
// proportionally, w = |q-p| / sqrt(p(1-p)): the shift of that level's
// indicator in reference standard deviations, the unit of the numeric
// Wasserstein test. A category absent from the reference (p_i = 0, q_i > 0)
// uses the denominator (p_i+q_i)/2 instead and so adds 2*q_i, which keeps w
// finite and lets a new level holding a share q read like sqrt(2q). An
// empty input yields NaN. It panics if the lengths differ.
func CohensW(ref, cur []float64) float64 {
	if len(ref) != len(cur) {
		panic("drift: CohensW slice length mismatch")
	}
	var sp, sq float64
	for i := range ref {
		sp += ref[i]
		sq += cur[i]
	}
	if sp <= 0 || sq <= 0 {
		return math.NaN()
	}
	var chi float64
	for i := range ref {
		p, q := ref[i]/sp, cur[i]/sq
		switch {
		case p > 0:
			chi += (q - p) * (q - p) / p
		case q > 0:
			chi += 2 * q
		}
	}
	return math.Sqrt(chi)
}

// poolCells merges the cells whose expected count (under homogeneity) is
// below minExp in either row into one cell, keeping the others in order.
// If the pooled cell is itself still small, it is merged into the smallest
// kept cell.
func poolCells(a, b []float64, minExp float64) (pa, pb []float64) {
	var ta, tb float64
	for i := range a {
		ta += a[i]
		tb += b[i]
	}
	t := ta + tb
	var sa, sb float64
	pooled := false
	for i := range a {
		c := a[i] + b[i]
		if c == 0 {
			continue
		}
		if math.Min(ta, tb)*c/t < minExp {
			sa += a[i]
			sb += b[i]
			pooled = true
			continue
		}
		pa = append(pa, a[i])
		pb = append(pb, b[i])
	}
	if !pooled {
		return pa, pb
	}
	if math.Min(ta, tb)*(sa+sb)/t >= minExp || len(pa) == 0 {
		return append(pa, sa), append(pb, sb)
	}
	s := 0
	for i := range pa {
		if pa[i]+pb[i] < pa[s]+pb[s] {
			s = i
		}
	}
	pa[s] += sa
	pb[s] += sb
	return pa, pb
}

// sanitize replaces non-finite numbers, which only extreme inputs (values
// near MaxFloat64) produce, so that every result encodes as JSON.
func sanitize(r *icp.FeatureDrift) {
	r.Statistic = finiteOr(r.Statistic, math.MaxFloat64)
	r.PValue = finiteOr(r.PValue, 1)
	r.PSI = finiteOr(r.PSI, math.MaxFloat64)
	r.NoiseFloor = finiteOr(r.NoiseFloor, 0)
	r.JSDistance = finiteOr(r.JSDistance, 0)
	r.MissingRate = finiteOr(r.MissingRate, 0)
	r.RefMissingRate = finiteOr(r.RefMissingRate, 0)
}

// finiteOr returns x, or v when x is NaN or infinite (-Inf included).
func finiteOr(x, v float64) float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return v
	}
	return x
}
