package gbm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/icpengine/icp/model"
)

// Config configures Fit. The zero value gives defaults close to
// scikit-learn's HistGradientBoostingClassifier: 0.1 learning rate, 31
// leaves grown best-first, 20 rows per leaf, 255 bins, early stopping after 20
// rounds without improvement of the validation loss.
type Config struct {
	// Loss is "logloss" (binary cross-entropy, y in {0,1}; the default) or
	// "squared" (least squares regression).
	Loss string
	// Rounds is the maximum number of trees. Zero means 300.
	Rounds int
	// LearningRate shrinks every tree. Zero means 0.1.
	LearningRate float64
	// MaxLeaves is the number of leaves per tree, grown best-first. Zero
	// means 31.
	MaxLeaves int
	// MaxDepth limits the depth of a tree. Zero means no limit.
	MaxDepth int
	// MinChildWeight is the least sum of hessians in a child. Zero means
	// 1e-3; a negative value disables the check.
	MinChildWeight float64
	// MinLeafRows is the least number of training rows in a leaf. Zero
	// means 20.
	MinLeafRows int
	// L2 is the ridge penalty on leaf values. Zero means 1; a negative value
	// means no penalty.
	L2 float64
	// RowSample is the fraction of rows drawn (without replacement, seeded)
	// for each tree. Zero means 1 (all rows).
	RowSample float64
	// ColSample is the fraction of features drawn for each tree. Zero means
	// 1 (all features).
	ColSample float64
	// MaxBins is the number of quantile bins per feature for non-missing
	// values, at most 255 (a further bin holds missing values). Zero means
	// 255.
	MaxBins int
	// EarlyStopRounds stops training when the validation loss has not
	// improved for this many rounds; it is used only when validation data
	// are given. Zero means 20.
	EarlyStopRounds int
	// Threads is the number of goroutines used for training and batch
	// prediction. Zero means runtime.GOMAXPROCS(0). Results do not depend
	// on it.
	Threads int
	// Seed seeds row and column subsampling.
	Seed uint64
}

// Validation is held-out data for early stopping.
type Validation struct {
	X mat.Matrix
	// Y holds the targets; Weights may be nil for uniform weights.
	Y, Weights []float64
}

// FitInfo reports the training of a Model.
type FitInfo struct {
	// Rounds is the number of trees trained, BestRound the number kept
	// (the round with the least validation loss, or Rounds without
	// validation data).
	Rounds, BestRound int
	// TrainLoss[i] and ValidLoss[i] are the weighted mean losses after i+1
	// trees (mean log loss, or mean squared error for the squared loss).
	// ValidLoss is nil without validation data.
	TrainLoss, ValidLoss []float64
}

// Tree is one regression tree of a Model, stored as flat arrays indexed by
// node, the root at 0. An internal node sends x left when
// x[Feature] <= Threshold, right when x[Feature] > Threshold, and a missing
// value (NaN) left when MissingLeft is set, else right.
type Tree struct {
	// Feature is the split feature, -1 at leaves.
	Feature []int32 `json:"f"`
	// Threshold is the split threshold on raw values (0 at leaves).
	Threshold []float64 `json:"t"`
	// Left and Right are the children (-1 at leaves).
	Left  []int32 `json:"l"`
	Right []int32 `json:"r"`
	// MissingLeft is the learned default direction of missing values.
	MissingLeft []bool `json:"m"`
	// Value is the leaf's contribution to the margin, learning rate
	// included (0 at internal nodes).
	Value []float64 `json:"v"`
	// Cover is the sum of training sample weights (the row count without
	// weights) that reached the node; TreeSHAP uses it for expectations.
	Cover []float64 `json:"c"`
}

// Model is a fitted gradient-boosted tree ensemble. Its margin is
// Base + the sum of its trees' leaf values; with the logloss loss the
// probability is model.Sigmoid(margin). It is JSON-serializable; after decoding,
// the compact prediction form is built once on first use. Use it through a
// pointer: it must not be copied after first use.
type Model struct {
	// Base is the initial margin.
	Base float64 `json:"base"`
	// Trees are the boosted trees.
	Trees []Tree `json:"trees"`
	// Loss is the training loss, "logloss" or "squared".
	Loss string `json:"loss"`
	// NumFeatures is the length of an input row.
	NumFeatures int `json:"features"`

	prepOnce sync.Once
	packed   *packedTrees
	scratch  sync.Pool
}

// packedTrees is the prediction form of a Model: the nodes of all trees in
// one array, the two children of a node adjacent (right = left+1).
type packedTrees struct {
	nodes    []packedNode
	cover    []float64 // by packed node
	roots    []int32
	expected []float64 // cover-weighted mean leaf value per tree
	maxDepth int
	// TreeSHAP tables (treeshap.go): the data of each node, the flat table
	// of precomputed weights it points into, the number of quadrature
	// points of each tree and the rules by number of points, the internal
	// nodes of each tree (relative to its root; those of tree i are
	// shapInner[shapInnerAt[i]:shapInnerAt[i+1]]) and the most nodes of
	// one tree.
	shap         []shapNode
	shapTab      []float64
	shapM        []int
	shapRules    []shapRule
	shapInner    []int32
	shapInnerAt  []int32
	shapMaxNodes int
}

// packedNode is one packed node. At a leaf feat is -1 and thr holds the
// value.
type packedNode struct {
	thr      float64
	feat     int32
	left     int32
	missLeft bool
}

func (c *Config) resolved() (Config, error) {
	r := *c
	if r.Loss == "" {
		r.Loss = "logloss"
	}
	if r.Loss != "logloss" && r.Loss != "squared" {
		return r, fmt.Errorf("loss %q: want logloss or squared: %w", r.Loss, model.ErrInvalidInput)
	}
	if r.Rounds == 0 {
		r.Rounds = 300
	}
	if r.LearningRate == 0 {
		r.LearningRate = 0.1
	}
	if r.MaxLeaves == 0 {
		r.MaxLeaves = 31
	}
	if r.MinChildWeight == 0 {
		r.MinChildWeight = 1e-3
	}
	if r.MinLeafRows == 0 {
		r.MinLeafRows = 20
	}
	if r.L2 == 0 {
		r.L2 = 1
	} else if r.L2 < 0 {
		r.L2 = 0
	}
	if r.RowSample == 0 {
		r.RowSample = 1
	}
	if r.ColSample == 0 {
		r.ColSample = 1
	}
	if r.MaxBins == 0 {
		r.MaxBins = 255
	}
	if r.EarlyStopRounds == 0 {
		r.EarlyStopRounds = 20
	}
	if r.Threads <= 0 {
		r.Threads = runtime.GOMAXPROCS(0)
	}
	switch {
	case r.Rounds < 0:
		return r, fmt.Errorf("rounds %d: %w", r.Rounds, model.ErrInvalidInput)
	case !(r.LearningRate > 0):
		return r, fmt.Errorf("learning rate %v: %w", r.LearningRate, model.ErrInvalidInput)
	case r.MaxLeaves < 2:
		return r, fmt.Errorf("max leaves %d: want at least 2: %w", r.MaxLeaves, model.ErrInvalidInput)
	case r.MaxDepth < 0:
		return r, fmt.Errorf("max depth %d: %w", r.MaxDepth, model.ErrInvalidInput)
	case r.MinLeafRows < 1:
		return r, fmt.Errorf("min leaf rows %d: %w", r.MinLeafRows, model.ErrInvalidInput)
	case !(r.RowSample > 0 && r.RowSample <= 1):
		return r, fmt.Errorf("row sample %v: want (0, 1]: %w", r.RowSample, model.ErrInvalidInput)
	case !(r.ColSample > 0 && r.ColSample <= 1):
		return r, fmt.Errorf("col sample %v: want (0, 1]: %w", r.ColSample, model.ErrInvalidInput)
	case r.MaxBins < 2 || r.MaxBins > 255:
		return r, fmt.Errorf("max bins %d: want 2..255: %w", r.MaxBins, model.ErrInvalidInput)
	case r.EarlyStopRounds < 0:
		return r, fmt.Errorf("early stop rounds %d: %w", r.EarlyStopRounds, model.ErrInvalidInput)
	}
	return r, nil
}

// Fit trains a gradient-boosted tree ensemble on the rows of x (NaN marks
// a missing value) with targets y and optional sample weights (nil means
// uniform). With valid set, training stops early when the validation loss
// stops improving and the trees of the best round are kept. cfg may be nil
// for the defaults. Training uses cfg.Threads goroutines; the fitted model
// depends only on the data, the config and the seed.
//
// Fit panics if len(y) or len(weights) differ from the rows of x.
func Fit(x mat.Matrix, y, weights []float64, valid *Validation, cfg *Config) (*Model, *FitInfo, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	c, err := cfg.resolved()
	if err != nil {
		return nil, nil, fmt.Errorf("fit gbm: %w", err)
	}
	n, nf := x.Dims()
	if len(y) != n {
		panic("gbm: Fit: len(y) != rows of x")
	}
	if weights != nil && len(weights) != n {
		panic("gbm: Fit: len(weights) != rows of x")
	}
	if n == 0 || nf == 0 {
		return nil, nil, fmt.Errorf("fit gbm: empty matrix %dx%d: %w", n, nf, model.ErrInvalidInput)
	}
	if err := model.CheckTargets(y, weights, c.Loss == "logloss"); err != nil {
		return nil, nil, fmt.Errorf("fit gbm: %w", err)
	}
	var vx mat.Matrix
	var vy, vw []float64
	if valid != nil {
		vn, vf := valid.X.Dims()
		if len(valid.Y) != vn || (valid.Weights != nil && len(valid.Weights) != vn) {
			panic("gbm: Fit: validation lengths differ from rows of X")
		}
		if vf != nf {
			return nil, nil, fmt.Errorf("fit gbm: validation has %d features, want %d: %w", vf, nf, model.ErrInvalidInput)
		}
		if vn == 0 {
			return nil, nil, fmt.Errorf("fit gbm: empty validation set: %w", model.ErrInvalidInput)
		}
		if err := model.CheckTargets(valid.Y, valid.Weights, c.Loss == "logloss"); err != nil {
			return nil, nil, fmt.Errorf("fit gbm: validation: %w", err)
		}
		vx, vy, vw = valid.X, valid.Y, valid.Weights
	}

	bn, bins, err := binRows(x, c.MaxBins, c.Threads)
	if err != nil {
		return nil, nil, fmt.Errorf("fit gbm: %w", err)
	}
	b := newBuilder(bins, bn, weights, &c)

	g := &Model{Loss: c.Loss, NumFeatures: nf}
	g.Base = baseMargin(y, weights, c.Loss)
	margin := make([]float64, n)
	for i := range margin {
		margin[i] = g.Base
	}
	info := &FitInfo{}
	var vrows [][]float64
	var vmargin []float64
	if vx != nil {
		vrows = denseRows(vx)
		vmargin = make([]float64, len(vrows))
		for i := range vmargin {
			vmargin[i] = g.Base
		}
	}
	rng := rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15))
	best, bestRound, since := 0.0, 0, 0
	for round := 0; round < c.Rounds; round++ {
		loss := b.gradients(margin, y, c.Loss)
		if round > 0 {
			info.TrainLoss = append(info.TrainLoss, loss)
		}
		t := b.grow(rng)
		b.updateMargins(t, margin)
		g.Trees = append(g.Trees, t.tree)
		info.Rounds++
		if vx == nil {
			continue
		}
		for i, row := range vrows {
			vmargin[i] += treeValue(&t.tree, row)
		}
		vl := meanLoss(vmargin, vy, vw, c.Loss)
		info.ValidLoss = append(info.ValidLoss, vl)
		if round == 0 || vl < best-1e-7*math.Max(1, math.Abs(best)) {
			best, bestRound, since = vl, round+1, 0
		} else if since++; since >= c.EarlyStopRounds {
			break
		}
	}
	info.TrainLoss = append(info.TrainLoss, meanLoss(margin, y, weights, c.Loss))
	info.BestRound = info.Rounds
	if vx != nil {
		info.BestRound = bestRound
		g.Trees = g.Trees[:bestRound]
	}
	return g, info, nil
}

// baseMargin is the constant margin minimizing the loss.
func baseMargin(y, w []float64, loss string) float64 {
	var sw, swy float64
	for i, v := range y {
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		sw += wi
		swy += wi * v
	}
	m := swy / sw
	if loss == "squared" {
		return m
	}
	const eps = 1e-12
	return model.Logit(math.Min(math.Max(m, eps), 1-eps))
}

// meanLoss is the weighted mean loss of margins.
func meanLoss(margin, y, w []float64, loss string) float64 {
	var s, sw float64
	for i, m := range margin {
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		s += wi * pointLoss(m, y[i], loss)
		sw += wi
	}
	return s / sw
}

// pointLoss is the loss of one margin.
func pointLoss(m, y float64, loss string) float64 {
	if loss == "squared" {
		d := m - y
		return d * d
	}
	// log(1+exp(-|m|)) + max(m,0) - y*m, stable for large |m|.
	return math.Log1p(math.Exp(-math.Abs(m))) + math.Max(m, 0) - y*m
}

// denseRows returns the rows of x as slices (views of a dense matrix when
// possible).
func denseRows(x mat.Matrix) [][]float64 {
	n, nf := x.Dims()
	rows := make([][]float64, n)
	if rm, ok := x.(mat.RawMatrixer); ok {
		raw := rm.RawMatrix()
		for i := range rows {
			rows[i] = raw.Data[i*raw.Stride : i*raw.Stride+nf]
		}
		return rows
	}
	data := make([]float64, n*nf)
	for i := range rows {
		rows[i] = data[i*nf : (i+1)*nf]
		for j := range nf {
			rows[i][j] = x.At(i, j)
		}
	}
	return rows
}

// treeValue walks one unpacked tree.
func treeValue(t *Tree, x []float64) float64 {
	n := int32(0)
	for t.Feature[n] >= 0 {
		v := x[t.Feature[n]]
		switch {
		case v <= t.Threshold[n]:
			n = t.Left[n]
		case v > t.Threshold[n]:
			n = t.Right[n]
		case t.MissingLeft[n]: // NaN: the learned default direction
			n = t.Left[n]
		default:
			n = t.Right[n]
		}
	}
	return t.Value[n]
}

// binRows bins every feature of x into column-major uint8 codes, features in
// groups of eight read together, groups spread over threads.
func binRows(x mat.Matrix, maxBins, threads int) (*binner, [][]uint8, error) {
	n, nf := x.Dims()
	bn := &binner{edges: make([][]float64, nf)}
	bins := make([][]uint8, nf)
	var raw blas64.General
	rm, dense := x.(mat.RawMatrixer)
	if dense {
		raw = rm.RawMatrix()
	}
	const group = 8
	ngroups := (nf + group - 1) / group
	errs := make([]error, ngroups)
	var wg sync.WaitGroup
	next := make(chan int, ngroups)
	for gi := range ngroups {
		next <- gi
	}
	close(next)
	for range min(threads, ngroups) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cols := make([][]float64, group)
			for k := range cols {
				cols[k] = make([]float64, n)
			}
			scratch := make([]float64, 0, 256)
			for gi := range next {
				f0 := gi * group
				f1 := min(f0+group, nf)
				for i := range n {
					if dense {
						row := raw.Data[i*raw.Stride:]
						for f := f0; f < f1; f++ {
							cols[f-f0][i] = row[f]
						}
					} else {
						for f := f0; f < f1; f++ {
							cols[f-f0][i] = x.At(i, f)
						}
					}
				}
				for f := f0; f < f1; f++ {
					col := cols[f-f0]
					for i, v := range col {
						if math.IsInf(v, 0) {
							errs[gi] = fmt.Errorf("row %d, column %d: infinite value: %w", i, f, model.ErrInvalidInput)
							break
						}
					}
					if errs[gi] != nil {
						break
					}
					bn.edges[f] = binEdgesFor(col, maxBins, scratch)
					codes := make([]uint8, n)
					for i, v := range col {
						codes[i] = bn.code(f, v)
					}
					bins[f] = codes
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	return bn, bins, nil
}

// grad is the gradient and hessian of one row, stored in single
// precision (as scikit-learn does) to halve the memory read per row;
// histogram sums are double precision.
type grad struct{ g, h float32 }

// histBin accumulates the gradients, hessians and row count of one bin.
type histBin struct{ g, h, c float64 }

// histChunk is the row chunk of parallel histogram building. The chunks
// depend only on the segment length and their partial histograms are added
// in chunk order, so results do not depend on the number of threads.
const histChunk = 4096

// sparseShare is the share of rows in a feature's most frequent bin from
// which the feature is stored sparsely: only rows outside that bin are
// visited and the bin's sums are derived from the node totals.
const sparseShare = 0.5

// builder grows the trees of one Fit call.
//
// Histograms are flat: feature f owns the slots off[f]..off[f]+nbins(f)-1.
// Rows are stored three ways: column-major codes (cols, for partitioning),
// the dense features row-major as codes (dense), and the sparse features as
// one list per row of histogram slots outside their most frequent bin
// (CSR: sparsePtr, sparse). Building a histogram visits each row once and
// updates one slot per dense feature and per listed sparse entry.
type builder struct {
	cfg       *Config
	cols      [][]uint8
	bn        *binner
	n, nf     int
	w         []float64
	gh        []grad  // per row gradient and hessian
	idx       []int32 // row indices; each leaf owns a segment
	tmp       []int32
	off       []int32 // histogram offset of each feature
	totalBins int
	denseOff  []int32 // histogram offsets of the dense features
	dense     []uint8 // n x len(denseOff) codes
	sparseF   []int   // sparse features
	mfb       []int   // most frequent bin of each sparse feature
	sparsePtr []int64
	sparse    []int32 // histogram slots
	feats     []int   // features the current tree may split on
	all       []int   // 0..nf-1
	pool      [][]histBin
	nrows     int           // rows sampled for the current tree
	touched   atomic.Uint64 // sink that keeps the look-ahead reads alive
}

func newBuilder(cols [][]uint8, bn *binner, w []float64, c *Config) *builder {
	n, nf := len(cols[0]), len(cols)
	b := &builder{
		cfg: c, cols: cols, bn: bn, n: n, nf: nf, w: w,
		gh:  make([]grad, n),
		idx: make([]int32, n), tmp: make([]int32, n),
		off: make([]int32, nf), all: make([]int, nf),
	}
	for f := range b.all {
		b.all[f] = f
		b.off[f] = int32(b.totalBins)
		b.totalBins += bn.nbins(f)
	}
	// Most frequent bin of every feature.
	mfb := make([]int, nf)
	share := make([]float64, nf)
	b.parallel(nf, func(f int) {
		var cnt [256]int
		for _, code := range cols[f] {
			cnt[code]++
		}
		best := 0
		for k := range cnt {
			if cnt[k] > cnt[best] {
				best = k
			}
		}
		mfb[f], share[f] = best, float64(cnt[best])/float64(n)
	})
	var denseF []int
	for f := range nf {
		if share[f] >= sparseShare {
			b.sparseF = append(b.sparseF, f)
			b.mfb = append(b.mfb, mfb[f])
		} else {
			denseF = append(denseF, f)
			b.denseOff = append(b.denseOff, b.off[f])
		}
	}
	nd := len(denseF)
	b.dense = make([]uint8, n*nd)
	b.sparsePtr = make([]int64, n+1)
	var nnz int64
	for r := range n {
		for k, f := range b.sparseF {
			if int(cols[f][r]) != b.mfb[k] {
				nnz++
			}
		}
		b.sparsePtr[r+1] = nnz
	}
	b.sparse = make([]int32, nnz)
	const blk = 2048
	nblk := (n + blk - 1) / blk
	b.parallel(nblk, func(k int) {
		lo, hi := k*blk, min((k+1)*blk, n)
		for j, f := range denseF {
			col := cols[f]
			for r := lo; r < hi; r++ {
				b.dense[r*nd+j] = col[r]
			}
		}
		for r := lo; r < hi; r++ {
			p := b.sparsePtr[r]
			for j, f := range b.sparseF {
				if code := int(cols[f][r]); code != b.mfb[j] {
					b.sparse[p] = b.off[f] + int32(code)
					p++
				}
			}
		}
	})
	return b
}

// gradBlock is the row block of the parallel gradient pass; partial losses
// are summed block by block so the result does not depend on the threads.
const gradBlock = 4096

// gradients fills g and h from the margins and returns the weighted mean
// loss of the margins.
func (b *builder) gradients(margin, y []float64, loss string) float64 {
	nb := (b.n + gradBlock - 1) / gradBlock
	part := make([]float64, nb)
	partW := make([]float64, nb)
	b.parallel(nb, func(k int) {
		lo, hi := k*gradBlock, min((k+1)*gradBlock, b.n)
		var s, sw float64
		for i := lo; i < hi; i++ {
			wi := 1.0
			if b.w != nil {
				wi = b.w[i]
			}
			m := margin[i]
			if loss == "squared" {
				d := m - y[i]
				b.gh[i] = grad{float32(wi * d), float32(wi)}
				s += wi * d * d
			} else {
				e := math.Exp(-math.Abs(m))
				p := 1 / (1 + e)
				if m < 0 {
					p = e / (1 + e)
				}
				b.gh[i] = grad{float32(wi * (p - y[i])), float32(wi * p * (1 - p))}
				// log(1+e) with e in (0, 1] is accurate to rounding
				// and cheaper than Log1p.
				s += wi * (math.Log(1+e) + math.Max(m, 0) - y[i]*m)
			}
			sw += wi
		}
		part[k], partW[k] = s, sw
	})
	var s, sw float64
	for k := range part {
		s += part[k]
		sw += partW[k]
	}
	return s / sw
}

// parallel runs fn(0..n-1) on the builder's threads. Each index runs on
// exactly one goroutine.
func (b *builder) parallel(n int, fn func(k int)) {
	t := min(b.cfg.Threads, n)
	if t <= 1 {
		for k := range n {
			fn(k)
		}
		return
	}
	var wg sync.WaitGroup
	for j := range t {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := j; k < n; k += t {
				fn(k)
			}
		}()
	}
	wg.Wait()
}

// leafState is a leaf of the tree being grown.
type leafState struct {
	node       int32
	start, end int
	depth      int
	hist       []histBin
	sum        histBin
	split      splitCand
}

// splitCand is the best split of a leaf.
type splitCand struct {
	gain     float64
	feat     int
	bin      int // left holds value bins 0..bin
	missLeft bool
	left     histBin // sums of the left child
	ok       bool
}

// grown is a tree under construction with its bin-space thresholds.
type grown struct {
	tree   Tree
	binThr []int // left holds bins <= binThr
	leaves []leafState
}

func (b *builder) getHist() []histBin {
	if k := len(b.pool); k > 0 {
		h := b.pool[k-1]
		b.pool = b.pool[:k-1]
		clear(h)
		return h
	}
	return make([]histBin, b.totalBins)
}

func (b *builder) putHist(h []histBin) { b.pool = append(b.pool, h) }

// sample draws the rows and features of one tree.
func (b *builder) sample(rng *rand.Rand) {
	c := b.cfg
	if c.RowSample < 1 {
		b.nrows = 0
		for i := range b.n {
			if rng.Float64() < c.RowSample {
				b.idx[b.nrows] = int32(i)
				b.nrows++
			}
		}
		if b.nrows == 0 {
			b.idx[0] = int32(rng.IntN(b.n))
			b.nrows = 1
		}
	} else {
		b.nrows = b.n
		for i := range b.idx {
			b.idx[i] = int32(i)
		}
	}
	b.feats = b.all
	if c.ColSample < 1 {
		k := max(1, int(math.Round(c.ColSample*float64(b.nf))))
		feats := rng.Perm(b.nf)[:k]
		slices.Sort(feats)
		b.feats = feats
	}
}

// accumulate adds the rows of seg to hist and returns their totals.
func (b *builder) accumulate(hist []histBin, seg []int32) histBin {
	var tot histBin
	nd := len(b.denseOff)
	doff := b.denseOff
	// Rows far down a tree are scattered in memory. Reading the row that
	// comes ahead positions later (and folding it into a value kept
	// alive) starts its cache misses early, as a prefetch would.
	var touch uint64
	for i, r := range seg {
		if j := i + ahead; j < len(seg) {
			q := int(seg[j])
			sp := b.sparsePtr[q]
			touch += uint64(math.Float32bits(b.gh[q].g))
			if nd > 0 {
				touch += uint64(b.dense[q*nd])
			}
			if sp < b.sparsePtr[q+1] {
				touch += uint64(b.sparse[sp])
			}
		}
		g, h := float64(b.gh[r].g), float64(b.gh[r].h)
		tot.g += g
		tot.h += h
		row := b.dense[int(r)*nd : int(r)*nd+nd]
		for k, code := range row {
			s := &hist[doff[k]+int32(code)]
			s.g += g
			s.h += h
			s.c++
		}
		for _, slot := range b.sparse[b.sparsePtr[r]:b.sparsePtr[r+1]] {
			s := &hist[slot]
			s.g += g
			s.h += h
			s.c++
		}
	}
	tot.c = float64(len(seg))
	b.touched.Add(touch)
	return tot
}

// ahead is how many rows ahead accumulate touches memory.
const ahead = 12

// buildHist fills hist with the sums of the rows of idx[start:end] and
// returns their totals.
func (b *builder) buildHist(hist []histBin, start, end int) histBin {
	seg := b.idx[start:end]
	nchunks := (len(seg) + histChunk - 1) / histChunk
	var tot histBin
	if nchunks <= 1 {
		tot = b.accumulate(hist, seg)
	} else {
		parts := make([][]histBin, nchunks)
		sums := make([]histBin, nchunks)
		parts[0] = hist
		for k := 1; k < nchunks; k++ {
			parts[k] = b.getHist()
		}
		b.parallel(nchunks, func(k int) {
			sums[k] = b.accumulate(parts[k], seg[k*histChunk:min((k+1)*histChunk, len(seg))])
		})
		tot = sums[0]
		for k := 1; k < nchunks; k++ {
			p := parts[k]
			for i := range hist {
				hist[i].g += p[i].g
				hist[i].h += p[i].h
				hist[i].c += p[i].c
			}
			tot.g += sums[k].g
			tot.h += sums[k].h
			tot.c += sums[k].c
			b.putHist(p)
		}
	}
	// The most frequent bin of a sparse feature holds what the other bins
	// do not.
	for k, f := range b.sparseF {
		o := int(b.off[f])
		fh := hist[o : o+b.bn.nbins(f)]
		rest := tot
		for j := range fh {
			if j != b.mfb[k] {
				rest.g -= fh[j].g
				rest.h -= fh[j].h
				rest.c -= fh[j].c
			}
		}
		fh[b.mfb[k]] = rest
	}
	return tot
}

// leafGain is the split score term of a node with the given sums.
func (b *builder) leafGain(s histBin) float64 {
	return s.g * s.g / (s.h + b.cfg.L2)
}

// findSplit computes the best split of a leaf from its histogram.
func (b *builder) findSplit(l *leafState) {
	c := b.cfg
	l.split = splitCand{}
	if l.sum.c < 2*float64(c.MinLeafRows) || (c.MaxDepth > 0 && l.depth >= c.MaxDepth) {
		return
	}
	minRows := float64(c.MinLeafRows)
	parent := b.leafGain(l.sum)
	best := splitCand{}
	consider := func(f, bin int, missLeft bool, left histBin) {
		right := histBin{l.sum.g - left.g, l.sum.h - left.h, l.sum.c - left.c}
		if left.c < minRows || right.c < minRows || left.h < c.MinChildWeight || right.h < c.MinChildWeight {
			return
		}
		gain := b.leafGain(left) + b.leafGain(right) - parent
		if gain > best.gain {
			best = splitCand{gain: gain, feat: f, bin: bin, missLeft: missLeft, left: left, ok: true}
		}
	}
	for _, f := range b.feats {
		o := int(b.off[f])
		nv := b.bn.nbins(f) - 1 // value bins
		hf := l.hist[o : o+nv+1]
		miss := hf[nv]
		var cum histBin
		for bin := 0; bin < nv; bin++ {
			s := hf[bin]
			cum.g += s.g
			cum.h += s.h
			cum.c += s.c
			if bin < nv-1 {
				consider(f, bin, false, cum)
			}
			if miss.c > 0 {
				if bin < nv-1 {
					consider(f, bin, true, histBin{cum.g + miss.g, cum.h + miss.h, cum.c + miss.c})
				} else {
					// All values left, missing values right.
					consider(f, bin, false, cum)
				}
			}
		}
	}
	if best.ok && best.gain > 0 {
		l.split = best
	}
}

// grow builds one tree best-first.
func (b *builder) grow(rng *rand.Rand) *grown {
	b.sample(rng)
	c := b.cfg
	t := &grown{}
	root := leafState{node: t.addNode(), start: 0, end: b.nrows, hist: b.getHist()}
	root.sum = b.buildHist(root.hist, 0, b.nrows)
	t.tree.Cover[0] = b.cover(0, b.nrows)
	b.findSplit(&root)
	leaves := []leafState{root}
	for len(leaves) < c.MaxLeaves {
		bi := -1
		for i := range leaves {
			if leaves[i].split.ok && (bi < 0 || leaves[i].split.gain > leaves[bi].split.gain) {
				bi = i
			}
		}
		if bi < 0 {
			break
		}
		l := leaves[bi]
		sp := l.split
		mid := b.partition(l.start, l.end, sp)
		ln, rn := t.addNode(), t.addNode()
		tr := &t.tree
		tr.Feature[l.node] = int32(sp.feat)
		tr.Left[l.node], tr.Right[l.node] = ln, rn
		tr.MissingLeft[l.node] = sp.missLeft
		if l.hist[int(b.off[sp.feat])+b.bn.missing(sp.feat)].c == 0 {
			// No training row was missing here: missing values follow
			// the larger child.
			tr.MissingLeft[l.node] = 2*sp.left.c >= l.sum.c
		}
		if sp.bin < len(b.bn.edges[sp.feat]) {
			tr.Threshold[l.node] = b.bn.edges[sp.feat][sp.bin]
		} else {
			// Every value goes left, only missing values right.
			tr.Threshold[l.node] = math.MaxFloat64
		}
		t.binThr[l.node] = sp.bin
		left := leafState{node: ln, start: l.start, end: mid, depth: l.depth + 1}
		right := leafState{node: rn, start: mid, end: l.end, depth: l.depth + 1}
		tr.Cover[ln] = b.cover(left.start, left.end)
		tr.Cover[rn] = b.cover(right.start, right.end)
		small, large := &left, &right
		if right.end-right.start < left.end-left.start {
			small, large = &right, &left
		}
		small.hist = b.getHist()
		small.sum = b.buildHist(small.hist, small.start, small.end)
		// The sibling's histogram is the parent's minus the small child's.
		large.hist = l.hist
		for k := range large.hist {
			large.hist[k].g -= small.hist[k].g
			large.hist[k].h -= small.hist[k].h
			large.hist[k].c -= small.hist[k].c
		}
		large.sum = histBin{l.sum.g - small.sum.g, l.sum.h - small.sum.h, l.sum.c - small.sum.c}
		b.findSplit(&left)
		b.findSplit(&right)
		leaves[bi] = left
		leaves = append(leaves, right)
	}
	for i := range leaves {
		l := &leaves[i]
		t.tree.Value[l.node] = -c.LearningRate * l.sum.g / (l.sum.h + c.L2)
		b.putHist(l.hist)
		l.hist = nil
	}
	t.leaves = leaves
	return t
}

// addNode appends a leaf node to the tree.
func (t *grown) addNode() int32 {
	tr := &t.tree
	tr.Feature = append(tr.Feature, -1)
	tr.Threshold = append(tr.Threshold, 0)
	tr.Left = append(tr.Left, -1)
	tr.Right = append(tr.Right, -1)
	tr.MissingLeft = append(tr.MissingLeft, false)
	tr.Value = append(tr.Value, 0)
	tr.Cover = append(tr.Cover, 0)
	t.binThr = append(t.binThr, 0)
	return int32(len(tr.Feature) - 1)
}

// cover is the weight of the rows of idx[start:end].
func (b *builder) cover(start, end int) float64 {
	if b.w == nil {
		return float64(end - start)
	}
	var s float64
	for _, r := range b.idx[start:end] {
		s += b.w[r]
	}
	return s
}

// goesLeft reports whether a bin code goes left under a split.
func (b *builder) goesLeft(f int, code uint8, bin int, missLeft bool) bool {
	if int(code) == b.bn.missing(f) {
		return missLeft
	}
	return int(code) <= bin
}

// partition reorders idx[start:end] stably into the rows going left and
// those going right and returns the boundary.
func (b *builder) partition(start, end int, sp splitCand) int {
	col := b.cols[sp.feat]
	miss := uint8(b.bn.missing(sp.feat))
	bin := sp.bin
	w, nr := start, 0
	for i := start; i < end; i++ {
		r := b.idx[i]
		code := col[r]
		var left bool
		if code == miss {
			left = sp.missLeft
		} else {
			left = int(code) <= bin
		}
		if left {
			b.idx[w] = r
			w++
		} else {
			b.tmp[nr] = r
			nr++
		}
	}
	copy(b.idx[w:end], b.tmp[:nr])
	return w
}

// updateMargins adds the new tree's values to the training margins.
func (b *builder) updateMargins(t *grown, margin []float64) {
	if b.nrows == b.n {
		for _, l := range t.leaves {
			v := t.tree.Value[l.node]
			for _, r := range b.idx[l.start:l.end] {
				margin[r] += v
			}
		}
		return
	}
	tr := &t.tree
	for r := range b.n {
		n := int32(0)
		for tr.Feature[n] >= 0 {
			f := int(tr.Feature[n])
			if b.goesLeft(f, b.cols[f][r], t.binThr[n], tr.MissingLeft[n]) {
				n = tr.Left[n]
			} else {
				n = tr.Right[n]
			}
		}
		margin[r] += tr.Value[n]
	}
}

// The bounds of a Model that Validate accepts. They keep what a decoded
// model costs to pack, to predict with and to explain within a budget, so
// that a corrupted or hostile model is refused rather than exhausting
// memory, stack or time. Fit stays far within them with the default
// Config (31 leaves give at most 61 nodes and depth 30); a Config with
// many more leaves or rounds can exceed them, and its model is then
// refused with the bound it breaks.
const (
	// MaxFeatures bounds NumFeatures, the length of an input row.
	MaxFeatures = 1 << 20
	// MaxTrees bounds the number of trees.
	MaxTrees = 1 << 16
	// MaxTreeNodes bounds the nodes of one tree, and MaxNodes those of
	// all trees.
	MaxTreeNodes = 1 << 16
	MaxNodes     = 1 << 20
	// MaxTreeDepth bounds the edges from a root to its deepest leaf.
	MaxTreeDepth = 512
	// MaxSHAPTable bounds, in float64 values, the TreeSHAP tables the
	// packed model holds (64 MiB), and MaxSHAPScratch the scratch of one
	// SHAP call (2 MiB): their sizes grow with each tree's nodes times
	// half the most distinct features on one of its paths.
	MaxSHAPTable   = 1 << 23
	MaxSHAPScratch = 1 << 18
)

// Validate checks the structure of a decoded Model within the bounds
// above: consistent array lengths; every tree a tree, each node reached
// exactly once from the root (0) through children stored after their
// parent, within MaxTreeDepth; features in range; finite values whose
// sum cannot overflow the margin; covers that are not negative and that
// the children of a node share (up to rounding), as TreeSHAP reads them.
// It walks each tree without recursion and allocates in proportion to the
// nodes and the depth, never to what packing would build. Margin,
// MarginBatch and SHAP assume a valid model and may panic on an invalid
// one, or exhaust memory on a model whose trees share nodes, so call
// Validate on models read from untrusted storage.
func (g *Model) Validate() error {
	if g.Loss != "logloss" && g.Loss != "squared" {
		return fmt.Errorf("validate gbm: loss %q: %w", g.Loss, model.ErrInvalidInput)
	}
	if g.NumFeatures <= 0 || g.NumFeatures > MaxFeatures {
		return fmt.Errorf("validate gbm: %d features, want 1 to %d: %w", g.NumFeatures, MaxFeatures, model.ErrInvalidInput)
	}
	if math.IsNaN(g.Base) || math.IsInf(g.Base, 0) {
		return fmt.Errorf("validate gbm: base %v: %w", g.Base, model.ErrInvalidInput)
	}
	if len(g.Trees) > MaxTrees {
		return fmt.Errorf("validate gbm: %d trees, more than %d: %w", len(g.Trees), MaxTrees, model.ErrInvalidInput)
	}
	nodes := 0
	for ti := range g.Trees {
		nodes += len(g.Trees[ti].Feature)
		if nodes > MaxNodes {
			return fmt.Errorf("validate gbm: more than %d nodes in all: %w", MaxNodes, model.ErrInvalidInput)
		}
	}
	w := treeWalker{count: make(map[int32]int32)}
	// bound is the largest margin the trees can add up to.
	bound := math.Abs(g.Base)
	var table, scratch int
	for ti := range g.Trees {
		t := &g.Trees[ti]
		sh, err := w.check(t, g.NumFeatures)
		if err != nil {
			return fmt.Errorf("validate gbm: tree %d: %w", ti, err)
		}
		bound += sh.maxAbs
		// prepareSHAP stores at most 6 m values per node (2 m for the
		// edge into it, 4 m more when its feature repeats on the path);
		// a SHAP call needs 2 m per node of the largest tree.
		m := shapPoints(sh.distinct)
		table += 6 * m * sh.nodes
		scratch = max(scratch, 2*m*sh.nodes)
	}
	switch {
	case math.IsInf(bound, 0) || bound > math.MaxFloat64/4:
		return fmt.Errorf("validate gbm: base and leaf values can add up to %g: %w", bound, model.ErrInvalidInput)
	case table > MaxSHAPTable:
		return fmt.Errorf("validate gbm: the TreeSHAP tables would hold %d values, more than %d: %w", table, MaxSHAPTable, model.ErrInvalidInput)
	case scratch > MaxSHAPScratch:
		return fmt.Errorf("validate gbm: one TreeSHAP call would need %d scratch values, more than %d: %w", scratch, MaxSHAPScratch, model.ErrInvalidInput)
	}
	return nil
}

// treeShape is what Validate learns of a tree: its nodes, the most
// distinct features on one root-to-leaf path and the largest absolute
// leaf value.
type treeShape struct {
	nodes, distinct int
	maxAbs          float64
}

// treeWalker walks trees depth first with an explicit stack. count holds
// the splits on each feature on the current path (a map: the path is
// short, the features may be many).
type treeWalker struct {
	stack []walkStep
	seen  []bool
	count map[int32]int32
}

// walkStep is a node to enter, or (exit set) one to leave.
type walkStep struct {
	node  int32
	depth int32
	exit  bool
}

// coverTolerance is the relative difference allowed between a node's
// cover and the sum of its children's: they are sums of the same weights
// in another order.
const coverTolerance = 1e-6

// check validates the tree t for rows of nf features (see Validate).
func (w *treeWalker) check(t *Tree, nf int) (treeShape, error) {
	n := len(t.Feature)
	if n == 0 {
		return treeShape{}, fmt.Errorf("no nodes: %w", model.ErrInvalidInput)
	}
	if n > MaxTreeNodes {
		return treeShape{}, fmt.Errorf("%d nodes, more than %d: %w", n, MaxTreeNodes, model.ErrInvalidInput)
	}
	if len(t.Threshold) != n || len(t.Left) != n || len(t.Right) != n ||
		len(t.MissingLeft) != n || len(t.Value) != n || len(t.Cover) != n {
		return treeShape{}, fmt.Errorf("node arrays of different lengths: %w", model.ErrInvalidInput)
	}
	for i := range n {
		if !(t.Cover[i] >= 0) || math.IsInf(t.Cover[i], 0) || math.IsNaN(t.Value[i]) || math.IsInf(t.Value[i], 0) {
			return treeShape{}, fmt.Errorf("node %d: bad cover or value: %w", i, model.ErrInvalidInput)
		}
	}
	sh := treeShape{nodes: n}
	w.seen = slices.Grow(w.seen[:0], n)[:n]
	clear(w.seen)
	clear(w.count)
	w.seen[0] = true
	reached, distinct := 1, 0
	w.stack = append(w.stack[:0], walkStep{node: 0})
	for len(w.stack) > 0 {
		st := w.stack[len(w.stack)-1]
		w.stack = w.stack[:len(w.stack)-1]
		i := int(st.node)
		f := t.Feature[i]
		if st.exit {
			if w.count[f]--; w.count[f] == 0 {
				distinct--
			}
			continue
		}
		if f < 0 {
			sh.distinct = max(sh.distinct, distinct)
			sh.maxAbs = max(sh.maxAbs, math.Abs(t.Value[i]))
			continue
		}
		if int(f) >= nf {
			return treeShape{}, fmt.Errorf("node %d: feature %d out of range: %w", i, f, model.ErrInvalidInput)
		}
		if math.IsNaN(t.Threshold[i]) {
			return treeShape{}, fmt.Errorf("node %d: threshold is NaN: %w", i, model.ErrInvalidInput)
		}
		l, r := int(t.Left[i]), int(t.Right[i])
		if l <= i || r <= i || l >= n || r >= n || l == r {
			return treeShape{}, fmt.Errorf("node %d: children %d, %d: %w", i, l, r, model.ErrInvalidInput)
		}
		if w.seen[l] || w.seen[r] {
			c := l
			if !w.seen[l] {
				c = r
			}
			return treeShape{}, fmt.Errorf("node %d: child %d is reached twice: not a tree: %w", i, c, model.ErrInvalidInput)
		}
		if c, sum := t.Cover[i], t.Cover[l]+t.Cover[r]; math.Abs(sum-c) > coverTolerance*max(c, sum) {
			return treeShape{}, fmt.Errorf("node %d: cover %g, its children's %g: %w", i, c, sum, model.ErrInvalidInput)
		}
		if st.depth >= MaxTreeDepth {
			return treeShape{}, fmt.Errorf("node %d: deeper than %d: %w", i, MaxTreeDepth, model.ErrInvalidInput)
		}
		w.seen[l], w.seen[r] = true, true
		reached += 2
		if w.count[f] == 0 {
			distinct++
		}
		w.count[f]++
		w.stack = append(w.stack,
			walkStep{node: int32(i), exit: true},
			walkStep{node: int32(r), depth: st.depth + 1},
			walkStep{node: int32(l), depth: st.depth + 1})
	}
	if reached != n {
		for i, ok := range w.seen {
			if !ok {
				return treeShape{}, fmt.Errorf("node %d is not reached from the root: %w", i, model.ErrInvalidInput)
			}
		}
	}
	return sh, nil
}

// prepared returns the packed form, built once.
func (g *Model) prepared() *packedTrees {
	g.prepOnce.Do(func() {
		p := &packedTrees{}
		for ti := range g.Trees {
			t := &g.Trees[ti]
			p.roots = append(p.roots, int32(len(p.nodes)))
			d := shapPack(p, len(t.Feature), func(i int) shapSrcNode {
				return shapSrcNode{
					feat: t.Feature[i], thr: t.Threshold[i], left: t.Left[i], right: t.Right[i],
					missLeft: t.MissingLeft[i], value: t.Value[i], cover: t.Cover[i],
				}
			})
			p.maxDepth = max(p.maxDepth, d)
		}
		p.prepareSHAP(g.NumFeatures)
		p.expected = make([]float64, len(p.roots))
		for i, r := range p.roots {
			p.expected[i] = p.expectation(r)
		}
		g.packed = p
	})
	return g.packed
}

// leaf returns the packed leaf reached by x from node n.
func (p *packedTrees) leaf(n int32, x []float64) int32 {
	nodes := p.nodes
	for {
		nd := &nodes[n]
		if nd.feat < 0 {
			return n
		}
		v := x[nd.feat]
		n = nd.left
		// x <= thr goes left and x > thr right; NaN compares false both
		// ways and follows the learned default direction.
		if v > nd.thr || (v != v && !nd.missLeft) {
			n++
		}
	}
}

// Margin returns the raw score of one row (log-odds for the logloss loss).
// It does not allocate once the model is prepared.
func (g *Model) Margin(x []float64) float64 {
	if len(x) != g.NumFeatures {
		panic("gbm: Model.Margin: row length differs from NumFeatures")
	}
	p := g.prepared()
	s := g.Base
	for _, r := range p.roots {
		s += p.nodes[p.leaf(r, x)].thr
	}
	return s
}

// Prob returns model.Sigmoid(Margin(x)) for the logloss loss and
// Margin(x) for the squared loss.
func (g *Model) Prob(x []float64) float64 {
	m := g.Margin(x)
	if g.Loss == "squared" {
		return m
	}
	return model.Sigmoid(m)
}

// predictBlock is the number of rows scored together, tree by tree.
const predictBlock = 128

// MarginBatch writes the margin of every row of x into dst (nil allocates)
// and returns it. Rows are scored in parallel blocks on
// runtime.GOMAXPROCS(0) goroutines; each result equals Margin of the row
// exactly.
func (g *Model) MarginBatch(x mat.Matrix, dst []float64) []float64 {
	n, nf := x.Dims()
	if nf != g.NumFeatures {
		panic("gbm: Model.MarginBatch: columns differ from NumFeatures")
	}
	if dst == nil {
		dst = make([]float64, n)
	}
	if len(dst) != n {
		panic("gbm: Model.MarginBatch: len(dst) != rows of x")
	}
	p := g.prepared()
	var raw blas64.General
	rm, dense := x.(mat.RawMatrixer)
	if dense {
		raw = rm.RawMatrix()
	}
	nblocks := (n + predictBlock - 1) / predictBlock
	threads := min(runtime.GOMAXPROCS(0), nblocks)
	var wg sync.WaitGroup
	for j := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var rows [predictBlock][]float64
			var buf []float64
			if !dense {
				buf = make([]float64, predictBlock*nf)
			}
			for k := j; k < nblocks; k += threads {
				lo, hi := k*predictBlock, min((k+1)*predictBlock, n)
				for i := lo; i < hi; i++ {
					if dense {
						rows[i-lo] = raw.Data[i*raw.Stride : i*raw.Stride+nf]
					} else {
						r := buf[(i-lo)*nf : (i-lo+1)*nf]
						for c := range r {
							r[c] = x.At(i, c)
						}
						rows[i-lo] = r
					}
					dst[i] = g.Base
				}
				out := dst[lo:hi]
				for _, root := range p.roots {
					for i := range out {
						out[i] += p.nodes[p.leaf(root, rows[i])].thr
					}
				}
			}
		}()
	}
	wg.Wait()
	return dst
}

// SHAP writes the exact path-dependent Shapley values (TreeSHAP, margin
// scale) of each input feature for row x into dst (nil allocates) and
// returns the expected margin base and dst; base + sum(phi) equals Margin(x)
// up to rounding. Expectations weight the children of a split by their
// cover, the training sample weight (row count without weights) that
// reached them. It does not allocate once warm when dst is given.
func (g *Model) SHAP(x []float64, dst []float64) (base float64, phi []float64) {
	if len(x) != g.NumFeatures {
		panic("gbm: Model.SHAP: row length differs from NumFeatures")
	}
	if dst == nil {
		dst = make([]float64, g.NumFeatures)
	}
	if len(dst) != g.NumFeatures {
		panic("gbm: Model.SHAP: len(dst) != NumFeatures")
	}
	clear(dst)
	p := g.prepared()
	sc, _ := g.scratch.Get().(*shapScratch)
	if sc == nil {
		sc = newShapScratch(p)
	}
	base = g.Base
	for i := range p.roots {
		base += p.expected[i]
		p.shapTree(i, x, dst, sc)
	}
	g.scratch.Put(sc)
	return base, dst
}
