package emerging

import (
	"strings"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
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
	cfg := synth.Config{Rows: 6000, Seed: 21, Emerging: true, EmergingFrom: from}
	em, _ := synth.Generate(cfg)
	cfg.Emerging = false
	ctl, _ := synth.Generate(cfg)
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
		// No control cluster may reach the watcher's alert level
		// (watch.Config.EmergingAlpha, 1e-5 by default): ordinary winners
		// outside the segments do cluster, and the tighter the segments,
		// the more of them there are.
		if g.PValue < 1e-5 {
			t.Errorf("Find(control) = %q with p %.3g, want p >= 1e-5", g.Description, g.PValue)
		}
		if strings.Contains(g.Key, "Logistics") && strings.Contains(g.Key, "snowflake") {
			t.Errorf("Find(control) = %q, want no Logistics/snowflake segment", g.Description)
		}
	}
}

// TestRecords checks that Records leaves out the winners that no longer
// fit the schema and gives the segments of Find on the others, with member
// indexes into the winners given and readable traits.
func TestRecords(t *testing.T) {
	p, em, _, earlier := emergingFixture(t)
	accounts := func(outs []icp.Outcome) []icp.Account {
		a := make([]icp.Account, len(outs))
		for i, o := range outs {
			a[i] = o.Account
		}
		return a
	}
	good, base := accounts(em[:200]), accounts(earlier[len(earlier)-400:])
	bad := icp.Account{"employees": "many"}
	winners := append([]icp.Account{bad}, good...)
	want, err := Find(p, good, base, Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Records(p, winners, append(base, bad), Config{Seed: 1})
	if err != nil {
		t.Fatalf("Records(with a bad winner) = %v, want the bad one left out", err)
	}
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("Records = %d segments, Find = %d; want the same, and some", len(got), len(want))
	}
	for k, g := range got {
		w := want[k]
		if g.Key != w.Key || g.Count != w.Count || g.PValue != w.PValue || g.Winners != len(winners) || len(g.Traits) != len(w.Traits) {
			t.Errorf("Records[%d] = %s count %d p %g winners %d, want %s count %d p %g winners %d",
				k, g.Key, g.Count, g.PValue, g.Winners, w.Key, w.Count, w.PValue, len(winners))
		}
		for j, m := range g.Members {
			if m != w.Members[j]+1 {
				t.Fatalf("Records[%d].Members[%d] = %d, want %d (the bad winner first)", k, j, m, w.Members[j]+1)
			}
		}
		for j, tr := range w.Traits {
			if g.Traits[j] != tr.Text {
				t.Errorf("Records[%d].Traits[%d] = %q, want %q", k, j, g.Traits[j], tr.Text)
			}
		}
	}
}
