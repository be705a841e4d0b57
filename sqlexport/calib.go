package sqlexport

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/profile"
)

// score is the calibrated probability of the margin m, as
// profile.Calibration.Prob computes it.
func (b *builder) score(m string) (string, error) {
	c := b.p.Model.Calibration
	switch c.Method {
	case profile.CalibrationNone:
		return b.sigmoid(m), nil
	case profile.CalibrationPlatt:
		if c.Platt == nil {
			return "", fmt.Errorf("sql export: Platt calibration without parameters")
		}
		return b.sigmoid("((" + b.d.num(c.Platt.A) + " * " + m + ") + " + b.d.num(c.Platt.B) + ")"), nil
	case profile.CalibrationIsotonic:
		iso := c.Isotonic
		if iso == nil || len(iso.X) == 0 || len(iso.X) != len(iso.Y) {
			return "", fmt.Errorf("sql export: isotonic calibration without points")
		}
		n := len(iso.X)
		var e strings.Builder
		fmt.Fprintf(&e, "CASE WHEN %s <= %s THEN %s WHEN %s >= %s THEN %s", m, b.d.num(iso.X[0]), b.d.num(iso.Y[0]),
			m, b.d.num(iso.X[n-1]), b.d.num(iso.Y[n-1]))
		for k := 1; k < n; k++ {
			x0, x1 := iso.X[k-1], iso.X[k]
			if !(x1 > x0) {
				continue // no score lies strictly between them
			}
			// t := (score - x0) / (x1 - x0); y0 + t*(y1-y0)
			fmt.Fprintf(&e, " WHEN %s <= %s THEN %s + ((%s - %s) / %s) * %s", m, b.d.num(x1), b.d.num(iso.Y[k-1]),
				m, b.d.num(x0), b.d.num(x1-x0), b.d.num(iso.Y[k]-iso.Y[k-1]))
		}
		return e.String() + " END", nil
	}
	return "", fmt.Errorf("sql export: calibration %q is not supported", c.Method)
}

// sigmoid is model.Sigmoid of z. Where exp would underflow, which
// PostgreSQL reports as an error, it gives what Go computes there: 1
// above 38 (1 + exp(-z) rounds to 1) and 0 below -745.
func (b *builder) sigmoid(z string) string {
	d := b.d
	one := d.num(1)
	return "CASE WHEN " + z + " > " + d.num(38) + " THEN " + one +
		" WHEN " + z + " >= " + d.num(0) + " THEN " + one + " / (" + one + " + exp(-(" + z + ")))" +
		" WHEN " + z + " < " + d.num(-745) + " THEN " + d.num(0) +
		" ELSE exp(" + z + ") / (" + one + " + exp(" + z + ")) END"
}

// tier is the tier of the margin m. Each threshold on the calibrated score
// is translated to the margin (see marginThreshold), so that an account
// whose score lands on a threshold gets the tier Go gives it.
func (b *builder) tier(m string) (string, error) {
	t := b.p.Tiers
	var e strings.Builder
	e.WriteString("CASE")
	for k, th := range []float64{t.Tier1, t.Tier2, t.Tier3} {
		name := []icp.Tier{icp.Tier1, icp.Tier2, icp.Tier3}[k]
		mstar, all, none, err := b.marginThreshold(th)
		if err != nil {
			return "", err
		}
		switch {
		case none:
			continue
		case all:
			fmt.Fprintf(&e, " WHEN TRUE THEN %s", str(string(name)))
		default:
			fmt.Fprintf(&e, " WHEN %s >= %s THEN %s", m, b.d.num(mstar), str(string(name)))
		}
	}
	fmt.Fprintf(&e, " ELSE %s END", str(string(icp.NonFit)))
	return e.String(), nil
}

// marginThreshold returns the smallest finite margin whose calibrated
// score is at least th (all: every margin's is; none: no margin's is).
// The calibration is non-decreasing, so a bisection finds it; a stretch
// of 256 margins on each side is checked, and a calibration that is not
// monotone there is refused.
func (b *builder) marginThreshold(th float64) (mstar float64, all, none bool, err error) {
	c := b.p.Model.Calibration
	pred := func(i int64) bool { return c.Prob(fromOrdered(i)) >= th }
	lo, hi := toOrdered(-math.MaxFloat64), toOrdered(math.MaxFloat64)
	if pred(lo) {
		return 0, true, false, nil
	}
	if !pred(hi) {
		return 0, false, true, nil
	}
	for lo < hi-1 { // !pred(lo) && pred(hi)
		mid := midpoint(lo, hi)
		if pred(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	for d := int64(1); d <= 256; d++ {
		if pred(hi-d) || !pred(hi+d-1) {
			return 0, false, false, fmt.Errorf("sql export: the calibration is not monotone near the tier threshold %g", th)
		}
	}
	return fromOrdered(hi), false, false, nil
}

// percentile is the percentile of the score s among the training scores,
// interpolated between the stored quantiles as the profile does.
func (b *builder) percentile(s string) string {
	q := b.p.ScoreQuantiles
	n := len(q)
	if n < 2 || !sort.Float64sAreSorted(q) {
		return "CAST(NULL AS DOUBLE PRECISION)"
	}
	d := b.d
	step := 100 / float64(n-1)
	var e strings.Builder
	fmt.Fprintf(&e, "CASE WHEN %s <= %s THEN %s WHEN %s >= %s THEN %s", s, d.num(q[0]), d.num(0), s, d.num(q[n-1]), d.num(100))
	for k := 1; k < n; k++ {
		lo, hi := q[k-1], q[k]
		if !(hi > lo) {
			continue
		}
		// step*float64(k-1) + step*(s-lo)/(hi-lo)
		fmt.Fprintf(&e, " WHEN %s <= %s THEN %s + (%s * (%s - %s)) / %s", s, d.num(hi), d.num(step*float64(k-1)),
			d.num(step), s, d.num(lo), d.num(hi-lo))
	}
	return e.String() + " END"
}
