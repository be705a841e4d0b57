package gbm

import (
	"math"

	"github.com/icpengine/icp/model"
)

// Exact path-dependent TreeSHAP in linear time per tree.
//
// For a leaf v whose path splits on the set U of features, let q_j be the
// product of the cover shares of the path's edges on feature j (the chance
// of following them when x_j is unknown) and r_j be 1 when x satisfies all
// of them, else 0. The path-dependent value of a coalition S at v is
// value_v * prod_{j in S} r_j * prod_{j not in S} q_j, and the Shapley weight
// |S|!(d-1-|S|)!/d! (d = |U|) is the Beta integral of t^|S| (1-t)^(d-1-|S|)
// over [0, 1]. Summing over coalitions therefore gives
//
//	phi_i(v) = value_v (r_i - q_i) * integral_0^1 prod_{j in U, j != i} a_j(t) dt,
//	a_j(t) = q_j (1-t) + r_j t,
//
// a polynomial of degree d-1 integrated exactly by Gauss-Legendre
// quadrature with ceil(d/2) points, where d is bounded per tree by the most
// distinct features on one root-to-leaf path (often well below the depth,
// since leaf-wise trees split on the same feature again and again). This is
// the idea of Linear TreeSHAP (Yu et al., 2022) with quadrature in place of
// their polynomial basis: one depth-first walk carries prod_j a_j(t_m) down
// the path, sums value_v * prod a_j(t_m) up over the leaves below each node,
// and credits each edge with (r - q) * sum_m w_m S(t_m) / a(t_m). When a
// feature repeats on a path, its factor is replaced by the combined one and
// the amount the earlier edge will credit for the leaves below is
// subtracted there. The cost is O(N * d/2) per tree for N nodes (against
// O(L * D^2) for Algorithm 2 of Lundberg et al., 2018).
//
// The q of every edge depends on the tree alone, and r is 0 or 1, so each
// a_j(t_m) takes one of two values known when the model is packed:
// prepareSHAP stores their reciprocals, times the quadrature weights, and
// the walk multiplies and adds but never divides. The walk is not a
// recursion either: the packed order puts parents before children, so one
// pass forward over a tree's internal nodes carries the products down
// (every node's a_j(t_m) product and, at the leaves, value * product), and
// one pass backward sums them up and credits the edges. Which child x
// follows only changes factors of 0 and 1 and table offsets, never a
// branch, so the branch predictor sees the same shape call after call. The
// walk allocates nothing: the scratch buffers come from a pool.
// Expectations use node covers (training sample weight, the row count
// without weights) for the share of data sent to each child.

// shapNode is the TreeSHAP data of one packed node that depends on the tree
// alone. The offsets point into packedTrees.shapTab at two blocks of m
// values, the first for r = 0 and the second for r = 1, so that the walk
// picks one by arithmetic rather than by a branch on x.
type shapNode struct {
	// q is the combined share of the parent's split feature on the path
	// down to this node (1 at a root).
	q float64
	// q0 is the combined share of the node's own split feature on the path
	// above it (1 when no ancestor splits on it).
	q0 float64
	// val is the leaf value, 0 at internal nodes.
	val float64
	// up holds the up weights of the edge into this node:
	// w_k / (q (1-t_k)) and w_k / (q (1-t_k) + t_k) (zeros where the
	// denominator is zero, where the edge's summary is zero too).
	up int32
	// a0 holds 1 / a0(t_k) for the node's own feature with r0 = 0 and
	// r0 = 1, a0(t) = q0 (1-t) + r0 t; wa0 holds w_k / a0(t_k). Without an
	// ancestor on the same feature, a0 = 1 and both point at the rule's
	// blocks of ones and of weights.
	a0, wa0 int32
	// prev is the index, relative to the tree's root, of the node whose
	// incoming edge is the nearest ancestor edge on the node's feature; 0
	// (the root, whose r is 1) when there is none.
	prev int32
	// rep is true when an ancestor splits on the node's feature.
	rep bool
}

// shapRule is a Gauss-Legendre rule on [0, 1] with the derived arrays the
// walk uses.
type shapRule struct {
	t   []float64 // points
	omt []float64 // 1 - t
	w   []float64 // weights
	// ones and ws are the offsets in packedTrees.shapTab of two blocks of
	// ones and two blocks of w, for nodes without a repeated feature.
	ones, ws int32
}

// shapScratch holds the buffers of one SHAP call.
type shapScratch struct {
	prod []float64 // nodes x M: prod_j a_j(t_m) at each node of a tree
	sum  []float64 // nodes x M: summaries of the leaves below each node
	r    []float64 // per node: r of the edge into it, 0 or 1
}

// newShapScratch allocates scratch for the packed trees p.
func newShapScratch(p *packedTrees) *shapScratch {
	m := len(p.shapRules) - 1
	return &shapScratch{
		prod: make([]float64, p.shapMaxNodes*m),
		sum:  make([]float64, p.shapMaxNodes*m),
		r:    make([]float64, p.shapMaxNodes),
	}
}

// shapQuadrature returns the m Gauss-Legendre points and weights on [0, 1].
func shapQuadrature(m int) (t, w []float64) {
	t = make([]float64, m)
	w = make([]float64, m)
	for i := range m {
		// Newton iteration on the Legendre polynomial P_m from the
		// Chebyshev-like first guess.
		x := math.Cos(math.Pi * (float64(i) + 0.75) / (float64(m) + 0.5))
		var dp float64
		for range 100 {
			p0, p1 := 1.0, x
			for k := 2; k <= m; k++ {
				p0, p1 = p1, ((2*float64(k)-1)*x*p1-(float64(k)-1)*p0)/float64(k)
			}
			if m == 1 {
				p0, p1 = 1, x
			}
			dp = float64(m) * (x*p1 - p0) / (x*x - 1)
			dx := p1 / dp
			x -= dx
			if math.Abs(dx) < 1e-16 {
				break
			}
		}
		p0, p1 := 1.0, x
		for k := 2; k <= m; k++ {
			p0, p1 = p1, ((2*float64(k)-1)*x*p1-(float64(k)-1)*p0)/float64(k)
		}
		dp = float64(m) * (x*p1 - p0) / (x*x - 1)
		t[i] = (1 - x) / 2
		w[i] = 1 / ((1 - x*x) * dp * dp)
	}
	return t, w
}

// shapSrcNode is a node of a tree to pack (Tree or Tree).
type shapSrcNode struct {
	feat        int32 // -1 at leaves
	thr         float64
	left, right int32
	missLeft    bool
	value       float64
	cover       float64
}

// shapPack appends the tree with nnodes source nodes (root 0) to p in
// breadth-first order with the two children of a node adjacent, and
// returns the tree's depth.
func shapPack(p *packedTrees, nnodes int, src func(i int) shapSrcNode) int {
	type item struct {
		src   int
		dst   int32
		depth int
	}
	queue := []item{{src: 0, dst: int32(len(p.nodes))}}
	p.nodes = append(p.nodes, packedNode{})
	p.cover = append(p.cover, 0)
	depth := 0
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		s := src(it.src)
		depth = max(depth, it.depth)
		p.cover[it.dst] = s.cover
		if s.feat < 0 {
			p.nodes[it.dst] = packedNode{thr: s.value, feat: -1, left: -1}
			continue
		}
		l := int32(len(p.nodes))
		p.nodes = append(p.nodes, packedNode{}, packedNode{})
		p.cover = append(p.cover, 0, 0)
		p.nodes[it.dst] = packedNode{thr: s.thr, feat: s.feat, left: l, missLeft: s.missLeft}
		queue = append(queue,
			item{src: int(s.left), dst: l, depth: it.depth + 1},
			item{src: int(s.right), dst: l + 1, depth: it.depth + 1})
	}
	return depth
}

// shapFractions returns the shares of node n's cover sent to its left and
// right children (halves when the node has no cover).
func (p *packedTrees) shapFractions(n int32) (float64, float64) {
	l := p.nodes[n].left
	c := p.cover[n]
	if !(c > 0) {
		return 0.5, 0.5
	}
	return p.cover[l] / c, p.cover[l+1] / c
}

// expectation is the cover-weighted mean leaf value below node n.
func (p *packedTrees) expectation(n int32) float64 {
	nd := &p.nodes[n]
	if nd.feat < 0 {
		return nd.thr
	}
	fl, fr := p.shapFractions(n)
	return fl*p.expectation(nd.left) + fr*p.expectation(nd.left+1)
}

// shapPoints is the number of Gauss-Legendre points that integrate the
// polynomials of a tree exactly when at most d distinct features split one
// of its paths (degree < d).
func shapPoints(d int) int { return max(1, (d+1)/2) }

// div returns a/b, or 0 when b is 0.
func div(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// prepareSHAP fills the TreeSHAP tables of the packed trees, whose roots
// are p.roots, for rows of nf features: the rule of each tree, the internal
// nodes in order, and the combined shares and precomputed weights of every
// node.
func (p *packedTrees) prepareSHAP(nf int) {
	p.shap = make([]shapNode, len(p.nodes))
	p.shapM = make([]int, len(p.roots))
	p.shapInner = p.shapInner[:0]
	p.shapInnerAt = make([]int32, len(p.roots)+1)
	p.shapTab = p.shapTab[:0]
	p.shapMaxNodes = 0
	count := make([]int32, nf) // splits on each feature on the current path
	q := make([]float64, nf)   // combined shares on the current path
	last := make([]int32, nf)  // node entered by the nearest edge on each feature
	for i := range q {
		q[i] = 1
	}
	// distinct returns the most distinct features on a path below n, given
	// those above it.
	var distinct func(n int32, above int) int
	distinct = func(n int32, above int) int {
		nd := &p.nodes[n]
		if nd.feat < 0 {
			return above
		}
		f := nd.feat
		if count[f] == 0 {
			above++
		}
		count[f]++
		d := max(distinct(nd.left, above), distinct(nd.left+1, above))
		count[f]--
		return d
	}
	var (
		rule shapRule
		root int32
	)
	// weights appends w_k / (q (1-t_k) + r t_k) for r = 0 and 1 (with scale
	// 1 for w, 1/a) and returns their offset.
	weights := func(q float64, w []float64) int32 {
		off := int32(len(p.shapTab))
		for r := range 2 {
			for k := range rule.t {
				p.shapTab = append(p.shapTab, div(w[k], q*rule.omt[k]+float64(r)*rule.t[k]))
			}
		}
		return off
	}
	var ones []float64 // m ones, for the reciprocals themselves
	var fill func(n int32)
	fill = func(n int32) {
		nd := &p.nodes[n]
		sn := &p.shap[n]
		if nd.feat < 0 {
			sn.val = nd.thr
			return
		}
		f := nd.feat
		sn.q0, sn.rep = q[f], count[f] > 0
		sn.a0, sn.wa0 = rule.ones, rule.ws
		sn.prev = last[f]
		if sn.rep {
			sn.a0 = weights(sn.q0, ones)
			sn.wa0 = weights(sn.q0, rule.w)
		}
		fl, fr := p.shapFractions(n)
		count[f]++
		for side, share := range [2]float64{fl, fr} {
			c := nd.left + int32(side)
			cn := &p.shap[c]
			cn.q = sn.q0 * share
			cn.up = weights(cn.q, rule.w)
			q[f], last[f] = cn.q, c-root
			fill(c)
		}
		q[f], last[f] = sn.q0, sn.prev
		count[f]--
	}
	p.shapRules = []shapRule{{}}
	for ti, r := range p.roots {
		root = r
		end := int32(len(p.nodes))
		if ti+1 < len(p.roots) {
			end = p.roots[ti+1]
		}
		p.shapMaxNodes = max(p.shapMaxNodes, int(end-root))
		m := shapPoints(distinct(root, 0))
		p.shapM[ti] = m
		for len(p.shapRules) <= m {
			t, w := shapQuadrature(len(p.shapRules))
			r := shapRule{t: t, w: w, omt: make([]float64, len(t))}
			for k := range t {
				r.omt[k] = 1 - t[k]
			}
			r.ones = int32(len(p.shapTab))
			for range 2 * len(t) {
				p.shapTab = append(p.shapTab, 1)
			}
			r.ws = int32(len(p.shapTab))
			p.shapTab = append(p.shapTab, w...)
			p.shapTab = append(p.shapTab, w...)
			p.shapRules = append(p.shapRules, r)
		}
		rule = p.shapRules[m]
		ones = ones[:0]
		for range m {
			ones = append(ones, 1)
		}
		clear(last)
		p.shap[root] = shapNode{q: 1}
		fill(root)
		p.shap[root].up = weights(1, rule.w) // unused: the root has no edge
		for n := root; n < end; n++ {
			if p.nodes[n].feat >= 0 {
				p.shapInner = append(p.shapInner, n-root)
			}
		}
		p.shapInnerAt[ti+1] = int32(len(p.shapInner))
	}
}

// shapTree adds the SHAP values of tree ti to phi.
func (p *packedTrees) shapTree(ti int, x, phi []float64, sc *shapScratch) {
	root := p.roots[ti]
	inner := p.shapInner[p.shapInnerAt[ti]:p.shapInnerAt[ti+1]]
	if len(inner) == 0 {
		return // a single leaf credits no feature
	}
	end := len(p.nodes)
	if ti+1 < len(p.roots) {
		end = int(p.roots[ti+1])
	}
	nodes, sn := p.nodes[root:end], p.shap[root:end]
	n := len(nodes)
	m := p.shapM[ti]
	m32 := int32(m)
	rule := p.shapRules[m]
	t, omt := rule.t[:m], rule.omt[:m]
	tab := p.shapTab
	prod, sum, rs := sc.prod[:n*m], sc.sum[:n*m], sc.r[:n]
	for k := range m {
		prod[k], sum[k] = 1, 0
	}
	rs[0] = 1

	// Down: the products of every child, and the summaries of leaves.
	for _, i := range inner {
		nd := &nodes[i]
		s := &sn[i]
		r0 := rs[s.prev]
		v := x[nd.feat]
		// Same routing as packedTrees.leaf: NaN follows the default
		// direction.
		right := v > nd.thr
		if v != v {
			right = !nd.missLeft
		}
		var ri int32
		if right {
			ri = 1
		}
		rr := r0 * float64(ri)
		l := nd.left - root
		rl := r0 - rr
		rs[l], rs[l+1] = rl, rr
		off := s.a0 + int32(r0)*m32
		a0inv := tab[off : off+m32]
		pn := prod[int(i)*m : int(i)*m+m]
		a0inv = a0inv[:len(pn)]
		// Both children at once: their rows are adjacent.
		ql, qr, vl, vr := sn[l].q, sn[l+1].q, sn[l].val, sn[l+1].val
		pc := prod[int(l)*m : int(l)*m+2*m]
		scc := sum[int(l)*m : int(l)*m+2*m]
		pl, pr := pc[:len(pn)], pc[m:][:len(pn)]
		sl, sr := scc[:len(pn)], scc[m:][:len(pn)]
		for k, pk := range pn {
			b, o, tk := pk*a0inv[k], omt[k], t[k]
			al, ar := b*(ql*o+rl*tk), b*(qr*o+rr*tk)
			pl[k], pr[k] = al, ar
			sl[k], sr[k] = vl*al, vr*ar
		}
	}

	// Up: sum the summaries and credit each edge with (r - q) times the
	// integral of its summary over a(t).
	for j := len(inner) - 1; j >= 0; j-- {
		i := inner[j]
		nd := &nodes[i]
		s := &sn[i]
		f := nd.feat
		r0 := rs[s.prev]
		sn0 := sum[int(i)*m : int(i)*m+m]
		l := nd.left - root
		rl, rr := rs[l], rs[l+1]
		offl := sn[l].up + int32(rl)*m32
		offr := sn[l+1].up + int32(rr)*m32
		wl, wr := tab[offl:offl+m32], tab[offr:offr+m32]
		scc := sum[int(l)*m : int(l)*m+2*m]
		sl, sr := scc[:len(sn0)], scc[m:][:len(sn0)]
		wl, wr = wl[:len(sn0)], wr[:len(sn0)]
		var upl, upr float64
		for k := range sn0 {
			a, b := sl[k], sr[k]
			upl += wl[k] * a
			upr += wr[k] * b
			sn0[k] += a + b
		}
		credit := (rl-sn[l].q)*upl + (rr-sn[l+1].q)*upr
		if s.rep {
			// f splits an ancestor too: take back what that edge will
			// credit for the leaves below here, which this node has
			// credited with the combined shares (nothing when q0 = r0).
			off := s.wa0 + int32(r0)*m32
			wa0 := tab[off : off+m32]
			wa0 = wa0[:len(sn0)]
			var c float64
			for k, v := range sn0 {
				c += wa0[k] * v
			}
			credit -= (r0 - s.q0) * c
		}
		phi[f] += credit
	}
}

// TreeSHAP writes the exact path-dependent Shapley values of each input
// feature for the prediction (probability scale) of the decision tree t
// into dst (nil allocates; its length sets the number of features and must
// exceed every split feature) and returns the expected prediction base and
// dst; base + sum(phi) equals t.Predict(x) up to rounding. Expectations
// weight children by Weight. It runs the boosted trees' TreeSHAP on t as a
// one-tree ensemble.
func TreeSHAP(t *model.Tree, x []float64, dst []float64) (base float64, phi []float64) {
	if dst == nil {
		dst = make([]float64, len(x))
	}
	clear(dst)
	p := &packedTrees{}
	depth := shapPack(p, len(t.Nodes), func(i int) shapSrcNode {
		nd := &t.Nodes[i]
		s := shapSrcNode{feat: -1, value: nd.Value, cover: nd.Weight}
		if !nd.Leaf {
			s = shapSrcNode{feat: int32(nd.Feature), thr: nd.Threshold, left: nd.Left, right: nd.Right,
				missLeft: nd.MissingLeft, cover: nd.Weight}
		}
		return s
	})
	p.maxDepth = depth
	p.roots = []int32{0}
	p.prepareSHAP(len(dst))
	p.shapTree(0, x, dst, newShapScratch(p))
	return p.expectation(0), dst
}
