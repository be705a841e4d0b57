package sqlexport

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"

	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model/gbm"
	"github.com/icpengine/icp/profile"
)

// margin returns the SQL expression of the model's margin.
func (b *builder) margin() (string, error) {
	m := &b.p.Model
	switch m.Kind {
	case profile.KindGBM:
		if m.GBM == nil {
			return "", errors.New("sql export: boosted model without trees")
		}
		return b.gbmMargin(m.GBM)
	case profile.KindLogistic:
		if m.Logistic == nil || len(m.Logistic.Coef) != b.p.Encoder.Width {
			return "", errors.New("sql export: logistic model does not fit the encoder")
		}
		return b.logisticMargin(m.Logistic.Coef, m.Logistic.Intercept)
	}
	return "", fmt.Errorf("sql export: model kind %q is not supported", m.Kind)
}

// gbmMargin is the base plus each tree's value, added in tree order as
// gbm.Model.Margin adds them.
func (b *builder) gbmMargin(g *gbm.Model) (string, error) {
	expr := b.d.num(g.Base)
	for ti := range g.Trees {
		t, err := b.tree(&g.Trees[ti], 0)
		if err != nil {
			return "", fmt.Errorf("sql export: tree %d: %w", ti, err)
		}
		expr = "(" + expr + "\n + " + t + ")"
	}
	return expr, nil
}

// tree is the value of the subtree at node n as a nested CASE.
func (b *builder) tree(t *gbm.Tree, n int32) (string, error) {
	if n < 0 || int(n) >= len(t.Feature) {
		return "", fmt.Errorf("node %d out of range", n)
	}
	if t.Feature[n] < 0 {
		return b.d.num(t.Value[n]), nil
	}
	left, err := b.goesLeft(int(t.Feature[n]), t.Threshold[n], t.MissingLeft[n])
	if err != nil {
		return "", err
	}
	switch left {
	case "TRUE":
		return b.tree(t, t.Left[n])
	case "FALSE":
		return b.tree(t, t.Right[n])
	}
	l, err := b.tree(t, t.Left[n])
	if err != nil {
		return "", err
	}
	r, err := b.tree(t, t.Right[n])
	if err != nil {
		return "", err
	}
	return "CASE WHEN " + left + " THEN " + l + " ELSE " + r + " END", nil
}

// goesLeft is the SQL condition (never NULL) under which a row goes left
// at a split of encoded column j at thr: x <= thr, a missing number
// following the learned direction (missLeft). A split on a value column
// is translated to the raw value (see rawThreshold); an indicator is 0 or
// 1, compared as the trees compare it.
func (b *builder) goesLeft(j int, thr float64, missLeft bool) (string, error) {
	ce, err := b.owner(j)
	if err != nil {
		return "", err
	}
	if !isValue(ce, j) {
		l0, l1 := 0 <= thr, 1 <= thr
		switch {
		case l0 && l1:
			return "TRUE", nil
		case !l0 && !l1:
			return "FALSE", nil
		case !l0:
			return "", fmt.Errorf("split of indicator %d at %g sends 1 left and 0 right", j, thr)
		}
		cond, err := b.indicator(ce, j)
		if err != nil {
			return "", err
		}
		return "NOT " + cond, nil
	}
	s, err := b.src(ce.Name)
	if err != nil {
		return "", err
	}
	// A missing value: NaN routed by the tree for numbers and dates with a
	// missing indicator (Encoder.MarkMissing), else the imputed value.
	if !(ce.Missing && (ce.Role == features.RoleNumeric || ce.Role == features.RoleDate)) {
		missLeft = b.encodedValue(ce, nan()) <= thr
	}
	vstar, none, all := b.rawThreshold(ce, thr)
	var present string
	switch {
	case none:
		present = "FALSE"
	case all:
		present = "TRUE"
	default:
		present = s.v + " <= " + b.d.num(vstar)
	}
	switch {
	case missLeft && all:
		return "TRUE", nil
	case !missLeft && none:
		return "FALSE", nil
	case missLeft:
		return "(" + s.v + " IS NULL OR " + present + ")", nil
	}
	return "(" + s.v + " IS NOT NULL AND " + present + ")", nil
}

// rawThreshold translates "encoded value <= thr" for the value column of
// ce into "raw value <= vstar": vstar is the largest finite float64 whose
// encoding (by the profile's encoder) is at most thr. none reports that no
// finite value qualifies, all that every one does. The encoding is
// non-decreasing in the raw value, so a bisection over the ordered
// float64 values finds vstar; it is checked against its neighbour.
func (b *builder) rawThreshold(ce *features.ColumnEncoder, thr float64) (vstar float64, none, all bool) {
	pred := func(i int64) bool { return b.encodedValue(ce, fromOrdered(i)) <= thr }
	lo, hi := toOrdered(-math.MaxFloat64), toOrdered(math.MaxFloat64)
	if !pred(lo) {
		return 0, true, false
	}
	if pred(hi) {
		return 0, false, true
	}
	for lo < hi-1 { // pred(lo) && !pred(hi)
		mid := midpoint(lo, hi)
		if pred(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return fromOrdered(lo), false, false
}

// midpoint is the floor of the mean of a and b, without overflow.
func midpoint(a, b int64) int64 { return a>>1 + b>>1 + a&b&1 }

// toOrdered maps a float64 to an int64 of the same order (-0 and +0 to 0).
func toOrdered(v float64) int64 {
	u := math.Float64bits(v)
	if u>>63 == 1 {
		return -int64(u &^ (1 << 63))
	}
	return int64(u)
}

// fromOrdered inverts toOrdered.
func fromOrdered(i int64) float64 {
	if i < 0 {
		return -math.Float64frombits(uint64(-i))
	}
	return math.Float64frombits(uint64(i))
}

// logisticMargin is Intercept + Coef·x, the products added in the order
// of floats.Dot on this build.
func (b *builder) logisticMargin(coef []float64, intercept float64) (string, error) {
	lanes, err := dotLanes(coef)
	if err != nil {
		return "", err
	}
	terms := make([]string, len(coef))
	for j, c := range coef {
		x, err := b.x(j)
		if err != nil {
			return "", err
		}
		terms[j] = "(" + b.d.num(c) + " * " + x + ")"
	}
	zero := b.d.num(0)
	var dot string
	if lanes == 1 {
		dot = zero
		for _, t := range terms {
			dot = "(" + dot + " + " + t + ")"
		}
	} else {
		acc := [4]string{zero, zero, zero, zero}
		n4 := len(terms) / 4 * 4
		for j := 0; j < n4; j++ {
			acc[j%4] = "(" + acc[j%4] + " + " + terms[j] + ")"
		}
		for j := n4; j < len(terms); j++ {
			acc[0] = "(" + acc[0] + " + " + terms[j] + ")"
		}
		dot = "((" + acc[0] + " + " + acc[2] + ") + (" + acc[1] + " + " + acc[3] + "))"
	}
	return "(" + b.d.num(intercept) + " + " + dot + ")", nil
}

// dotLanes tells how floats.Dot adds its products on this build: 4 for
// gonum's amd64 assembly (four interleaved running sums, the rest of the
// products added to the first, then the sums added pairwise), 1 for its
// plain loop. It checks the answer on vectors of the model's length.
func dotLanes(coef []float64) (int, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, len(coef))
	for _, lanes := range []int{1, 4} {
		ok := true
		for try := 0; try < 16 && ok; try++ {
			for j := range x {
				x[j] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(9)-4))
			}
			ok = emulateDot(coef, x, lanes) == floats.Dot(coef, x)
		}
		probe := []float64{1e16, 1, -1e16, 1}
		ones := []float64{1, 1, 1, 1}
		if ok && emulateDot(probe, ones, lanes) == floats.Dot(probe, ones) {
			return lanes, nil
		}
	}
	return 0, errors.New("sql export: floats.Dot adds its products in an order this package does not know")
}

// emulateDot adds the products of a and b as floats.Dot does with the
// given number of lanes.
func emulateDot(a, b []float64, lanes int) float64 {
	if lanes == 1 {
		s := 0.0
		for j := range a {
			s += a[j] * b[j]
		}
		return s
	}
	var acc [4]float64
	n4 := len(a) / 4 * 4
	for j := 0; j < n4; j++ {
		acc[j%4] += a[j] * b[j]
	}
	for j := n4; j < len(a); j++ {
		acc[0] += a[j] * b[j]
	}
	return (acc[0] + acc[2]) + (acc[1] + acc[3])
}
