package main

import (
	"bytes"
	"context"
	"math"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/train"
)

// fakeOutcomes lists fixed outcomes and records the window asked.
type fakeOutcomes struct {
	outs  []icp.Outcome
	since time.Time
}

func (f *fakeOutcomes) Outcomes(_ context.Context, since time.Time, _ int) ([]icp.Outcome, error) {
	f.since = since
	return f.outs, nil
}

// TestRecentChannels checks the dashboard's recent outcomes by channel:
// recorded outcomes of a model trained on the channels dialect, counted by
// their account's Lead Source, winners placed by the model.
func TestRecentChannels(t *testing.T) {
	e, err := synth.GenerateExport(synth.DialectChannels, synth.Config{Rows: 1500, Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := e.Sheets[0].WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	tab, err := datasets.Read(&buf, "deals.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := features.Infer(tab, features.InferConfig{})
	p, err := train.Train(s.Clean(tab), s, train.Config{Seed: 1, Label: train.LabelConfig{Target: train.TargetWon}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	stage, value := tab.Column("Deal Stage"), tab.Column("Contract Value")
	lister := &fakeOutcomes{}
	won := map[string]int{}
	for i := range 400 {
		if st := stage.Str[i]; st != "Closed Won" && st != "Closed Lost" {
			continue
		}
		acc := tab.Account(i)
		o := icp.Outcome{AccountID: tab.Column("Account ID").Str[i], Account: acc, Won: stage.Str[i] == "Closed Won", CloseDate: now.Add(-time.Duration(i) * time.Hour)}
		if o.Won {
			v := value.Num[i]
			o.LTVUSD = &v
			ch, _ := acc["Lead Source"].(string)
			won[ch]++
		}
		lister.outs = append(lister.outs, o)
	}
	got, err := recentChannels(lister, func() *profile.Profile { return p }, func() time.Time { return now })(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !lister.since.Equal(now.Add(-recentWindow)) {
		t.Errorf("asked for outcomes since %v, want %v", lister.since, now.Add(-recentWindow))
	}
	if got == nil || got.Column != "Lead Source" || got.Outcomes != len(lister.outs) || !got.HasValue {
		t.Fatalf("summary %+v, want %d outcomes by Lead Source with values", got, len(lister.outs))
	}
	total, share := 0, 0.0
	for _, r := range got.Rows {
		name := r.Channel
		if name == profile.NoChannel {
			name = ""
		}
		if r.Won != won[name] {
			t.Errorf("%s: %d won, the outcomes hold %d", r.Channel, r.Won, won[name])
		}
		if r.Won > 0 && !(r.WinnersICP >= 0 && r.WinnersICP <= 1 && r.WinnersAnti >= 0 && r.WinnersAnti <= 1 && r.Value > 0) {
			t.Errorf("%s: winners in the ICP %v, in the anti-ICP %v, value %v", r.Channel, r.WinnersICP, r.WinnersAnti, r.Value)
		}
		total += r.Won
		share += r.ShareOfWinners
	}
	if total != got.Won || math.Abs(share-1) > 1e-9 {
		t.Errorf("rows hold %d winners (shares %.6f), the summary %d", total, share, got.Won)
	}

	p.Schema.Channel = ""
	if got, err := recentChannels(lister, func() *profile.Profile { return p }, func() time.Time { return now })(context.Background()); got != nil || err != nil {
		t.Errorf("without a channel column: %+v, %v; want no summary", got, err)
	}
}
