package profile

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model"
)

// Rule is a readable rule on raw column values: an account matches when it
// matches any of the clauses, and a clause when it meets all of its
// conditions. Rules are learned by shallow surrogate trees on the raw
// values, so their thresholds read in the columns' own units.
type Rule struct {
	Clauses []Clause `json:"clauses"`
}

// Clause is a conjunction of conditions.
type Clause struct {
	Conds []Cond `json:"conds"`
}

// The condition operators.
const (
	// OpIn: a categorical value is one of Levels (or, with Negate, none of
	// them).
	OpIn = "in"
	// OpRange: a number or date lies in (Lo, Hi]; a nil bound is open.
	OpRange = "range"
	// OpHas: a tag list holds Tag (or, with Negate, does not).
	OpHas = "has"
	// OpIs: a boolean is true (or, with Negate, false).
	OpIs = "is"
)

// Cond is one condition on one column.
type Cond struct {
	Column string `json:"column"`
	Op     string `json:"op"`
	// Levels are the categorical levels of OpIn, sorted.
	Levels []string `json:"levels,omitempty"`
	// Tag is the tag of OpHas, and Separator splits the tag list.
	Tag       string `json:"tag,omitempty"`
	Separator string `json:"separator,omitempty"`
	// Negate inverts OpIn, OpHas and OpIs.
	Negate bool `json:"negate,omitempty"`
	// Lo and Hi bound OpRange: Lo < value <= Hi. Dates are in days since
	// 1970-01-01.
	Lo *float64 `json:"lo,omitempty"`
	Hi *float64 `json:"hi,omitempty"`
	// Integer marks a column of whole numbers, so bounds read as
	// "50 <= employees <= 500" rather than "49.5 < employees <= 500.5".
	Integer bool `json:"integer,omitempty"`
	// Date marks a date column.
	Date bool `json:"date,omitempty"`
	// Missing reports whether a missing value meets the condition.
	Missing bool `json:"missing,omitempty"`
}

// Match reports whether row i of t matches the rule. A column absent from
// t counts as missing.
func (r *Rule) Match(t *datasets.Table, i int) bool {
	if r == nil {
		return false
	}
	for k := range r.Clauses {
		if r.Clauses[k].match(t, i) {
			return true
		}
	}
	return false
}

// Empty reports whether the rule has no clause (matches nothing).
func (r *Rule) Empty() bool { return r == nil || len(r.Clauses) == 0 }

func (c *Clause) match(t *datasets.Table, i int) bool {
	for k := range c.Conds {
		if !c.Conds[k].match(t.Column(c.Conds[k].Column), i) {
			return false
		}
	}
	return true
}

func (c *Cond) match(col *datasets.Column, i int) bool {
	if col == nil || col.IsMissing(i) {
		return c.Missing
	}
	switch c.Op {
	case OpIn:
		v := categoryText(col, i)
		k := sort.SearchStrings(c.Levels, v)
		in := k < len(c.Levels) && c.Levels[k] == v
		return in != c.Negate
	case OpHas:
		if col.Kind != datasets.String {
			return c.Negate
		}
		// The encoder's tag split and comparison (features.TagKey).
		return features.HasTag(col.Str[i], c.Separator, c.Tag) != c.Negate
	case OpIs:
		return (col.Num[i] == 1) != c.Negate
	case OpRange:
		if col.Kind == datasets.String {
			return false
		}
		v := col.Num[i]
		return (c.Lo == nil || v > *c.Lo) && (c.Hi == nil || v <= *c.Hi)
	}
	return false
}

// categoryText is the text of a categorical cell, as the encoder reads it.
func categoryText(col *datasets.Column, i int) string {
	switch col.Kind {
	case datasets.String:
		return col.Str[i]
	case datasets.Bool:
		if col.Num[i] != 0 {
			return "true"
		}
		return "false"
	}
	return fmtExact(col.Num[i])
}

func fmtExact(v float64) string { return fmt.Sprintf("%g", v) }

// String renders the rule: clauses joined by "or", each in parentheses
// when there are several.
func (r *Rule) String() string {
	if r.Empty() {
		return "(no rule)"
	}
	parts := make([]string, len(r.Clauses))
	for k := range r.Clauses {
		parts[k] = r.Clauses[k].String()
		if len(r.Clauses) > 1 {
			parts[k] = "(" + parts[k] + ")"
		}
	}
	return strings.Join(parts, " or ")
}

// String renders the clause, conditions joined by "and".
func (c *Clause) String() string {
	if len(c.Conds) == 0 {
		return "any account"
	}
	parts := make([]string, len(c.Conds))
	for k := range c.Conds {
		parts[k] = c.Conds[k].String()
	}
	return strings.Join(parts, " and ")
}

// String renders the condition, for example "industry in {SaaS, FinTech}",
// "50 <= employees <= 500" or "tech_stack has hubspot".
func (c *Cond) String() string {
	s := c.text()
	if c.Missing {
		s += " (or missing)"
	}
	return s
}

func (c *Cond) text() string {
	switch c.Op {
	case OpIn:
		if len(c.Levels) == 1 {
			if c.Negate {
				return c.Column + " is not " + c.Levels[0]
			}
			return c.Column + " = " + c.Levels[0]
		}
		set := "{" + strings.Join(c.Levels, ", ") + "}"
		if c.Negate {
			return c.Column + " not in " + set
		}
		return c.Column + " in " + set
	case OpHas:
		if c.Negate {
			return c.Column + " lacks " + c.Tag
		}
		return c.Column + " has " + c.Tag
	case OpIs:
		if c.Negate {
			return c.Column + " is false"
		}
		return c.Column + " is true"
	case OpRange:
		lo, loOp, hi, hiOp := c.bounds()
		switch {
		case c.Lo != nil && c.Hi != nil:
			return lo + " " + loOp + " " + c.Column + " " + hiOp + " " + hi
		case c.Lo != nil:
			return c.Column + " " + map[string]string{"<": ">", "<=": ">="}[loOp] + " " + lo
		case c.Hi != nil:
			return c.Column + " " + hiOp + " " + hi
		}
		return c.Column + " is present"
	}
	return c.Column + " ?"
}

// bounds formats the range bounds: an integer column's "> 49.5" reads
// ">= 50" and "<= 500.5" reads "<= 500".
func (c *Cond) bounds() (lo, loOp, hi, hiOp string) {
	format := fmtBound
	if c.Date {
		format = dayString
	}
	loOp, hiOp = "<", "<="
	if c.Lo != nil {
		v := *c.Lo
		if c.Integer {
			v, loOp = math.Floor(v)+1, "<="
		}
		lo = format(v)
	}
	if c.Hi != nil {
		v := *c.Hi
		if c.Integer {
			v = math.Floor(v)
		}
		hi = format(v)
	}
	return lo, loOp, hi, hiOp
}

// fmtBound formats a threshold readably but without hiding differences
// that matter: 500, 24M, 1.5M, 0.35.
func fmtBound(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return trimZeros(fmt.Sprintf("%.2f", v/1e6)) + "M"
	case a >= 1e4:
		return trimZeros(fmt.Sprintf("%.1f", v/1e3)) + "k"
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// rawFeature is one column of a raw design matrix.
type rawFeature struct {
	column string
	role   features.Role
	// tag is the tag of a tags feature.
	tag, sep string
	// levels lists a categorical column's levels by rank: the feature's
	// value is the level's index.
	levels  []string
	integer bool
	// missing reports whether any row had the value missing; without
	// missing values the tree's direction for them is arbitrary, and a
	// condition on the column does not hold for a missing value.
	missing bool
}

// rawDesign builds the raw design matrix of the given rows for a
// surrogate tree with targets y (one per row): numbers and dates as they
// are, booleans 0/1, one 0/1 column per tag, and each categorical column
// as one number, the rank of its level by the weighted target rate, so
// that one threshold splits the levels into the best two sets. Missing
// values are NaN.
func rawDesign(t *datasets.Table, enc *features.Encoder, cols []string, rows []int, y, w []float64) ([]rawFeature, *mat.Dense) {
	keep := make(map[string]bool, len(cols))
	for _, c := range cols {
		keep[c] = true
	}
	var feats []rawFeature
	var vals [][]float64
	n := len(rows)
	for _, ce := range enc.Columns {
		col := t.Column(ce.Name)
		if col == nil || (cols != nil && !keep[ce.Name]) {
			continue
		}
		switch ce.Role {
		case features.RoleCategorical:
			rate := map[string][2]float64{}
			for j, i := range rows {
				if col.IsMissing(i) {
					continue
				}
				v := categoryText(col, i)
				r := rate[v]
				wt := weightAt(w, j)
				r[0] += wt * y[j]
				r[1] += wt
				rate[v] = r
			}
			levels := make([]string, 0, len(rate))
			for v := range rate {
				levels = append(levels, v)
			}
			sort.Slice(levels, func(a, b int) bool {
				ra, rb := rate[levels[a]], rate[levels[b]]
				qa, qb := ra[0]/ra[1], rb[0]/rb[1]
				if qa != qb {
					return qa < qb
				}
				return levels[a] < levels[b]
			})
			index := make(map[string]float64, len(levels))
			for k, v := range levels {
				index[v] = float64(k)
			}
			x := make([]float64, n)
			for j, i := range rows {
				x[j] = math.NaN()
				if !col.IsMissing(i) {
					x[j] = index[categoryText(col, i)]
				}
			}
			feats = append(feats, rawFeature{column: ce.Name, role: ce.Role, levels: levels})
			vals = append(vals, x)
		case features.RoleTags:
			index := make(map[string]int, len(ce.Levels))
			cols := make([][]float64, len(ce.Levels))
			for k, tag := range ce.Levels {
				index[tag] = k
				cols[k] = make([]float64, n)
			}
			for j, i := range rows {
				if col.IsMissing(i) {
					for k := range cols {
						cols[k][j] = math.NaN()
					}
					continue
				}
				for _, s := range strings.Split(col.Str[i], ce.Separator) {
					if k, ok := index[strings.TrimSpace(s)]; ok {
						cols[k][j] = 1
					}
				}
			}
			for k, tag := range ce.Levels {
				feats = append(feats, rawFeature{column: ce.Name, role: ce.Role, tag: tag, sep: ce.Separator})
				vals = append(vals, cols[k])
			}
		default:
			if col.Kind == datasets.String {
				continue
			}
			x := make([]float64, n)
			integer := true
			for j, i := range rows {
				x[j] = col.Num[i]
				if !math.IsNaN(x[j]) && x[j] != math.Trunc(x[j]) {
					integer = false
				}
			}
			feats = append(feats, rawFeature{column: ce.Name, role: ce.Role, integer: integer && ce.Role == features.RoleNumeric})
			vals = append(vals, x)
		}
	}
	x := mat.NewDense(max(n, 1), max(len(feats), 1), nil)
	for f, col := range vals {
		for j, v := range col {
			x.Set(j, f, v)
			if math.IsNaN(v) {
				feats[f].missing = true
			}
		}
	}
	return feats, x
}

func weightAt(w []float64, j int) float64 {
	if w == nil {
		return 1
	}
	return w[j]
}

// clauseFromPath turns the conditions on a tree path into a clause,
// merging the conditions on the same column.
func clauseFromPath(feats []rawFeature, path []model.Condition) Clause {
	type key struct{ col, tag string }
	byKey := map[key]*Cond{}
	var order []key
	for _, pc := range path {
		f := feats[pc.Feature]
		k := key{f.column, f.tag}
		c, ok := byKey[k]
		if !ok {
			c = &Cond{Column: f.column, Missing: true}
			switch f.role {
			case features.RoleCategorical:
				c.Op, c.Levels = OpIn, append([]string(nil), f.levels...)
			case features.RoleTags:
				c.Op, c.Tag, c.Separator = OpHas, f.tag, f.sep
			case features.RoleBoolean:
				c.Op = OpIs
			default:
				c.Op, c.Integer, c.Date = OpRange, f.integer, f.role == features.RoleDate
			}
			byKey[k] = c
			order = append(order, k)
		}
		c.Missing = c.Missing && pc.Missing && f.missing
		if pc.Threshold == math.MaxFloat64 {
			// The split between missing values and all others.
			if pc.Op == "<=" {
				c.Missing = false
			}
			continue
		}
		thr := pc.Threshold
		switch c.Op {
		case OpIn:
			var kept []string
			for _, lv := range c.Levels {
				r := float64(indexOf(f.levels, lv))
				if (pc.Op == "<=") == (r <= thr) {
					kept = append(kept, lv)
				}
			}
			c.Levels = kept
		case OpHas, OpIs:
			// 0/1 features: "<= 0.5" means absent or false.
			c.Negate = pc.Op == "<="
		case OpRange:
			if pc.Op == "<=" {
				if c.Hi == nil || thr < *c.Hi {
					c.Hi = &thr
				}
			} else if c.Lo == nil || thr > *c.Lo {
				c.Lo = &thr
			}
		}
	}
	var cl Clause
	for _, k := range order {
		c := byKey[k]
		if c.Op == OpIn {
			f := featureOf(feats, c.Column)
			// Show the shorter of the set and its complement.
			if 2*len(c.Levels) > len(f.levels) && len(c.Levels) < len(f.levels) {
				var comp []string
				for _, lv := range f.levels {
					if indexOf(c.Levels, lv) < 0 {
						comp = append(comp, lv)
					}
				}
				c.Levels, c.Negate = comp, true
			}
			sort.Strings(c.Levels)
		}
		cl.Conds = append(cl.Conds, *c)
	}
	return cl
}

func featureOf(feats []rawFeature, column string) rawFeature {
	for _, f := range feats {
		if f.column == column {
			return f
		}
	}
	return rawFeature{}
}

func indexOf(s []string, v string) int {
	for k, x := range s {
		if x == v {
			return k
		}
	}
	return -1
}

// ruleConfig tunes learnRule.
type ruleConfig struct {
	depth, minLeaf int
	// A leaf joins the rule when its weighted rate of y = 1 is at least
	// purity (or, with low, at most purity) and it holds at least minCover
	// of the weight of y = 1 (with low, of y = 0).
	purity, minCover float64
	low              bool
	maxClauses       int
}

// learnRule fits a shallow tree separating the rows with y = 1 from the
// others (weights w, nil uniform) on raw values of the given columns (nil:
// all feature columns), and returns the union of the leaves cfg selects as
// a rule, the leaf holding the most first.
func learnRule(t *datasets.Table, enc *features.Encoder, cols []string, rows []int, y, w []float64, cfg ruleConfig) (Rule, error) {
	feats, x := rawDesign(t, enc, cols, rows, y, w)
	if len(feats) == 0 || len(rows) == 0 {
		return Rule{}, nil
	}
	tree, err := model.FitTree(x, y, w, &model.TreeConfig{MaxDepth: cfg.depth, MinLeaf: cfg.minLeaf, MinGain: 1e-4})
	if err != nil {
		return Rule{}, fmt.Errorf("learn rule: %w", err)
	}
	var totalPos, totalNeg float64
	for j := range y {
		totalPos += weightAt(w, j) * y[j]
		totalNeg += weightAt(w, j) * (1 - y[j])
	}
	selected := func(nd *model.Node) bool {
		if cfg.low {
			return nd.Value <= cfg.purity
		}
		return nd.Value >= cfg.purity
	}
	// Walk the tree; a subtree whose leaves are all selected becomes one
	// clause, the path to its root, so that sibling leaves the rule keeps
	// both do not read as two clauses.
	allSelected := make([]bool, len(tree.Nodes))
	for n := len(tree.Nodes) - 1; n >= 0; n-- {
		nd := &tree.Nodes[n]
		if nd.Leaf {
			allSelected[n] = selected(nd)
		} else {
			allSelected[n] = allSelected[nd.Left] && allSelected[nd.Right]
		}
	}
	type cand struct {
		cl    Clause
		cover float64
	}
	var cands []cand
	var walk func(n int, path []model.Condition)
	walk = func(n int, path []model.Condition) {
		nd := &tree.Nodes[n]
		if allSelected[n] && len(path) > 0 {
			cover := nd.Value * nd.Weight / math.Max(totalPos, 1e-12)
			if cfg.low {
				cover = (1 - nd.Value) * nd.Weight / math.Max(totalNeg, 1e-12)
			}
			if cover >= cfg.minCover {
				cl := clauseFromPath(feats, path)
				cl = simplify(t, rows, y, w, cl, cfg.low)
				cands = append(cands, cand{cl, cover})
			}
			return
		}
		if nd.Leaf {
			return
		}
		walk(int(nd.Left), append(append([]model.Condition(nil), path...), model.Condition{Feature: nd.Feature, Op: "<=", Threshold: nd.Threshold, Missing: nd.MissingLeft}))
		walk(int(nd.Right), append(append([]model.Condition(nil), path...), model.Condition{Feature: nd.Feature, Op: ">", Threshold: nd.Threshold, Missing: !nd.MissingLeft}))
	}
	walk(0, nil)
	// Simplified clauses may overlap: largest first (by the weight of the
	// class they select), drop one whose rows are mostly matched by a
	// clause kept before it.
	ins := make([][]bool, len(cands))
	for k := range cands {
		ins[k] = make([]bool, len(rows))
		cands[k].cover = 0
		for j, i := range rows {
			if cands[k].cl.match(t, i) {
				ins[k][j] = true
				if cfg.low {
					cands[k].cover += weightAt(w, j) * (1 - y[j])
				} else {
					cands[k].cover += weightAt(w, j) * y[j]
				}
			}
		}
	}
	order := make([]int, len(cands))
	for k := range order {
		order[k] = k
	}
	sort.SliceStable(order, func(a, b int) bool { return cands[order[a]].cover > cands[order[b]].cover })
	var kept []cand
	var keptRows [][]bool
	for _, k := range order {
		in := ins[k]
		n, dup := 0, 0
		for _, v := range in {
			if v {
				n++
			}
		}
		for _, kr := range keptRows {
			d := 0
			for j := range in {
				if in[j] && kr[j] {
					d++
				}
			}
			dup = max(dup, d)
		}
		if n == 0 || float64(dup) >= 0.9*float64(n) {
			continue
		}
		kept = append(kept, cands[k])
		keptRows = append(keptRows, in)
	}
	cands = kept
	if cfg.maxClauses > 0 && len(cands) > cfg.maxClauses {
		cands = cands[:cfg.maxClauses]
	}
	var r Rule
	for _, c := range cands {
		r.Clauses = append(r.Clauses, c.cl)
	}
	return r, nil
}

// simplify drops, deepest first, each condition of cl whose removal
// keeps the clause's weighted rate of y = 1 within 0.01 of what it was
// (not lower, or with low not higher), so that rules say no more than
// they need to.
func simplify(t *datasets.Table, rows []int, y, w []float64, cl Clause, low bool) Clause {
	rate := func(c Clause) (float64, bool) {
		var s, n float64
		for j, i := range rows {
			if c.match(t, i) {
				wt := weightAt(w, j)
				s += wt * y[j]
				n += wt
			}
		}
		return s / math.Max(n, 1e-12), n > 0
	}
	r0, _ := rate(cl)
	for k := len(cl.Conds) - 1; k >= 0 && len(cl.Conds) > 1; k-- {
		try := Clause{Conds: append(append([]Cond(nil), cl.Conds[:k]...), cl.Conds[k+1:]...)}
		r, ok := rate(try)
		if !ok {
			continue
		}
		if !low && r >= r0-0.01 || low && r <= r0+0.01 {
			cl = try
		}
	}
	return cl
}

// trimZeros drops the trailing zeros of a decimal and then a trailing dot.
func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return strings.TrimRight(strings.TrimRight(s, "0"), ".")
}

// validate checks a decoded rule: known operators, sorted levels, bounds
// in order.
func (r *Rule) validate() error {
	for _, cl := range r.Clauses {
		for _, c := range cl.Conds {
			switch c.Op {
			case OpIn:
				if !sort.StringsAreSorted(c.Levels) {
					return fmt.Errorf("rule on %q: levels not sorted", c.Column)
				}
			case OpRange:
				if c.Lo != nil && c.Hi != nil && *c.Lo > *c.Hi {
					return fmt.Errorf("rule on %q: empty range", c.Column)
				}
			case OpHas, OpIs:
			default:
				return fmt.Errorf("rule on %q: unknown operator %q", c.Column, c.Op)
			}
		}
	}
	return nil
}
