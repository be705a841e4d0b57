package features

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/integrate"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/icpengine/icp/datasets"
)

// The leakage guard's thresholds. Each is a principle, not a fit to one
// table:
//
//   - leakAUC: a single pre-sale field of a CRM export (industry, size,
//     country, source, a behaviour count) ranks won against lost deals at a
//     ROC AUC of about 0.55 to 0.80; whole models rarely pass 0.90. A field
//     that alone ranks at 0.90 or more, out of fold, holds the outcome.
//   - the same bound applies to being filled (or true): filled for 90% of
//     one outcome and 10% of the other is an indicator at AUC 0.90.
//   - being filled (or true) only for part of one outcome still leaks when
//     the filled or the empty cells are 99.5% one outcome over 30 rows or
//     more, hold at least a tenth of that outcome's rows, and are that pure
//     with a chance below one in a million at the base rate (an amount
//     filled for every won deal and a quarter of the lost ones: its empty
//     cells are all lost). Values of a category are judged through the
//     column's AUC only: a pure value can be an honest anti-ICP (an
//     industry that never buys) or a deterministic rule of the business (a
//     contract type that never churns), which data alone cannot tell from
//     a leak.
//   - a date on or after the close date on most closed rows is recorded
//     after the outcome.
//   - the values of a category (or tags) that name the outcome both ways,
//     some going with one outcome and others with the other at 95% or
//     more, each side holding a tenth of its outcome's rows, read like a
//     reason assigned after the fact (see pureBothWays).
//   - below ten rows of either outcome nothing is measured: one column
//     separates a handful of rows by chance.
const (
	leakAUC          = 0.90
	leakMinClass     = 10
	leakLevelRows    = 30
	leakLevelImpure  = 0.005
	leakLevelCover   = 0.10
	leakLevelChance  = 1e-6
	leakAfterClose   = 0.5
	leakAfterMinRows = 10
	leakFolds        = 5
	leakBins         = 20
	leakSmoothing    = 10
)

// Leakage is the leakage guard's evidence about a column, measured on the
// closed rows with the provisional labels of the detected outcome.
type Leakage struct {
	// Positive and Negative name the two outcomes: "won" and "lost", or
	// "retained" and "churned" in a churn table.
	Positive string `json:"positive"`
	Negative string `json:"negative"`
	// Rows counts the closed rows checked.
	Rows int `json:"rows"`
	// AUC is the ROC AUC of the column alone, computed out of fold (each
	// fifth of the rows scored by the outcome rate of its value, or of its
	// bin for numbers and dates, on the other four fifths), taken in the
	// direction it ranks best: 0.5 is no ranking power, 1 a perfect one.
	AUC float64 `json:"auc"`
	// FilledPositive and FilledNegative are the shares of positive and
	// negative closed rows in which the column is filled (for a boolean:
	// true).
	FilledPositive float64 `json:"filled_positive"`
	FilledNegative float64 `json:"filled_negative"`
	// Level names the cells that occur almost only with one outcome ("an
	// empty cell", "a filled cell", "a true cell"): LevelRows closed rows,
	// LevelShare of them with outcome LevelOutcome.
	Level        string  `json:"level,omitempty"`
	LevelRows    int     `json:"level_rows,omitempty"`
	LevelShare   float64 `json:"level_share,omitempty"`
	LevelOutcome string  `json:"level_outcome,omitempty"`
	// AfterClose is the share of closed rows, of those with both dates,
	// whose date falls on or after the close date.
	AfterClose float64 `json:"after_close,omitempty"`
}

// guard holds the provisional labels the leakage guard measures against.
type guard struct {
	rows     []int     // closed rows
	pos      []bool    // positive outcome per closed row
	close    []float64 // close day per closed row (NaN unknown), nil without a close date
	nPos     int
	nNeg     int
	posName  string
	negName  string
	unit     string // "deals" or "customers", for reasons
	ph       placeholders
	closeCol string
}

// newGuard builds provisional labels from the detected outcome: won/lost
// from the won column, else retained/churned from the churn column. It
// returns nil when the schema has neither.
func newGuard(t *datasets.Table, s *Schema, ph placeholders) *guard {
	g := &guard{ph: ph}
	if c := t.Column(s.Outcomes.Won); c != nil && s.Outcomes.Won != "" {
		g.posName, g.negName, g.unit = "won", "lost", "deals"
		for i := 0; i < t.Rows(); i++ {
			switch s.Outcomes.Meaning(c, i) {
			case MeaningWon:
				g.rows, g.pos = append(g.rows, i), append(g.pos, true)
			case MeaningLost:
				g.rows, g.pos = append(g.rows, i), append(g.pos, false)
			}
		}
	} else if c := t.Column(s.Outcomes.Churned); c != nil && s.Outcomes.Churned != "" {
		g.posName, g.negName, g.unit = "retained", "churned", "customers"
		for i := 0; i < t.Rows(); i++ {
			g.rows, g.pos = append(g.rows, i), append(g.pos, !IsChurned(c, i))
		}
	} else {
		return nil
	}
	for _, p := range g.pos {
		if p {
			g.nPos++
		} else {
			g.nNeg++
		}
	}
	return g
}

// setClose records the close date column for the after-close test.
func (g *guard) setClose(c *datasets.Column) {
	if c == nil || c.Kind != datasets.Date {
		return
	}
	g.closeCol = c.Name
	g.close = make([]float64, len(g.rows))
	for j, i := range g.rows {
		g.close[j] = c.Num[i]
	}
}

// enough reports whether both outcomes have enough rows to measure.
func (g *guard) enough() bool { return g.nPos >= leakMinClass && g.nNeg >= leakMinClass }

// filled reports whether row i of c counts as filled: not missing (nor a
// placeholder), and for a boolean, true.
func (g *guard) filled(c *datasets.Column, i int) bool {
	switch c.Kind {
	case datasets.String:
		return !g.ph.has(c.Str[i])
	case datasets.Bool:
		return c.Num[i] == 1
	}
	return !math.IsNaN(c.Num[i])
}

// fillRates returns the shares of positive and negative closed rows where
// c is filled.
func (g *guard) fillRates(c *datasets.Column) (pos, neg float64) {
	var fp, fn int
	for j, i := range g.rows {
		if !g.filled(c, i) {
			continue
		}
		if g.pos[j] {
			fp++
		} else {
			fn++
		}
	}
	return ratio(fp, g.nPos), ratio(fn, g.nNeg)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// check measures column c (schema column sc) and returns its evidence and
// the reasons it leaks (none: it does not).
func (g *guard) check(c *datasets.Column, sc *Column) (*Leakage, []string) {
	ev := &Leakage{Positive: g.posName, Negative: g.negName, Rows: len(g.rows), AUC: 0.5}
	ev.FilledPositive, ev.FilledNegative = g.fillRates(c)
	var why []string
	if g.enough() {
		lv := g.levels(c, sc)
		ev.AUC = round4(oofAUC(lv, g.pos))
		if ev.AUC >= leakAUC {
			why = append(why, fmt.Sprintf("alone it ranks %s against %s %s at ROC AUC %.3f out of fold (pre-sale fields stay below %.2f)",
				g.posName, g.negName, g.unit, ev.AUC, leakAUC))
		}
		if fillAUC := 0.5 + math.Abs(ev.FilledPositive-ev.FilledNegative)/2; fillAUC >= leakAUC {
			what := "filled"
			if c.Kind == datasets.Bool {
				what = "true"
			}
			why = append(why, fmt.Sprintf("%s for %.0f%% of %s and %.0f%% of %s %s", what,
				100*ev.FilledPositive, g.posName, 100*ev.FilledNegative, g.negName, g.unit))
		}
		if name, n, share, pos, ok := g.pureFill(c); ok {
			ev.Level, ev.LevelRows, ev.LevelShare = name, n, round4(share)
			ev.LevelOutcome = g.negName
			if pos {
				ev.LevelOutcome = g.posName
			}
			why = append(why, fmt.Sprintf("%s goes with %s in %.1f%% of %d %s", name, ev.LevelOutcome, 100*share, n, g.unit))
		}
		if c.Kind == datasets.String {
			if pl, ok := g.pureBothWays(lv); ok {
				if ev.Level == "" {
					big := pl[0]
					if pl[1].rows > big.rows {
						big = pl[1]
					}
					ev.Level, ev.LevelRows, ev.LevelShare, ev.LevelOutcome = strconv.Quote(big.name), big.rows, round4(big.share), big.outcome
				}
				why = append(why, fmt.Sprintf("its values name the outcome both ways: %q goes with %s in %.1f%% of %d %s, %q with %s in %.1f%% of %d",
					pl[0].name, pl[0].outcome, 100*pl[0].share, pl[0].rows, g.unit, pl[1].name, pl[1].outcome, 100*pl[1].share, pl[1].rows))
			}
		}
	}
	if c.Kind == datasets.Date && g.close != nil && c.Name != g.closeCol {
		after, both := 0, 0
		for j, i := range g.rows {
			d, cd := c.Num[i], g.close[j]
			if math.IsNaN(d) || math.IsNaN(cd) {
				continue
			}
			both++
			if math.Floor(d) >= math.Floor(cd) {
				after++
			}
		}
		if both > 0 {
			ev.AfterClose = round4(ratio(after, both))
		}
		if both >= leakAfterMinRows && ev.AfterClose >= leakAfterClose {
			why = append(why, fmt.Sprintf("on or after %s in %.0f%% of %d closed %s", g.closeCol, 100*ev.AfterClose, both, g.unit))
		}
	}
	return ev, why
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// rowLevels are the levels of each closed row: one id for a value or a
// bin, several for a tag list, none for a missing cell.
type rowLevels struct {
	ids   [][]int32
	names []string
}

// levels reads column c on the closed rows as levels: the value of a text
// or boolean column, the tags of a tag list, the quantile bin of a number
// or a date.
func (g *guard) levels(c *datasets.Column, sc *Column) rowLevels {
	lv := rowLevels{ids: make([][]int32, len(g.rows))}
	index := make(map[string]int32)
	id := func(name string) int32 {
		k, ok := index[name]
		if !ok {
			k = int32(len(lv.names))
			index[name] = k
			lv.names = append(lv.names, name)
		}
		return k
	}
	// One backing array for the single-level rows.
	one := make([]int32, len(g.rows))
	switch {
	case c.Kind == datasets.String && sc.Role == RoleTags:
		sp := make(spellings)
		keys := make([][]string, len(g.rows))
		for j, i := range g.rows {
			for _, tag := range SplitTags(c.Str[i], sc.Separator) {
				if g.ph.has(tag) {
					continue
				}
				k := TagKey(tag)
				sp.add(k, tag)
				keys[j] = append(keys[j], k)
			}
		}
		for j, ks := range keys {
			for _, k := range ks {
				lv.ids[j] = append(lv.ids[j], id(k))
			}
		}
		for k, name := range lv.names {
			lv.names[k] = sp.best(name)
		}
	case c.Kind == datasets.String:
		for j, i := range g.rows {
			if v := c.Str[i]; !g.ph.has(v) {
				one[j] = id(v)
				lv.ids[j] = one[j : j+1]
			}
		}
	case c.Kind == datasets.Bool:
		for j, i := range g.rows {
			if v := c.Num[i]; !math.IsNaN(v) {
				one[j] = id(map[bool]string{true: "true", false: "false"}[v == 1])
				lv.ids[j] = one[j : j+1]
			}
		}
	default:
		var vals []float64
		for _, i := range g.rows {
			if v := c.Num[i]; !math.IsNaN(v) {
				vals = append(vals, v)
			}
		}
		sort.Float64s(vals)
		distinct := compactSorted(vals)
		edges := distinct
		if len(distinct) > leakBins {
			edges = binEdges(vals, leakBins)
		}
		for j, i := range g.rows {
			v := c.Num[i]
			if math.IsNaN(v) {
				continue
			}
			b := sort.SearchFloat64s(edges, v) // bin: the first edge >= v
			one[j] = id("bin " + strconv.Itoa(b))
			lv.ids[j] = one[j : j+1]
		}
	}
	return lv
}

// binEdges returns the upper edges of up to k equal-frequency bins of the
// sorted values; equal values share a bin.
func binEdges(sorted []float64, k int) []float64 {
	var edges []float64
	n := len(sorted)
	for b := 1; b <= k; b++ {
		at := b*n/k - 1
		if at < 0 {
			continue
		}
		e := sorted[at]
		if len(edges) == 0 || e > edges[len(edges)-1] {
			edges = append(edges, e)
		}
	}
	if n > 0 && (len(edges) == 0 || edges[len(edges)-1] < sorted[n-1]) {
		edges = append(edges, sorted[n-1])
	}
	return edges
}

// oofAUC scores each closed row by the smoothed positive rate of its
// levels (their mean for a tag list; the rate of missing cells for a
// missing one) measured on the other folds, and returns the ROC AUC of
// those scores, taken in the direction that ranks best.
func oofAUC(lv rowLevels, pos []bool) float64 {
	n := len(pos)
	L := len(lv.names) + 1 // the last level is "missing"
	miss := int32(L - 1)
	cnt := make([]float64, leakFolds*L)
	sum := make([]float64, leakFolds*L)
	var foldN, foldSum [leakFolds]float64
	each := func(j int, f func(l int32)) {
		if len(lv.ids[j]) == 0 {
			f(miss)
			return
		}
		for _, l := range lv.ids[j] {
			f(l)
		}
	}
	for j := 0; j < n; j++ {
		fold := j % leakFolds
		y := b2f(pos[j])
		foldN[fold]++
		foldSum[fold] += y
		each(j, func(l int32) {
			cnt[fold*L+int(l)]++
			sum[fold*L+int(l)] += y
		})
	}
	totCnt := make([]float64, L)
	totSum := make([]float64, L)
	for f := 0; f < leakFolds; f++ {
		for l := 0; l < L; l++ {
			totCnt[l] += cnt[f*L+l]
			totSum[l] += sum[f*L+l]
		}
	}
	var allN, allSum float64
	for f := 0; f < leakFolds; f++ {
		allN += foldN[f]
		allSum += foldSum[f]
	}
	scores := make([]float64, n)
	for j := 0; j < n; j++ {
		fold := j % leakFolds
		prior := (allSum - foldSum[fold]) / math.Max(allN-foldN[fold], 1)
		var s float64
		var k int
		each(j, func(l int32) {
			c := totCnt[l] - cnt[fold*L+int(l)]
			sm := totSum[l] - sum[fold*L+int(l)]
			s += (sm + leakSmoothing*prior) / (c + leakSmoothing)
			k++
		})
		scores[j] = s / float64(k)
	}
	auc := rocAUC(scores, pos)
	return math.Max(auc, 1-auc)
}

// rocAUC is the area under the ROC curve of scores for the classes, with
// gonum's ROC (tied scores share a cutoff) and the trapezoidal rule.
func rocAUC(scores []float64, classes []bool) float64 {
	y := append([]float64(nil), scores...)
	cl := append([]bool(nil), classes...)
	stat.SortWeightedLabeled(y, cl, nil)
	tpr, fpr, _ := stat.ROC(nil, y, cl, nil)
	if len(fpr) < 2 {
		return 0.5
	}
	auc := integrate.Trapezoidal(fpr, tpr)
	if math.IsNaN(auc) {
		return 0.5
	}
	return auc
}

// pureFill reports whether the empty or the filled (for a boolean: true)
// cells of c occur almost only with one outcome, passing the guard's level
// test, and which.
func (g *guard) pureFill(c *datasets.Column) (name string, rows int, share float64, positive bool, ok bool) {
	type tally struct{ pos, neg int }
	var miss, fill tally
	for j, i := range g.rows {
		t := &fill
		if !g.filled(c, i) {
			t = &miss
		}
		if g.pos[j] {
			t.pos++
		} else {
			t.neg++
		}
	}
	what := "a filled cell"
	if c.Kind == datasets.Bool {
		what = "a true cell"
	}
	total := float64(g.nPos + g.nNeg)
	bestImpure := math.Inf(1)
	for k, t := range []tally{miss, fill} {
		n := t.pos + t.neg
		if n < leakLevelRows {
			continue
		}
		major, minor, classRows, other := t.pos, t.neg, g.nPos, g.nNeg
		isPos := true
		if t.neg > t.pos {
			major, minor, classRows, other = t.neg, t.pos, g.nNeg, g.nPos
			isPos = false
		}
		impure := float64(minor) / float64(n)
		if impure > leakLevelImpure || float64(major) < leakLevelCover*float64(classRows) {
			continue
		}
		q := float64(other) / total // chance a row has the other outcome
		if (distuv.Binomial{N: float64(n), P: q}).CDF(float64(minor)) > leakLevelChance {
			continue
		}
		if impure < bestImpure {
			bestImpure = impure
			name = []string{"an empty cell", what}[k]
			rows, share, positive, ok = n, float64(major)/float64(n), isPos, true
		}
	}
	return name, rows, share, positive, ok
}

// pureLevel is a value that goes almost only with one outcome.
type pureLevel struct {
	name    string
	rows    int
	share   float64
	outcome string
}

// pureBothWays reports whether the values of a category or tag list name
// the outcome both ways: some values go with the positive outcome and
// others with the negative one, each at 95% or more (and above 90% at a
// 95% confidence bound) over 30 rows or more, each side holding a tenth or
// more of its outcome's rows. A reason assigned after the fact ("closed by
// rep", "ringing, no answer") reads like that; an honest field that
// separates one way only (a contract type that never churns, an industry
// that never buys) does not. It returns the largest value of each side.
func (g *guard) pureBothWays(lv rowLevels) ([2]pureLevel, bool) {
	type tally struct{ pos, neg int }
	t := make([]tally, len(lv.names))
	for j, ids := range lv.ids {
		for _, l := range ids {
			if g.pos[j] {
				t[l].pos++
			} else {
				t[l].neg++
			}
		}
	}
	var best [2]pureLevel
	var cover [2]int
	for l, c := range t {
		n := c.pos + c.neg
		if n < leakLevelRows {
			continue
		}
		side, major, outcome := 0, c.pos, g.posName
		if c.neg > c.pos {
			side, major, outcome = 1, c.neg, g.negName
		}
		p := float64(major) / float64(n)
		if p < 0.95 || wilsonLower(p, n) < 0.90 {
			continue
		}
		cover[side] += major
		if n > best[side].rows {
			best[side] = pureLevel{name: lv.names[l], rows: n, share: p, outcome: outcome}
		}
	}
	ok := best[0].rows > 0 && best[1].rows > 0 &&
		float64(cover[0]) >= leakLevelCover*float64(g.nPos) && float64(cover[1]) >= leakLevelCover*float64(g.nNeg)
	return best, ok
}

// wilsonLower is the lower bound of the Wilson score interval at 95% for a
// share p observed over n rows.
func wilsonLower(p float64, n int) float64 {
	const z = 1.96
	fn := float64(n)
	return (p + z*z/(2*fn) - z*math.Sqrt(p*(1-p)/fn+z*z/(4*fn*fn))) / (1 + z*z/fn)
}

// compactSorted returns the distinct values of a sorted slice.
func compactSorted(sorted []float64) []float64 {
	var out []float64
	for k, v := range sorted {
		if k == 0 || v != sorted[k-1] {
			out = append(out, v)
		}
	}
	return out
}

// guardColumns runs the leakage guard over every feature column the
// override did not set, and over columns leaking by name (which keep their
// role, gaining evidence). Flagged columns become leakage.
func (s *Schema) guardColumns(t *datasets.Table, g *guard) {
	for k := range s.Columns {
		sc := &s.Columns[k]
		if sc.Overridden {
			continue
		}
		byName := sc.Role == RoleLeakage
		if !sc.Role.IsFeature() && !byName || sc.Leakage != nil {
			continue
		}
		ev, why := g.check(t.Columns[k], sc)
		if byName {
			sc.Leakage = ev
			switch {
			case len(why) > 0:
				sc.Reason += "; the data agree: " + strings.Join(why, "; ")
			case g.enough():
				sc.Reason += fmt.Sprintf("; alone it ranks %s against %s %s at ROC AUC %.3f", g.posName, g.negName, g.unit, ev.AUC)
			}
			continue
		}
		if len(why) == 0 {
			continue
		}
		sc.Leakage = ev
		back := fmt.Sprintf(`{"columns": {%s: {"role": %q}}}`, strconv.Quote(sc.Name), sc.Role)
		if sc.Role == RoleTags {
			back = fmt.Sprintf(`{"columns": {%s: {"role": "tags", "separator": %q}}}`, strconv.Quote(sc.Name), sc.Separator)
		}
		sc.Role = RoleLeakage
		sc.Reason = "leaks the outcome: " + strings.Join(why, "; ") + "; put it back with " + back
		sc.Separator = ""
	}
}
