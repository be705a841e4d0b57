package train

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model"
	"github.com/icpengine/icp/profile"
)

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
				v := profile.CategoryText(col, i)
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
					x[j] = index[profile.CategoryText(col, i)]
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
func clauseFromPath(feats []rawFeature, path []model.Condition) profile.Clause {
	type key struct{ col, tag string }
	byKey := map[key]*profile.Cond{}
	var order []key
	for _, pc := range path {
		f := feats[pc.Feature]
		k := key{f.column, f.tag}
		c, ok := byKey[k]
		if !ok {
			c = &profile.Cond{Column: f.column, Missing: true}
			switch f.role {
			case features.RoleCategorical:
				c.Op, c.Levels = profile.OpIn, append([]string(nil), f.levels...)
			case features.RoleTags:
				c.Op, c.Tag, c.Separator = profile.OpHas, f.tag, f.sep
			case features.RoleBoolean:
				c.Op = profile.OpIs
			default:
				c.Op, c.Integer, c.Date = profile.OpRange, f.integer, f.role == features.RoleDate
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
		case profile.OpIn:
			var kept []string
			for _, lv := range c.Levels {
				r := float64(indexOf(f.levels, lv))
				if (pc.Op == "<=") == (r <= thr) {
					kept = append(kept, lv)
				}
			}
			c.Levels = kept
		case profile.OpHas, profile.OpIs:
			// 0/1 features: "<= 0.5" means absent or false.
			c.Negate = pc.Op == "<="
		case profile.OpRange:
			if pc.Op == "<=" {
				if c.Hi == nil || thr < *c.Hi {
					c.Hi = &thr
				}
			} else if c.Lo == nil || thr > *c.Lo {
				c.Lo = &thr
			}
		}
	}
	var cl profile.Clause
	for _, k := range order {
		c := byKey[k]
		if c.Op == profile.OpIn {
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
func learnRule(t *datasets.Table, enc *features.Encoder, cols []string, rows []int, y, w []float64, cfg ruleConfig) (profile.Rule, error) {
	feats, x := rawDesign(t, enc, cols, rows, y, w)
	if len(feats) == 0 || len(rows) == 0 {
		return profile.Rule{}, nil
	}
	tree, err := model.FitTree(x, y, w, &model.TreeConfig{MaxDepth: cfg.depth, MinLeaf: cfg.minLeaf, MinGain: 1e-4})
	if err != nil {
		return profile.Rule{}, fmt.Errorf("learn rule: %w", err)
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
		cl    profile.Clause
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
		one := oneClause(cands[k].cl)
		for j, i := range rows {
			if one.Match(t, i) {
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
	var r profile.Rule
	for _, c := range cands {
		r.Clauses = append(r.Clauses, c.cl)
	}
	return r, nil
}

// simplify drops, deepest first, each condition of cl whose removal
// keeps the clause's weighted rate of y = 1 within 0.01 of what it was
// (not lower, or with low not higher), so that rules say no more than
// they need to.
func simplify(t *datasets.Table, rows []int, y, w []float64, cl profile.Clause, low bool) profile.Clause {
	rate := func(c profile.Clause) (float64, bool) {
		var s, n float64
		one := oneClause(c)
		for j, i := range rows {
			if one.Match(t, i) {
				wt := weightAt(w, j)
				s += wt * y[j]
				n += wt
			}
		}
		return s / math.Max(n, 1e-12), n > 0
	}
	r0, _ := rate(cl)
	for k := len(cl.Conds) - 1; k >= 0 && len(cl.Conds) > 1; k-- {
		try := profile.Clause{Conds: append(append([]profile.Cond(nil), cl.Conds[:k]...), cl.Conds[k+1:]...)}
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

// oneClause is the rule of one clause, which matches as the clause does.
func oneClause(cl profile.Clause) profile.Rule {
	return profile.Rule{Clauses: []profile.Clause{cl}}
}
