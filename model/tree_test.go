package model

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/mat"
)

var treeUpdate = flag.Bool("update", false, "rewrite golden files under testdata")

// treeTestGoldenData is the fixed data set of the golden test: 120 rows,
// three features (one with missing values), a step in feature 0 and an
// interaction with feature 2.
func treeTestGoldenData() (*mat.Dense, []float64) {
	n := 120
	x := mat.NewDense(n, 3, nil)
	y := make([]float64, n)
	for i := range n {
		a := float64(i%12) + 0.5
		b := float64((i*7)%10) / 2
		c := float64((i * 5) % 9)
		if i%10 == 3 {
			b = math.NaN()
		}
		x.SetRow(i, []float64{a, b, c})
		switch {
		case a > 6 && c >= 4:
			y[i] = 1
		case math.IsNaN(b) && i%3 != 0:
			y[i] = 1
		case a <= 2 && i%4 == 0:
			y[i] = 1
		}
	}
	return x, y
}

func TestFitTreeGolden(t *testing.T) {
	tests := []struct {
		name string
		give TreeConfig
	}{
		{"gini", TreeConfig{MaxDepth: 3, MinLeaf: 5}},
		{"logloss", TreeConfig{MaxDepth: 3, MinLeaf: 5, Criterion: "logloss"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, y := treeTestGoldenData()
			tree, err := FitTree(x, y, nil, &tt.give)
			if err != nil {
				t.Fatalf("FitTree() error = %v", err)
			}
			got, err := json.MarshalIndent(tree, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "tree_golden_"+tt.name+".json")
			if *treeUpdate {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create it): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("FitTree(%s) =\n%s\nwant\n%s", tt.name, got, want)
			}
		})
	}
}

func TestFitTreeThresholdMidpoint(t *testing.T) {
	tests := []struct {
		name    string
		give    []float64
		cut     float64
		wantThr float64
	}{
		{"integers", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 5, 5.5},
		{"uneven", []float64{0.1, 0.2, 0.4, 3, 3.5, 9}, 0.4, 1.7},
		{"negative", []float64{-5, -4, -1, 2, 2, 2}, -4, -2.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := mat.NewDense(len(tt.give), 1, tt.give)
			y := make([]float64, len(tt.give))
			for i, v := range tt.give {
				if v > tt.cut {
					y[i] = 1
				}
			}
			tree, err := FitTree(x, y, nil, &TreeConfig{MinLeaf: 1})
			if err != nil {
				t.Fatalf("FitTree() error = %v", err)
			}
			if got := tree.Nodes[0].Threshold; math.Abs(got-tt.wantThr) > 1e-12 {
				t.Errorf("FitTree(%v).Nodes[0].Threshold = %v, want %v", tt.give, got, tt.wantThr)
			}
			if got := len(tree.Nodes); got != 3 {
				t.Errorf("FitTree(%v) has %d nodes, want 3", tt.give, got)
			}
			for i, v := range tt.give {
				if got := tree.Predict([]float64{v}); got != y[i] {
					t.Errorf("Predict(%v) = %v, want %v", v, got, y[i])
				}
			}
		})
	}
}

func TestFitTreeMissingDirection(t *testing.T) {
	// Feature 0 is missing exactly for the positives.
	n := 200
	x := mat.NewDense(n, 2, nil)
	y := make([]float64, n)
	for i := range n {
		x.Set(i, 0, float64(i%17))
		x.Set(i, 1, float64(i%5))
		if i%4 == 0 {
			x.Set(i, 0, math.NaN())
			y[i] = 1
		}
	}
	tree, err := FitTree(x, y, nil, &TreeConfig{MaxDepth: 1, MinLeaf: 5})
	if err != nil {
		t.Fatalf("FitTree() error = %v", err)
	}
	if got := tree.Predict([]float64{math.NaN(), 1}); got != 1 {
		t.Errorf("Predict(NaN) = %v, want 1", got)
	}
	if got := tree.Predict([]float64{3, 1}); got != 0 {
		t.Errorf("Predict(3) = %v, want 0", got)
	}
}

func TestFitTreeWeightsAndErrors(t *testing.T) {
	x := mat.NewDense(4, 1, []float64{1, 2, 3, 4})
	tests := []struct {
		name    string
		y, w    []float64
		cfg     TreeConfig
		wantErr bool
	}{
		{"bad label", []float64{0, 1, 2, 0}, nil, TreeConfig{}, true},
		{"negative weight", []float64{0, 1, 1, 0}, []float64{1, -1, 1, 1}, TreeConfig{}, true},
		{"bad criterion", []float64{0, 1, 1, 0}, nil, TreeConfig{Criterion: "mse"}, true},
		{"ok weighted", []float64{0, 0, 1, 1}, []float64{1, 2, 3, 4}, TreeConfig{MinLeaf: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, err := FitTree(x, tt.y, tt.w, &tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("FitTree() error = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil {
				if got := tree.Nodes[0].Weight; got != 10 {
					t.Errorf("root Weight = %v, want 10", got)
				}
				if got := tree.Nodes[0].Value; math.Abs(got-0.7) > 1e-12 {
					t.Errorf("root Value = %v, want 0.7", got)
				}
			}
		})
	}
}

// treeTestRandom fits a tree on random data with missing values.
func treeTestRandom(seed uint64, nf, depth int) (*Tree, *mat.Dense) {
	rng := rand.New(rand.NewPCG(seed, 5))
	n := 400
	x := mat.NewDense(n, nf, nil)
	y := make([]float64, n)
	for i := range n {
		row := x.RawRowView(i)
		var z float64
		for j := range row {
			row[j] = math.Round(rng.NormFloat64()*4) / 4
			z += row[j] * float64(j%3-1)
			if rng.Float64() < 0.1 {
				row[j] = math.NaN()
				z += 0.5
			}
		}
		if rng.Float64() < Sigmoid(z) {
			y[i] = 1
		}
	}
	tree, err := FitTree(x, y, nil, &TreeConfig{MaxDepth: depth, MinLeaf: 3})
	if err != nil {
		panic(err)
	}
	return tree, x
}

func TestTreePaths(t *testing.T) {
	tree, x := treeTestRandom(9, 5, 4)
	paths := tree.Paths()
	leaves := 0
	for _, nd := range tree.Nodes {
		if nd.Leaf {
			leaves++
		}
	}
	if len(paths) != leaves {
		t.Fatalf("len(Paths()) = %d, want %d leaves", len(paths), leaves)
	}
	// Each row satisfies exactly the path of the leaf it reaches.
	leafIdx := map[int]int{}
	for n, nd := range tree.Nodes {
		if nd.Leaf {
			leafIdx[n] = len(leafIdx)
		}
	}
	holds := func(c Condition, row []float64) bool {
		v := row[c.Feature]
		if math.IsNaN(v) {
			return c.Missing
		}
		if c.Op == "<=" {
			return v <= c.Threshold
		}
		return v > c.Threshold
	}
	n, _ := x.Dims()
	for i := range n {
		row := x.RawRowView(i)
		want := leafIdx[tree.Leaf(row)]
		for k, p := range paths {
			all := true
			for _, c := range p {
				all = all && holds(c, row)
			}
			if all != (k == want) {
				t.Fatalf("row %d: path %d holds = %v, want %v", i, k, all, k == want)
			}
		}
	}
	if err := tree.Validate(5); err != nil {
		t.Errorf("Validate() = %v", err)
	}
}
