package profile

import (
	"math"
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
