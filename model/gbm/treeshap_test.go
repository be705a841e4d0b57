package gbm

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/icpengine/icp/model"
)

// shapTestRandomTree builds a random Tree over nf features with depth at
// most maxDepth; features repeat along paths and some values are NaN-routed
// left.
func shapTestRandomTree(rng *rand.Rand, nf, maxDepth int) Tree {
	var t Tree
	add := func() int32 {
		t.Feature = append(t.Feature, -1)
		t.Threshold = append(t.Threshold, 0)
		t.Left = append(t.Left, -1)
		t.Right = append(t.Right, -1)
		t.MissingLeft = append(t.MissingLeft, false)
		t.Value = append(t.Value, 0)
		t.Cover = append(t.Cover, 0)
		return int32(len(t.Feature) - 1)
	}
	var grow func(n int32, depth int, cover float64)
	grow = func(n int32, depth int, cover float64) {
		t.Cover[n] = cover
		if depth == maxDepth || (depth > 0 && rng.Float64() < 0.25) {
			t.Value[n] = rng.NormFloat64()
			return
		}
		t.Feature[n] = int32(rng.IntN(nf))
		t.Threshold[n] = rng.NormFloat64() * 0.5
		t.MissingLeft[n] = rng.IntN(2) == 0
		l := add()
		r := add()
		t.Left[n], t.Right[n] = l, r
		share := 0.1 + 0.8*rng.Float64()
		grow(l, depth+1, cover*share)
		grow(r, depth+1, cover*(1-share))
	}
	grow(add(), 0, 100+rng.Float64()*1000)
	return t
}

// shapTestCondExp is E[f(x) | x_S] for one tree: a split on a feature in S
// follows x, any other split averages its children by cover.
func shapTestCondExp(t *Tree, n int32, x []float64, inS []bool) float64 {
	f := t.Feature[n]
	if f < 0 {
		return t.Value[n]
	}
	l, r := t.Left[n], t.Right[n]
	if inS[f] {
		v := x[f]
		left := v <= t.Threshold[n] || (math.IsNaN(v) && t.MissingLeft[n])
		if left {
			return shapTestCondExp(t, l, x, inS)
		}
		return shapTestCondExp(t, r, x, inS)
	}
	c := t.Cover[n]
	return t.Cover[l]/c*shapTestCondExp(t, l, x, inS) + t.Cover[r]/c*shapTestCondExp(t, r, x, inS)
}

// shapTestBrute computes exact Shapley values by enumerating subsets.
func shapTestBrute(g *Model, x []float64) (float64, []float64) {
	m := g.NumFeatures
	v := func(mask int) float64 {
		inS := make([]bool, m)
		for j := range m {
			inS[j] = mask&(1<<j) != 0
		}
		s := g.Base
		for ti := range g.Trees {
			s += shapTestCondExp(&g.Trees[ti], 0, x, inS)
		}
		return s
	}
	fact := make([]float64, m+1)
	fact[0] = 1
	for i := 1; i <= m; i++ {
		fact[i] = fact[i-1] * float64(i)
	}
	vals := make([]float64, 1<<m)
	for mask := range vals {
		vals[mask] = v(mask)
	}
	phi := make([]float64, m)
	for i := range m {
		for mask := range vals {
			if mask&(1<<i) != 0 {
				continue
			}
			k := 0
			for j := range m {
				if mask&(1<<j) != 0 {
					k++
				}
			}
			w := fact[k] * fact[m-k-1] / fact[m]
			phi[i] += w * (vals[mask|1<<i] - vals[mask])
		}
	}
	return vals[0], phi
}

func TestSHAPMatchesBruteForce(t *testing.T) {
	tests := []struct {
		name          string
		nf, depth, nt int
		seed          uint64
	}{
		{"stump", 3, 1, 1, 1},
		{"depth3", 4, 3, 2, 2},
		{"depth4-repeats", 3, 4, 3, 3},
		{"depth5-8features", 8, 5, 3, 4},
		{"depth5-2features", 2, 5, 2, 5},
		{"depth6-6features", 6, 6, 2, 6},
		// Deep trees over few features: fewer quadrature points than
		// the depth asks for, and many repeats along the paths.
		{"depth9-5features", 5, 9, 3, 7},
		{"depth12-4features", 4, 12, 2, 8},
		{"depth8-10features", 10, 8, 2, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(tt.seed, 7))
			g := &Model{Base: 0.3, Loss: "logloss", NumFeatures: tt.nf}
			for range tt.nt {
				g.Trees = append(g.Trees, shapTestRandomTree(rng, tt.nf, tt.depth))
			}
			if err := g.Validate(); err != nil {
				t.Fatalf("Validate() = %v", err)
			}
			for row := range 20 {
				x := make([]float64, tt.nf)
				for j := range x {
					x[j] = rng.NormFloat64() * 0.6
					if rng.Float64() < 0.15 {
						x[j] = math.NaN()
					}
				}
				base, phi := g.SHAP(x, nil)
				wantBase, wantPhi := shapTestBrute(g, x)
				if math.Abs(base-wantBase) > 1e-9 {
					t.Errorf("row %d: SHAP base = %v, want %v", row, base, wantBase)
				}
				for j := range phi {
					if math.Abs(phi[j]-wantPhi[j]) > 1e-9 {
						t.Errorf("row %d: SHAP phi[%d] = %v, want %v", row, j, phi[j], wantPhi[j])
					}
				}
				sum := base
				for _, p := range phi {
					sum += p
				}
				if m := g.Margin(x); math.Abs(sum-m) > 1e-9 {
					t.Errorf("row %d: base+sum(phi) = %v, Margin = %v", row, sum, m)
				}
			}
		})
	}
}

func TestSHAPAdditivity(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 2000
	}
	x, y := testData(n, 12, 3)
	g, _, err := Fit(x, y, nil, nil, &Config{Rounds: 15, Seed: 1})
	if err != nil {
		t.Fatalf("Fit() error = %v", err)
	}
	phi := make([]float64, g.NumFeatures)
	for i := range n {
		row := x.RawRowView(i)
		base, _ := g.SHAP(row, phi)
		sum := base
		for _, p := range phi {
			sum += p
		}
		if m := g.Margin(row); math.Abs(sum-m) > 1e-9 {
			t.Fatalf("row %d: base+sum(phi) = %v, Margin = %v", i, sum, m)
		}
	}
}

func TestSHAPNoAllocs(t *testing.T) {
	x, y := testData(2000, 8, 4)
	g, _, err := Fit(x, y, nil, nil, &Config{Rounds: 20, Threads: 1})
	if err != nil {
		t.Fatalf("Fit() error = %v", err)
	}
	if treeRaceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	row := x.RawRowView(0)
	phi := make([]float64, 8)
	g.SHAP(row, phi)
	if a := testing.AllocsPerRun(50, func() { g.SHAP(row, phi) }); a > 0 {
		t.Errorf("SHAP allocs = %v, want 0", a)
	}
	if a := testing.AllocsPerRun(50, func() { g.Margin(row) }); a > 0 {
		t.Errorf("Margin allocs = %v, want 0", a)
	}
}

// testRandomTree fits a decision tree of the given depth on seeded data
// over nf features in steps of 0.25, about a tenth of them missing.
func testRandomTree(t *testing.T, seed uint64, nf, depth int) (*model.Tree, *mat.Dense) {
	t.Helper()
	const n = 400
	rng := rand.New(rand.NewPCG(seed, 7))
	data := make([]float64, n*nf)
	for k := range data {
		data[k] = math.Round(4*rng.NormFloat64()) / 4
		if rng.Float64() < 0.1 {
			data[k] = math.NaN()
		}
	}
	x := mat.NewDense(n, nf, data)
	y := make([]float64, n)
	for i := range y {
		first, last := x.At(i, 0), x.At(i, nf-1)
		if math.IsNaN(last) || first > 0 && rng.Float64() < 0.8 || rng.Float64() < 0.2 {
			y[i] = 1
		}
	}
	tree, err := model.FitTree(x, y, nil, &model.TreeConfig{MaxDepth: depth, MinLeaf: 3})
	if err != nil {
		t.Fatal(err)
	}
	return tree, x
}

// TestTreeSHAPMatchesBruteForce checks TreeSHAP of decision trees, fitted
// on data with missing values, against the brute-force Shapley values of
// the same tree as a one-tree ensemble.
func TestTreeSHAPMatchesBruteForce(t *testing.T) {
	tests := []struct {
		name      string
		nf, depth int
		seed      uint64
	}{
		{"2features-depth5", 2, 5, 1},
		{"4features-depth4", 4, 4, 2},
		{"6features-depth5", 6, 5, 3},
		{"8features-depth4", 8, 4, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, x := testRandomTree(t, tt.seed, tt.nf, tt.depth)
			// The same tree as a one-tree GBM for the brute force.
			g := &Model{Loss: "squared", NumFeatures: tt.nf}
			var gt Tree
			for _, nd := range tree.Nodes {
				f := int32(nd.Feature)
				v := 0.0
				if nd.Leaf {
					f, v = -1, nd.Value
				}
				gt.Feature = append(gt.Feature, f)
				gt.Threshold = append(gt.Threshold, nd.Threshold)
				gt.Left = append(gt.Left, nd.Left)
				gt.Right = append(gt.Right, nd.Right)
				gt.MissingLeft = append(gt.MissingLeft, nd.MissingLeft)
				gt.Value = append(gt.Value, v)
				gt.Cover = append(gt.Cover, nd.Weight)
			}
			g.Trees = []Tree{gt}
			for i := range 30 {
				row := x.RawRowView(i)
				base, phi := TreeSHAP(tree, row, nil)
				wantBase, wantPhi := shapTestBrute(g, row)
				if math.Abs(base-wantBase) > 1e-9 {
					t.Errorf("row %d: SHAP base = %v, want %v", i, base, wantBase)
				}
				sum := base
				for j := range phi {
					sum += phi[j]
					if math.Abs(phi[j]-wantPhi[j]) > 1e-9 {
						t.Errorf("row %d: SHAP phi[%d] = %v, want %v", i, j, phi[j], wantPhi[j])
					}
				}
				if p := tree.Predict(row); math.Abs(sum-p) > 1e-9 {
					t.Errorf("row %d: base+sum(phi) = %v, Predict = %v", i, sum, p)
				}
			}
		})
	}
}
