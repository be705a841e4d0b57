package drift

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/icpengine/icp"
)

var update = flag.Bool("update", false, "update golden files")

func TestNewNumericRef(t *testing.T) {
	tests := []struct {
		name        string
		give        []float64
		wantEdges   []float64
		wantProps   []float64
		wantMissing float64
		wantMedian  float64
	}{
		{
			name:      "one to ten",
			give:      []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1},
			wantEdges: []float64{1, 2, 3, 4, 5, 6, 7, 8, 9},
			wantProps: []float64{0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1}, wantMedian: 5.5,
		},
		{
			name:      "ties collapse edges",
			give:      []float64{0, 0, 0, 0, 0, 0, 1, 1, 2, 3},
			wantEdges: []float64{0, 1, 2},
			wantProps: []float64{0.6, 0.2, 0.1, 0.1}, wantMedian: 0,
		},
		{
			name:      "missing and infinite values",
			give:      []float64{math.NaN(), 1, 2, math.Inf(1), 3, 4},
			wantEdges: []float64{1, 2, 3},
			wantProps: []float64{0.25, 0.25, 0.25, 0.25}, wantMissing: 2.0 / 6, wantMedian: 2.5,
		},
		{
			name:      "constant",
			give:      []float64{7, 7, 7},
			wantEdges: nil,
			wantProps: []float64{1}, wantMedian: 7,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NewNumericRef("x", tt.give)
			if !floatsClose(got.Edges, tt.wantEdges) || !floatsClose(got.Props, tt.wantProps) {
				t.Errorf("NewNumericRef(%v) edges, props = %v, %v, want %v, %v", tt.give, got.Edges, got.Props, tt.wantEdges, tt.wantProps)
			}
			if !approx(got.MissingRate, tt.wantMissing, 1e-12) || got.N != len(tt.give) {
				t.Errorf("NewNumericRef(%v) N, MissingRate = %d, %v, want %d, %v", tt.give, got.N, got.MissingRate, len(tt.give), tt.wantMissing)
			}
			if len(got.Quantiles) != 101 || !approx(got.Quantiles[50], tt.wantMedian, 1e-12) {
				t.Errorf("NewNumericRef(%v) median = %v of %d quantiles, want %v of 101", tt.give, got.Quantiles[50], len(got.Quantiles), tt.wantMedian)
			}
			if got.Count() != len(got.Sample) {
				t.Errorf("NewNumericRef(%v).Count() = %d, want %d", tt.give, got.Count(), len(got.Sample))
			}
		})
	}
	ref := NewNumericRef("x", []float64{1, 2, 3, 4})
	if !approx(ref.Mean, 2.5, 1e-12) || !approx(ref.Std, math.Sqrt(1.25), 1e-12) {
		t.Errorf("NewNumericRef(1..4) mean, std = %v, %v, want 2.5, %v", ref.Mean, ref.Std, math.Sqrt(1.25))
	}
	if big := NewNumericRef("x", make([]float64, SmallReferenceRows+1)); big.Sample != nil {
		t.Errorf("NewNumericRef(%d rows).Sample has %d values, want nil", SmallReferenceRows+1, len(big.Sample))
	}
	empty := NewNumericRef("x", []float64{math.NaN()})
	if _, err := json.Marshal(empty); err != nil {
		t.Errorf("json.Marshal(all-missing ref) error %v, want nil", err)
	}
}

func TestNewCategoricalRef(t *testing.T) {
	got := NewCategoricalRef("plan", []string{"b", "a", "", "b"})
	want := CategoricalRef{Name: "plan", N: 4, MissingRate: 0.25, Levels: []string{"a", "b"},
		Props: []float64{1.0 / 3, 2.0 / 3}, Counts: []float64{1, 2}}
	if !reflect.DeepEqual(got.Levels, want.Levels) || !floatsClose(got.Props, want.Props) ||
		!floatsClose(got.Counts, want.Counts) || got.MissingRate != want.MissingRate || got.N != want.N {
		t.Errorf("NewCategoricalRef = %+v, want %+v", got, want)
	}
}

// goldenReference builds a small seeded reference covering every field.
func goldenReference() *Reference {
	rng := rand.New(rand.NewPCG(1, 2))
	num := make([]float64, 60)
	cat := make([]string, 60)
	levels := []string{"SaaS", "Fintech", "Retail"}
	for i := range num {
		num[i] = math.Round(math.Exp(2+rng.NormFloat64())*100) / 100
		if i%20 == 0 {
			num[i] = math.NaN()
		}
		cat[i] = levels[rng.IntN(3)]
	}
	score := NewNumericRef("score", []float64{0.1, 0.2, 0.3, 0.5, 0.8})
	ref := &Reference{
		Numeric:              []NumericRef{NewNumericRef("employees", num)},
		Categorical:          []CategoricalRef{NewCategoricalRef("industry", cat)},
		Score:                &score,
		Tiers:                map[icp.Tier]float64{icp.Tier1: 0.1, icp.Tier2: 0.2, icp.Tier3: 0.3, icp.NonFit: 0.4},
		ExpectedOutsideShare: 0.2,
	}
	ref.Sort()
	return ref
}

func TestReferenceJSONGolden(t *testing.T) {
	got, err := json.MarshalIndent(goldenReference(), "", "  ")
	if err != nil {
		t.Fatalf("json.MarshalIndent(reference) error %v", err)
	}
	again, _ := json.MarshalIndent(goldenReference(), "", "  ")
	if !bytes.Equal(got, again) {
		t.Fatalf("reference JSON differs between two identical builds")
	}
	golden := filepath.Join("testdata", "reference.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden file (run go test -update): %v", err)
	}
	if !bytes.Equal(append(got, '\n'), want) {
		t.Errorf("reference JSON = %s, want %s", got, want)
	}
	var back Reference
	if err := json.Unmarshal(want, &back); err != nil {
		t.Fatalf("json.Unmarshal(golden) error %v", err)
	}
	if !reflect.DeepEqual(&back, goldenReference()) {
		t.Errorf("reference JSON round trip = %+v, want %+v", back, *goldenReference())
	}
}

func floatsClose(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !approx(a[i], b[i], 1e-12) {
			return false
		}
	}
	return true
}
