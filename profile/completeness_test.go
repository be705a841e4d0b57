package profile_test

import (
	"context"
	"maps"
	"math"
	"slices"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/train"
)

// TestScoreCompleteness checks that an answer says how much of what the
// model uses the account sent, and that a segment match resting mostly
// on missing fields is marked sparse.
func TestScoreCompleteness(t *testing.T) {
	p, _ := trained(t, 3000, 7, train.TargetWon)
	lo, hi := 49.0, 500.0
	q := *p
	q.Segments = []profile.Segment{{
		ID: "seg-x", Name: "SaaS mid-market", Centroid: make([]float64, p.Encoder.Width),
		Rule: profile.Rule{Clauses: []profile.Clause{{Conds: []profile.Cond{
			{Column: "industry", Op: profile.OpIn, Levels: []string{"SaaS"}},
			{Column: "employees", Op: profile.OpRange, Lo: &lo, Hi: &hi, Integer: true, Missing: true},
			{Column: "tech_stack", Op: profile.OpHasAny, Tags: []string{"hubspot", "segment"}, Separator: ";", Missing: true},
		}}}},
	}}
	full := icp.Account{"industry": "SaaS", "employees": 180.0, "annual_revenue_usd": 2.4e7, "country": "US", "region": "NA",
		"founded_year": 2016.0, "funding_stage": "Series B", "business_model": "B2B SaaS", "tech_stack": "hubspot;aws",
		"web_visits_30d": 140.0, "trial_users": 6.0, "support_tickets_90d": 2.0}
	tests := []struct {
		name        string
		give        icp.Account
		wantFull    bool
		wantMissing int
		wantSparse  bool
	}{
		{"every field", full, true, 0, false},
		{"industry only", icp.Account{"industry": "SaaS"}, false, 2, true},
		{"no tech stack", func() icp.Account {
			a := maps.Clone(full)
			delete(a, "tech_stack")
			return a
		}(), false, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := q.Score(context.Background(), tt.give)
			if err != nil {
				t.Fatal(err)
			}
			if got := sc.Completeness == 1; got != tt.wantFull || !(sc.Completeness >= 0 && sc.Completeness <= 1) {
				t.Errorf("Completeness = %g, want 1: %v", sc.Completeness, tt.wantFull)
			}
			if (len(sc.MissingFields) == 0) != tt.wantFull {
				t.Errorf("MissingFields = %v with completeness %g", sc.MissingFields, sc.Completeness)
			}
			if sc.Segment == nil {
				t.Fatalf("Segment = nil, want seg-x")
			}
			if sc.Segment.Conditions != 3 || sc.Segment.MissingConditions != tt.wantMissing || sc.Segment.Sparse != tt.wantSparse {
				t.Errorf("Segment = %+v, want 3 conditions, %d met through missing fields, sparse %v", *sc.Segment, tt.wantMissing, tt.wantSparse)
			}
		})
	}

	// The completeness of an account with one field is that field's share
	// of the importance, and the missing fields come most important first.
	sc, err := q.Score(context.Background(), icp.Account{"industry": "SaaS"})
	if err != nil {
		t.Fatal(err)
	}
	var total, industry float64
	rank := map[string]int{}
	for k, c := range p.Importance.Columns {
		total += c.MeanAbs
		rank[c.Column] = k
		if c.Column == "industry" {
			industry = c.MeanAbs
		}
	}
	if want := industry / total; math.Abs(sc.Completeness-want) > 1e-12 {
		t.Errorf("Completeness of {industry} = %g, want %g", sc.Completeness, want)
	}
	if !slices.IsSortedFunc(sc.MissingFields, func(a, b string) int { return rank[a] - rank[b] }) || slices.Contains(sc.MissingFields, "industry") ||
		len(sc.MissingFields) != len(p.Encoder.Columns)-1 {
		t.Errorf("MissingFields = %v, want every column but industry, most important first", sc.MissingFields)
	}
}
