package rollup_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/rollup"
	"github.com/icpengine/icp/train"
)

// twoTable generates the twotable dialect and reads its two sheets as
// files would be read.
func twoTable(t *testing.T, rows int) (*synth.Export, *datasets.Table, *datasets.Table) {
	t.Helper()
	e, err := synth.GenerateExport(synth.DialectTwoTable, synth.Config{Rows: rows, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	read := func(s *synth.Sheet) *datasets.Table {
		var buf bytes.Buffer
		if err := s.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		tab, err := datasets.Read(&buf, s.Name+".csv", nil)
		if err != nil {
			t.Fatal(err)
		}
		return tab
	}
	return e, read(&e.Sheets[0]), read(&e.Sheets[1])
}

func TestJoinTwoTable(t *testing.T) {
	e, accounts, deals := twoTable(t, 3000)
	joined, rep, err := rollup.Join(accounts, deals, nil, rollup.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.AccountKey != "Account ID" || rep.DealKey != "AccountId" || rep.KeyOverlap != 1 {
		t.Errorf("key %q = %q (overlap %v), want \"Account ID\" = \"AccountId\" (1)", rep.AccountKey, rep.DealKey, rep.KeyOverlap)
	}
	if rep.Stage != "Stage" || rep.CloseDate != "Close Date" || rep.Created != "Created Date" || rep.Amount != "Amount" {
		t.Errorf("stage %q, close %q, created %q, amount %q", rep.Stage, rep.CloseDate, rep.Created, rep.Amount)
	}
	// The account-level outcome, straight from the raw sheet.
	want := make(map[string]string)
	for _, d := range e.Sheets[1].Rows {
		id, stage := d[1], d[3]
		switch {
		case stage == "Closed Won":
			want[id] = "won"
		case stage == "Closed Lost" && want[id] != "won":
			want[id] = "lost"
		case want[id] == "":
			want[id] = "open"
		}
	}
	ids, out := joined.Column("Account ID"), joined.Column(rollup.OutcomeColumn)
	for i := range joined.Rows() {
		if got := out.Str[i]; got != want[ids.Str[i]] {
			t.Fatalf("account %s: outcome %q, want %q", ids.Str[i], got, want[ids.Str[i]])
		}
	}
	if rep.Stats.Won+rep.Stats.Lost+rep.Stats.Open != joined.Rows() || rep.Stats.Orphans != 0 {
		t.Errorf("stats %+v for %d accounts", rep.Stats, joined.Rows())
	}

	// No deal column is a feature; the derived outcomes are outcomes.
	s, err := features.InferWith(joined, features.InferConfig{}, rep.Override)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range s.Features() {
		if deals.Column(c.Name) != nil && accounts.Column(c.Name) == nil || strings.HasPrefix(c.Name, "deal_") || c.Name == rollup.ValueColumn {
			t.Errorf("deal column %q is a feature (%s)", c.Name, c.Reason)
		}
	}
	if s.Outcomes.Won != rollup.OutcomeColumn || s.Outcomes.CloseDate != rollup.CloseDateColumn ||
		s.Outcomes.CycleDays != rollup.CycleColumn || s.Outcomes.LTV != rollup.ValueColumn {
		t.Errorf("outcomes %+v", s.Outcomes)
	}
	for _, name := range []string{"Forecast Category", "Type", "Next Step"} {
		if !slices.Contains(rep.LeftOut, name) {
			t.Errorf("%q is not reported as left out: %v", name, rep.LeftOut)
		}
	}
}

// A model trained on the join ranks accounts by their true win
// probability: the generator's ground truth, at the account level.
func TestTrainedOnTheJoinFollowsTheTruth(t *testing.T) {
	e, accounts, deals := twoTable(t, 6000)
	joined, rep, err := rollup.Join(accounts, deals, nil, rollup.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := features.InferWith(joined, features.InferConfig{}, rep.Override)
	if err != nil {
		t.Fatal(err)
	}
	clean := s.Clean(joined)
	p, err := train.Train(clean, s, train.Config{Seed: 1, Label: train.LabelConfig{Target: train.TargetWon}})
	if err != nil {
		t.Fatal(err)
	}
	scores, err := p.ScoreTable(clean, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	truth := make(map[string]synth.AccountTruth)
	for _, tr := range e.Truth {
		truth[tr.AccountID] = tr
	}
	sum := map[icp.Tier]float64{}
	n := map[icp.Tier]int{}
	var antiHit, anti int
	for _, sc := range scores {
		tr := truth[sc.AccountID]
		sum[sc.Tier] += tr.WinProb
		n[sc.Tier]++
		if tr.AntiICP {
			anti++
			if sc.AntiICP != nil || sc.Tier == icp.NonFit {
				antiHit++
			}
		}
	}
	mean := func(t icp.Tier) float64 { return sum[t] / float64(max(n[t], 1)) }
	if !(mean(icp.Tier1) > mean(icp.Tier2) && mean(icp.Tier2) > mean(icp.NonFit) && mean(icp.Tier1) > 2*mean(icp.NonFit)) {
		t.Errorf("true win probability by tier: tier1 %.3f, tier2 %.3f, tier3 %.3f, non-fit %.3f: not falling",
			mean(icp.Tier1), mean(icp.Tier2), mean(icp.Tier3), mean(icp.NonFit))
	}
	if share := float64(antiHit) / float64(anti); share < 0.8 {
		t.Errorf("%.0f%% of the true anti-ICP accounts are flagged or non-fit, want 80%% or more", 100*share)
	}
	t.Logf("true win probability by tier: tier1 %.3f, tier2 %.3f, tier3 %.3f, non-fit %.3f; %d of %d anti-ICP accounts flagged or non-fit",
		mean(icp.Tier1), mean(icp.Tier2), mean(icp.Tier3), mean(icp.NonFit), antiHit, anti)
}

func TestJoinKeyAndChurnEvents(t *testing.T) {
	accounts := mustRead(t, "id,industry,seats\nA1,SaaS,3\nA2,Retail,9\nA3,SaaS,4\n")
	events := mustRead(t, "event,customer,when\nE1,A2,2024-05-01\nE2,A2,2024-03-01\nE3,Z9,2024-01-01\n")
	tests := []struct {
		name string
		cfg  rollup.Config
		key  string
	}{
		{"found by overlap", rollup.Config{}, "customer"},
		{"told", rollup.Config{AccountKey: "id", DealKey: "customer"}, "customer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			joined, rep, err := rollup.Join(accounts, nil, events, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if rep.EventKey != tt.key || rep.EventDate != "when" || rep.Churned != 1 {
				t.Errorf("report %+v", rep)
			}
			d := joined.Column(rollup.ChurnDateColumn)
			want, _ := datasets.ParseDate("2024-03-01")
			if d.Num[1] != want || !d.IsMissing(0) || !d.IsMissing(2) {
				t.Errorf("churn dates %v, want only A2 on 2024-03-01", d.Num)
			}
		})
	}
	if _, _, err := rollup.Join(accounts, mustRead(t, "x,y\nfoo,1.5\nbar,2.5\n"), nil, rollup.Config{}); err == nil || !strings.Contains(err.Error(), "no key found") {
		t.Errorf("a deals table sharing no key: error %v, want no key found", err)
	}
}

func mustRead(t *testing.T, csv string) *datasets.Table {
	t.Helper()
	tab, err := datasets.Read(strings.NewReader(csv), "in.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}
