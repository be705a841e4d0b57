package model

// Exact path-dependent TreeSHAP.
//
// The algorithm is Algorithm 2 of Lundberg, Erion and Lee, "Consistent
// individualized feature attribution for tree ensembles" (2018): one
// depth-first walk per tree keeps, for the path from the root, the
// proportion of all feature subsets that flow to the current node
// (EXTEND), removes a feature again when it repeats on the path (UNWIND),
// and at every leaf credits each path feature with the weighted difference
// between following x and following the cover-weighted average. Its cost is
// O(L·D²) per tree for L leaves and depth D, with no allocation: the path
// lives in one scratch buffer of (D+2)(D+3)/2 elements reused from a pool.
// Expectations use node covers (training sample weight, the row count
// without weights) for the fraction of data sent to each child.

// shapElem is one element of the unique path: the feature, the fraction of
// zero paths (feature unknown: cover share) and one paths (feature known:
// 1 if x follows this branch, else 0) flowing through, and the permutation
// weight.
type shapElem struct {
	feat int32
	z, o float64
	w    float64
}

// shapScratch is the reusable path buffer of one SHAP call.
type shapScratch struct {
	path []shapElem
}

// shapPathLen is the path buffer length for trees of the given depth.
func shapPathLen(depth int) int { return (depth + 2) * (depth + 3) / 2 }

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

// shapTree adds the SHAP values of the tree rooted at root to phi.
func (p *gbmPacked) shapTree(root int32, x, phi []float64, buf []shapElem) {
	p.shapRecurse(root, x, phi, buf, 0, 0, 1, 1, -1)
}

// shapRecurse visits node n. The parent's path occupies
// buf[parent:parent+depth]; this node's path is built right after it.
func (p *gbmPacked) shapRecurse(n int32, x, phi []float64, buf []shapElem, parent, depth int, pz, po float64, pf int32) {
	cur := parent + depth + 1
	path := buf[cur : cur+depth+1]
	copy(path, buf[parent:parent+depth])
	shapExtend(path, depth, pz, po, pf)
	nd := &p.nodes[n]
	if nd.feat < 0 {
		for i := 1; i <= depth; i++ {
			el := &path[i]
			w := shapUnwoundSum(path, depth, i)
			phi[el.feat] += w * (el.o - el.z) * nd.thr
		}
		return
	}
	v := x[nd.feat]
	hot, cold := nd.left, nd.left+1
	fl, fr := p.shapFractions(n)
	hz, cz := fl, fr
	// Same routing as gbmPacked.leaf: NaN follows the default direction.
	if v > nd.thr || (v != v && !nd.missLeft) {
		hot, cold = cold, hot
		hz, cz = cz, hz
	}
	iz, io := 1.0, 1.0
	for k := 1; k <= depth; k++ {
		if path[k].feat == nd.feat {
			iz, io = path[k].z, path[k].o
			shapUnwind(path, depth, k)
			depth--
			break
		}
	}
	p.shapRecurse(hot, x, phi, buf, cur, depth+1, hz*iz, io, nd.feat)
	p.shapRecurse(cold, x, phi, buf, cur, depth+1, cz*iz, 0, nd.feat)
}

// shapExtend appends an element (feature f, fractions z and o) at index
// depth and updates the permutation weights.
func shapExtend(path []shapElem, depth int, z, o float64, f int32) {
	path[depth] = shapElem{feat: f, z: z, o: o}
	if depth == 0 {
		path[0].w = 1
	}
	d1 := float64(depth + 1)
	for i := depth - 1; i >= 0; i-- {
		path[i+1].w += o * path[i].w * float64(i+1) / d1
		path[i].w = z * path[i].w * float64(depth-i) / d1
	}
}

// shapUnwind removes element k from a path of length depth+1.
func shapUnwind(path []shapElem, depth, k int) {
	o, z := path[k].o, path[k].z
	next := path[depth].w
	d1 := float64(depth + 1)
	for i := depth - 1; i >= 0; i-- {
		if o != 0 {
			t := path[i].w
			path[i].w = next * d1 / (float64(i+1) * o)
			next = t - path[i].w*z*float64(depth-i)/d1
		} else {
			path[i].w = path[i].w * d1 / (z * float64(depth-i))
		}
	}
	for i := k; i < depth; i++ {
		path[i].feat, path[i].z, path[i].o = path[i+1].feat, path[i+1].z, path[i+1].o
	}
}

// shapUnwoundSum is the total permutation weight of the path with element
// k removed, without changing the path.
func shapUnwoundSum(path []shapElem, depth, k int) float64 {
	o, z := path[k].o, path[k].z
	next := path[depth].w
	var total float64
	if o != 0 {
		for i := depth - 1; i >= 0; i-- {
			t := next / (float64(i+1) * o)
			total += t
			next = path[i].w - t*z*float64(depth-i)
		}
	} else if z != 0 {
		for i := depth - 1; i >= 0; i-- {
			total += path[i].w / (z * float64(depth-i))
		}
	}
	return total * float64(depth+1)
}
