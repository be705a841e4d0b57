package gbm

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/icpengine/icp/model"
)

// treeBuilder appends nodes to a Tree.
type treeBuilder struct{ t Tree }

func (b *treeBuilder) split(f int32, l, r int32, cover float64) {
	b.add(f, 0.5, l, r, 0, cover)
}

func (b *treeBuilder) leaf(v, cover float64) { b.add(-1, 0, -1, -1, v, cover) }

func (b *treeBuilder) add(f int32, thr float64, l, r int32, v, cover float64) {
	t := &b.t
	t.Feature = append(t.Feature, f)
	t.Threshold = append(t.Threshold, thr)
	t.Left = append(t.Left, l)
	t.Right = append(t.Right, r)
	t.MissingLeft = append(t.MissingLeft, true)
	t.Value = append(t.Value, v)
	t.Cover = append(t.Cover, cover)
}

// dagTree is the forged tree of an outside attack: node i points to i+1
// and i+2, so the nodes are shared and the paths from the root number
// Fibonacci(n). Its ranges, child order and covers (each the sum of its
// children's) pass a check node by node.
func dagTree(n int) Tree {
	var b treeBuilder
	for i := range n {
		if i >= n-2 {
			b.leaf(0.01, 1)
			continue
		}
		b.split(int32(i%4), int32(i+1), int32(i+2), 0)
	}
	for i := n - 3; i >= 0; i-- {
		b.t.Cover[i] = b.t.Cover[i+1] + b.t.Cover[i+2]
	}
	return b.t
}

// chainTree is a tree depth levels deep: at each level a leaf on the left
// and the next split on the right.
func chainTree(depth, nf int) Tree {
	var b treeBuilder
	for k := range depth {
		rest := float64(depth - k)
		b.split(int32(k%nf), int32(2*k+1), int32(2*k+2), rest+1)
		b.leaf(0.01, 1)
	}
	b.leaf(0.02, 1)
	return b.t
}

// stump is a sound tree: one split, two leaves.
func stump() Tree {
	var b treeBuilder
	b.split(0, 1, 2, 10)
	b.leaf(-0.5, 4)
	b.leaf(0.5, 6)
	return b.t
}

func TestValidateRefusesForgedTrees(t *testing.T) {
	tests := []struct {
		name string
		base float64
		give []Tree
		want string
	}{
		{"shared children (DAG)", 0, []Tree{dagTree(80)}, "reached twice"},
		{"too deep", 0, []Tree{chainTree(MaxTreeDepth+1, 1000)}, "deeper than"},
		{"500,000 levels", 0, []Tree{chainTree(500_000, 4)}, "more than 65536"},
		{"unreached node", 0, []Tree{func() Tree {
			tr := stump()
			b := treeBuilder{tr}
			b.leaf(1, 1)
			return b.t
		}()}, "not reached from the root"},
		{"child before parent", 0, []Tree{func() Tree {
			var b treeBuilder
			b.split(0, 2, 1, 2)
			b.split(0, 0, 2, 1)
			b.leaf(1, 1)
			return b.t
		}()}, "children"},
		{"covers that do not add up", 0, []Tree{func() Tree {
			tr := stump()
			tr.Cover[2] = 1e300
			return tr
		}()}, "cover"},
		{"feature out of range", 0, []Tree{func() Tree {
			tr := stump()
			tr.Feature[0] = 1000
			return tr
		}()}, "out of range"},
		{"leaf values that overflow the margin", 0, []Tree{func() Tree {
			tr := stump()
			tr.Value[1] = math.MaxFloat64
			return tr
		}(), stump()}, "add up to"},
		{"base that overflows with the leaves", math.MaxFloat64 / 3, []Tree{func() Tree {
			tr := stump()
			tr.Value[1] = math.MaxFloat64 / 3
			return tr
		}()}, "add up to"},
		{"too many trees", 0, make([]Tree, MaxTrees+1), "trees, more than"},
		{"SHAP tables over budget", 0, func() []Tree {
			// 300 chains of 300 levels on distinct features: each needs
			// 6 * 150 * 601 table values.
			out := make([]Tree, 300)
			for i := range out {
				out[i] = chainTree(300, 1000)
			}
			return out
		}(), "TreeSHAP tables"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &Model{Base: tt.base, Trees: tt.give, Loss: "logloss", NumFeatures: 1000}
			err := g.Validate()
			if !errors.Is(err, model.ErrInvalidInput) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want ErrInvalidInput containing %q", err, tt.want)
			}
		})
	}
	g := Model{Loss: "logloss", NumFeatures: MaxFeatures + 1, Trees: []Tree{stump()}}
	if err := g.Validate(); !errors.Is(err, model.ErrInvalidInput) {
		t.Errorf("Validate(%d features) = %v, want ErrInvalidInput", g.NumFeatures, err)
	}
}

func TestValidateAcceptsDeepSoundTree(t *testing.T) {
	g := Model{Loss: "logloss", NumFeatures: 64, Trees: []Tree{chainTree(MaxTreeDepth, 64), stump()}}
	if err := g.Validate(); err != nil {
		t.Fatalf("Validate(chain of %d levels) = %v, want nil", MaxTreeDepth, err)
	}
	x := make([]float64, 64)
	base, phi := g.SHAP(x, nil)
	sum := base
	for _, v := range phi {
		sum += v
	}
	if m := g.Margin(x); math.Abs(sum-m) > 1e-9 {
		t.Fatalf("base + SHAP = %v, Margin = %v", sum, m)
	}
}

// fuzzModel builds a model of up to 4 trees from b: each node takes 6
// bytes (feature, left and right offsets, a leaf flag, a value and a
// missing direction), so the fuzzer mutates the shape of the trees and
// not only their numbers. Covers are made consistent or not by the last
// byte. It always returns a model; Validate decides whether it is sound.
func fuzzModel(b []byte) *Model {
	const nf = 5
	g := &Model{Loss: "logloss", NumFeatures: nf}
	if len(b) > 0 {
		g.Base = float64(int8(b[0])) / 16
		b = b[1:]
	}
	for len(b) >= 6 && len(g.Trees) < 4 {
		n := 1 + int(b[0])%48
		b = b[1:]
		var tb treeBuilder
		for i := 0; i < n && len(b) >= 6; i++ {
			f, l, r, leaf, v, m := b[0], b[1], b[2], b[3], b[4], b[5]
			b = b[6:]
			if leaf%3 == 0 || i == n-1 {
				tb.leaf(float64(int8(v))/32, 1)
				continue
			}
			// Offsets usually point forward and in range, so the walk
			// gets past the range checks to the shape checks.
			// Feature nf is out of range.
			tb.add(int32(f%(nf+1)), float64(int8(v))/8,
				int32(i+1+int(l)%8), int32(i+1+int(r)%8), 0, 1)
			tb.t.MissingLeft[len(tb.t.MissingLeft)-1] = m&1 == 1
		}
		if len(tb.t.Feature) == 0 {
			continue
		}
		if len(b) == 0 || b[0]&1 == 0 {
			fixCovers(&tb.t)
		}
		g.Trees = append(g.Trees, tb.t)
	}
	return g
}

// fixCovers sets each internal node's cover to its children's sum where
// the structure allows it (children after parents, in range).
func fixCovers(t *Tree) {
	n := len(t.Feature)
	for i := n - 1; i >= 0; i-- {
		if t.Feature[i] < 0 {
			t.Cover[i] = 1
			continue
		}
		l, r := int(t.Left[i]), int(t.Right[i])
		if l > i && r > i && l < n && r < n {
			t.Cover[i] = t.Cover[l] + t.Cover[r]
		}
	}
}

// FuzzValidatedModel builds models from trees whose shape the fuzzer
// mutates (see fuzzModel) and checks that whatever Validate accepts can
// be scored and explained without a panic, within the budget, with
// attributions that add up to the margin.
func FuzzValidatedModel(f *testing.F) {
	seed := func(nodes ...[6]byte) []byte {
		b := []byte{16, byte(len(nodes))}
		for _, n := range nodes {
			b = append(b, n[:]...)
		}
		return append(b, 0)
	}
	f.Add(seed([6]byte{1, 0, 1, 1, 0, 0}, [6]byte{0, 0, 0, 0, 20, 0}, [6]byte{0, 0, 0, 0, 236, 1}))
	// A DAG: node i points to i+1 and i+2.
	dag := []byte{0, 12}
	for range 12 {
		dag = append(dag, 2, 0, 1, 1, 8, 0)
	}
	f.Add(dag)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		g := fuzzModel(b)
		if err := g.Validate(); err != nil {
			if !errors.Is(err, model.ErrInvalidInput) {
				t.Fatalf("Validate() = %v, want ErrInvalidInput", err)
			}
			return
		}
		p := g.prepared()
		if len(p.shapTab) > MaxSHAPTable || len(p.nodes) > MaxNodes {
			t.Fatalf("packed %d table values and %d nodes, over the budget", len(p.shapTab), len(p.nodes))
		}
		x := make([]float64, g.NumFeatures)
		for i := range x {
			if i < len(b) {
				x[i] = float64(int8(b[i])) / 8
			}
			if i == 2 {
				x[i] = math.NaN()
			}
		}
		base, phi := g.SHAP(x, nil)
		sum := base
		for _, v := range phi {
			sum += v
		}
		if m := g.Margin(x); math.IsNaN(m) || math.Abs(sum-m) > 1e-9*max(1, math.Abs(m)) {
			t.Fatalf("base + SHAP = %v, Margin = %v", sum, m)
		}
	})
}
