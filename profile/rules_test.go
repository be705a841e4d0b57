package profile

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/icpengine/icp/datasets"
)

func ptr(v float64) *float64 { return &v }

func TestCondString(t *testing.T) {
	tests := []struct {
		name string
		give Cond
		want string
	}{
		{"levels", Cond{Column: "industry", Op: OpIn, Levels: []string{"FinTech", "SaaS"}}, "industry in {FinTech, SaaS}"},
		{"one level", Cond{Column: "industry", Op: OpIn, Levels: []string{"SaaS"}}, "industry = SaaS"},
		{"not levels", Cond{Column: "region", Op: OpIn, Levels: []string{"APAC", "LATAM"}, Negate: true}, "region not in {APAC, LATAM}"},
		{"integer range", Cond{Column: "employees", Op: OpRange, Lo: ptr(49.5), Hi: ptr(500.5), Integer: true}, "50 <= employees <= 500"},
		{"lower bound", Cond{Column: "employees", Op: OpRange, Lo: ptr(999.5), Integer: true}, "employees >= 1000"},
		{"upper bound", Cond{Column: "annual_revenue_usd", Op: OpRange, Hi: ptr(24.5e6)}, "annual_revenue_usd <= 24.5M"},
		{"real lower bound", Cond{Column: "score", Op: OpRange, Lo: ptr(0.35)}, "score > 0.35"},
		{"tag", Cond{Column: "tech_stack", Op: OpHas, Tag: "hubspot"}, "tech_stack has hubspot"},
		{"no tag, or missing", Cond{Column: "tech_stack", Op: OpHas, Tag: "hubspot", Negate: true, Missing: true}, "tech_stack lacks hubspot (or missing)"},
		{"boolean", Cond{Column: "partner", Op: OpIs}, "partner is true"},
		{"any of", Cond{Column: "tech_stack", Op: OpHasAny, Tags: []string{"hubspot", "segment"}}, "tech_stack has any of {hubspot, segment}"},
		{"all of", Cond{Column: "tech_stack", Op: OpHasAll, Tags: []string{"shopify", "stripe"}, Missing: true}, "tech_stack has all of {shopify, stripe} (or missing)"},
		{"none of", Cond{Column: "tech_stack", Op: OpHasAny, Tags: []string{"gcp", "zendesk"}, Negate: true}, "tech_stack has none of {gcp, zendesk}"},
		{"lacks one of", Cond{Column: "tech_stack", Op: OpHasAll, Tags: []string{"aws", "jira"}, Negate: true}, "tech_stack lacks one of {aws, jira}"},
		{"one tag of a set", Cond{Column: "tech_stack", Op: OpHasAll, Tags: []string{"salesforce"}}, "tech_stack has salesforce"},
		{"one value", Cond{Column: "seats", Op: OpRange, Lo: ptr(1), Hi: ptr(2), Integer: true}, "seats = 2"},
		{"billions", Cond{Column: "revenue", Op: OpRange, Lo: ptr(50e6), Hi: ptr(2.4e9)}, "50M < revenue <= 2.4B"},
		{"exact bound", Cond{Column: "revenue", Op: OpRange, Hi: ptr(10_013_000)}, "revenue <= 10.013M"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.give.String(); got != tt.want {
				t.Errorf("Cond.String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRuleMatch(t *testing.T) {
	tab := &datasets.Table{Columns: []*datasets.Column{
		{Name: "industry", Kind: datasets.String, Str: []string{"SaaS", "Retail", "", "FinTech"}},
		{Name: "employees", Kind: datasets.Number, Num: []float64{120, 120, 300, math.NaN()}},
		{Name: "tech_stack", Kind: datasets.String, Str: []string{"aws;hubspot", "hubspot", "hubspot", "segment"}},
	}}
	r := Rule{Clauses: []Clause{
		{Conds: []Cond{
			{Column: "industry", Op: OpIn, Levels: []string{"FinTech", "SaaS"}},
			{Column: "employees", Op: OpRange, Lo: ptr(49.5), Hi: ptr(500.5), Integer: true, Missing: true},
			{Column: "tech_stack", Op: OpHas, Tag: "hubspot", Separator: ";"},
		}},
		{Conds: []Cond{{Column: "industry", Op: OpIn, Levels: []string{"FinTech"}}, {Column: "tech_stack", Op: OpHas, Tag: "segment"}}},
	}}
	tests := []struct {
		give int
		want bool
	}{
		{0, true},  // SaaS, 120, hubspot
		{1, false}, // Retail
		{2, false}, // missing industry does not meet "in"
		{3, true},  // second clause
	}
	for _, tt := range tests {
		if got := r.Match(tab, tt.give); got != tt.want {
			t.Errorf("Rule.Match(row %d) = %v, want %v", tt.give, got, tt.want)
		}
	}
	if got, want := r.String(), "(industry in {FinTech, SaaS} and 50 <= employees <= 500 (or missing) and tech_stack has hubspot) or (industry = FinTech and tech_stack has segment)"; got != want {
		t.Errorf("Rule.String() = %q, want %q", got, want)
	}
	if (&Rule{}).Match(tab, 0) {
		t.Error("an empty rule matched")
	}
}

// TestTagSetsAndExactBounds checks that matching does what the text says:
// tag sets compared without case or surrounding space, and an integer
// range read as its text reads even for a value that is not whole.
func TestTagSetsAndExactBounds(t *testing.T) {
	tab := &datasets.Table{Columns: []*datasets.Column{
		{Name: "tech_stack", Kind: datasets.String, Str: []string{"HubSpot, AWS", " segment ", "aws, jira", "", "Shopify,Stripe"}},
		{Name: "employees", Kind: datasets.Number, Num: []float64{49.5, 50, 500, 500.4, math.NaN()}},
	}}
	any := Cond{Column: "tech_stack", Op: OpHasAny, Tags: []string{"hubspot", "segment"}, Separator: ","}
	all := Cond{Column: "tech_stack", Op: OpHasAll, Tags: []string{"shopify", "stripe"}, Separator: ","}
	none := Cond{Column: "tech_stack", Op: OpHasAny, Tags: []string{"aws"}, Separator: ",", Negate: true, Missing: true}
	rng := Cond{Column: "employees", Op: OpRange, Lo: ptr(49.5), Hi: ptr(500.5), Integer: true}
	tests := []struct {
		name string
		give Cond
		want []bool // per row
	}{
		{"has any of", any, []bool{true, true, false, false, false}},
		{"has all of", all, []bool{false, false, false, false, true}},
		{"has none of, or missing", none, []bool{false, true, false, true, true}},
		{"50 <= employees <= 500", rng, []bool{false, true, true, false, false}},
	}
	for _, tt := range tests {
		for i, want := range tt.want {
			if got := tt.give.Holds(tab, i); got != want {
				t.Errorf("%s (%q).Holds(row %d) = %v, want %v", tt.name, tt.give.String(), i, got, want)
			}
		}
	}
	r := Rule{Clauses: []Clause{{Conds: []Cond{none, {Column: "employees", Op: OpRange, Lo: ptr(10), Missing: true}}}}}
	for _, tt := range []struct {
		row                    int
		wantOK                 bool
		wantConds, wantMissing int
	}{
		{0, false, 0, 0},
		{1, true, 2, 0},
		{3, true, 2, 1},
		{4, true, 2, 1},
	} {
		ok, conds, missing := r.MatchMissing(tab, tt.row)
		if ok != tt.wantOK || conds != tt.wantConds || missing != tt.wantMissing {
			t.Errorf("MatchMissing(row %d) = %v, %d, %d; want %v, %d, %d", tt.row, ok, conds, missing, tt.wantOK, tt.wantConds, tt.wantMissing)
		}
	}
}

// TestFormatBoundExact checks that a bound is written so that it reads
// back as the bound itself.
func TestFormatBoundExact(t *testing.T) {
	for _, v := range []float64{500, 24e6, 1.5e6, 10_013_000, 12_345, 0.35, 0.1234567, 2.4e9, 123_456_789_012, -3.25e6} {
		s := FormatBound(v)
		scale := 1.0
		switch s[len(s)-1] {
		case 'B':
			scale, s = 1e9, s[:len(s)-1]
		case 'M':
			scale, s = 1e6, s[:len(s)-1]
		case 'k':
			scale, s = 1e3, s[:len(s)-1]
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || x*scale != v {
			t.Errorf("FormatBound(%v) = %q, reads back as %v×%v", v, FormatBound(v), x, scale)
		}
	}
}

// TestRuleValidate checks what a decoded rule may hold.
func TestRuleValidate(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name    string
		give    Cond
		wantErr string
	}{
		{"levels", Cond{Column: "c", Op: OpIn, Levels: []string{"a", "b"}}, ""},
		{"unsorted levels", Cond{Column: "c", Op: OpIn, Levels: []string{"b", "a"}}, "levels not sorted"},
		{"tag of an older artifact", Cond{Column: "c", Op: OpHas, Tag: "aws"}, ""},
		{"tag set", Cond{Column: "c", Op: OpHasAny, Tags: []string{"aws", "gcp"}}, ""},
		{"no tags", Cond{Column: "c", Op: OpHasAll}, "without tags"},
		{"unsorted tags", Cond{Column: "c", Op: OpHasAny, Tags: []string{"gcp", "aws"}}, "tags not sorted"},
		{"tag twice", Cond{Column: "c", Op: OpHasAny, Tags: []string{"AWS", "aws"}}, "repeated"},
		{"blank tag", Cond{Column: "c", Op: OpHasAny, Tags: []string{" "}}, "empty tag"},
		{"tags and tag", Cond{Column: "c", Op: OpHasAny, Tags: []string{"aws"}, Tag: "gcp"}, "takes tags"},
		{"tags on levels", Cond{Column: "c", Op: OpIn, Levels: []string{"a"}, Tags: []string{"aws"}}, "takes no tags"},
		{"empty range", Cond{Column: "c", Op: OpRange, Lo: ptr(5), Hi: ptr(1)}, "empty range"},
		{"NaN bound", Cond{Column: "c", Op: OpRange, Lo: &nan}, "not a finite number"},
		{"unknown operator", Cond{Column: "c", Op: "like"}, "unknown operator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Rule{Clauses: []Clause{{Conds: []Cond{tt.give}}}}
			err := r.validate()
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("validate(%+v) = %v, want an error containing %q", tt.give, err, tt.wantErr)
			}
		})
	}
}

// TestOlderRuleDecodes checks that a rule as older artifacts wrote it
// (one tag per condition, no tag sets) still decodes, validates and
// matches as its text says.
func TestOlderRuleDecodes(t *testing.T) {
	const old = `{"clauses":[{"conds":[{"column":"industry","op":"in","levels":["FinTech","SaaS"]},` +
		`{"column":"employees","op":"range","lo":49.5,"integer":true,"missing":true},` +
		`{"column":"tech_stack","op":"has","tag":"hubspot","separator":";"}]}]}`
	dec := json.NewDecoder(strings.NewReader(old))
	dec.DisallowUnknownFields()
	var r Rule
	if err := dec.Decode(&r); err != nil {
		t.Fatal(err)
	}
	if err := r.validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := r.String(), "industry in {FinTech, SaaS} and employees >= 50 (or missing) and tech_stack has hubspot"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	tab := &datasets.Table{Columns: []*datasets.Column{
		{Name: "industry", Kind: datasets.String, Str: []string{"SaaS", "SaaS"}},
		{Name: "employees", Kind: datasets.Number, Num: []float64{math.NaN(), 20}},
		{Name: "tech_stack", Kind: datasets.String, Str: []string{"aws;HubSpot", "hubspot"}},
	}}
	if !r.Match(tab, 0) || r.Match(tab, 1) {
		t.Errorf("Match = %v, %v; want true, false", r.Match(tab, 0), r.Match(tab, 1))
	}
}

// FuzzRuleJSON decodes arbitrary rules as an artifact carries them: one
// that validates must match and print without panicking.
func FuzzRuleJSON(f *testing.F) {
	f.Add(`{"clauses":[{"conds":[{"column":"t","op":"has_any","tags":["a","b"],"separator":";"}]}]}`)
	f.Add(`{"clauses":[{"conds":[{"column":"n","op":"range","lo":1,"hi":2,"integer":true,"missing":true}]}]}`)
	f.Add(`{"clauses":[{"conds":[{"column":"c","op":"in","levels":["x"],"negate":true}]}]}`)
	tab := &datasets.Table{Columns: []*datasets.Column{
		{Name: "t", Kind: datasets.String, Str: []string{"a;b", "", "B"}},
		{Name: "n", Kind: datasets.Number, Num: []float64{1.5, math.NaN(), 2}},
		{Name: "c", Kind: datasets.String, Str: []string{"x", "y", ""}},
	}}
	f.Fuzz(func(t *testing.T, s string) {
		var r Rule
		if json.Unmarshal([]byte(s), &r) != nil || r.validate() != nil {
			return
		}
		_ = r.String()
		for i := range tab.Rows() {
			ok, conds, missing := r.MatchMissing(tab, i)
			if ok != r.Match(tab, i) || missing > conds {
				t.Fatalf("row %d: MatchMissing = %v, %d, %d; Match = %v", i, ok, conds, missing, r.Match(tab, i))
			}
		}
	})
}
