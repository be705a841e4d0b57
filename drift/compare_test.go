package drift

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/icpengine/icp"
)

func normals(rng *rand.Rand, n int, mean float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = mean + rng.NormFloat64()
	}
	return x
}

func draws(rng *rand.Rand, n int, levels []string, props []float64) []string {
	x := make([]string, n)
	for i := range x {
		u := rng.Float64()
		x[i] = levels[len(levels)-1]
		for j, p := range props {
			if u < p {
				x[i] = levels[j]
				break
			}
			u -= p
		}
	}
	return x
}

func TestCompareFeatures(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	levels := []string{"a", "b", "c"}
	props := []float64{0.5, 0.3, 0.2}
	ref := &Reference{
		Numeric: []NumericRef{
			NewNumericRef("z_large", normals(rng, 5000, 0)),
			NewNumericRef("small", normals(rng, 500, 0)),
		},
		Categorical: []CategoricalRef{
			NewCategoricalRef("cat_large", draws(rng, 5000, levels, props)),
			NewCategoricalRef("cat_small", draws(rng, 500, levels, props)),
		},
	}
	tests := []struct {
		name       string
		give       Window
		wantStatus map[string]string
		wantTest   map[string]string
	}{
		{
			name: "no drift",
			give: Window{
				Numeric:     map[string][]float64{"z_large": normals(rng, 1000, 0), "small": normals(rng, 1000, 0)},
				Categorical: map[string][]string{"cat_large": draws(rng, 1000, levels, props), "cat_small": draws(rng, 1000, levels, props)},
			},
			wantStatus: map[string]string{"z_large": StatusStable, "small": StatusStable, "cat_large": StatusStable, "cat_small": StatusStable},
			wantTest:   map[string]string{"z_large": WassersteinTest, "small": KSTest, "cat_large": CohensWTest, "cat_small": ChiSquareTest},
		},
		{
			name: "shifted",
			give: Window{
				Numeric:     map[string][]float64{"z_large": normals(rng, 1000, 0.6), "small": normals(rng, 1000, 0.6)},
				Categorical: map[string][]string{"cat_large": draws(rng, 1000, levels, []float64{0.3, 0.3, 0.4}), "cat_small": draws(rng, 1000, levels, []float64{0.3, 0.3, 0.4})},
			},
			wantStatus: map[string]string{"z_large": StatusDrift, "small": StatusDrift, "cat_large": StatusDrift, "cat_small": StatusDrift},
		},
		{
			name: "too few values or absent",
			give: Window{
				Numeric:     map[string][]float64{"z_large": normals(rng, 150, 3)},
				Categorical: map[string][]string{"cat_large": draws(rng, 199, levels, []float64{0, 0, 1})},
			},
			wantStatus: map[string]string{"z_large": StatusInsufficient, "small": StatusInsufficient, "cat_large": StatusInsufficient, "cat_small": StatusInsufficient},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CompareFeatures(ref, tt.give, Config{})
			names := make([]string, len(got))
			for i, r := range got {
				names[i] = r.Feature
				if want := tt.wantStatus[r.Feature]; r.Status != want {
					t.Errorf("CompareFeatures(%s).Status = %s, want %s (%s)", r.Feature, r.Status, want, r.Detail)
				}
				if want, ok := tt.wantTest[r.Feature]; ok && r.Test != want {
					t.Errorf("CompareFeatures(%s).Test = %s, want %s", r.Feature, r.Test, want)
				}
				if _, err := json.Marshal(r); err != nil {
					t.Errorf("json.Marshal(%s result) error %v", r.Feature, err)
				}
			}
			if want := []string{"cat_large", "cat_small", "small", "z_large"}; !reflect.DeepEqual(names, want) {
				t.Errorf("CompareFeatures order = %v, want %v", names, want)
			}
			if again := CompareFeatures(ref, tt.give, Config{}); !reflect.DeepEqual(again, got) {
				t.Errorf("CompareFeatures is not deterministic")
			}
		})
	}
}

func TestCompareFeaturesNoiseGuard(t *testing.T) {
	// A 0.15 SD shift exceeds the 0.1 threshold. With 1,000 rows the noise
	// floor is small and the shift drifts; with 200 rows sampling noise could
	// reach 0.15, so the feature is only watched.
	rng := rand.New(rand.NewPCG(9, 9))
	ref := &Reference{Numeric: []NumericRef{NewNumericRef("x", normals(rng, 20000, 0))}}
	big := CompareFeatures(ref, Window{Numeric: map[string][]float64{"x": normals(rng, 1000, 0.15)}}, Config{})[0]
	small := CompareFeatures(ref, Window{Numeric: map[string][]float64{"x": normals(rng, 200, 0.15)}}, Config{})[0]
	if big.Status != StatusDrift {
		t.Errorf("CompareFeatures(1000 rows, +0.15 SD).Status = %s, want drift (%s)", big.Status, big.Detail)
	}
	if small.Status != StatusWatch && small.Status != StatusStable {
		t.Errorf("CompareFeatures(200 rows, +0.15 SD).Status = %s, want watch or stable (%s)", small.Status, small.Detail)
	}
	if !(small.NoiseFloor > 2*big.NoiseFloor*0.9) {
		t.Errorf("noise floor at 200 rows = %v, want about sqrt(5) times %v", small.NoiseFloor, big.NoiseFloor)
	}
}

func TestCompareCategoricalNewAndMissing(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ref := &Reference{Categorical: []CategoricalRef{NewCategoricalRef("crm", draws(rng, 5000, []string{"a", "b"}, []float64{0.5, 0.5}))}}
	cur := draws(rng, 1000, []string{"a", "b", "zoho", ""}, []float64{0.3, 0.3, 0.2, 0.2})
	got := CompareFeatures(ref, Window{Categorical: map[string][]string{"crm": cur}}, Config{})[0]
	if got.Status != StatusDrift || math.IsInf(got.Statistic, 0) || got.PSIBand != "alert" {
		t.Errorf("CompareFeatures(new level and missing) = %s, %v, %s, want drift, finite, alert (%s)", got.Status, got.Statistic, got.PSIBand, got.Detail)
	}
	if !strings.Contains(got.Detail, "new levels 1") || got.MissingRate < 0.15 {
		t.Errorf("CompareFeatures detail = %q, missing %v, want new levels and missing reported", got.Detail, got.MissingRate)
	}
}

func TestPoolCells(t *testing.T) {
	tests := []struct {
		name         string
		a, b         []float64
		wantA, wantB []float64
	}{
		// The pooled cell (expected 3) is still small: it joins (50, 50).
		{"pooled into smallest", []float64{100, 1, 2, 0, 50}, []float64{100, 2, 1, 0, 50}, []float64{100, 53}, []float64{100, 53}},
		// Two cells of expected 3 pool into one of expected 6.
		{"pooled cell kept", []float64{100, 3, 3, 50}, []float64{100, 3, 3, 50}, []float64{100, 50, 6}, []float64{100, 50, 6}},
		{"nothing small", []float64{10, 20}, []float64{30, 40}, []float64{10, 20}, []float64{30, 40}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := poolCells(tt.a, tt.b, 5)
			if !floatsClose(a, tt.wantA) || !floatsClose(b, tt.wantB) {
				t.Errorf("poolCells(%v, %v) = %v, %v, want %v, %v", tt.a, tt.b, a, b, tt.wantA, tt.wantB)
			}
		})
	}
}

func TestScoreDrift(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	beta := func(n int, shift float64) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = math.Min(1, math.Max(0, 0.3+0.15*rng.NormFloat64()+shift))
		}
		return x
	}
	ref := NewNumericRef("", beta(20000, 0))
	if got := ScoreDrift(ref, beta(1000, 0), Config{}); got.Status != StatusStable || got.Feature != "score" {
		t.Errorf("ScoreDrift(same) = %s %s, want score stable (%s)", got.Feature, got.Status, got.Detail)
	}
	if got := ScoreDrift(ref, beta(1000, 0.1), Config{}); got.Status != StatusDrift {
		t.Errorf("ScoreDrift(+0.1) = %s, want drift (%s)", got.Status, got.Detail)
	}
}

func TestTierMix(t *testing.T) {
	ref := map[icp.Tier]float64{icp.Tier1: 0.1, icp.Tier2: 0.2, icp.Tier3: 0.3, icp.NonFit: 0.4}
	tests := []struct {
		name string
		give map[icp.Tier]int
		want string
	}{
		{"same mix", map[icp.Tier]int{icp.Tier1: 98, icp.Tier2: 205, icp.Tier3: 297, icp.NonFit: 400}, StatusStable},
		{"small but significant", map[icp.Tier]int{icp.Tier1: 140, icp.Tier2: 200, icp.Tier3: 280, icp.NonFit: 380}, StatusWatch},
		{"tier1 doubled", map[icp.Tier]int{icp.Tier1: 250, icp.Tier2: 200, icp.Tier3: 250, icp.NonFit: 300}, StatusDrift},
		{"unknown tier", map[icp.Tier]int{icp.Tier1: 100, icp.Tier2: 200, icp.Tier3: 300, icp.NonFit: 300, "gold": 100}, StatusDrift},
		{"too few", map[icp.Tier]int{icp.Tier1: 100}, StatusInsufficient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TierMix(ref, tt.give, Config{})
			if got.Status != tt.want {
				t.Errorf("TierMix(%v) = %s, want %s (%s)", tt.give, got.Status, tt.want, got.Detail)
			}
			if _, err := json.Marshal(got); err != nil {
				t.Errorf("json.Marshal(TierMix) error %v", err)
			}
		})
	}
}
