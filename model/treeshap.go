package model

import "math"

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
// quadrature with ceil(D/2) points for trees of depth D. This is the idea of
// Linear TreeSHAP (Yu et al., 2022) with quadrature in place of their
// polynomial basis: one depth-first walk carries prod_j a_j(t_m) down the
// path, sums value_v * prod a_j(t_m) up over the leaves below each node, and
// credits each edge with (r - q) * sum_m w_m S(t_m) / a(t_m). When a feature
// repeats on a path, its factor is replaced by the combined one and the
// amount the earlier edge will credit for the leaves below is subtracted
// there. The cost is O(N * D/2) per tree for N nodes (against O(L * D^2) for
// Algorithm 2 of Lundberg et al., 2018), with no allocation: the scratch
// buffers come from a pool. Expectations use node covers (training sample
// weight, the row count without weights) for the share of data sent to each
// child.

// shapScratch holds the buffers of one SHAP call.
type shapScratch struct {
	prod []float64 // (depth+2) x M: prod_j a_j(t_m) at each depth
	sum  []float64 // (depth+2) x M: summaries at each depth
	q, r []float64 // per feature: the combined shares on the current path
	tq   []float64 // quadrature points and weights of the current tree
	wq   []float64
}

// newShapScratch allocates scratch for trees of the given depth, m
// quadrature points and nf features.
func newShapScratch(depth, m, nf int) *shapScratch {
	sc := &shapScratch{
		prod: make([]float64, (depth+2)*m),
		sum:  make([]float64, (depth+2)*m),
		q:    make([]float64, nf),
		r:    make([]float64, nf),
	}
	for i := range sc.q {
		sc.q[i], sc.r[i] = 1, 1
	}
	return sc
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

// shapSrcNode is a node of a tree to pack (GBMTree or Tree).
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
func shapPack(p *gbmPacked, nnodes int, src func(i int) shapSrcNode) int {
	type item struct {
		src   int
		dst   int32
		depth int
	}
	queue := []item{{src: 0, dst: int32(len(p.nodes))}}
	p.nodes = append(p.nodes, gbmPNode{})
	p.cover = append(p.cover, 0)
	depth := 0
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		s := src(it.src)
		depth = max(depth, it.depth)
		p.cover[it.dst] = s.cover
		if s.feat < 0 {
			p.nodes[it.dst] = gbmPNode{thr: s.value, feat: -1, left: -1}
			continue
		}
		l := int32(len(p.nodes))
		p.nodes = append(p.nodes, gbmPNode{}, gbmPNode{})
		p.cover = append(p.cover, 0, 0)
		p.nodes[it.dst] = gbmPNode{thr: s.thr, feat: s.feat, left: l, missLeft: s.missLeft}
		queue = append(queue,
			item{src: int(s.left), dst: l, depth: it.depth + 1},
			item{src: int(s.right), dst: l + 1, depth: it.depth + 1})
	}
	return depth
}

// shapFractions returns the shares of node n's cover sent to its left and
// right children (halves when the node has no cover).
func (p *gbmPacked) shapFractions(n int32) (float64, float64) {
	l := p.nodes[n].left
	c := p.cover[n]
	if !(c > 0) {
		return 0.5, 0.5
	}
	return p.cover[l] / c, p.cover[l+1] / c
}

// expectation is the cover-weighted mean leaf value below node n.
func (p *gbmPacked) expectation(n int32) float64 {
	nd := &p.nodes[n]
	if nd.feat < 0 {
		return nd.thr
	}
	fl, fr := p.shapFractions(n)
	return fl*p.expectation(nd.left) + fr*p.expectation(nd.left+1)
}

// shapPoints is the number of Gauss-Legendre points that integrate the
// polynomials of a tree of the given depth exactly (degree < depth).
func shapPoints(depth int) int { return max(1, (depth+1)/2) }

// prepareQuadrature computes the rules for every tree depth up to maxDepth.
func (p *gbmPacked) prepareQuadrature() {
	mm := shapPoints(p.maxDepth)
	p.quadT = make([][]float64, mm+1)
	p.quadW = make([][]float64, mm+1)
	for m := 1; m <= mm; m++ {
		p.quadT[m], p.quadW[m] = shapQuadrature(m)
	}
}

// shapTree adds the SHAP values of the tree rooted at root, of the given
// depth, to phi.
func (p *gbmPacked) shapTree(root int32, depth int, x, phi []float64, sc *shapScratch) {
	m := shapPoints(depth)
	sc.tq, sc.wq = p.quadT[m], p.quadW[m]
	prod := sc.prod[:m]
	for k := range prod {
		prod[k] = 1
	}
	p.shapRecurse(root, 0, x, phi, sc)
}

// shapRecurse visits node n at the given depth, whose path product is in
// sc.prod at that depth, and leaves the summary of the leaves below it in
// sc.sum at that depth.
func (p *gbmPacked) shapRecurse(n int32, depth int, x, phi []float64, sc *shapScratch) {
	tq, wq := sc.tq, sc.wq
	m := len(tq)
	prod := sc.prod[depth*m : (depth+1)*m]
	sum := sc.sum[depth*m : (depth+1)*m]
	nd := &p.nodes[n]
	if nd.feat < 0 {
		for k := range sum {
			sum[k] = nd.thr * prod[k]
		}
		return
	}
	clear(sum)
	f := nd.feat
	q0, r0 := sc.q[f], sc.r[f]
	if q0 == 0 && r0 == 0 {
		// No data and not x reach this node: nothing below counts.
		return
	}
	v := x[f]
	// Same routing as gbmPacked.leaf: NaN follows the default direction.
	hotRight := v > nd.thr || (v != v && !nd.missLeft)
	fl, fr := p.shapFractions(n)
	cprod := sc.prod[(depth+1)*m : (depth+2)*m]
	csum := sc.sum[(depth+1)*m : (depth+2)*m]
	for side := range 2 {
		child, share, hot := nd.left, fl, !hotRight
		if side == 1 {
			child, share, hot = nd.left+1, fr, hotRight
		}
		qn, rn := q0*share, 0.0
		if hot {
			rn = r0
		}
		if qn == 0 && rn == 0 {
			continue
		}
		if q0 == 1 && r0 == 1 {
			// First split on f along this path.
			for k, t := range tq {
				cprod[k] = prod[k] * (qn*(1-t) + rn*t)
			}
		} else {
			for k, t := range tq {
				cprod[k] = prod[k] / (q0*(1-t) + r0*t) * (qn*(1-t) + rn*t)
			}
		}
		sc.q[f], sc.r[f] = qn, rn
		p.shapRecurse(child, depth+1, x, phi, sc)
		var c float64
		for k, t := range tq {
			c += wq[k] * csum[k] / (qn*(1-t) + rn*t)
			sum[k] += csum[k]
		}
		phi[f] += (rn - qn) * c
	}
	sc.q[f], sc.r[f] = q0, r0
	if q0 != r0 {
		// f splits an ancestor too: take back what that edge will credit
		// for the leaves below here, which this node has credited with
		// the combined shares.
		var c float64
		for k, t := range tq {
			c += wq[k] * sum[k] / (q0*(1-t) + r0*t)
		}
		phi[f] -= (r0 - q0) * c
	}
}
