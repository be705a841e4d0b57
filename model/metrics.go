package model

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// metricsClip is the probability clipping used by LogLoss.
const metricsClip = 1e-15

// ROCAUC returns the weighted area under the ROC curve of scores p for
// binary labels y, which is the probability that a random positive scores
// higher than a random negative (the Mann-Whitney statistic). Tied scores
// count one half, as if the ROC curve joined tied points with a straight
// line. Nil weights mean every row has weight 1.
//
// ROCAUC returns NaN when one class has no weight or when p holds NaN. It
// panics if the lengths of y, p and weights differ or if a label is not 0
// or 1.
func ROCAUC(y, p, weights []float64) float64 {
	idx := metricsOrder("ROCAUC", y, p, weights)
	if idx == nil {
		return math.NaN()
	}
	// idx is sorted by descending score; walk it upwards from the lowest
	// score so negBelow is the weight of negatives strictly below a group.
	var auc, negBelow, wPos float64
	for end := len(idx); end > 0; {
		start := end - 1
		for start > 0 && p[idx[start-1]] == p[idx[end-1]] {
			start--
		}
		var gPos, gNeg float64
		for _, i := range idx[start:end] {
			if y[i] == 1 {
				gPos += metricsWeight(weights, i)
			} else {
				gNeg += metricsWeight(weights, i)
			}
		}
		auc += gPos * (negBelow + 0.5*gNeg)
		negBelow += gNeg
		wPos += gPos
		end = start
	}
	if wPos == 0 || negBelow == 0 {
		return math.NaN()
	}
	return auc / (wPos * negBelow)
}

// PRAUC returns the weighted average precision of scores p for binary
// labels y, defined as in scikit-learn's average_precision_score:
//
//	AP = sum_k (R_k - R_{k-1}) * P_k
//
// where P_k and R_k are the precision and recall when predicting positive
// every row scoring at least the k-th largest distinct score (so tied scores
// enter together) and R_0 = 0. Unlike the trapezoidal area it does not
// interpolate, so it is not optimistic. Nil weights mean every row has
// weight 1.
//
// PRAUC returns NaN when there is no positive weight or when p holds NaN. It
// panics if the lengths of y, p and weights differ or if a label is not 0
// or 1.
func PRAUC(y, p, weights []float64) float64 {
	idx := metricsOrder("PRAUC", y, p, weights)
	if idx == nil {
		return math.NaN()
	}
	var wPos float64
	for i, v := range y {
		if v == 1 {
			wPos += metricsWeight(weights, i)
		}
	}
	if wPos == 0 {
		return math.NaN()
	}
	var ap, tp, fp, prevRecall float64
	for start := 0; start < len(idx); {
		end := start + 1
		for end < len(idx) && p[idx[end]] == p[idx[start]] {
			end++
		}
		for _, i := range idx[start:end] {
			if y[i] == 1 {
				tp += metricsWeight(weights, i)
			} else {
				fp += metricsWeight(weights, i)
			}
		}
		recall := tp / wPos
		if recall > prevRecall {
			ap += (recall - prevRecall) * tp / (tp + fp)
			prevRecall = recall
		}
		start = end
	}
	return ap
}

// LogLoss returns the weighted mean negative log-likelihood
// -(y*log(p) + (1-y)*log(1-p)) of probabilities p for labels y in [0, 1],
// with p clipped to [1e-15, 1-1e-15] so a confident mistake costs about 34.5
// rather than +Inf. Nil weights mean every row has weight 1. LogLoss returns
// NaN for empty input or zero total weight and panics if the lengths of y, p
// and weights differ.
func LogLoss(y, p, weights []float64) float64 {
	metricsCheck("LogLoss", y, p, weights)
	var s, ws float64
	for i, yi := range y {
		q := min(max(p[i], metricsClip), 1-metricsClip)
		w := metricsWeight(weights, i)
		var l float64
		if yi != 0 {
			l -= yi * math.Log(q)
		}
		if yi != 1 {
			l -= (1 - yi) * math.Log1p(-q)
		}
		s += w * l
		ws += w
	}
	return s / ws
}

// Brier returns the weighted mean squared difference (p-y)^2 between
// probabilities p and labels y. Nil weights mean every row has weight 1.
// Brier returns NaN for empty input or zero total weight and panics if the
// lengths of y, p and weights differ.
func Brier(y, p, weights []float64) float64 {
	metricsCheck("Brier", y, p, weights)
	var s, ws float64
	for i, yi := range y {
		w := metricsWeight(weights, i)
		d := p[i] - yi
		s += w * d * d
		ws += w
	}
	return s / ws
}

// LiftAtTop returns the rate of positive labels among the ceil(frac*n) rows
// with the highest scores p, divided by the rate over all n rows. Rows with
// equal scores are taken in index order, so the result is deterministic.
// Labels are 1 for positive and anything else for negative.
//
// LiftAtTop returns NaN for empty input or when there is no positive label.
// It panics if len(y) != len(p) or if frac is not in (0, 1].
func LiftAtTop(y, p []float64, frac float64) float64 {
	if len(y) != len(p) {
		panic(fmt.Sprintf("model: LiftAtTop: %d labels and %d scores", len(y), len(p)))
	}
	if !(frac > 0 && frac <= 1) {
		panic(fmt.Sprintf("model: LiftAtTop: fraction %v not in (0, 1]", frac))
	}
	n := len(y)
	var pos int
	for _, v := range y {
		if v == 1 {
			pos++
		}
	}
	if n == 0 || pos == 0 {
		return math.NaN()
	}
	// The small slack keeps 0.1*30 = 3.0000000000000004 at 3 rows.
	k := int(math.Ceil(frac*float64(n) - 1e-9))
	k = min(max(k, 1), n)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return metricsCompareDesc(p[a], p[b]) })
	var top int
	for _, i := range idx[:k] {
		if y[i] == 1 {
			top++
		}
	}
	return (float64(top) / float64(k)) / (float64(pos) / float64(n))
}

// AdjustedRandIndex returns the Hubert-Arabie adjusted Rand index between
// two labelings of the same items: 1 for identical partitions (whatever the
// label values), about 0 for independent ones, negative for worse than
// chance. When the index is undefined because both partitions are trivial
// (everything in one cluster, or every item alone) it returns 1, as
// scikit-learn does. It panics if len(a) != len(b).
func AdjustedRandIndex(a, b []int) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("model: AdjustedRandIndex: labelings of length %d and %d", len(a), len(b)))
	}
	n := len(a)
	pairs := make(map[[2]int]int64)
	ca := make(map[int]int64)
	cb := make(map[int]int64)
	for i := range a {
		pairs[[2]int{a[i], b[i]}]++
		ca[a[i]]++
		cb[b[i]]++
	}
	// Integer sums are exact, so map iteration order cannot leak into the
	// result.
	comb2 := func(m int64) int64 { return m * (m - 1) / 2 }
	var sumPairs, sumA, sumB int64
	for _, c := range pairs {
		sumPairs += comb2(c)
	}
	for _, c := range ca {
		sumA += comb2(c)
	}
	for _, c := range cb {
		sumB += comb2(c)
	}
	total := float64(comb2(int64(n)))
	expected := float64(sumA) * float64(sumB) / total
	maxIndex := 0.5 * float64(sumA+sumB)
	if maxIndex == expected || total == 0 {
		return 1
	}
	return (float64(sumPairs) - expected) / (maxIndex - expected)
}

// metricsCheck panics if the lengths of y, p and weights (when non-nil)
// differ.
func metricsCheck(name string, y, p, weights []float64) {
	if len(y) != len(p) {
		panic(fmt.Sprintf("model: %s: %d labels and %d scores", name, len(y), len(p)))
	}
	if weights != nil && len(weights) != len(y) {
		panic(fmt.Sprintf("model: %s: %d weights for %d labels", name, len(weights), len(y)))
	}
}

// metricsOrder checks the arguments of a ranking metric and returns the row
// indices sorted by descending score, or nil if p holds NaN or is empty.
func metricsOrder(name string, y, p, weights []float64) []int {
	metricsCheck(name, y, p, weights)
	for i, v := range y {
		if v != 0 && v != 1 {
			panic(fmt.Sprintf("model: %s: label %v at index %d not in {0, 1}", name, v, i))
		}
	}
	if len(p) == 0 || slices.ContainsFunc(p, math.IsNaN) {
		return nil
	}
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return metricsCompareDesc(p[a], p[b]) })
	return idx
}

func metricsCompareDesc(a, b float64) int { return cmp.Compare(b, a) }

func metricsWeight(weights []float64, i int) float64 {
	if weights == nil {
		return 1
	}
	return weights[i]
}
