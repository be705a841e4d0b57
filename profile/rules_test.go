package profile

import (
	"math"
	"testing"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
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

// TestLearnRule checks that a surrogate tree recovers a planted rule on
// raw values: members are SaaS or FinTech with 50 to 500 employees.
func TestLearnRule(t *testing.T) {
	n := 5000
	ind := make([]string, n)
	emp := make([]float64, n)
	levels := []string{"SaaS", "FinTech", "Retail", "Healthcare", "Government"}
	y := make([]float64, n)
	rows := make([]int, n)
	for i := range n {
		rows[i] = i
		ind[i] = levels[i%5]
		emp[i] = float64((i/5)%1000 + 1)
		if (ind[i] == "SaaS" || ind[i] == "FinTech") && emp[i] >= 50 && emp[i] <= 500 {
			y[i] = 1
		}
	}
	tab := &datasets.Table{Columns: []*datasets.Column{
		{Name: "industry", Kind: datasets.String, Str: ind},
		{Name: "employees", Kind: datasets.Number, Num: emp},
		{Name: "outcome", Kind: datasets.String, Str: make([]string, n)},
	}}
	s := features.Infer(tab, features.InferConfig{})
	enc, err := features.Fit(tab, s, nil, features.EncoderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := learnRule(tab, enc, nil, rows, y, nil, ruleConfig{depth: 3, minLeaf: 5, purity: 0.5, minCover: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	got := r.String()
	want := "industry in {FinTech, SaaS} and 50 <= employees <= 500"
	if got != want {
		t.Errorf("learnRule() = %q, want %q", got, want)
	}
	for i := range n {
		if r.Match(tab, i) != (y[i] == 1) {
			t.Fatalf("learnRule() = %q mismatches row %d (%s, %g)", got, i, ind[i], emp[i])
		}
	}
}

func TestMakeTiers(t *testing.T) {
	sorted := make([]float64, 1000)
	for i := range sorted {
		sorted[i] = float64(i) / 1000
	}
	tests := []struct {
		name       string
		give       TierConfig
		wantMethod string
		wantTier1  float64
		wantShare1 float64
		wantErr    bool
	}{
		{"default shares", TierConfig{}, "shares", 0.9, 0.1, false},
		{"lift", TierConfig{Lift: [3]float64{3, 1.5, 0.75}}, "lift", 0.6, 0.4, false},
		{"capacity", TierConfig{Capacity: 50}, "capacity", 0.95, 0.05, false},
		{"increasing lift", TierConfig{Lift: [3]float64{1, 2, 3}}, "", 0, 0, true},
		{"shares over one", TierConfig{Shares: [3]float64{0.5, 0.5, 0.5}}, "", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := makeTiers(sorted, tt.give, 0.2, 1000)
			if (err != nil) != tt.wantErr {
				t.Fatalf("makeTiers(%+v) error = %v, want error %v", tt.give, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.Method != tt.wantMethod || math.Abs(got.Tier1-tt.wantTier1) > 0.002 || math.Abs(got.Shares[0]-tt.wantShare1) > 0.002 {
				t.Errorf("makeTiers(%+v) = %+v, want method %s, tier1 %g, share %g", tt.give, got, tt.wantMethod, tt.wantTier1, tt.wantShare1)
			}
			if !(got.Tier1 >= got.Tier2 && got.Tier2 >= got.Tier3) {
				t.Errorf("makeTiers(%+v) thresholds not decreasing: %+v", tt.give, got)
			}
		})
	}
}

func TestCompareWithItself(t *testing.T) {
	p, tab := train(t, 5000, 42, TargetWon)
	c, err := p.Compare(p, tab)
	if err != nil {
		t.Fatal(err)
	}
	if c.Moved != 0 {
		t.Errorf("Compare(p, p).Moved = %d, want 0", c.Moved)
	}
	for _, s := range c.Segments {
		if s.Change != "kept" || math.Abs(s.Overlap-1) > 1e-9 {
			t.Errorf("Compare(p, p) segment %+v, want kept with overlap 1", s)
		}
	}
	if len(c.Segments) != len(p.Segments) {
		t.Errorf("Compare(p, p) lists %d segments, want %d", len(c.Segments), len(p.Segments))
	}
}

func TestBacktest(t *testing.T) {
	p, _ := train(t, 5000, 42, TargetWon)
	bt := p.Backtest
	if bt.Rows != p.Validation.Holdout.Rows {
		t.Errorf("backtest rows = %d, want the %d holdout rows", bt.Rows, p.Validation.Holdout.Rows)
	}
	if len(bt.Tiers) != 4 || len(bt.Recent) != 40 || len(bt.Gains) != 21 {
		t.Errorf("backtest has %d tiers, %d recent deals, %d gain points; want 4, 40, 21", len(bt.Tiers), len(bt.Recent), len(bt.Gains))
	}
	total := 0
	for _, g := range bt.Tiers {
		total += g.Evidence.Closed
	}
	if total != bt.Rows {
		t.Errorf("tiers hold %d deals, want %d", total, bt.Rows)
	}
	if last := bt.Gains[len(bt.Gains)-1]; math.Abs(last.Captured-1) > 1e-9 {
		t.Errorf("gains end at %g, want 1", last.Captured)
	}
	if !bt.WinRateFalls {
		t.Errorf("win rate does not fall from tier to tier: %+v", bt.Tiers)
	}
}
