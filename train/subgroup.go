package train

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
)

// The rule search is subgroup discovery over the rule language of
// profile.Rule, in the manner of the beam searches of pysubgroup and
// Cortana and the covering of CN2-SD, with the set-valued conditions
// PRIM's peeling reaches and they do not: one categorical condition holds
// a set of levels, one numeric condition a two-sided range, one tag
// condition "has any of", "has all of" or "has none of" a set of tags.
//
// A subgroup's quality is n^a (p - t): its size n to the power a times
// the excess of its rate p of the outcome over a contrast rate t (the
// base rate for segments; for the anti-ICP the sign flips and t is the
// rate a disqualifier must stay under). Adding a condition raises it
// exactly when the accounts the condition removes have a rate below
// (1 - a) p + a t. With a = 1/2, the binomial test's weighting, that is the
// midpoint of p and t: a band of employees where the segment's accounts
// win at 20% instead of 60% is cut, one where they win at 55% is kept,
// whatever the band's size; it sets the cut points (exactRanges). The
// search chooses subgroups with a = 0.3, which prefers a pure recipe to
// the union of two: two recipes that win alike, each with its own
// conditions, read as one at 1/2 (the union's size outweighs the accounts
// of neither it takes in), and as two at 0.3.
//
// A condition must also remove accounts that do significantly worse than
// those it keeps (a two-proportion test at alpha over the number of
// conditions tried on the column: a range chosen among two thousand needs
// more evidence than a boolean), and a level or tag joins a set only when
// its own accounts do significantly better than those left outside it.
// Each condition is tried with and without the accounts missing the value
// (orMissing decides again on the final rule, by likelihood).
//
// The search (see search) grows a beam of the best subgroups condition by
// condition, each time trying every column's best condition given the
// subgroup, and refines every member given its other conditions
// (backfit: a set chosen before a later condition narrowed the accounts
// is chosen again, a condition that no longer adds is dropped, one that
// now adds joins); then the best subgroup's cut points are set between
// observed values at the roundest number that separates them, and each
// condition is told whether missing values go with it.

// viewKind is how the search reads a column.
type viewKind int

const (
	catView viewKind = iota
	numView
	tagView
	boolView
)

// maxCuts is the most candidate thresholds of a numeric column during the
// beam search; the final thresholds are chosen among all observed values.
const maxCuts = 63

// maxTags is the most tags of a tag column the search considers, the most
// frequent first.
const maxTags = 64

// maxLevels is the most levels of a categorical column the search
// considers, the most frequent first; rarer levels never enter a set.
const maxLevels = 256

// view is one column as the search reads it, with a value per table row.
type view struct {
	name string
	kind viewKind
	col  *datasets.Column
	miss []bool
	// catView: the level of each row (-1 missing, -2 a level not
	// considered).
	levels []string
	code   []int32
	// numView: the value, and its bin among cuts (bin b holds
	// cuts[b-1] < v <= cuts[b]).
	cuts    []float64
	bin     []uint8
	integer bool
	// tagView: the tags held, as a bit mask over tags.
	tags []string
	mask []uint64
	sep  string
}

// newViews builds the views of the given columns of t, read as enc
// encodes them; rows are the rows whose values place the numeric cut
// points.
func newViews(t *datasets.Table, enc *features.Encoder, cols []string, rows []int) []view {
	keep := make(map[string]bool, len(cols))
	for _, c := range cols {
		keep[c] = true
	}
	var out []view
	n := t.Rows()
	for _, ce := range enc.Columns {
		col := t.Column(ce.Name)
		if col == nil || !keep[ce.Name] {
			continue
		}
		v := view{name: ce.Name, col: col, miss: make([]bool, n)}
		for i := range n {
			v.miss[i] = col.IsMissing(i)
		}
		switch ce.Role {
		case features.RoleCategorical:
			v.kind = catView
			v.levels, v.code = levelCodes(col, v.miss)
		case features.RoleTags:
			if col.Kind != datasets.String {
				continue
			}
			v.kind = tagView
			v.sep = ce.Separator
			v.tags, v.mask = tagMasks(col, ce, v.miss)
		case features.RoleBoolean:
			if col.Kind == datasets.String {
				continue
			}
			v.kind = boolView
		case features.RoleNumeric:
			if col.Kind == datasets.String {
				continue
			}
			v.kind = numView
			v.integer = true
			for i := range n {
				if !v.miss[i] && col.Num[i] != math.Trunc(col.Num[i]) {
					v.integer = false
					break
				}
			}
			v.cuts = quantileCuts(col.Num, v.miss, rows)
			v.bin = make([]uint8, n)
			for i := range n {
				if !v.miss[i] {
					v.bin[i] = uint8(sort.SearchFloat64s(v.cuts, col.Num[i]))
				}
			}
		default:
			continue
		}
		out = append(out, v)
	}
	return out
}

// levelCodes numbers the levels of a categorical column, the most
// frequent first (at most maxLevels).
func levelCodes(col *datasets.Column, miss []bool) ([]string, []int32) {
	count := map[string]int{}
	for i := range miss {
		if !miss[i] {
			count[profile.CategoryText(col, i)]++
		}
	}
	levels := make([]string, 0, len(count))
	for v := range count {
		levels = append(levels, v)
	}
	sort.Slice(levels, func(a, b int) bool {
		if count[levels[a]] != count[levels[b]] {
			return count[levels[a]] > count[levels[b]]
		}
		return levels[a] < levels[b]
	})
	if len(levels) > maxLevels {
		levels = levels[:maxLevels]
	}
	index := make(map[string]int32, len(levels))
	for k, v := range levels {
		index[v] = int32(k)
	}
	code := make([]int32, len(miss))
	for i := range miss {
		code[i] = -1
		if !miss[i] {
			c, ok := index[profile.CategoryText(col, i)]
			if !ok {
				c = -2
			}
			code[i] = c
		}
	}
	return levels, code
}

// tagMasks reads a tag column as bit masks over its most frequent tags,
// compared by features.TagKey and shown as the encoder shows them.
func tagMasks(col *datasets.Column, ce features.ColumnEncoder, miss []bool) ([]string, []uint64) {
	tags := ce.Levels
	if len(tags) > maxTags {
		tags = tags[:maxTags]
	}
	index := make(map[string]int, len(tags))
	for k, tag := range tags {
		index[features.TagKey(tag)] = k
	}
	mask := make([]uint64, len(miss))
	for i := range miss {
		if miss[i] {
			continue
		}
		for _, tag := range features.SplitTags(col.Str[i], ce.Separator) {
			if k, ok := index[features.TagKey(tag)]; ok {
				mask[i] |= 1 << uint(k)
			}
		}
	}
	return slices.Clone(tags), mask
}

// quantileCuts returns up to maxCuts thresholds at quantiles of the
// distinct values of rows, each an observed value (v <= cut).
func quantileCuts(num []float64, miss []bool, rows []int) []float64 {
	vals := make([]float64, 0, len(rows))
	for _, i := range rows {
		if !miss[i] {
			vals = append(vals, num[i])
		}
	}
	sort.Float64s(vals)
	if len(vals) == 0 {
		return nil
	}
	var cuts []float64
	for q := 1; q <= maxCuts; q++ {
		v := vals[min(len(vals)-1, q*len(vals)/(maxCuts+1))]
		if v == vals[len(vals)-1] {
			break
		}
		if len(cuts) == 0 || v > cuts[len(cuts)-1] {
			cuts = append(cuts, v)
		}
	}
	return cuts
}

// tagMode is how a tag condition reads its set.
type tagMode int

const (
	tagAny tagMode = iota
	tagAll
	tagNone
)

// cond is one condition of the search on view v.
type cond struct {
	v int
	// in marks the levels of a catView condition.
	in []bool
	// lo < value <= hi for a numView condition (infinite when open).
	lo, hi float64
	// mode and mask: a tagView condition.
	mode tagMode
	mask uint64
	// want is the value a boolView condition asks for.
	want bool
	// missing: a missing value meets the condition.
	missing bool
}

// holds reports whether row i meets c.
func (s *searcher) holds(c *cond, i int) bool {
	v := &s.views[c.v]
	if v.miss[i] {
		return c.missing
	}
	switch v.kind {
	case catView:
		k := v.code[i]
		return k >= 0 && c.in[k]
	case numView:
		x := v.col.Num[i]
		return x > c.lo && x <= c.hi
	case tagView:
		m := v.mask[i]
		switch c.mode {
		case tagAny:
			return m&c.mask != 0
		case tagAll:
			return m&c.mask == c.mask
		}
		return m&c.mask == 0
	case boolView:
		return (v.col.Num[i] == 1) == c.want
	}
	return false
}

// key identifies c within a subgroup, for deduplicating the beam.
func (s *searcher) key(c *cond) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d:", c.v)
	switch s.views[c.v].kind {
	case catView:
		for k, in := range c.in {
			if in {
				fmt.Fprintf(&b, "%d,", k)
			}
		}
	case numView:
		fmt.Fprintf(&b, "%g,%g", c.lo, c.hi)
	case tagView:
		fmt.Fprintf(&b, "%d,%x", c.mode, c.mask)
	case boolView:
		fmt.Fprintf(&b, "%v", c.want)
	}
	fmt.Fprintf(&b, ",%v", c.missing)
	return b.String()
}

// searcher finds subgroups of rows where an outcome is far more (or,
// with low, far less) frequent than a contrast rate.
type searcher struct {
	views []view
	// y is the outcome per table row, 0 or 1.
	y []float64
	// a is the size exponent and t the contrast rate of the quality; the
	// beam search chooses a subgroup with a, and backfit and exactRanges
	// set its conditions with fitA (see search).
	a, fitA, t float64
	low        bool
	// minPos is the fewest positives (with low, rows) a subgroup holds.
	minPos float64
	// alpha is the significance level of a refinement: the rows a
	// condition keeps must do better than those it removes at alpha over
	// the number of conditions tried on the column (Bonferroni), so that
	// a range chosen among thousands needs more evidence than a boolean.
	alpha float64
	// width and depth bound the beam and the conditions of a rule.
	width, depth int
}

// subgroup is a conjunction of conditions and the rows meeting them.
type subgroup struct {
	conds []cond
	rows  []int
	n, k  float64
	q     float64
}

func (s *searcher) quality(n, k float64) float64 {
	if n <= 0 {
		return math.Inf(-1)
	}
	// The rate at its pessimistic bound (the one-sided 75% Wilson bound,
	// z = 0.674, the confidence C4.5 prunes with): a small group that
	// looks pure by chance does not outrank a larger one whose rate is
	// known.
	const z = 0.674
	p := k / n
	half := z * math.Sqrt(p*(1-p)/n+z*z/(4*n*n)) / (1 + z*z/n)
	mid := (p + z*z/(2*n)) / (1 + z*z/n)
	d := mid - half - s.t
	if s.low {
		d = s.t - (mid + half)
	}
	return math.Pow(n, s.a) * d
}

// supported reports whether a subgroup of n rows and k positives is
// large enough.
func (s *searcher) supported(n, k float64) bool {
	if s.low {
		return n >= s.minPos
	}
	return k >= s.minPos
}

// twoZ is the two-proportion z statistic of k1/n1 against k2/n2, positive
// when the first rate is the better one (higher, or with low lower).
func (s *searcher) twoZ(k1, n1, k2, n2 float64) float64 {
	if n1 <= 0 {
		return 0
	}
	if n2 <= 0 {
		return math.Inf(1)
	}
	p := (k1 + k2) / (n1 + n2)
	se := math.Sqrt(p * (1 - p) * (1/n1 + 1/n2))
	d := k1/n1 - k2/n2
	if s.low {
		d = -d
	}
	if se == 0 {
		if d > 0 {
			return math.Inf(1)
		}
		return 0
	}
	return d / se
}

// count returns the rows and positives of rows.
func (s *searcher) count(rows []int) (n, k float64) {
	for _, i := range rows {
		k += s.y[i]
	}
	return float64(len(rows)), k
}

// filter returns the rows of rows that meet c.
func (s *searcher) filter(rows []int, c *cond) []int {
	out := make([]int, 0, len(rows)/2)
	for _, i := range rows {
		if s.holds(c, i) {
			out = append(out, i)
		}
	}
	return out
}

// refinement is the best condition on one view over a set of rows: its
// rows and positives and quality, and the quality of the rows before it,
// which it must beat.
type refinement struct {
	c    cond
	n, k float64
	q    float64
	base float64
}

// refine returns the best condition on view vi over rows (by quality)
// among those with the support that remove rows doing significantly worse
// than those they keep, and false when there is none. Each condition is
// tried twice, with the rows missing the value and without them: a
// condition may matter by what it says of the accounts that hold a value
// and also by leaving out those that do not (orMissing decides again on
// the final rule).
func (s *searcher) refine(vi int, rows []int) (refinement, bool) {
	v := &s.views[vi]
	var pn, pk, mn, mk float64
	for _, i := range rows {
		if v.miss[i] {
			mn++
			mk += s.y[i]
		} else {
			pn++
			pk += s.y[i]
		}
	}
	var best refinement
	best.q = math.Inf(-1)
	zMin := s.zFor(vi)
	consider := func(c cond, n, k float64) {
		if n >= pn {
			return
		}
		for _, withMissing := range []bool{false, true} {
			if withMissing && mn == 0 {
				continue
			}
			kn, kk := n, k
			if withMissing {
				kn, kk = n+mn, k+mk
			}
			if !s.supported(kn, kk) {
				continue
			}
			q := s.quality(kn, kk)
			if q <= best.q || s.twoZ(kk, kn, pk+mk-kk, pn+mn-kn) < zMin {
				continue
			}
			c.missing = withMissing
			best = refinement{c: c, n: kn, k: kk, q: q}
		}
	}
	switch v.kind {
	case catView:
		s.refineLevels(vi, rows, consider)
	case numView:
		s.refineRange(vi, rows, consider)
	case tagView:
		s.refineTags(vi, rows, consider)
	case boolView:
		var n, k [2]float64
		for _, i := range rows {
			if v.miss[i] {
				continue
			}
			b := 0
			if v.col.Num[i] == 1 {
				b = 1
			}
			n[b]++
			k[b] += s.y[i]
		}
		for b := range 2 {
			consider(cond{v: vi, want: b == 1}, n[b], k[b])
		}
	}
	best.base = s.quality(pn+mn, pk+mk)
	return best, !math.IsInf(best.q, -1)
}

// zFor is the least z statistic of a refinement on view vi: the one-sided
// normal quantile of alpha over the number of conditions tried on it.
func (s *searcher) zFor(vi int) float64 {
	v := &s.views[vi]
	var m float64
	switch v.kind {
	case catView:
		m = float64(len(v.levels))
	case numView:
		b := float64(len(v.cuts) + 1)
		m = b * (b + 1) / 2
	case tagView:
		m = 3 * float64(len(v.tags))
	default:
		m = 2
	}
	return distuv.UnitNormal.Quantile(1 - s.alpha/math.Max(1, m))
}

// zStep is the least z statistic for one more level or tag to join a
// set on view vi: the rows it adds must do significantly better than
// those left out (or, for "all of" and "none of", those it removes worse
// than those kept), at alpha over the number of levels or tags that
// could join, so that a level seen a few times does not ride along.
func (s *searcher) zStep(vi int) float64 {
	v := &s.views[vi]
	m := float64(len(v.levels) + len(v.tags))
	return distuv.UnitNormal.Quantile(1 - s.alpha/math.Max(2, m))
}

// refineLevels offers the best set of levels: among the sets of the top
// j levels by rate (the optimal sets of a quality that grows with the
// rate), the best by quality, trimmed of the levels that do not do
// significantly better than the rows left outside it.
func (s *searcher) refineLevels(vi int, rows []int, consider func(cond, float64, float64)) {
	v := &s.views[vi]
	L := len(v.levels)
	n := make([]float64, L)
	k := make([]float64, L)
	var pn, pk float64
	for _, i := range rows {
		if c := v.code[i]; c != -1 {
			pn++
			pk += s.y[i]
			if c >= 0 {
				n[c]++
				k[c] += s.y[i]
			}
		}
	}
	order := make([]int, 0, L)
	for c := range L {
		if n[c] > 0 {
			order = append(order, c)
		}
	}
	// Rates shrunk towards the contrast rate, so that a level seen twice
	// does not lead the order.
	rate := func(c int) float64 { return (k[c] + 5*s.t) / (n[c] + 5) }
	sort.SliceStable(order, func(a, b int) bool {
		ra, rb := rate(order[a]), rate(order[b])
		if s.low {
			return ra < rb
		}
		return ra > rb
	})
	bestQ, bestJ := math.Inf(-1), -1
	var cn, ck float64
	for j, c := range order[:max(0, len(order)-1)] {
		cn += n[c]
		ck += k[c]
		if !s.supported(cn, ck) {
			continue
		}
		if q := s.quality(cn, ck); q > bestQ {
			bestQ, bestJ = q, j
		}
	}
	if bestJ < 0 {
		return
	}
	in := make([]bool, L)
	cn, ck = 0, 0
	for _, c := range order[:bestJ+1] {
		in[c] = true
		cn += n[c]
		ck += k[c]
	}
	// Trim, weakest first, the levels not significantly better than the
	// rows outside the set.
	zStep := s.zStep(vi)
	for {
		weak, weakZ := -1, math.Inf(1)
		for c := range L {
			if !in[c] {
				continue
			}
			if z := s.twoZ(k[c], n[c], pk-ck, pn-cn); z < weakZ {
				weak, weakZ = c, z
			}
		}
		if weak < 0 || weakZ >= zStep {
			break
		}
		in[weak] = false
		cn -= n[weak]
		ck -= k[weak]
	}
	if cn > 0 {
		consider(cond{v: vi, in: in}, cn, ck)
	}
}

// refineRange offers every range of whole bins but the full one.
func (s *searcher) refineRange(vi int, rows []int, consider func(cond, float64, float64)) {
	v := &s.views[vi]
	B := len(v.cuts) + 1
	n := make([]float64, B+1)
	k := make([]float64, B+1)
	for _, i := range rows {
		if !v.miss[i] {
			b := v.bin[i]
			n[b+1]++
			k[b+1] += s.y[i]
		}
	}
	for b := 1; b <= B; b++ {
		n[b] += n[b-1]
		k[b] += k[b-1]
	}
	for i := 0; i < B; i++ {
		for j := i; j < B; j++ {
			if i == 0 && j == B-1 {
				continue
			}
			cn, ck := n[j+1]-n[i], k[j+1]-k[i]
			if !s.supported(cn, ck) {
				continue
			}
			c := cond{v: vi, lo: math.Inf(-1), hi: math.Inf(1)}
			if i > 0 {
				c.lo = v.cuts[i-1]
			}
			if j < B-1 {
				c.hi = v.cuts[j]
			}
			consider(c, cn, ck)
		}
	}
}

// refineTags offers, for each of "has any of", "has all of" and "has
// none of", the set grown greedily one tag at a time while the quality
// rises.
func (s *searcher) refineTags(vi int, rows []int, consider func(cond, float64, float64)) {
	v := &s.views[vi]
	T := len(v.tags)
	if T == 0 {
		return
	}
	present := make([]int, 0, len(rows))
	for _, i := range rows {
		if !v.miss[i] {
			present = append(present, i)
		}
	}
	pn, _ := s.count(present)
	n := make([]float64, T)
	k := make([]float64, T)
	zStep := s.zStep(vi)
	for _, mode := range []tagMode{tagAny, tagAll, tagNone} {
		var set uint64
		// base holds the rows the step works on: for "any", those not yet
		// matched; for "all" and "none", those still matched.
		base := present
		var inN, inK float64 // rows matched so far (any)
		curQ := math.Inf(-1)
		for step := 0; step < 6; step++ {
			clear(n)
			clear(k)
			for _, i := range base {
				m := v.mask[i] &^ set
				for m != 0 {
					b := bits.TrailingZeros64(m)
					m &= m - 1
					n[b]++
					k[b] += s.y[i]
				}
			}
			var bn, bk float64
			bq, bt := math.Inf(-1), -1
			baseN, baseK := s.count(base)
			for b := range T {
				if set&(1<<uint(b)) != 0 || n[b] == 0 {
					continue
				}
				var cn, ck float64
				switch mode {
				case tagAny:
					cn, ck = inN+n[b], inK+k[b]
				case tagAll:
					cn, ck = n[b], k[b]
				case tagNone:
					cn, ck = baseN-n[b], baseK-k[b]
				}
				if cn == pn || !s.supported(cn, ck) {
					continue
				}
				// The step's own evidence for "all of" and "none of": the
				// rows it removes do worse than those it keeps. ("Any of"
				// is trimmed once grown: a tag's rows are judged against
				// those outside the whole set.)
				if mode != tagAny && s.twoZ(ck, cn, baseK-ck, baseN-cn) < zStep {
					continue
				}
				if q := s.quality(cn, ck); q > bq {
					bq, bt, bn, bk = q, b, cn, ck
				}
			}
			if bt < 0 || bq <= curQ {
				break
			}
			set |= 1 << uint(bt)
			curQ = bq
			if mode != tagAny {
				consider(cond{v: vi, mode: mode, mask: set}, bn, bk)
			}
			bit := uint64(1) << uint(bt)
			next := base[:0:0]
			for _, i := range base {
				if has := v.mask[i]&bit != 0; has == (mode == tagAll) {
					next = append(next, i)
				}
			}
			if mode == tagAny {
				inN, inK = bn, bk
			}
			base = next
		}
		if mode == tagAny && set != 0 {
			if set, cn, ck := s.trimAny(vi, present, set, zStep); set != 0 {
				consider(cond{v: vi, mode: tagAny, mask: set}, cn, ck)
			}
		}
	}
}

// trimAny drops, weakest first, the tags of a "has any of" set whose own
// rows (holding that tag and no other of the set) do not do significantly
// better than the rows holding none of the set, and returns the set with
// the rows and positives it matches among present.
func (s *searcher) trimAny(vi int, present []int, set uint64, zStep float64) (uint64, float64, float64) {
	v := &s.views[vi]
	for {
		var in, out counts
		own := map[int]*counts{}
		for _, i := range present {
			m := v.mask[i] & set
			switch {
			case m == 0:
				out.n++
				out.k += s.y[i]
				continue
			case m&(m-1) == 0:
				b := bits.TrailingZeros64(m)
				c := own[b]
				if c == nil {
					c = &counts{}
					own[b] = c
				}
				c.n++
				c.k += s.y[i]
			}
			in.n++
			in.k += s.y[i]
		}
		weak, weakZ := -1, math.Inf(1)
		for b := range 64 {
			if set&(1<<uint(b)) == 0 {
				continue
			}
			z := 0.0
			if c := own[b]; c != nil {
				z = s.twoZ(c.k, c.n, out.k, out.n)
			}
			if z < weakZ {
				weak, weakZ = b, z
			}
		}
		if weak < 0 || weakZ >= zStep {
			return set, in.n, in.k
		}
		set &^= 1 << uint(weak)
		if set == 0 {
			return 0, 0, 0
		}
	}
}

// search finds the best subgroup of rows by beam search, then backfits
// it; false when no subgroup has the support and significance.
func (s *searcher) search(rows []int) (subgroup, bool) {
	n, k := s.count(rows)
	root := subgroup{rows: rows, n: n, k: k, q: s.quality(n, k)}
	beam := []subgroup{root}
	var best subgroup
	found := false
	for depth := 0; depth < s.depth; depth++ {
		seen := map[string]bool{}
		var next []subgroup
		for bi := range beam {
			b := &beam[bi]
			for vi := range s.views {
				if b.uses(vi) {
					continue
				}
				r, ok := s.refine(vi, b.rows)
				if !ok || r.q <= r.base {
					continue
				}
				conds := append(slices.Clone(b.conds), r.c)
				key := s.subgroupKey(conds)
				if seen[key] {
					continue
				}
				seen[key] = true
				next = append(next, subgroup{conds: conds, n: r.n, k: r.k, q: r.q, rows: b.rows})
			}
		}
		if len(next) == 0 {
			break
		}
		sort.SliceStable(next, func(a, b int) bool { return next[a].q > next[b].q })
		if len(next) > s.width {
			next = next[:s.width]
		}
		for j := range next {
			// rows held the parent's rows: filter by the new condition.
			next[j].rows = s.filter(next[j].rows, &next[j].conds[len(next[j].conds)-1])
		}
		// Refine each member given its other conditions, so that a
		// condition chosen before a later one narrowed the rows (an
		// industry set, a size range) is chosen again, before the members
		// compete.
		seen = map[string]bool{}
		beam = beam[:0]
		for j := range next {
			g := s.backfit(rows, next[j])
			g.q = s.quality(g.n, g.k)
			if key := s.subgroupKey(g.conds); len(g.conds) > 0 && !seen[key] {
				seen[key] = true
				beam = append(beam, g)
			}
		}
		if len(beam) == 0 {
			break
		}
		sort.SliceStable(beam, func(a, b int) bool { return beam[a].q > beam[b].q })
		if !found || beam[0].q > best.q {
			best, found = beam[0], true
		}
	}
	return best, found && len(best.conds) > 0
}

// fitting switches the quality's exponent to fitA until the returned
// function is called.
func (s *searcher) fitting() func() {
	a := s.a
	if s.fitA > 0 {
		s.a = s.fitA
	}
	return func() { s.a = a }
}

func (g *subgroup) uses(vi int) bool {
	for _, c := range g.conds {
		if c.v == vi {
			return true
		}
	}
	return false
}

func (s *searcher) subgroupKey(conds []cond) string {
	keys := make([]string, len(conds))
	for j := range conds {
		keys[j] = s.key(&conds[j])
	}
	sort.Strings(keys)
	return strings.Join(keys, "|")
}

// without returns the rows of rows meeting every condition of conds but
// the skip-th.
func (s *searcher) without(rows []int, conds []cond, skip int) []int {
	out := make([]int, 0, len(rows)/2)
next:
	for _, i := range rows {
		for j := range conds {
			if j != skip && !s.holds(&conds[j], i) {
				continue next
			}
		}
		out = append(out, i)
	}
	return out
}

// backfit re-chooses each condition of g given the others until none
// changes: a categorical set chosen before a later condition narrowed
// the rows is chosen again among them, a condition that no longer adds
// significantly is dropped, and a condition on a new column is added
// when one adds significantly.
func (s *searcher) backfit(rows []int, g subgroup) subgroup {
	conds := slices.Clone(g.conds)
	for round := 0; round < 6; round++ {
		changed := false
		for j := 0; j < len(conds); j++ {
			others := s.without(rows, conds, j)
			r, found := s.refine(conds[j].v, others)
			if !found || r.q <= r.base {
				conds = slices.Delete(conds, j, j+1)
				j--
				changed = true
				continue
			}
			if s.key(&r.c) != s.key(&conds[j]) {
				conds[j] = r.c
				changed = true
			}
		}
		// One more condition, if any adds.
		if len(conds) < s.depth {
			cur := s.without(rows, conds, -1)
			var best refinement
			best.q = math.Inf(-1)
			for vi := range s.views {
				used := false
				for _, c := range conds {
					used = used || c.v == vi
				}
				if used {
					continue
				}
				if r, ok := s.refine(vi, cur); ok && r.q > r.base && r.q > best.q {
					best = r
				}
			}
			if !math.IsInf(best.q, -1) {
				conds = append(conds, best.c)
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	out := s.without(rows, conds, -1)
	n, k := s.count(out)
	return subgroup{conds: conds, rows: out, n: n, k: k, q: s.quality(n, k)}
}
