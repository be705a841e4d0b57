package watch

import (
	"math"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/drift"
)

func TestPerformance(t *testing.T) {
	// ranked returns n outcomes whose scores rank every win above every loss.
	ranked := func(n, won int) []scored {
		out := make([]scored, n)
		for i := range out {
			out[i] = scored{score: float64(i) / float64(n), won: i >= n-won}
		}
		return out
	}
	falling := []icp.TierKPI{{Tier: icp.Tier1, Deals: 50, WinRate: 0.6}, {Tier: icp.Tier2, Deals: 50, WinRate: 0.3},
		{Tier: icp.Tier3}, {Tier: icp.NonFit, Deals: 100, WinRate: 0.05}}
	inverted := []icp.TierKPI{{Tier: icp.Tier1, Deals: 50, WinRate: 0.2}, {Tier: icp.Tier2, Deals: 50, WinRate: 0.4}}
	tests := []struct {
		name       string
		perf       []scored
		kpis       []icp.TierKPI
		wantStatus string
		wantAUC    float64
		wantFall   bool
	}{
		{"too few", ranked(99, 30), falling, drift.StatusInsufficient, 0, false},
		{"one class", ranked(200, 0), falling, drift.StatusInsufficient, 0, false},
		{"ranked, tiers falling", ranked(200, 40), falling, drift.StatusStable, 1, true},
		{"tiers inverted", ranked(200, 40), inverted, drift.StatusWatch, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := performance(tt.perf, tt.kpis)
			if got.Status != tt.wantStatus || math.Abs(got.ROCAUC-tt.wantAUC) > 1e-12 || got.TiersFalling != tt.wantFall || got.Outcomes != len(tt.perf) {
				t.Errorf("performance = %+v, want status %s, AUC %v, falling %v", got, tt.wantStatus, tt.wantAUC, tt.wantFall)
			}
			if got.Detail == "" {
				t.Errorf("performance has no detail")
			}
		})
	}
}
