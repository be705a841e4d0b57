package drift

import (
	"math"
	"sort"

	"github.com/icpengine/icp"
)

// SmallReferenceRows is the largest reference, in rows, for which the
// p-value tests (two-sample KS, chi-square) are used; larger references use
// the distance tests (Wasserstein, Jensen-Shannon). A NumericRef keeps its raw
// Sample exactly when N is at most SmallReferenceRows.
const SmallReferenceRows = 1000

// NumericRef is the compact reference distribution of one numeric feature,
// as saved in the model artifact.
type NumericRef struct {
	// Name is the feature (column) name.
	Name string `json:"name"`
	// N is the number of reference rows, missing values included.
	N int `json:"n"`
	// MissingRate is the share of the N rows whose value was missing.
	MissingRate float64 `json:"missing_rate"`
	// Edges are the inner cut points of the PSI bins: the distinct reference
	// deciles (nine of them, fewer when values are tied). Bin i holds the
	// values x with Edges[i-1] < x <= Edges[i].
	Edges []float64 `json:"edges"`
	// Props is the reference share of non-missing values in each bin;
	// len(Props) == len(Edges)+1.
	Props []float64 `json:"props"`
	// Quantiles are the reference quantiles at 0%, 1%, ..., 100% (101 values,
	// linear interpolation between order statistics), nil when every value
	// was missing.
	Quantiles []float64 `json:"quantiles"`
	// Mean and Std are the mean and the population standard deviation of the
	// non-missing values.
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	// Sample holds the non-missing reference values in ascending order when
	// N <= SmallReferenceRows, for the exact two-sample KS test, and is nil
	// otherwise.
	Sample []float64 `json:"sample,omitempty"`
}

// Count returns the number of non-missing reference values.
func (r *NumericRef) Count() int {
	return int(math.Round(float64(r.N) * (1 - r.MissingRate)))
}

// NewNumericRef summarizes the reference values of one numeric feature.
// NaN and infinite values count as missing. values is not modified.
func NewNumericRef(name string, values []float64) NumericRef {
	x := finiteSorted(values)
	ref := NumericRef{Name: name, N: len(values)}
	if len(values) > 0 {
		ref.MissingRate = float64(len(values)-len(x)) / float64(len(values))
	}
	if len(x) == 0 {
		ref.Props = []float64{1}
		return ref
	}
	// Deciles are taken as order statistics (the value at rank ceil(p*n)),
	// so every edge is a value that occurs in the data and tied values never
	// straddle an edge.
	for d := 1; d <= 9; d++ {
		e := x[max(0, int(math.Ceil(float64(d)/10*float64(len(x))))-1)]
		if len(ref.Edges) == 0 || e > ref.Edges[len(ref.Edges)-1] {
			ref.Edges = append(ref.Edges, e)
		}
	}
	// The largest value needs no edge of its own: the last bin is open.
	if n := len(ref.Edges); n > 0 && ref.Edges[n-1] == x[len(x)-1] {
		ref.Edges = ref.Edges[:n-1]
	}
	ref.Props = binProps(nil, ref.Edges, x)
	ref.Quantiles = make([]float64, 101)
	for k := range ref.Quantiles {
		ref.Quantiles[k] = quantileLinear(x, float64(k)/100)
	}
	ref.Mean, ref.Std = meanStd(x)
	if len(values) <= SmallReferenceRows {
		ref.Sample = x
	}
	return ref
}

// CategoricalRef is the compact reference distribution of one categorical
// feature, as saved in the model artifact.
type CategoricalRef struct {
	// Name is the feature (column) name.
	Name string `json:"name"`
	// N is the number of reference rows, missing values included.
	N int `json:"n"`
	// MissingRate is the share of the N rows whose value was missing ("").
	MissingRate float64 `json:"missing_rate"`
	// Levels are the distinct non-missing values in ascending order.
	Levels []string `json:"levels"`
	// Props is the share of non-missing rows at each level, aligned with
	// Levels.
	Props []float64 `json:"props"`
	// Counts is the number of rows at each level, aligned with Levels.
	Counts []float64 `json:"counts"`
}

// NewCategoricalRef summarizes the reference values of one categorical
// feature; "" is missing. A tag list is best given as one categorical per
// tag (for example "yes"/"no" per tag); that choice is the caller's.
func NewCategoricalRef(name string, values []string) CategoricalRef {
	ref := CategoricalRef{Name: name, N: len(values)}
	counts := make(map[string]float64)
	var missing, present float64
	for _, v := range values {
		if v == "" {
			missing++
			continue
		}
		counts[v]++
		present++
	}
	if len(values) > 0 {
		ref.MissingRate = missing / float64(len(values))
	}
	ref.Levels = make([]string, 0, len(counts))
	for l := range counts {
		ref.Levels = append(ref.Levels, l)
	}
	sort.Strings(ref.Levels)
	ref.Props = make([]float64, len(ref.Levels))
	ref.Counts = make([]float64, len(ref.Levels))
	for i, l := range ref.Levels {
		ref.Counts[i] = counts[l]
		ref.Props[i] = counts[l] / present
	}
	return ref
}

// Reference is the set of reference distributions saved in the model
// artifact: one entry per monitored feature, plus the optional references
// for the score, the tier mix and the winners.
type Reference struct {
	// Numeric holds the numeric features, sorted by name.
	Numeric []NumericRef `json:"numeric"`
	// Categorical holds the categorical features, sorted by name.
	Categorical []CategoricalRef `json:"categorical"`
	// Score is the distribution of the fit scores of the reference (for
	// example holdout) accounts, nil when not monitored.
	Score *NumericRef `json:"score,omitempty"`
	// Tiers is the reference share of accounts per tier, nil when not
	// monitored.
	Tiers map[icp.Tier]float64 `json:"tiers,omitempty"`
	// WinnerScores is the distribution of the fit scores of the training
	// (or holdout) winners, nil when not monitored.
	WinnerScores *NumericRef `json:"winner_scores,omitempty"`
	// ExpectedOutsideShare is the share of holdout winners that the model
	// placed in tier3 or non_fit; zero disables the ICP drift test.
	ExpectedOutsideShare float64 `json:"expected_outside_share,omitempty"`
}

// Sort orders the numeric and categorical references by name, so that
// the artifact JSON is deterministic.
func (r *Reference) Sort() {
	sort.Slice(r.Numeric, func(i, j int) bool { return r.Numeric[i].Name < r.Numeric[j].Name })
	sort.Slice(r.Categorical, func(i, j int) bool { return r.Categorical[i].Name < r.Categorical[j].Name })
}

// meanStd returns the mean and population standard deviation of x, scaled
// by the largest magnitude so that huge values do not overflow.
func meanStd(x []float64) (mean, std float64) {
	var s float64
	for _, v := range x {
		s = math.Max(s, math.Abs(v))
	}
	if s == 0 {
		return 0, 0
	}
	var sum float64
	for _, v := range x {
		sum += v / s
	}
	m := sum / float64(len(x))
	var ss float64
	for _, v := range x {
		d := v/s - m
		ss += d * d
	}
	return m * s, math.Sqrt(ss/float64(len(x))) * s
}

// finiteSorted returns the finite values of x in a new ascending slice.
func finiteSorted(x []float64) []float64 {
	out := make([]float64, 0, len(x))
	for _, v := range x {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	sort.Float64s(out)
	return out
}

// quantileLinear returns the p-quantile of the ascending slice x by linear
// interpolation between order statistics (Hyndman and Fan type 7).
func quantileLinear(x []float64, p float64) float64 {
	h := p * float64(len(x)-1)
	lo := int(math.Floor(h))
	if lo >= len(x)-1 {
		return x[len(x)-1]
	}
	t := h - float64(lo)
	if t == 0 {
		return x[lo]
	}
	// Weighted form: no overflow when x[lo+1]-x[lo] exceeds MaxFloat64.
	return x[lo]*(1-t) + x[lo+1]*t
}

// binProps stores in dst the share of the values of x falling in each bin
// cut by edges (bin i holds edges[i-1] < v <= edges[i]), ignoring NaN and
// infinite values. A nil dst allocates. When no value is finite, every share
// is zero.
func binProps(dst, edges, x []float64) []float64 {
	if dst == nil {
		dst = make([]float64, len(edges)+1)
	}
	if len(dst) != len(edges)+1 {
		panic("drift: bin slice length mismatch")
	}
	clear(dst)
	var n float64
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		dst[sort.SearchFloat64s(edges, v)]++
		n++
	}
	if n > 0 {
		for i := range dst {
			dst[i] /= n
		}
	}
	return dst
}
