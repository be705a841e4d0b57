package profile_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model"
	"github.com/icpengine/icp/model/gbm"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/train"
)

// withTrees returns the compact, checksummed artifact of p with its model
// replaced by boosted trees (no calibration).
func withTrees(t testing.TB, p *profile.Profile, base float64, trees ...gbm.Tree) []byte {
	t.Helper()
	q := *p
	q.Model = profile.NewGBMModel(&gbm.Model{Base: base, Trees: trees, Loss: "logloss", NumFeatures: p.Encoder.Width}, p.Encoder)
	q.Model.Calibration = profile.Calibration{Method: profile.CalibrationNone}
	body, err := json.Marshal(&q)
	if err != nil {
		t.Fatal(err)
	}
	art, err := profile.Seal(body)
	if err != nil {
		t.Fatal(err)
	}
	return art
}

// node appends one node to a tree.
func node(t *gbm.Tree, f, l, r int32, v, cover float64) {
	t.Feature = append(t.Feature, f)
	t.Threshold = append(t.Threshold, 0.5)
	t.Left = append(t.Left, l)
	t.Right = append(t.Right, r)
	t.MissingLeft = append(t.MissingLeft, true)
	t.Value = append(t.Value, v)
	t.Cover = append(t.Cover, cover)
}

// dagTree is the forged tree of the outside attack on serve: node i
// points to i+1 and i+2 (the paths from the root number Fibonacci(n)),
// with covers that add up, so that each node alone looks sound.
func dagTree(n int) gbm.Tree {
	var t gbm.Tree
	for i := range n {
		if i >= n-2 {
			node(&t, -1, -1, -1, 0.01, 1)
			continue
		}
		node(&t, int32(i%3), int32(i+1), int32(i+2), 0, 0)
	}
	for i := n - 3; i >= 0; i-- {
		t.Cover[i] = t.Cover[i+1] + t.Cover[i+2]
	}
	return t
}

// chainTree is a tree depth levels deep: a leaf on the left of each split
// and the next split on the right.
func chainTree(depth int) gbm.Tree {
	var t gbm.Tree
	for k := range depth {
		node(&t, int32(k%3), int32(2*k+1), int32(2*k+2), 0, float64(depth-k+1))
		node(&t, -1, -1, -1, 0.01, 1)
	}
	node(&t, -1, -1, -1, 0.02, 1)
	return t
}

// decodeAllocs decodes b and returns the error and the bytes allocated.
func decodeAllocs(b []byte) (error, uint64) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := profile.DecodeBytes(b)
	runtime.ReadMemStats(&after)
	return err, after.TotalAlloc - before.TotalAlloc
}

// TestForgedTreesRefused reproduces the first finding of the outside
// test: a model file whose tree shares its nodes (a DAG) or is 500,000
// levels deep passed validation and exhausted memory when packed. Both
// are refused now, without allocating what they ask for.
func TestForgedTreesRefused(t *testing.T) {
	p, _ := trained(t, 2000, 42, train.TargetWon)
	tests := []struct {
		name string
		give []byte
		want string
		// maxAlloc bounds what decoding may allocate before refusing.
		maxAlloc uint64
	}{
		{"DAG", withTrees(t, p, 0, dagTree(1000)), "reached twice", 32 << 20},
		{"500,000 levels", withTrees(t, p, 0, chainTree(500_000)), "more than 65536 elements", 1 << 20},
		{"600 levels", withTrees(t, p, 0, chainTree(600)), "deeper than 512", 32 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err, alloc := decodeAllocs(tt.give)
			if !errors.Is(err, icp.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DecodeBytes(%d bytes) = %v, want ErrInvalid containing %q", len(tt.give), err, tt.want)
			}
			if alloc > tt.maxAlloc {
				t.Errorf("DecodeBytes(%d bytes) allocated %d bytes before refusing, want at most %d", len(tt.give), alloc, tt.maxAlloc)
			}
		})
	}
}

// TestDecodeBudget checks the limits DecodeBytes applies to the JSON text
// before decoding it.
func TestDecodeBudget(t *testing.T) {
	p, _ := trained(t, 2000, 42, train.TargetWon)
	body, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	seal := func(edit func(string) string) []byte {
		art, err := profile.Seal([]byte(edit(string(body))))
		if err != nil {
			t.Fatal(err)
		}
		return art
	}
	// 300,000 empty objects: 0.9 MB of text that would take 300 MiB as
	// candidates.
	objects := strings.Repeat(`{},`, 300_000)
	tests := []struct {
		name string
		give []byte
		want string
	}{
		{"objects beyond the decoding budget", seal(func(s string) string {
			return strings.Replace(s, `"candidates":[`, `"candidates":[`+objects, 1)
		}), "would take more than 256 MiB to decode"},
		{"nested too deeply", seal(func(s string) string {
			return strings.Replace(s, `"version":`, `"deep":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`,"version":`, 1)
		}), "nested deeper than 32"},
		{"an array longer than any place holds", seal(func(s string) string {
			return strings.Replace(s, `"score_quantiles":[`, `"score_quantiles":[`+strings.Repeat("0,", 4*gbm.MaxFeatures+1), 1)
		}), "holds more than"},
		{"a repeated name", seal(func(s string) string {
			return strings.Replace(s, `"seed":`, `"seed":1,"seed":`, 1)
		}), "duplicate"},
		{"data after the artifact", append(seal(func(s string) string { return s }), `{}`...), "not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err, alloc := decodeAllocs(tt.give)
			if !errors.Is(err, icp.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DecodeBytes = %v, want ErrInvalid containing %q", err, tt.want)
			}
			if alloc > 16<<20 {
				t.Errorf("DecodeBytes allocated %d bytes before refusing, want at most 16 MiB", alloc)
			}
		})
	}
	if _, _, err := profile.DecodeBytes(seal(func(s string) string { return s })); err != nil {
		t.Fatalf("DecodeBytes(compact artifact) = %v", err)
	}
}

// TestTokenCostCoversStructs checks the estimate of the decoding budget:
// an object costs 1024 bytes, which must cover twice (slice growth) the
// largest struct an artifact decodes as an element of a slice or map.
func TestTokenCostCoversStructs(t *testing.T) {
	const costObject = 1024
	seen := map[reflect.Type]bool{}
	var largest reflect.Type
	var walk func(typ reflect.Type, elem bool)
	walk = func(typ reflect.Type, elem bool) {
		switch typ.Kind() {
		case reflect.Pointer:
			walk(typ.Elem(), elem)
		case reflect.Slice, reflect.Array:
			walk(typ.Elem(), true)
		case reflect.Map:
			walk(typ.Elem(), true)
		case reflect.Struct:
			if elem && (largest == nil || typ.Size() > largest.Size()) {
				largest = typ
			}
			if seen[typ] {
				return
			}
			seen[typ] = true
			for i := range typ.NumField() {
				if f := typ.Field(i); f.IsExported() {
					walk(f.Type, false)
				}
			}
		}
	}
	walk(reflect.TypeFor[profile.Profile](), false)
	if largest == nil || 2*largest.Size() > costObject {
		t.Fatalf("largest struct in a slice or map: %v of %d bytes; the decoding budget counts %d per object", largest, largest.Size(), costObject)
	}
}

// TestDegenerateModelsRefused reproduces the sixth finding of the outside
// test: models whose parameters put every account in one tier were
// accepted and served. They are refused when decoded, or by the warm-up.
func TestDegenerateModelsRefused(t *testing.T) {
	p := trainedGBM(t)
	var buf bytes.Buffer
	if err := p.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	art := buf.Bytes()
	replaceNum := func(field string, v string) func(string) string {
		return func(s string) string {
			i := strings.Index(s, `"`+field+`": `)
			if i < 0 {
				t.Fatalf("no %q in the artifact", field)
			}
			j := i + len(field) + 4
			k := j + strings.IndexAny(s[j:], ",\n}")
			return s[:j] + v + s[k:]
		}
	}
	tests := []struct {
		name string
		give []byte
		want string
	}{
		{"base value of 1e308", reseal(t, art, replaceNum("base", "1e308")), "add up to 1e+308"},
		{"base value of 1e100", reseal(t, art, replaceNum("base", "1e100")), "base value 1e+100"},
		{"leaf value of 1e200", reseal(t, art, func(s string) string {
			return strings.Replace(s, `"v": [`, `"v": [1e200, `, 1)
		}), ""},
		{"platt slope of 1e308", sealed(t, p, func(q *profile.Profile) {
			q.Model.Calibration = profile.Calibration{Method: profile.CalibrationPlatt, Platt: &model.Platt{A: 1e308}}
		}), "platt calibration slope 1e+308"},
		{"platt offset that shifts every score", sealed(t, p, func(q *profile.Profile) {
			q.Model.Calibration = profile.Calibration{Method: profile.CalibrationPlatt, Platt: &model.Platt{A: 1, B: 9}}
		}), "log-odds from the base rate"},
		{"isotonic map beyond 1", sealed(t, p, func(q *profile.Profile) {
			q.Model.Calibration = profile.Calibration{Method: profile.CalibrationIsotonic, Isotonic: &model.Isotonic{X: []float64{0, 1}, Y: []float64{0.5, 3}}}
		}), "outside [0, 1]"},
		{"tier thresholds above 1", reseal(t, art, func(s string) string {
			s = replaceNum("tier1", "3")(s)
			s = replaceNum("tier2", "2")(s)
			return replaceNum("tier3", "1.5")(s)
		}), "want scores within [0, 1]"},
		{"score quantiles above 1", reseal(t, art, func(s string) string {
			return strings.Replace(s, `"score_quantiles": [`, `"score_quantiles": [-0.5, `, 1)
		}), "score quantiles"},
		{"version with a newline", reseal(t, art, replaceNum("version", `"m-1\nm-2"`)), "printable"},
		{"base that saturates every score", sealed(t, p, func(q *profile.Profile) {
			g, cal := q.Model.GBM, q.Model.Calibration
			defer func() { q.Model.Calibration = cal }()
			q.Model = profile.NewGBMModel(&gbm.Model{Base: 99, Trees: g.Trees, Loss: g.Loss, NumFeatures: g.NumFeatures}, q.Encoder)
		}), "does not tell accounts apart"},
		{"no trees at all", sealed(t, p, func(q *profile.Profile) {
			g, cal := q.Model.GBM, q.Model.Calibration
			defer func() { q.Model.Calibration = cal }()
			q.Model = profile.NewGBMModel(&gbm.Model{Base: g.Base, Loss: g.Loss, NumFeatures: g.NumFeatures}, q.Encoder)
		}), "does not tell accounts apart"},
		{"trees whose leaves are all equal", sealed(t, p, func(q *profile.Profile) {
			g, cal := q.Model.GBM, q.Model.Calibration
			defer func() { q.Model.Calibration = cal }()
			flat := gbm.Tree{Feature: []int32{0, -1, -1}, Threshold: []float64{0, 0, 0}, Left: []int32{1, -1, -1}, Right: []int32{2, -1, -1},
				MissingLeft: []bool{true, false, false}, Value: []float64{0, 0.25, 0.25}, Cover: []float64{2, 1, 1}}
			q.Model = profile.NewGBMModel(&gbm.Model{Base: g.Base, Trees: []gbm.Tree{flat}, Loss: g.Loss, NumFeatures: g.NumFeatures}, q.Encoder)
		}), "no feature moves the margin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _, err := profile.DecodeBytes(tt.give)
			if err == nil {
				err = q.WarmUp(t.Context(), 16)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DecodeBytes then WarmUp = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	// A tree that splits where no warm-up account reaches gives them all
	// one score, as a fitted model may: it is not refused.
	rare := sealed(t, p, func(q *profile.Profile) {
		g, cal := q.Model.GBM, q.Model.Calibration
		defer func() { q.Model.Calibration = cal }()
		split := gbm.Tree{Feature: []int32{0, -1, -1}, Threshold: []float64{1e9, 0, 0}, Left: []int32{1, -1, -1}, Right: []int32{2, -1, -1},
			MissingLeft: []bool{true, false, false}, Value: []float64{0, 0, 0.5}, Cover: []float64{2, 1, 1}}
		q.Model = profile.NewGBMModel(&gbm.Model{Base: g.Base, Trees: []gbm.Tree{split}, Loss: g.Loss, NumFeatures: g.NumFeatures}, q.Encoder)
	})
	if q, _, err := profile.DecodeBytes(rare); err != nil {
		t.Fatal(err)
	} else if err := q.WarmUp(t.Context(), 16); err != nil {
		t.Errorf("WarmUp(a split no warm-up account reaches) = %v, want nil", err)
	}
	// The model as trained passes both.
	q, _, err := profile.DecodeBytes(art)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.WarmUp(t.Context(), 16); err != nil {
		t.Fatalf("WarmUp(trained) = %v", err)
	}
}

// sealed is the compact artifact of a copy of p changed by edit.
func sealed(t *testing.T, p *profile.Profile, edit func(q *profile.Profile)) []byte {
	t.Helper()
	q := *p
	edit(&q)
	body, err := json.Marshal(&q)
	if err != nil {
		t.Fatal(err)
	}
	art, err := profile.Seal(body)
	if err != nil {
		t.Fatal(err)
	}
	return art
}

// gbmKey caches the profile of trainedGBM.
type gbmKey struct{}

// trainedGBM returns a profile whose model is boosted trees, trained on
// 2,000 generated rows (seed 42) under the label won.
func trainedGBM(t testing.TB) *profile.Profile {
	t.Helper()
	if p, ok := cache.Load(gbmKey{}); ok {
		return p.(*profile.Profile)
	}
	tab := generated(t, 2000, 42)
	p, err := train.Train(tab, features.Infer(tab, features.InferConfig{}), train.Config{Seed: 1,
		Label: train.LabelConfig{Target: train.TargetWon}, Models: train.ModelConfig{Kinds: []string{profile.KindGBM}}})
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	cache.Store(gbmKey{}, p)
	return p
}
