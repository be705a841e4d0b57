package model

import (
	"fmt"
	"math"
	"sort"
)

// Platt is a logistic calibration of margins: p = Sigmoid(A*margin + B).
type Platt struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

// FitPlatt fits A and B by maximum likelihood with Newton's method on the
// (weighted) log loss. As in Platt (1999), the targets are smoothed to
// (N+ + 1)/(N+ + 2) for positives and 1/(N- + 2) for negatives (N counted
// in weight), which keeps the fit finite on separable data and is
// negligible on large samples. weights may be nil for uniform weights.
//
// FitPlatt panics if the slice lengths differ.
func FitPlatt(margin, y, weights []float64) (*Platt, error) {
	if len(y) != len(margin) || (weights != nil && len(weights) != len(margin)) {
		panic("model: FitPlatt: slice lengths differ")
	}
	if err := calibCheck(margin, y, weights); err != nil {
		return nil, fmt.Errorf("fit platt: %w", err)
	}
	var npos, nneg float64
	for i, v := range y {
		w := calibWeight(weights, i)
		if v == 1 {
			npos += w
		} else {
			nneg += w
		}
	}
	if npos == 0 || nneg == 0 {
		return nil, fmt.Errorf("fit platt: need both classes: %w", ErrInvalidInput)
	}
	hi, lo := (npos+1)/(npos+2), 1/(nneg+2)
	target := func(i int) float64 {
		if y[i] == 1 {
			return hi
		}
		return lo
	}
	loss := func(a, b float64) float64 {
		var s float64
		for i, m := range margin {
			z := a*m + b
			s += calibWeight(weights, i) * (math.Log1p(math.Exp(-math.Abs(z))) + math.Max(z, 0) - target(i)*z)
		}
		return s
	}
	a, b := 0.0, math.Log((npos+1)/(nneg+1))
	cur := loss(a, b)
	for range 100 {
		// Gradient and Hessian of the loss in (a, b).
		var ga, gb, haa, hab, hbb float64
		for i, m := range margin {
			w := calibWeight(weights, i)
			p := Sigmoid(a*m + b)
			d := w * (p - target(i))
			ga += d * m
			gb += d
			h := w * p * (1 - p)
			haa += h * m * m
			hab += h * m
			hbb += h
		}
		// Levenberg damping keeps the step defined when H is singular.
		haa += 1e-12
		hbb += 1e-12
		det := haa*hbb - hab*hab
		if det <= 0 {
			break
		}
		da := -(hbb*ga - hab*gb) / det
		db := -(haa*gb - hab*ga) / det
		step := 1.0
		var next float64
		for range 40 {
			next = loss(a+step*da, b+step*db)
			if next <= cur {
				break
			}
			step /= 2
		}
		if next > cur {
			break
		}
		a, b = a+step*da, b+step*db
		done := cur-next <= 1e-12*math.Max(1, math.Abs(cur))
		cur = next
		if done || math.Abs(step*da)+math.Abs(step*db) < 1e-12 {
			break
		}
	}
	return &Platt{A: a, B: b}, nil
}

// Prob returns the calibrated probability of a margin.
func (p *Platt) Prob(margin float64) float64 { return Sigmoid(p.A*margin + p.B) }

// Isotonic is a non-decreasing calibration map fitted by pool adjacent
// violators. X holds the weighted mean score of each pooled block
// (increasing) and Y its weighted positive rate (non-decreasing).
type Isotonic struct {
	X []float64 `json:"x"`
	Y []float64 `json:"y"`
}

// FitIsotonic fits a non-decreasing map from score to the positive rate
// with the pool adjacent violators algorithm. Equal scores are pooled
// first, so ties always share one output. weights may be nil for uniform
// weights; rows of zero weight are ignored.
//
// FitIsotonic panics if the slice lengths differ.
func FitIsotonic(score, y, weights []float64) (*Isotonic, error) {
	if len(y) != len(score) || (weights != nil && len(weights) != len(score)) {
		panic("model: FitIsotonic: slice lengths differ")
	}
	if err := calibCheck(score, y, weights); err != nil {
		return nil, fmt.Errorf("fit isotonic: %w", err)
	}
	idx := make([]int, 0, len(score))
	for i := range score {
		if calibWeight(weights, i) > 0 {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil, fmt.Errorf("fit isotonic: no row with positive weight: %w", ErrInvalidInput)
	}
	sort.SliceStable(idx, func(a, b int) bool { return score[idx[a]] < score[idx[b]] })
	// Blocks: weight, weighted score sum, weighted y sum.
	type block struct{ w, sx, sy float64 }
	var blocks []block
	for k := 0; k < len(idx); {
		j := k
		var bl block
		for j < len(idx) && score[idx[j]] == score[idx[k]] {
			i := idx[j]
			w := calibWeight(weights, i)
			bl.w += w
			bl.sx += w * score[i]
			bl.sy += w * y[i]
			j++
		}
		k = j
		blocks = append(blocks, bl)
		// Pool while the last block's mean is below its predecessor's (equal
		// means stay separate blocks: the map is the same).
		for len(blocks) > 1 {
			a, b := blocks[len(blocks)-2], blocks[len(blocks)-1]
			if a.sy/a.w <= b.sy/b.w {
				break
			}
			blocks = blocks[:len(blocks)-2]
			blocks = append(blocks, block{a.w + b.w, a.sx + b.sx, a.sy + b.sy})
		}
	}
	iso := &Isotonic{X: make([]float64, len(blocks)), Y: make([]float64, len(blocks))}
	for k, bl := range blocks {
		iso.X[k] = bl.sx / bl.w
		iso.Y[k] = bl.sy / bl.w
	}
	return iso, nil
}

// Prob maps a score: it interpolates linearly between the block centres X
// and clamps to Y[0] below X[0] and to the last Y above the last X.
func (c *Isotonic) Prob(score float64) float64 {
	n := len(c.X)
	if n == 0 {
		return math.NaN()
	}
	if score <= c.X[0] {
		return c.Y[0]
	}
	if score >= c.X[n-1] {
		return c.Y[n-1]
	}
	k := sort.SearchFloat64s(c.X, score) // c.X[k-1] < score <= c.X[k]
	x0, x1 := c.X[k-1], c.X[k]
	t := (score - x0) / (x1 - x0)
	return c.Y[k-1] + t*(c.Y[k]-c.Y[k-1])
}

// ReliabilityBin is one bin of a reliability diagram: predictions in
// [Lo, Hi], their mean MeanPredicted, the observed positive rate, the
// number of rows N and their Weight (N, as rows are unweighted).
type ReliabilityBin struct {
	Lo, Hi        float64
	MeanPredicted float64
	Observed      float64
	Weight        float64
	N             int
}

// Reliability groups predictions p into at most bins quantile bins of about
// equal size (equal predictions never straddle two bins) and reports each
// bin's mean prediction against its observed positive rate.
//
// Reliability panics if len(y) != len(p) or bins < 1.
func Reliability(y, p []float64, bins int) []ReliabilityBin {
	if len(y) != len(p) {
		panic("model: Reliability: len(y) != len(p)")
	}
	if bins < 1 {
		panic("model: Reliability: bins < 1")
	}
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	var out []ReliabilityBin
	n := len(idx)
	start := 0
	for k := 1; k <= bins && start < n; k++ {
		end := k * n / bins
		if end <= start {
			continue
		}
		// Keep ties together.
		for end < n && p[idx[end]] == p[idx[end-1]] {
			end++
		}
		bin := ReliabilityBin{Lo: p[idx[start]], Hi: p[idx[end-1]], N: end - start}
		for _, i := range idx[start:end] {
			bin.MeanPredicted += p[i]
			bin.Observed += y[i]
		}
		bin.Weight = float64(bin.N)
		bin.MeanPredicted /= bin.Weight
		bin.Observed /= bin.Weight
		out = append(out, bin)
		start = end
	}
	return out
}

// calibWeight is weights[i], or 1 without weights.
func calibWeight(weights []float64, i int) float64 {
	if weights == nil {
		return 1
	}
	return weights[i]
}

// calibCheck validates scores, binary targets and weights.
func calibCheck(score, y, weights []float64) error {
	if len(score) == 0 {
		return fmt.Errorf("no rows: %w", ErrInvalidInput)
	}
	for i, s := range score {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return fmt.Errorf("row %d: score %v: %w", i, s, ErrInvalidInput)
		}
	}
	return CheckTargets(y, weights, true)
}
