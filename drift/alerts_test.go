package drift

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/icpengine/icp"
)

var testTime = time.Date(2026, 11, 22, 18, 0, 0, 0, time.UTC)

func TestFeatureAlert(t *testing.T) {
	now := time.Date(2026, 11, 22, 18, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		give        icp.FeatureDrift
		wantOK      bool
		wantKey     string
		wantKind    string
		wantSev     icp.Severity
		wantSummary string
	}{
		{
			name: "wasserstein critical",
			give: icp.FeatureDrift{Feature: "employees", Kind: "numeric", Test: WassersteinTest, Statistic: 0.34,
				Threshold: 0.1, PValue: 1e-9, PSI: 0.2, PSIBand: "watch", Window: 1000, N: 980, Status: StatusDrift},
			wantOK: true, wantKey: "feature_drift:employees", wantKind: KindFeatureDrift, wantSev: icp.SeverityCritical,
			wantSummary: "employees drifted: Wasserstein 0.34 of a reference standard deviation (threshold 0.1) over the last 1,000 scored accounts",
		},
		{
			name: "ks warning",
			give: icp.FeatureDrift{Feature: "seats", Kind: "numeric", Test: KSTest, Statistic: 0.09,
				Threshold: 0.0038, PValue: 0.001, Tests: 13, PSI: 0.05, PSIBand: "stable", Window: 800, Status: StatusDrift},
			wantOK: true, wantKey: "feature_drift:seats", wantKind: KindFeatureDrift, wantSev: icp.SeverityWarning,
			wantSummary: "seats drifted: KS distance 0.09, p = 0.001 (threshold 0.0038 after Bonferroni over 13 features) over the last 800 scored accounts",
		},
		{
			name: "tier mix",
			give: icp.FeatureDrift{Feature: "tier_mix", Kind: "tier_mix", Test: ChiSquareGOFTest, Statistic: 40, DF: 3,
				Threshold: 0.05, PValue: 1e-8, PSI: 0.3, PSIBand: "alert", Window: 12345, Status: StatusDrift},
			wantOK: true, wantKey: "tier_mix_drift:tier_mix", wantKind: KindTierMixDrift, wantSev: icp.SeverityCritical,
			wantSummary: "The tier mix drifted: chi-square 40 on 3 df",
		},
		{
			name: "watch is not an alert",
			give: icp.FeatureDrift{Feature: "employees", Status: StatusWatch},
		},
		{
			name: "insufficient data is not an alert",
			give: icp.FeatureDrift{Feature: "employees", Status: StatusInsufficient},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := FeatureAlert(tt.give, now)
			if ok != tt.wantOK {
				t.Fatalf("FeatureAlert(%s) ok = %v, want %v", tt.give.Status, ok, tt.wantOK)
			}
			if !ok {
				return
			}
			if got.GroupKey != tt.wantKey || got.Kind != tt.wantKind || got.Severity != tt.wantSev {
				t.Errorf("FeatureAlert = %s %s %s, want %s %s %s", got.GroupKey, got.Kind, got.Severity, tt.wantKey, tt.wantKind, tt.wantSev)
			}
			if !strings.HasPrefix(got.Summary, tt.wantSummary) {
				t.Errorf("FeatureAlert summary = %q, want prefix %q", got.Summary, tt.wantSummary)
			}
			if got.Status != icp.AlertOpen || !got.FirstSeen.Equal(now) || got.Count != 1 || !strings.HasPrefix(got.ID, "drift-") {
				t.Errorf("FeatureAlert = %+v, want an open alert first seen now", got)
			}
			again, _ := FeatureAlert(tt.give, now.Add(time.Hour))
			if again.ID != got.ID {
				t.Errorf("FeatureAlert ID = %s then %s, want stable", got.ID, again.ID)
			}
			if _, err := json.Marshal(got); err != nil {
				t.Errorf("json.Marshal(alert) error %v", err)
			}
		})
	}
}

func TestReportAlerts(t *testing.T) {
	now := time.Date(2026, 11, 22, 18, 0, 0, 0, time.UTC)
	icpRes, err := ICPDrift(ICPDriftInput{ExpectedOutsideShare: 0.2, Winners: 50, WinnersOutside: 25})
	if err != nil {
		t.Fatal(err)
	}
	icpRes.Scores = &icp.FeatureDrift{Feature: "winner_score", Kind: "winner_score", Test: WassersteinTest,
		Statistic: 0.5, Threshold: 0.1, Window: 50, Status: StatusDrift}
	score := icp.FeatureDrift{Feature: "score", Kind: "score", Test: WassersteinTest, Statistic: 0.15, Threshold: 0.1, Window: 1000, Status: StatusDrift}
	r := icp.DriftResult{
		Time: now,
		Features: []icp.FeatureDrift{
			{Feature: "a", Kind: "numeric", Status: StatusStable},
			{Feature: "b", Kind: "categorical", Test: CohensWTest, Statistic: 0.12, Threshold: 0.1, JSDistance: 0.05, Window: 1000, Status: StatusDrift},
		},
		Score: &score,
		ICP:   &icpRes,
	}
	got := Alerts(&r)
	var keys []string
	for _, a := range got {
		keys = append(keys, a.GroupKey)
	}
	want := []string{"feature_drift:b", "score_drift:score", "icp_drift:winners_outside", "icp_drift:winner_scores"}
	if strings.Join(keys, ",") != strings.Join(want, ",") {
		t.Fatalf("Report.Alerts keys = %v, want %v", keys, want)
	}
	if s := got[2].Summary; !strings.Contains(s, "25 of the last 50 winners (50%)") || got[2].Severity != icp.SeverityCritical {
		t.Errorf("ICP alert = %s %q, want critical with counts", got[2].Severity, s)
	}
	if !strings.Contains(got[0].Summary, "Cohen's w") || got[0].Evidence["js_distance"] != 0.05 {
		t.Errorf("categorical alert = %q, %v, want Cohen's w summary and JS evidence", got[0].Summary, got[0].Evidence)
	}
}

func TestThousands(t *testing.T) {
	tests := []struct {
		give int
		want string
	}{
		{0, "0"}, {999, "999"}, {1000, "1,000"}, {1234567, "1,234,567"}, {-12345, "-12,345"},
	}
	for _, tt := range tests {
		if got := thousands(tt.give); got != tt.want {
			t.Errorf("thousands(%d) = %q, want %q", tt.give, got, tt.want)
		}
	}
}
