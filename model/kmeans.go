package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// KMeansConfig holds the settings of FitKMeans. Only K must be set.
type KMeansConfig struct {
	// K is the number of clusters, between 1 and the number of rows.
	K int

	// Seed seeds the random number generator of the k-means++
	// initialization. Equal seeds give identical results.
	Seed uint64

	// MaxIter is the maximum number of Lloyd iterations per run. Zero means
	// 300.
	MaxIter int

	// NInit is the number of runs from different k-means++ initializations;
	// the run with the lowest inertia wins. Zero means 4.
	NInit int

	// Tol stops a run when the sum over centroids of their squared
	// displacement in one iteration is at most Tol times the mean variance
	// of the features. Zero (or a negative value) means 1e-4.
	Tol float64
}

// KMeans is a fitted k-means clustering. It is serializable to JSON.
type KMeans struct {
	// Centroids holds one row per cluster.
	Centroids [][]float64 `json:"centroids"`

	// Inertia is the weighted sum of squared Euclidean distances from the
	// training rows to their nearest centroid.
	Inertia float64 `json:"inertia"`
}

const (
	kmeansDefaultMaxIter = 300
	kmeansDefaultNInit   = 4
	kmeansDefaultTol     = 1e-4
	// kmeansBlockRows is the number of rows per parallel block; see
	// logisticBlockRows for why it is a constant.
	kmeansBlockRows = 2048
)

// FitKMeans clusters the rows of x into cfg.K clusters by Lloyd's algorithm
// started from the greedy k-means++ initialization, and returns the best of
// cfg.NInit runs by inertia with the cluster label of every row.
//
// weights holds one non-negative weight per row (nil means 1 each): a row of
// weight w counts as w copies in the centroids, the inertia and the
// initialization. A cluster that becomes empty is moved to the positive
// weight row farthest from its centroid (ties to the lowest index), so the
// result is always K clusters and is fully determined by the data and
// cfg.Seed. The assignment step runs on parallel row blocks whose partial
// sums are combined in a fixed order, which keeps it deterministic.
//
// FitKMeans returns an error when K is not in [1, rows], when x holds NaN or
// ±Inf, when the length of weights differs from the number of rows, or when
// a weight is negative or not finite or all weights are zero.
func FitKMeans(x mat.Matrix, weights []float64, cfg KMeansConfig) (*KMeans, []int, error) {
	data, n, d, stride := linearRawMatrix(x)
	if n == 0 || d == 0 {
		return nil, nil, fmt.Errorf("fit k-means: empty matrix (%d rows, %d columns)", n, d)
	}
	if cfg.K < 1 || cfg.K > n {
		return nil, nil, fmt.Errorf("fit k-means: k = %d, want a value in [1, %d]", cfg.K, n)
	}
	if weights != nil && len(weights) != n {
		return nil, nil, fmt.Errorf("fit k-means: %d weights for %d rows", len(weights), n)
	}
	if cfg.MaxIter <= 0 {
		cfg.MaxIter = kmeansDefaultMaxIter
	}
	if cfg.NInit <= 0 {
		cfg.NInit = kmeansDefaultNInit
	}
	if !(cfg.Tol > 0) {
		cfg.Tol = kmeansDefaultTol
	}
	km := &kmeansData{data: data, n: n, d: d, stride: stride, w: weights}
	if err := km.validate(); err != nil {
		return nil, nil, fmt.Errorf("fit k-means: %w", err)
	}
	tol := cfg.Tol * km.meanVariance()

	var best *KMeans
	var bestLabels []int
	for run := 0; run < cfg.NInit; run++ {
		rng := rand.New(rand.NewPCG(cfg.Seed, uint64(run)))
		centers := km.plusPlus(cfg.K, rng)
		labels, inertia := km.lloyd(centers, cfg.MaxIter, tol)
		if best == nil || inertia < best.Inertia {
			best = &KMeans{Centroids: centers, Inertia: inertia}
			bestLabels = labels
		}
	}
	return best, bestLabels, nil
}

// Nearest returns the index of the centroid closest to x and the Euclidean
// distance to it. Ties go to the lowest index. It panics if len(x) differs
// from the dimension of the centroids.
func (k *KMeans) Nearest(x []float64) (cluster int, dist float64) {
	best := math.Inf(1)
	for c, ctr := range k.Centroids {
		if len(ctr) != len(x) {
			panic(fmt.Sprintf("model: KMeans.Nearest: %d features, centroids have %d", len(x), len(ctr)))
		}
		if d2 := kmeansDist2(x, ctr); d2 < best {
			best, cluster = d2, c
		}
	}
	return cluster, math.Sqrt(best)
}

// Silhouette returns the mean silhouette coefficient of the clustering of
// the rows of x given by labels, using Euclidean distances. For a row i with
// mean distance a to the other members of its cluster and smallest mean
// distance b to the members of another cluster, s(i) = (b-a)/max(a, b); a
// row alone in its cluster has s(i) = 0.
//
// When 0 < sample < rows, the coefficient is computed exactly on a subset of
// sample rows drawn without replacement by an RNG seeded with seed (as
// scikit-learn's silhouette_score with sample_size does); otherwise it uses
// all rows, at O(rows²) cost. It returns NaN when the rows used hold fewer
// than 2 clusters or as many clusters as rows. It panics if len(labels)
// differs from the number of rows of x.
func Silhouette(x mat.Matrix, labels []int, sample int, seed uint64) float64 {
	data, n, d, stride := linearRawMatrix(x)
	if len(labels) != n {
		panic(fmt.Sprintf("model: Silhouette: %d labels for %d rows", len(labels), n))
	}
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	if sample > 0 && sample < n {
		rng := rand.New(rand.NewPCG(seed, 0x5111))
		rows = rng.Perm(n)[:sample]
		slices.Sort(rows)
	}
	m := len(rows)
	// Map labels to 0..c-1 in increasing label order.
	distinct := make([]int, m)
	for a, i := range rows {
		distinct[a] = labels[i]
	}
	slices.Sort(distinct)
	distinct = slices.Compact(distinct)
	c := len(distinct)
	if c < 2 || c >= m {
		return math.NaN()
	}
	lab := make([]int, m)
	size := make([]float64, c)
	for a, i := range rows {
		lab[a], _ = slices.BinarySearch(distinct, labels[i])
		size[lab[a]]++
	}
	s := make([]float64, m)
	linearParallelBlocks(m, 256, func(_, lo, hi int) {
		sums := make([]float64, c)
		for a := lo; a < hi; a++ {
			for k := range sums {
				sums[k] = 0
			}
			ra := data[rows[a]*stride : rows[a]*stride+d]
			for b, j := range rows {
				if b != a {
					sums[lab[b]] += math.Sqrt(kmeansDist2(ra, data[j*stride:j*stride+d]))
				}
			}
			own := lab[a]
			if size[own] <= 1 {
				continue // s = 0 for a singleton
			}
			in := sums[own] / (size[own] - 1)
			out := math.Inf(1)
			for k, sk := range sums {
				if k != own {
					out = min(out, sk/size[k])
				}
			}
			if den := max(in, out); den > 0 {
				s[a] = (out - in) / den
			}
		}
	})
	var total float64
	for _, v := range s {
		total += v
	}
	return total / float64(m)
}

// KChoice is the silhouette score of one candidate number of clusters.
type KChoice struct {
	K          int     `json:"k"`
	Silhouette float64 `json:"silhouette"`
}

// ChooseK fits FitKMeans (with default settings and the given seed) for
// every k in [kMin, kMax] and returns the fit with the highest Silhouette
// (computed with sample and seed), its labels, and the score of every k in
// increasing order of k. Ties go to the smaller k.
//
// ChooseK returns an error when kMin < 2, kMax < kMin or kMax is not below
// the number of rows, and the errors of FitKMeans.
func ChooseK(x mat.Matrix, weights []float64, kMin, kMax int, seed uint64, sample int) (best *KMeans, labels []int, scores []KChoice, err error) {
	n, _ := x.Dims()
	if kMin < 2 || kMax < kMin || kMax >= n {
		return nil, nil, nil, fmt.Errorf("choose k: range [%d, %d], want 2 <= kMin <= kMax < %d rows", kMin, kMax, n)
	}
	if _, ok := x.(mat.RawMatrixer); !ok {
		x = mat.DenseCopyOf(x) // copy once, not once per k
	}
	bestScore := math.Inf(-1)
	for k := kMin; k <= kMax; k++ {
		km, lab, err := FitKMeans(x, weights, KMeansConfig{K: k, Seed: seed})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("choose k: %w", err)
		}
		s := Silhouette(x, lab, sample, seed)
		scores = append(scores, KChoice{K: k, Silhouette: s})
		if best == nil || s > bestScore {
			best, labels = km, lab
			if !math.IsNaN(s) {
				bestScore = s
			}
		}
	}
	return best, labels, scores, nil
}

// kmeansData is a row-major data set with optional row weights.
type kmeansData struct {
	data         []float64
	n, d, stride int
	w            []float64
}

func (km *kmeansData) row(i int) []float64 {
	return km.data[i*km.stride : i*km.stride+km.d]
}

func (km *kmeansData) weight(i int) float64 {
	if km.w == nil {
		return 1
	}
	return km.w[i]
}

func (km *kmeansData) validate() error {
	var total float64
	for i := 0; i < km.n; i++ {
		w := km.weight(i)
		if !(w >= 0) || math.IsInf(w, 1) {
			return fmt.Errorf("row %d: weight %v, want a finite non-negative value", i, w)
		}
		total += w
		for j, v := range km.row(i) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("row %d, column %d: value %v, want a finite number", i, j, v)
			}
		}
	}
	if total == 0 {
		return fmt.Errorf("all %d weights are zero", km.n)
	}
	return nil
}

// meanVariance returns the mean over features of the weighted variance.
func (km *kmeansData) meanVariance() float64 {
	mu := make([]float64, km.d)
	var ws float64
	for i := 0; i < km.n; i++ {
		w := km.weight(i)
		ws += w
		for j, v := range km.row(i) {
			mu[j] += w * v
		}
	}
	for j := range mu {
		mu[j] /= ws
	}
	var v float64
	for i := 0; i < km.n; i++ {
		v += km.weight(i) * kmeansDist2(km.row(i), mu)
	}
	return v / ws / float64(km.d)
}

// plusPlus returns k initial centroids chosen by greedy k-means++: each new
// centroid is the best, by resulting potential, of 2+ln(k) candidates drawn
// with probability proportional to weight times squared distance to the
// nearest chosen centroid.
func (km *kmeansData) plusPlus(k int, rng *rand.Rand) [][]float64 {
	centers := make([][]float64, 0, k)
	closest := make([]float64, km.n)
	trials := 2 + int(math.Log(float64(k)))

	first := km.sample(rng, nil)
	centers = append(centers, slices.Clone(km.row(first)))
	c0 := centers[0]
	linearParallelBlocks(km.n, kmeansBlockRows, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			closest[i] = kmeansDist2(km.row(i), c0)
		}
	})
	nb := (km.n + kmeansBlockRows - 1) / kmeansBlockRows
	blockPot := make([]float64, nb)
	for len(centers) < k {
		bestCand, bestPot := -1, math.Inf(1)
		for t := 0; t < trials; t++ {
			cand := km.sample(rng, closest)
			cr := km.row(cand)
			linearParallelBlocks(km.n, kmeansBlockRows, func(b, lo, hi int) {
				var pot float64
				for i := lo; i < hi; i++ {
					pot += km.weight(i) * min(closest[i], kmeansDist2(km.row(i), cr))
				}
				blockPot[b] = pot
			})
			var pot float64
			for _, v := range blockPot {
				pot += v
			}
			if pot < bestPot {
				bestCand, bestPot = cand, pot
			}
		}
		cr := km.row(bestCand)
		centers = append(centers, slices.Clone(cr))
		linearParallelBlocks(km.n, kmeansBlockRows, func(_, lo, hi int) {
			for i := lo; i < hi; i++ {
				closest[i] = min(closest[i], kmeansDist2(km.row(i), cr))
			}
		})
	}
	return centers
}

// sample draws a row index with probability proportional to its weight
// times scale[i] (or to its weight alone when scale is nil or sums to
// zero).
func (km *kmeansData) sample(rng *rand.Rand, scale []float64) int {
	mass := func(i int) float64 {
		if scale == nil {
			return km.weight(i)
		}
		return km.weight(i) * scale[i]
	}
	var total float64
	for i := 0; i < km.n; i++ {
		total += mass(i)
	}
	if !(total > 0) {
		if scale != nil {
			return km.sample(rng, nil)
		}
		return 0
	}
	target := rng.Float64() * total
	last := 0
	var acc float64
	for i := 0; i < km.n; i++ {
		m := mass(i)
		if m <= 0 {
			continue
		}
		last = i
		acc += m
		if acc > target {
			return i
		}
	}
	return last // rounding left target just above the running sum
}

// kmeansBlock holds the partial results of the assignment step on one block
// of rows.
type kmeansBlock struct {
	sums    []float64 // k*d weighted coordinate sums
	wsum    []float64 // k weights
	inertia float64
}

// assign labels every row with its nearest centroid, writing the squared
// distance into dist2, and accumulates per-block partial sums.
func (km *kmeansData) assign(centers [][]float64, labels []int, dist2 []float64, blocks []kmeansBlock) {
	k, d := len(centers), km.d
	linearParallelBlocks(km.n, kmeansBlockRows, func(b, lo, hi int) {
		bl := &blocks[b]
		if bl.sums == nil {
			bl.sums = make([]float64, k*d)
			bl.wsum = make([]float64, k)
		}
		clear(bl.sums)
		clear(bl.wsum)
		bl.inertia = 0
		for i := lo; i < hi; i++ {
			r := km.row(i)
			best, bestD := 0, math.Inf(1)
			for c, ctr := range centers {
				if dd := kmeansDist2(r, ctr); dd < bestD {
					best, bestD = c, dd
				}
			}
			labels[i], dist2[i] = best, bestD
			w := km.weight(i)
			if w == 0 {
				continue
			}
			bl.inertia += w * bestD
			bl.wsum[best] += w
			s := bl.sums[best*d : best*d+d]
			for j, v := range r {
				s[j] += w * v
			}
		}
	})
}

// lloyd runs Lloyd iterations from centers (updated in place) and returns
// the final labels and inertia.
func (km *kmeansData) lloyd(centers [][]float64, maxIter int, tol float64) ([]int, float64) {
	k, d := len(centers), km.d
	labels := make([]int, km.n)
	dist2 := make([]float64, km.n)
	blocks := make([]kmeansBlock, (km.n+kmeansBlockRows-1)/kmeansBlockRows)
	sums := make([]float64, k*d)
	wsum := make([]float64, k)
	next := make([]float64, d)
	for iter := 0; iter < maxIter; iter++ {
		km.assign(centers, labels, dist2, blocks)
		clear(sums)
		clear(wsum)
		for _, bl := range blocks { // fixed order
			for j, v := range bl.sums {
				sums[j] += v
			}
			for c, v := range bl.wsum {
				wsum[c] += v
			}
		}
		var shift float64
		var empty []int
		for c := range centers {
			if wsum[c] == 0 {
				empty = append(empty, c)
				continue
			}
			for j := range next {
				next[j] = sums[c*d+j] / wsum[c]
			}
			shift += kmeansDist2(next, centers[c])
			copy(centers[c], next)
		}
		if len(empty) > 0 {
			shift += km.relocate(centers, empty, dist2)
		}
		if shift <= tol {
			break
		}
	}
	km.assign(centers, labels, dist2, blocks)
	var inertia float64
	for _, bl := range blocks {
		inertia += bl.inertia
	}
	return labels, inertia
}

// relocate moves each empty cluster to one of the positive-weight rows
// farthest from their assigned centroid (largest first, ties to the lowest
// index) and returns the squared displacement.
func (km *kmeansData) relocate(centers [][]float64, empty []int, dist2 []float64) float64 {
	cand := make([]int, 0, km.n)
	for i := 0; i < km.n; i++ {
		if km.weight(i) > 0 {
			cand = append(cand, i)
		}
	}
	slices.SortStableFunc(cand, func(a, b int) int { return metricsCompareDesc(dist2[a], dist2[b]) })
	var shift float64
	for e, c := range empty {
		if e >= len(cand) {
			break
		}
		r := km.row(cand[e])
		shift += kmeansDist2(r, centers[c])
		copy(centers[c], r)
	}
	return shift
}

// kmeansDist2 returns the squared Euclidean distance between a and b, which
// must have equal lengths.
func kmeansDist2(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1 float64
	i := 0
	for ; i+1 < len(a); i += 2 {
		d0 := a[i] - b[i]
		d1 := a[i+1] - b[i+1]
		s0 += d0 * d0
		s1 += d1 * d1
	}
	if i < len(a) {
		d0 := a[i] - b[i]
		s0 += d0 * d0
	}
	return s0 + s1
}
