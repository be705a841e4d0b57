package emerging

import (
	"strings"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/train"
)

// emergingFixture trains on the deals that closed before the emerging
// segment appeared and returns the profile and the later winners of the
// emerging table and of the same table without the segment.
func emergingFixture(t *testing.T) (p *profile.Profile, emerging, control, earlier []icp.Outcome) {
	t.Helper()
	from := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	cfg := datasets.GenerateConfig{Rows: 6000, Seed: 21, Emerging: true, EmergingFrom: from}
	em, _ := datasets.Generate(cfg)
	cfg.Emerging = false
	ctl, _ := datasets.Generate(cfg)
	s := features.Infer(em, features.InferConfig{})
	before := func(tab *datasets.Table) (train []int) {
		c := tab.Column("close_date")
		for i, d := range c.Num {
			if d < float64(from.Unix())/86400 {
				train = append(train, i)
			}
		}
		return train
	}
	p, err := train.Train(em.Take(before(em)), s, train.Config{Seed: 1})
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	winners := func(tab *datasets.Table, after bool) []icp.Outcome {
		outs, err := s.TableOutcomes(tab)
		if err != nil {
			t.Fatal(err)
		}
		var w []icp.Outcome
		for _, o := range outs {
			if o.Won && o.CloseDate.Before(from) != after {
				w = append(w, o)
			}
		}
		return w
	}
	return p, winners(em, true), winners(ctl, true), winners(em, false)
}

func TestFind(t *testing.T) {
	p, em, ctl, earlier := emergingFixture(t)
	accounts := func(outs []icp.Outcome, n int) []icp.Account {
		outs = outs[:min(n, len(outs))]
		a := make([]icp.Account, len(outs))
		for i, o := range outs {
			a[i] = o.Account
		}
		return a
	}
	base := accounts(earlier[len(earlier)-400:], 400)
	got, err := Find(p, accounts(em, 200), base, Config{Seed: 1})
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	for _, g := range got {
		t.Logf("emerging: %s [%s] observed %.3f expected %.3f p=%.3g", g.Description, g.Key, g.Observed, g.Expected, g.PValue)
	}
	// The strongest Logistics/snowflake cluster is the emerging segment;
	// smaller ones around it may show up with weaker evidence.
	var best *Segment
	for k := range got {
		g := &got[k]
		if strings.Contains(g.Key, "Logistics") && strings.Contains(g.Key, "snowflake") && (best == nil || g.PValue < best.PValue) {
			best = g
		}
	}
	if best == nil {
		t.Fatalf("Find(emerging winners) = %+v, want a Logistics/snowflake segment", got)
	}
	for _, want := range []string{"Logistics", "snowflake", "employees", "no current segment covers them"} {
		if !strings.Contains(best.Description, want) {
			t.Errorf("Find description = %q, want it to name %q", best.Description, want)
		}
	}
	if best.PValue > 1e-4 || best.Observed <= best.Expected || best.Baseline != 400 {
		t.Errorf("Find = p %.3g, observed %.3f, expected %.3f, baseline %d; want p <= 1e-4, observed > expected, baseline 400",
			best.PValue, best.Observed, best.Expected, best.Baseline)
	}
	if !strings.Contains(best.Key, "employees:high") || best.Count < 10 || len(best.Members) != best.Count {
		t.Errorf("Find = key %q, count %d, %d members; want employees:high and >= 10 members", best.Key, best.Count, len(best.Members))
	}
	got, err = Find(p, accounts(ctl, 200), base, Config{Seed: 1})
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	for _, g := range got {
		t.Logf("control: %s [%s] p=%.3g", g.Description, g.Key, g.PValue)
		if g.PValue < 1e-3 {
			t.Errorf("Find(control) = %q with p %.3g, want p >= 1e-3", g.Description, g.PValue)
		}
		if strings.Contains(g.Key, "Logistics") && strings.Contains(g.Key, "snowflake") {
			t.Errorf("Find(control) = %q, want no Logistics/snowflake segment", g.Description)
		}
	}
}
