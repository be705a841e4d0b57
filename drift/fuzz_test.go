package drift

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"
)

// FuzzCompareFeatures feeds arbitrary values, as read from untrusted
// accounts, through the reference builders and CompareFeatures: nothing may
// panic, and every reference and result must encode as JSON (no NaN or
// infinity leaks into the artifact or the API).
func FuzzCompareFeatures(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, "a,b,,c", uint8(2))
	f.Add(make([]byte, 64), "", uint8(0))
	var extremes []byte
	for _, v := range []float64{-math.MaxFloat64, math.MaxFloat64, 1e-300, -1e308, 1e308, 0, math.Inf(1), math.NaN()} {
		extremes = binary.LittleEndian.AppendUint64(extremes, math.Float64bits(v))
	}
	f.Add(extremes, "x,y", uint8(3))
	f.Add(extremes, "x,y", uint8(2))
	f.Fuzz(func(t *testing.T, raw []byte, cats string, split uint8) {
		var x []float64
		for len(raw) >= 8 {
			x = append(x, math.Float64frombits(binary.LittleEndian.Uint64(raw)))
			raw = raw[8:]
		}
		var c []string
		start := 0
		for i := 0; i <= len(cats); i++ {
			if i == len(cats) || cats[i] == ',' {
				c = append(c, cats[start:i])
				start = i + 1
			}
		}
		k := min(int(split), len(x))
		kc := min(int(split), len(c))
		ref := &Reference{
			Numeric:     []NumericRef{NewNumericRef("x", x[:k])},
			Categorical: []CategoricalRef{NewCategoricalRef("c", c[:kc])},
		}
		if _, err := json.Marshal(ref); err != nil {
			t.Fatalf("json.Marshal(reference of %v) error %v", x[:k], err)
		}
		cfg := Config{MinWindow: 1, MinReference: 1}
		res := CompareFeatures(ref, Window{
			Numeric:     map[string][]float64{"x": x[k:]},
			Categorical: map[string][]string{"c": c[kc:]},
		}, cfg)
		for _, r := range res {
			if _, err := json.Marshal(r); err != nil {
				t.Fatalf("json.Marshal(%+v) error %v", r, err)
			}
		}
		s := ScoreDrift(ref.Numeric[0], x[k:], cfg)
		if _, err := json.Marshal(s); err != nil {
			t.Fatalf("json.Marshal(%+v) error %v", s, err)
		}
		KSTwoSample(x[:k], x[k:])
		Wasserstein1FromQuantiles(ref.Numeric[0].Quantiles, x[k:])
	})
}

func TestCompareExtremeValuesEncode(t *testing.T) {
	x := make([]float64, 2*SmallReferenceRows)
	for i := range x {
		x[i] = math.MaxFloat64 * float64(i%3-1)
	}
	ref := &Reference{Numeric: []NumericRef{NewNumericRef("x", x)}}
	if _, err := json.Marshal(ref); err != nil {
		t.Fatalf("json.Marshal(extreme reference) error %v", err)
	}
	cur := make([]float64, 300)
	for i := range cur {
		cur[i] = -math.MaxFloat64
	}
	for _, r := range CompareFeatures(ref, Window{Numeric: map[string][]float64{"x": cur}}, Config{}) {
		if _, err := json.Marshal(r); err != nil {
			t.Errorf("json.Marshal(%+v) error %v", r, err)
		}
	}
}
