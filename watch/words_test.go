package watch

import (
	"math"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/drift"
)

func TestMedianInterval(t *testing.T) {
	x := make([]float64, 100)
	for i := range x {
		x[i] = float64(i + 1)
	}
	// Ranks 50 ± 1.96·√100/2 = 40.2 and 59.8, rounded outwards.
	med, lo, hi := medianInterval(x)
	if med != 50.5 || lo != 40 || hi != 60 {
		t.Errorf("medianInterval(1..100) = %v, %v, %v, want 50.5, 40, 60", med, lo, hi)
	}
	if med, lo, hi := medianInterval([]float64{7}); med != 7 || lo != 7 || hi != 7 {
		t.Errorf("medianInterval([7]) = %v, %v, %v, want 7, 7, 7", med, lo, hi)
	}
	if med, _, _ := medianInterval(nil); !math.IsNaN(med) {
		t.Errorf("medianInterval(nil) = %v, want NaN", med)
	}
}

func TestReadable(t *testing.T) {
	tests := []struct{ give, want string }{
		{"employees", "Employees"},
		{"annual_revenue_usd", "Annual revenue (USD)"},
		{"web_visits_30d", "Web visits (30 days)"},
		{"support_tickets_90d", "Support tickets (90 days)"},
		{"tech_stack has snowflake", "Tech stack: snowflake"},
		{"AnnualRevenue", "Annual revenue"},
		{"crm_id", "CRM ID"},
		{"ARR", "ARR"},
		{"is-b2b", "Is B2B"},
		{"usd", "USD"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := readable(tt.give); got != tt.want {
			t.Errorf("readable(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestNumberAndPct(t *testing.T) {
	tests := []struct {
		give float64
		want string
	}{
		{3, "3"}, {76.84, "76.8"}, {0.123456, "0.123"}, {480, "480"}, {12345.6, "12,346"},
		{57_700_000, "57.7M"}, {1_600_000_000, "1.6B"}, {-250, "-250"}, {math.NaN(), "n/a"},
	}
	for _, tt := range tests {
		if got := number(tt.give); got != tt.want {
			t.Errorf("number(%v) = %q, want %q", tt.give, got, tt.want)
		}
	}
	for _, tt := range []struct {
		give float64
		want string
	}{{0, "0%"}, {0.004, "0.4%"}, {0.099, "9.9%"}, {0.356, "36%"}, {1, "100%"}} {
		if got := pct(tt.give); got != tt.want {
			t.Errorf("pct(%v) = %q, want %q", tt.give, got, tt.want)
		}
	}
	if got := pctRange(0.21, 0.27); got != "21–27%" {
		t.Errorf("pctRange(0.21, 0.27) = %q, want 21–27%%", got)
	}
}

func TestGrade(t *testing.T) {
	tests := []struct {
		status      string
		size, large float64
		want        icp.Severity
	}{
		{drift.StatusInsufficient, 9, 0.25, ""},
		{drift.StatusStable, 0.3, 0.25, ""},
		{drift.StatusWatch, 0.3, 0.25, icp.SeverityInfo},
		// A shift the test is sure of, PSI 0.05: never critical.
		{drift.StatusDrift, 0.05, 0.25, icp.SeverityWarning},
		{drift.StatusDrift, 0.25, 0.25, icp.SeverityCritical},
		{drift.StatusDrift, 0.86, 0.25, icp.SeverityCritical},
	}
	for _, tt := range tests {
		if got := grade(tt.status, tt.size, tt.large); got != tt.want {
			t.Errorf("grade(%s, %v, %v) = %q, want %q", tt.status, tt.size, tt.large, got, tt.want)
		}
	}
}

func TestMissingShift(t *testing.T) {
	base := icp.FeatureDrift{Kind: "numeric", Window: 1000, RefN: 5000, CorrectedAlpha: 0.01}
	tests := []struct {
		name             string
		missing, refMiss float64
		kind             string
		window           int
		want             bool
	}{
		{"forty points", 0.4, 0, "numeric", 1000, true},
		{"three points", 0.05, 0.02, "numeric", 1000, false},
		{"six points on a noisy base", 0.36, 0.30, "numeric", 1000, true},
		{"categorical features have a missing cell", 0.4, 0, "categorical", 1000, false},
		{"too few rows", 0.5, 0, "numeric", 100, false},
	}
	for _, tt := range tests {
		f := base
		f.MissingRate, f.RefMissingRate, f.Kind, f.Window = tt.missing, tt.refMiss, tt.kind, tt.window
		if _, got := missingShift(f, 200); got != tt.want {
			t.Errorf("%s: missingShift = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestReadableColumns(t *testing.T) {
	cols := []string{"annual_revenue_usd", "tech_stack", "employees", "region"}
	tests := []struct{ give, want string }{
		{"57.7M–1.6B annual_revenue_usd", "57.7M–1.6B annual revenue (USD)"},
		{"tech_stack has snowflake", "tech stack has snowflake"},
		{"employees 347–8863; industry in {Logistics}", "employees 347–8863; industry in {Logistics}"},
		{"subregion and region_code stay", "subregion and region_code stay"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := readableColumns(tt.give, cols); got != tt.want {
			t.Errorf("readableColumns(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}
