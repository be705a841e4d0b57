package server

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/icpengine/icp"
)

// checkAppendScore compares appendScore with encoding/json on sc.
func checkAppendScore(t *testing.T, sc *icp.Score) {
	t.Helper()
	want, werr := json.Marshal(sc)
	got, err := appendScore(nil, sc)
	if (err != nil) != (werr != nil) {
		t.Fatalf("appendScore(%+v) error = %v, encoding/json error = %v", sc, err, werr)
	}
	if err == nil && !bytes.Equal(got, want) {
		t.Fatalf("appendScore(%+v) =\n%s\nwant (encoding/json)\n%s", sc, got, want)
	}
}

func TestAppendScore(t *testing.T) {
	base := func() icp.Score {
		return icp.Score{
			AccountID: "acme", ModelVersion: "m-1", Score: 0.4372856465138658, Percentile: 90.88654963327083,
			Tier: icp.Tier1, Segment: &icp.SegmentRef{ID: "seg-1", Name: "SaaS/FinTech, 0–10 trial_users", Distance: 2.35},
			Margin: -0.2521854994458952, BaseValue: -2.318495676435508, AttributionScale: "log_odds",
			Attributions: []icp.Attribution{
				{Feature: "industry", Value: "SaaS", Contribution: 1.07},
				{Feature: "employees", Value: json.Number("180"), Contribution: 1e-7},
				{Feature: "tech_stack", Value: []any{"hubspot", "a<b>&c"}, Contribution: -3e21},
				{Feature: "public", Value: true, Contribution: 0},
				{Feature: "missing", Value: nil, Contribution: math.Copysign(0, -1)},
				{Feature: "float", Value: 12.5, Contribution: 123456789012345678},
				{Feature: "int", Value: 7, Contribution: 1e20},
				{Feature: "empty number", Value: json.Number(""), Contribution: 1e-6},
				{Feature: "empty tags", Value: []any{}, Contribution: 0.000001234},
				{Feature: "nil tags", Value: []any(nil), Contribution: 5e-324},
				{Feature: "strings", Value: []string{"x"}, Contribution: math.MaxFloat64},
			},
		}
	}
	tests := []struct {
		name string
		give func(sc *icp.Score)
	}{
		{"full", func(*icp.Score) {}},
		{"no account id, no segment, no attributions", func(sc *icp.Score) {
			sc.AccountID, sc.Segment, sc.Attributions = "", nil, nil
		}},
		{"empty attributions", func(sc *icp.Score) { sc.Attributions = []icp.Attribution{} }},
		{"segment rule", func(sc *icp.Score) { sc.Segment.Rule = "employees in [50, 500)" }},
		{"escapes", func(sc *icp.Score) {
			sc.AccountID = "q\"b\\s/\b\f\n\r\t\x00\x1f\x7f<>&\u2028\u2029é\xff\xc3"
		}},
		{"NaN score", func(sc *icp.Score) { sc.Score = math.NaN() }},
		{"infinite contribution", func(sc *icp.Score) { sc.Attributions[0].Contribution = math.Inf(-1) }},
		{"NaN value", func(sc *icp.Score) { sc.Attributions[0].Value = math.NaN() }},
		{"invalid number", func(sc *icp.Score) { sc.Attributions[0].Value = json.Number("01") }},
		{"unencodable value", func(sc *icp.Score) { sc.Attributions[0].Value = make(chan int) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := base()
			tt.give(&sc)
			checkAppendScore(t, &sc)
		})
	}
}

func TestValidNumber(t *testing.T) {
	for _, s := range []string{"0", "-0", "12", "-1.5", "1e5", "1E+5", "2.5e-3", "0.0"} {
		if !validNumber(s) {
			t.Errorf("validNumber(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"", "-", "01", "1.", ".5", "1e", "1e+", "+1", "1x", "NaN", "0x10", "--1"} {
		if validNumber(s) {
			t.Errorf("validNumber(%q) = true, want false", s)
		}
	}
}

// FuzzAppendScore compares appendScore with encoding/json on arbitrary
// strings, numbers and values.
func FuzzAppendScore(f *testing.F) {
	f.Add("acme", "SaaS", "12", 0.5, 1e-7, 3e21, true)
	f.Add("", "\u2028<\xff", "1e400", math.Inf(1), math.Copysign(0, -1), 5e-324, false)
	f.Fuzz(func(t *testing.T, id, str, num string, a, b, c float64, seg bool) {
		sc := icp.Score{
			AccountID: id, ModelVersion: str, Score: a, Percentile: b, Tier: icp.Tier(str), Margin: c, BaseValue: a * b,
			AttributionScale: num,
			Attributions: []icp.Attribution{
				{Feature: str, Value: json.Number(num), Contribution: a},
				{Feature: id, Value: []any{str, num, id}, Contribution: b},
				{Feature: num, Value: c, Contribution: c},
				{Feature: "s", Value: str, Contribution: -a},
			},
		}
		if seg {
			sc.Segment = &icp.SegmentRef{ID: id, Name: str, Rule: num, Distance: b}
		}
		checkAppendScore(t, &sc)
	})
}
