package gbm

import (
	"math"
	"slices"
	"sort"

	"github.com/icpengine/icp/model"
)

// maxSampleForBins is the number of non-missing values of one feature used
// to place quantile bin edges; larger columns are subsampled evenly.
const maxSampleForBins = 200_000

// binner maps raw feature values to bin codes. Feature f has
// len(edges[f])+1 value bins, coded 0..len(edges[f]), and a missing bin coded
// missing(f) = len(edges[f])+1. A value v falls in the first bin b with
// v <= edges[f][b] (the last bin holds values above every edge), so a split
// "bin <= b" is the same as "v <= edges[f][b]" on raw values.
type binner struct {
	edges [][]float64
}

// missing returns the bin code of missing (NaN) values of feature f.
func (bn *binner) missing(f int) int { return len(bn.edges[f]) + 1 }

// nbins returns the number of bin codes of feature f, the missing bin included.
func (bn *binner) nbins(f int) int { return len(bn.edges[f]) + 2 }

// binEdgesFor computes the edges of one feature from its raw values.
// maxBins is the largest number of non-missing bins (at most 254, so that the
// missing code fits in a uint8).
func binEdgesFor(col []float64, maxBins int, scratch []float64) []float64 {
	// Collect the distinct values while there are few of them: one-hot and
	// small ordinal columns never need a sort of the whole column.
	distinct := scratch[:0]
	few := true
	for _, v := range col {
		if math.IsNaN(v) {
			continue
		}
		i, found := slices.BinarySearch(distinct, v)
		if found {
			continue
		}
		if len(distinct) == maxBins {
			few = false
			break
		}
		distinct = slices.Insert(distinct, i, v)
	}
	if few {
		return binMidpoints(distinct)
	}
	// Many distinct values: quantiles of an even subsample.
	vals := make([]float64, 0, min(len(col), maxSampleForBins))
	step := 1
	if len(col) > maxSampleForBins {
		step = (len(col) + maxSampleForBins - 1) / maxSampleForBins
	}
	for i := 0; i < len(col); i += step {
		if v := col[i]; !math.IsNaN(v) {
			vals = append(vals, v)
		}
	}
	sort.Float64s(vals)
	edges := make([]float64, 0, maxBins-1)
	n := len(vals)
	for k := 1; k < maxBins; k++ {
		// The edge lies between the values at ranks q-1 and q.
		q := int(float64(k) * float64(n) / float64(maxBins))
		if q <= 0 || q >= n {
			continue
		}
		lo, hi := vals[q-1], vals[q]
		if lo == hi {
			// Move to the next distinct value so that the edge separates
			// two observed values.
			j := sort.SearchFloat64s(vals, math.Nextafter(lo, math.Inf(1)))
			if j >= n {
				continue
			}
			hi = vals[j]
		}
		e := model.Midpoint(lo, hi)
		if len(edges) > 0 && e <= edges[len(edges)-1] {
			continue
		}
		edges = append(edges, e)
	}
	return edges
}

// binMidpoints returns the midpoints between consecutive sorted distinct
// values.
func binMidpoints(distinct []float64) []float64 {
	if len(distinct) < 2 {
		return []float64{}
	}
	edges := make([]float64, len(distinct)-1)
	for i := range edges {
		edges[i] = model.Midpoint(distinct[i], distinct[i+1])
	}
	return edges
}

// code returns the bin code of v for feature f.
func (bn *binner) code(f int, v float64) uint8 {
	if math.IsNaN(v) {
		return uint8(bn.missing(f))
	}
	e := bn.edges[f]
	// First edge >= v; equal values go to the lower bin (v <= edge).
	if len(e) <= 8 {
		// One-hot and small ordinal columns: a short scan.
		for k, edge := range e {
			if v <= edge {
				return uint8(k)
			}
		}
		return uint8(len(e))
	}
	lo, hi := 0, len(e)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if e[m] < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return uint8(lo)
}
