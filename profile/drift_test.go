package profile_test

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/drift"
	"github.com/icpengine/icp/train"
)

func TestDriftReference(t *testing.T) {
	p, tab := trained(t, 3000, 7, train.TargetIdeal)
	ref := p.Drift
	if ref == nil || len(ref.Numeric) == 0 || len(ref.Categorical) == 0 || ref.Score == nil || ref.WinnerScores == nil {
		t.Fatalf("drift reference is incomplete: %+v", ref)
	}
	// Winners are placed in tier 3 or non-fit less often than accounts at
	// large, of which those tiers hold 70%.
	if s := ref.ExpectedOutsideShare; !(s > 0 && s < 0.65) {
		t.Errorf("expected share of winners outside the ICP = %v, want in (0, 0.65)", s)
	}
	var share float64
	for _, v := range ref.Tiers {
		share += v
	}
	if math.Abs(share-1) > 1e-9 {
		t.Errorf("tier shares sum to %v, want 1", share)
	}

	// Accounts drawn like the training data do not drift; the same accounts
	// ten times larger do.
	same := drift.NewMonitor(ref, drift.MonitorConfig{WindowSize: 1000})
	bigger := drift.NewMonitor(ref, drift.MonitorConfig{WindowSize: 1000})
	for i := 0; i < 1000; i++ {
		acc := tab.Account(i)
		s, err := p.Score(context.Background(), acc)
		if err != nil {
			t.Fatal(err)
		}
		row, err := p.DriftRow(acc, s)
		if err != nil {
			t.Fatal(err)
		}
		same.Observe(row)
		if v, ok := acc["employees"].(json.Number); ok {
			f, _ := v.Float64()
			acc["employees"] = json.Number(strconv.FormatFloat(10*f, 'g', -1, 64))
		}
		if row, err = p.DriftRow(acc, s); err != nil {
			t.Fatal(err)
		}
		bigger.Observe(row)
	}
	status := func(rep icp.DriftResult, feature string) string {
		for _, f := range rep.Features {
			if f.Feature == feature {
				return f.Status
			}
		}
		return "absent"
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range same.Evaluate(now).Features {
		if f.Status == "drift" {
			t.Errorf("training accounts drift on %s: %+v", f.Feature, f)
		}
	}
	if got := status(bigger.Evaluate(now), "employees"); got != "drift" {
		t.Errorf("employees ten times larger: status %q, want drift", got)
	}
	if got := status(same.Evaluate(now), "tech_stack has hubspot"); got == "absent" {
		t.Errorf("tag features are not monitored")
	}
}
