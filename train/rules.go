package train

import (
	"math"
	"slices"
	"sort"
	"strconv"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/icpengine/icp/profile"
)

// exactRanges sets the bounds of each range condition of g exactly:
// among all observed values of the rows meeting g's other conditions
// (not only the quantile cuts of the beam search), each bound in turn
// moves to where the quality is best, until neither moves; then
// settleBounds keeps each bound only as far as the evidence asks. A
// bound is then placed at the roundest number between the last value it
// keeps and the first it excludes, so that the rule reads "<= 500" rather
// than "<= 503.5" with the same accounts on either side.
func (s *searcher) exactRanges(rows []int, g *subgroup) {
	defer s.fitting()()
	for j := range g.conds {
		c := &g.conds[j]
		v := &s.views[c.v]
		if v.kind != numView {
			continue
		}
		others := s.without(rows, g.conds, j)
		type pt struct{ x, y float64 }
		pts := make([]pt, 0, len(others))
		for _, i := range others {
			if !v.miss[i] {
				pts = append(pts, pt{v.col.Num[i], s.y[i]})
			}
		}
		if len(pts) == 0 {
			continue
		}
		sort.Slice(pts, func(a, b int) bool { return pts[a].x < pts[b].x })
		// Distinct values with cumulative counts: N[d+1]-N[lo] rows hold
		// values vals[lo..d].
		var vals []float64
		N, K := []float64{0}, []float64{0}
		for _, p := range pts {
			if len(vals) == 0 || p.x != vals[len(vals)-1] {
				vals = append(vals, p.x)
				N = append(N, N[len(N)-1])
				K = append(K, K[len(K)-1])
			}
			N[len(N)-1]++
			K[len(K)-1] += p.y
		}
		D := len(vals)
		lo := sort.SearchFloat64s(vals, c.lo) // first value > c.lo
		if lo < D && vals[lo] == c.lo {
			lo++
		}
		hi := sort.SearchFloat64s(vals, c.hi) // first value >= c.hi
		if hi == D || vals[hi] > c.hi {
			hi--
		}
		if lo > hi {
			continue
		}
		q := func(a, b int) float64 {
			n, k := N[b+1]-N[a], K[b+1]-K[a]
			if !s.supported(n, k) {
				return math.Inf(-1)
			}
			return s.quality(n, k)
		}
		for round := 0; round < 4; round++ {
			moved := false
			best, at := q(lo, hi), lo
			for a := 0; a <= hi; a++ {
				if v := q(a, hi); v > best {
					best, at = v, a
				}
			}
			if at != lo {
				lo, moved = at, true
			}
			best, at = q(lo, hi), hi
			for b := lo; b < D; b++ {
				if v := q(lo, b); v > best {
					best, at = v, b
				}
			}
			if at != hi {
				hi, moved = at, true
			}
			if !moved {
				break
			}
		}
		lo, hi = s.settleBounds(N, K, lo, hi, s.zBound(c.v))
		c.lo, c.hi = math.Inf(-1), math.Inf(1)
		if lo > 0 {
			if v.integer {
				// Read as "value >= lo + 1": make lo + 1 the round one.
				c.lo = roundBetween(vals[lo-1]+1, vals[lo]+1, true) - 1
			} else {
				c.lo = roundBetween(vals[lo-1], vals[lo], false)
			}
		}
		if hi < D-1 {
			c.hi = roundBetween(vals[hi], vals[hi+1], v.integer)
		}
	}
	// A range that kept every value is no condition.
	g.conds = slices.DeleteFunc(g.conds, func(c cond) bool {
		return s.views[c.v].kind == numView && math.IsInf(c.lo, -1) && math.IsInf(c.hi, 1)
	})
	g.rows = s.without(rows, g.conds, -1)
	g.n, g.k = s.count(g.rows)
	g.q = s.quality(g.n, g.k)
}

// settleBounds checks the bounds lo and hi (indices of the first and the
// last distinct value kept, over N and K, the cumulative rows and
// positives by value) that the quality chose, and returns them settled.
//
// The quality chooses among thousands of positions, and cuts rows whose
// rate falls short of its indifference rate m = (1 - a) p + a t (p the
// kept rows' rate, t the contrast); a band at the edge of a group falls
// short of m by chance whenever p and t are close, as they are for the
// anti-ICP, whose ceiling sits just above the rate of the accounts it
// looks for. So, as refine asks of a whole condition, a bound must
// exclude rows that do significantly worse than the rows it keeps (z at
// least zMin, see zBound): a bound whose side holds no such rows is
// opened. Otherwise the bound may move outward over rows that do not do
// worse than those kept (one-sided, at 5%) nor fall significantly short
// of m (at zMin; a test of those rows alone, which a few kept rows cannot
// weaken), and within that reach it moves to where the rate changes: the
// position that best splits the rows on its side into those kept and
// those beyond, by the likelihood of one rate on each side. The rows
// beyond, not the contrast rate, say where the kept rows end.
func (s *searcher) settleBounds(N, K []float64, lo, hi int, zMin float64) (int, int) {
	D := len(N) - 1
	in := func(a, b int) (n, k float64) { return N[b+1] - N[a], K[b+1] - K[a] }
	zLike := distuv.UnitNormal.Quantile(0.95)
	// worse reports whether cn rows with ck positives do worse than kn
	// kept rows with kk positives, or fall significantly short of their
	// indifference rate.
	worse := func(cn, ck, kn, kk float64) bool {
		m := (1-s.a)*kk/kn + s.a*s.t
		if cn == 0 || m <= 0 || m >= 1 {
			return false
		}
		d := m - ck/cn
		if s.low {
			d = -d
		}
		return d/math.Sqrt(m*(1-m)/cn) >= zMin || s.twoZ(kk, kn, ck, cn) >= zLike
	}
	// The lower bound: rows of values 0..lo-1 lie below it.
	if lo > 0 {
		kn, kk := in(lo, hi)
		en, ek := in(0, lo-1)
		if s.twoZ(kk, kn, ek, en) < zMin {
			lo = 0
		} else {
			best, at := math.Inf(-1), lo
			for a := lo; a >= 1; a-- {
				cn, ck := in(a, lo-1)
				if a < lo && worse(cn, ck, kn, kk) {
					break
				}
				rn, rk := in(0, a-1)
				if ll := logLik(kn+cn, kk+ck) + logLik(rn, rk); ll > best {
					best, at = ll, a
				}
			}
			lo = at
		}
	}
	// The upper bound: rows of values hi+1..D-1 lie above it.
	if hi < D-1 {
		kn, kk := in(lo, hi)
		en, ek := in(hi+1, D-1)
		if s.twoZ(kk, kn, ek, en) < zMin {
			hi = D - 1
		} else {
			best, at := math.Inf(-1), hi
			for b := hi; b <= D-2; b++ {
				cn, ck := in(hi+1, b)
				if b > hi && worse(cn, ck, kn, kk) {
					break
				}
				rn, rk := in(b+1, D-1)
				if ll := logLik(kn+cn, kk+ck) + logLik(rn, rk); ll > best {
					best, at = ll, b
				}
			}
			hi = at
		}
	}
	return lo, hi
}

// zBound is the least z statistic of the rows a bound of a range on view
// vi excludes: the one-sided normal quantile of alpha over the number of
// positions the beam search tries for one bound.
func (s *searcher) zBound(vi int) float64 {
	m := float64(len(s.views[vi].cuts) + 1)
	return distuv.UnitNormal.Quantile(1 - s.alpha/m)
}

// logLik is the log-likelihood of k positives among n rows at their own
// rate.
func logLik(n, k float64) float64 {
	var ll float64
	if k > 0 {
		ll += k * math.Log(k/n)
	}
	if n-k > 0 {
		ll += (n - k) * math.Log((n-k)/n)
	}
	return ll
}

// roundBetween returns the roundest number x with a <= x < b, a threshold
// "value > x" or "value <= x" that puts a on one side and b on the
// other; for an integer column, a whole number. It prefers the fewest
// significant digits, then the number nearest the middle.
func roundBetween(a, b float64, integer bool) float64 {
	if integer {
		a = math.Ceil(a)
		b = math.Ceil(b)
		if b-a <= 1 {
			return a
		}
	}
	top := math.Max(math.Abs(a), math.Abs(b))
	if top == 0 {
		return a
	}
	for e := math.Floor(math.Log10(top)) + 1; e >= -12; e-- {
		step := math.Pow(10, e)
		if integer && step < 1 {
			break
		}
		// The multiples of step in [a, b), nearest the middle first.
		first := math.Ceil(a/step) * step
		if first >= b {
			continue
		}
		mid := (a + b) / 2
		x := math.Round(mid/step) * step
		if x < a || x >= b {
			x = first
		}
		x, _ = strconv.ParseFloat(strconv.FormatFloat(x, 'g', 15, 64), 64)
		if x >= a && x < b {
			return x
		}
	}
	return a
}

// orMissing decides for each condition of g whether missing values go
// with it: when the rows that meet every other condition but miss this
// value are, by likelihood, at least ten times likelier to follow the
// rate of the rows meeting the condition than that of the rows failing
// it, and there are at least minMissing of them. Otherwise a missing
// value fails the condition, as its text then says.
func (s *searcher) orMissing(rows []int, g *subgroup) {
	const minMissing = 8
	for j := range g.conds {
		c := &g.conds[j]
		v := &s.views[c.v]
		c.missing = false
		var nm, km, nr, kr, nf, kf float64
		for _, i := range s.without(rows, g.conds, j) {
			switch {
			case v.miss[i]:
				nm++
				km += s.y[i]
			case s.holds(c, i):
				nr++
				kr += s.y[i]
			default:
				nf++
				kf += s.y[i]
			}
		}
		if nm < minMissing || nr == 0 || nf == 0 {
			continue
		}
		pr, pf := shrunk(kr, nr, s.t), shrunk(kf, nf, s.t)
		llr := km*math.Log(pr/pf) + (nm-km)*math.Log((1-pr)/(1-pf))
		c.missing = llr >= math.Log(10)
	}
	g.rows = s.without(rows, g.conds, -1)
	g.n, g.k = s.count(g.rows)
	g.q = s.quality(g.n, g.k)
}

// shrunk is k/n pulled towards p by one pseudo-row and kept off 0 and 1.
func shrunk(k, n, p float64) float64 {
	r := (k + p) / (n + 1)
	return math.Min(math.Max(r, 1e-4), 1-1e-4)
}

// rule turns the conditions of g into a profile rule of one clause, in
// the order the columns are encoded.
func (s *searcher) rule(g *subgroup) profile.Rule {
	conds := slices.Clone(g.conds)
	sort.SliceStable(conds, func(a, b int) bool { return conds[a].v < conds[b].v })
	var cl profile.Clause
	for j := range conds {
		cl.Conds = append(cl.Conds, s.profileCond(&conds[j]))
	}
	return profile.Rule{Clauses: []profile.Clause{cl}}
}

// profileCond writes c as the rule language states it.
func (s *searcher) profileCond(c *cond) profile.Cond {
	v := &s.views[c.v]
	pc := profile.Cond{Column: v.name, Missing: c.missing}
	switch v.kind {
	case catView:
		pc.Op = profile.OpIn
		var in, out []string
		for k, lv := range v.levels {
			if c.in[k] {
				in = append(in, lv)
			} else {
				out = append(out, lv)
			}
		}
		// The shorter of the set and its complement; a level never seen
		// in training meets a complement ("not in"), which the text says.
		if len(out) < len(in) && len(out) > 0 && len(v.levels) < maxLevels {
			in, pc.Negate = out, true
		}
		sort.Strings(in)
		pc.Levels = in
	case numView:
		pc.Op, pc.Integer = profile.OpRange, v.integer
		if !math.IsInf(c.lo, -1) {
			lo := c.lo
			pc.Lo = &lo
		}
		if !math.IsInf(c.hi, 1) {
			hi := c.hi
			pc.Hi = &hi
		}
	case tagView:
		pc.Separator = v.sep
		for k, tag := range v.tags {
			if c.mask&(1<<uint(k)) != 0 {
				pc.Tags = append(pc.Tags, tag)
			}
		}
		sort.Strings(pc.Tags)
		switch c.mode {
		case tagAny:
			pc.Op = profile.OpHasAny
		case tagAll:
			pc.Op = profile.OpHasAll
		case tagNone:
			pc.Op, pc.Negate = profile.OpHasAny, true
		}
	case boolView:
		pc.Op, pc.Negate = profile.OpIs, !c.want
	}
	return pc
}
