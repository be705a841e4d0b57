package model

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// TreeConfig configures FitTree. The zero value grows trees of depth 4 with
// at least 20 units of sample weight per leaf, split by Gini impurity.
type TreeConfig struct {
	// MaxDepth is the largest depth of a leaf. Zero means 4.
	MaxDepth int
	// MinLeaf is the least sample weight (row count without weights) in a
	// leaf. Zero means 20.
	MinLeaf int
	// Criterion is "gini" (the default) or "logloss" (entropy).
	Criterion string
	// MinGain is the least impurity decrease of a split, as a share of the
	// total training weight (like scikit-learn's min_impurity_decrease).
	MinGain float64
}

// Node is one node of a Tree. An internal node sends x left when
// x[Feature] <= Threshold and right when x[Feature] > Threshold; a missing
// value (NaN) goes left when MissingLeft is set, else right.
type Node struct {
	// Feature is the split feature, -1 at leaves.
	Feature int `json:"f"`
	// Threshold is the midpoint between the two observed values the split
	// separates.
	Threshold float64 `json:"t"`
	// Left and Right are the children, -1 at leaves.
	Left  int32 `json:"l"`
	Right int32 `json:"r"`
	// MissingLeft is the learned direction of missing values. When no
	// training row at the node was missing, they follow the heavier child.
	MissingLeft bool `json:"ml"`
	// Value is the weighted mean of y (the positive rate) of the training
	// rows at the node.
	Value float64 `json:"v"`
	// Weight is the sum of the sample weights at the node (its cover).
	Weight float64 `json:"w"`
	// Leaf marks leaves.
	Leaf bool `json:"leaf"`
}

// Tree is a binary classification tree (CART) stored flat, the root at 0.
type Tree struct {
	Nodes []Node `json:"nodes"`
}

// Condition is one test on the path to a leaf: x[Feature] Op Threshold
// with Op "<=" or ">"; Missing reports whether missing values take this
// branch.
type Condition struct {
	Feature   int     `json:"f"`
	Op        string  `json:"op"`
	Threshold float64 `json:"t"`
	Missing   bool    `json:"missing"`
}

// Describe renders the condition for a feature called name, for example
// "employees <= 201.5 (or missing)" or, for the split that separates missing
// values from all others, "employees is missing".
func (c Condition) Describe(name string) string {
	if c.Threshold == math.MaxFloat64 {
		if c.Op == "<=" {
			return name + " is present"
		}
		return name + " is missing"
	}
	s := fmt.Sprintf("%s %s %g", name, c.Op, c.Threshold)
	if c.Missing {
		s += " (or missing)"
	}
	return s
}

// treeImpurity returns the weighted impurity w*I(p/w) of a node with weight
// w and weighted positives p.
func treeImpurity(criterion string, w, p float64) float64 {
	if w <= 0 {
		return 0
	}
	r := p / w
	if criterion == "logloss" {
		var h float64
		if r > 0 {
			h -= r * math.Log(r)
		}
		if r < 1 {
			h -= (1 - r) * math.Log(1-r)
		}
		return w * h
	}
	return w * 2 * r * (1 - r)
}

// treeSplit is a candidate split.
type treeSplit struct {
	gain      float64
	feat      int
	threshold float64
	missLeft  bool
	ok        bool
}

// treeFitter holds the state of one FitTree call. For every feature the
// non-missing rows are kept sorted by value and each node owns one
// contiguous segment of them (and of the feature's missing rows), so
// splits need no sorting after the first.
type treeFitter struct {
	cfg      TreeConfig
	cols     [][]float64
	y, w     []float64
	sorted   [][]int32 // per feature: rows by value, node segments
	missing  [][]int32 // per feature: rows with NaN, node segments
	tmp      []int32
	left     []bool // by row: goes left under the split being applied
	minGain  float64
	nodes    []Node
	features int
}

// treeSeg is a node's segments: sorted[f][s[f].lo:s[f].hi] and
// missing[f][m[f].lo:m[f].hi].
type treeSeg struct{ lo, hi int }

// FitTree grows a classification tree on the rows of x (NaN marks a missing
// value) with targets y in {0, 1} and optional sample weights (nil means
// uniform). Splits are found by exact greedy search over the sorted values of
// each feature; thresholds are midpoints between observed values; for each
// split, missing values are sent to the side that lowers impurity most.
// cfg may be nil for the defaults.
//
// FitTree panics if len(y) or len(weights) differ from the rows of x.
func FitTree(x mat.Matrix, y, weights []float64, cfg *TreeConfig) (*Tree, error) {
	c := TreeConfig{}
	if cfg != nil {
		c = *cfg
	}
	if c.MaxDepth == 0 {
		c.MaxDepth = 4
	}
	if c.MinLeaf == 0 {
		c.MinLeaf = 20
	}
	if c.Criterion == "" {
		c.Criterion = "gini"
	}
	switch {
	case c.Criterion != "gini" && c.Criterion != "logloss":
		return nil, fmt.Errorf("fit tree: criterion %q: want gini or logloss: %w", c.Criterion, ErrInvalidInput)
	case c.MaxDepth < 0:
		return nil, fmt.Errorf("fit tree: max depth %d: %w", c.MaxDepth, ErrInvalidInput)
	case c.MinLeaf < 0:
		return nil, fmt.Errorf("fit tree: min leaf %d: %w", c.MinLeaf, ErrInvalidInput)
	case c.MinGain < 0 || math.IsNaN(c.MinGain):
		return nil, fmt.Errorf("fit tree: min gain %v: %w", c.MinGain, ErrInvalidInput)
	}
	n, nf := x.Dims()
	if len(y) != n {
		panic("model: FitTree: len(y) != rows of x")
	}
	if weights != nil && len(weights) != n {
		panic("model: FitTree: len(weights) != rows of x")
	}
	if n == 0 || nf == 0 {
		return nil, fmt.Errorf("fit tree: empty matrix %dx%d: %w", n, nf, ErrInvalidInput)
	}
	if err := CheckTargets(y, weights, true); err != nil {
		return nil, fmt.Errorf("fit tree: %w", err)
	}
	w := weights
	if w == nil {
		w = make([]float64, n)
		for i := range w {
			w[i] = 1
		}
	}
	ft := &treeFitter{cfg: c, y: y, w: w, features: nf,
		cols: make([][]float64, nf), sorted: make([][]int32, nf), missing: make([][]int32, nf),
		tmp: make([]int32, n), left: make([]bool, n)}
	root := make([]treeSeg, 2*nf)
	var total float64
	for _, v := range w {
		total += v
	}
	ft.minGain = c.MinGain * total
	for f := range nf {
		col := make([]float64, n)
		for i := range col {
			v := x.At(i, f)
			if math.IsInf(v, 0) {
				return nil, fmt.Errorf("fit tree: row %d, column %d: infinite value: %w", i, f, ErrInvalidInput)
			}
			col[i] = v
			if math.IsNaN(v) {
				ft.missing[f] = append(ft.missing[f], int32(i))
			} else {
				ft.sorted[f] = append(ft.sorted[f], int32(i))
			}
		}
		s := ft.sorted[f]
		sort.SliceStable(s, func(a, b int) bool { return col[s[a]] < col[s[b]] })
		ft.cols[f] = col
		root[f] = treeSeg{0, len(s)}
		root[nf+f] = treeSeg{0, len(ft.missing[f])}
	}
	ft.grow(root, 0)
	return &Tree{Nodes: ft.nodes}, nil
}

// stats returns the weight and weighted positives of a node.
func (ft *treeFitter) stats(seg []treeSeg) (w, p float64) {
	// Every row is in feature 0's sorted or missing segment.
	nf := ft.features
	for _, r := range ft.sorted[0][seg[0].lo:seg[0].hi] {
		w += ft.w[r]
		p += ft.w[r] * ft.y[r]
	}
	for _, r := range ft.missing[0][seg[nf].lo:seg[nf].hi] {
		w += ft.w[r]
		p += ft.w[r] * ft.y[r]
	}
	return w, p
}

// grow adds the node owning seg and its subtree, and returns its index.
func (ft *treeFitter) grow(seg []treeSeg, depth int) int32 {
	w, p := ft.stats(seg)
	id := int32(len(ft.nodes))
	ft.nodes = append(ft.nodes, Node{Feature: -1, Left: -1, Right: -1, Value: p / w, Weight: w, Leaf: true})
	if w <= 0 {
		ft.nodes[id].Value = 0
	}
	minLeaf := float64(ft.cfg.MinLeaf)
	if depth >= ft.cfg.MaxDepth || p <= 0 || p >= w || w < 2*minLeaf {
		return id
	}
	sp := ft.bestSplit(seg, w, p)
	if !sp.ok {
		return id
	}
	// Route every row of the node.
	nf := ft.features
	col := ft.cols[sp.feat]
	var wl float64
	for _, r := range ft.sorted[sp.feat][seg[sp.feat].lo:seg[sp.feat].hi] {
		ft.left[r] = col[r] <= sp.threshold
		if ft.left[r] {
			wl += ft.w[r]
		}
	}
	var wm float64
	for _, r := range ft.missing[sp.feat][seg[nf+sp.feat].lo:seg[nf+sp.feat].hi] {
		wm += ft.w[r]
	}
	missLeft := sp.missLeft
	if wm == 0 {
		// No missing value here: at prediction they follow the heavier
		// child.
		missLeft = 2*wl >= w
	}
	for _, r := range ft.missing[sp.feat][seg[nf+sp.feat].lo:seg[nf+sp.feat].hi] {
		ft.left[r] = sp.missLeft
	}
	lseg := make([]treeSeg, 2*nf)
	rseg := make([]treeSeg, 2*nf)
	for f := range nf {
		lseg[f], rseg[f] = ft.partition(ft.sorted[f], seg[f])
		lseg[nf+f], rseg[nf+f] = ft.partition(ft.missing[f], seg[nf+f])
	}
	nd := &ft.nodes[id]
	nd.Feature, nd.Threshold, nd.MissingLeft, nd.Leaf = sp.feat, sp.threshold, missLeft, false
	l := ft.grow(lseg, depth+1)
	r := ft.grow(rseg, depth+1)
	ft.nodes[id].Left, ft.nodes[id].Right = l, r
	return id
}

// partition splits one segment stably by ft.left.
func (ft *treeFitter) partition(rows []int32, s treeSeg) (treeSeg, treeSeg) {
	k, nr := s.lo, 0
	for _, r := range rows[s.lo:s.hi] {
		if ft.left[r] {
			rows[k] = r
			k++
		} else {
			ft.tmp[nr] = r
			nr++
		}
	}
	copy(rows[k:s.hi], ft.tmp[:nr])
	return treeSeg{s.lo, k}, treeSeg{k, s.hi}
}

// bestSplit searches every feature and threshold of a node.
func (ft *treeFitter) bestSplit(seg []treeSeg, w, p float64) treeSplit {
	crit := ft.cfg.Criterion
	minLeaf := float64(ft.cfg.MinLeaf)
	parent := treeImpurity(crit, w, p)
	best := treeSplit{gain: math.Max(ft.minGain, 1e-12*w)}
	nf := ft.features
	consider := func(f int, thr float64, missLeft bool, wl, pl float64) {
		wr, pr := w-wl, p-pl
		if wl < minLeaf || wr < minLeaf {
			return
		}
		gain := parent - treeImpurity(crit, wl, pl) - treeImpurity(crit, wr, pr)
		if gain > best.gain {
			best = treeSplit{gain: gain, feat: f, threshold: thr, missLeft: missLeft, ok: true}
		}
	}
	for f := range nf {
		col := ft.cols[f]
		var wm, pm float64
		for _, r := range ft.missing[f][seg[nf+f].lo:seg[nf+f].hi] {
			wm += ft.w[r]
			pm += ft.w[r] * ft.y[r]
		}
		rows := ft.sorted[f][seg[f].lo:seg[f].hi]
		var wl, pl float64
		for i, r := range rows {
			wl += ft.w[r]
			pl += ft.w[r] * ft.y[r]
			if i+1 < len(rows) {
				v, next := col[r], col[rows[i+1]]
				if v == next {
					continue
				}
				thr := Midpoint(v, next)
				consider(f, thr, false, wl, pl)
				if wm > 0 {
					consider(f, thr, true, wl+wm, pl+pm)
				}
			} else if wm > 0 {
				// Every value left, missing values right.
				consider(f, math.MaxFloat64, false, wl, pl)
			}
		}
	}
	return best
}

// Leaf returns the index of the leaf node that x reaches.
func (t *Tree) Leaf(x []float64) int {
	n := 0
	for !t.Nodes[n].Leaf {
		nd := &t.Nodes[n]
		v := x[nd.Feature]
		switch {
		case v <= nd.Threshold:
			n = int(nd.Left)
		case v > nd.Threshold:
			n = int(nd.Right)
		case nd.MissingLeft: // NaN: the learned default direction
			n = int(nd.Left)
		default:
			n = int(nd.Right)
		}
	}
	return n
}

// Predict returns the positive rate of the leaf that x reaches.
func (t *Tree) Predict(x []float64) float64 { return t.Nodes[t.Leaf(x)].Value }

// Paths returns the conditions leading to each leaf, leaves in increasing
// node index, conditions from the root down.
func (t *Tree) Paths() [][]Condition {
	var out [][]Condition
	var walk func(n int, path []Condition)
	leaves := map[int][]Condition{}
	walk = func(n int, path []Condition) {
		nd := &t.Nodes[n]
		if nd.Leaf {
			leaves[n] = append([]Condition(nil), path...)
			return
		}
		walk(int(nd.Left), append(path, Condition{Feature: nd.Feature, Op: "<=", Threshold: nd.Threshold, Missing: nd.MissingLeft}))
		walk(int(nd.Right), append(path, Condition{Feature: nd.Feature, Op: ">", Threshold: nd.Threshold, Missing: !nd.MissingLeft}))
	}
	walk(0, nil)
	for n := range t.Nodes {
		if p, ok := leaves[n]; ok {
			out = append(out, p)
		}
	}
	return out
}

// Validate checks the structure of a decoded tree: children after their
// parent and in range, features in [0, numFeatures).
func (t *Tree) Validate(numFeatures int) error {
	if len(t.Nodes) == 0 {
		return fmt.Errorf("validate tree: no nodes: %w", ErrInvalidInput)
	}
	for i, nd := range t.Nodes {
		if nd.Leaf {
			continue
		}
		if nd.Feature < 0 || nd.Feature >= numFeatures {
			return fmt.Errorf("validate tree: node %d: feature %d out of range: %w", i, nd.Feature, ErrInvalidInput)
		}
		l, r := int(nd.Left), int(nd.Right)
		if l <= i || r <= i || l >= len(t.Nodes) || r >= len(t.Nodes) || l == r || math.IsNaN(nd.Threshold) {
			return fmt.Errorf("validate tree: node %d: children %d, %d: %w", i, l, r, ErrInvalidInput)
		}
	}
	return nil
}
