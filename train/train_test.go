package train

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
)

// cache holds one trained profile per configuration, since training is
// the slow part of these tests.
var cache sync.Map

type trainKey struct {
	rows   int
	seed   uint64
	target string
}

func generated(t testing.TB, rows int, seed uint64) *datasets.Table {
	t.Helper()
	tab, _ := synth.Generate(synth.Config{Rows: rows, Seed: seed})
	tab.Source = "generated.csv"
	return tab
}

// trained returns a profile trained with seed 1 on a generated table of
// rows rows (seed seed) under the label target, and the table.
func trained(t testing.TB, rows int, seed uint64, target string) (*profile.Profile, *datasets.Table) {
	t.Helper()
	k := trainKey{rows, seed, target}
	tab := generated(t, rows, seed)
	if p, ok := cache.Load(k); ok {
		return p.(*profile.Profile), tab
	}
	p, err := Train(tab, features.Infer(tab, features.InferConfig{}), Config{Seed: 1, Label: LabelConfig{Target: target}})
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	cache.Store(k, p)
	return p, tab
}

func TestTrainGenerated(t *testing.T) {
	p, tab := trained(t, 5000, 42, TargetWon)
	won := 0
	for _, s := range tab.Column("outcome").Str {
		if s == "won" {
			won++
		}
	}
	if p.Label.Positives != won {
		t.Errorf("positives = %d, want the %d won rows", p.Label.Positives, won)
	}
	if auc := p.Validation.Holdout.ROCAUC; auc < 0.72 || auc > 0.9 {
		t.Errorf("holdout ROC AUC = %.3f, want 0.72..0.90 on generated data", auc)
	}
	if lift := p.Validation.Holdout.LiftTopDecile; lift < 1.8 {
		t.Errorf("top-decile lift = %.2f, want at least 1.8", lift)
	}
	if n := p.Validation.Holdout.Rows; n != 1000 {
		t.Errorf("holdout rows = %d, want 1000 (20%% of 5000)", n)
	}
	if p.Validation.From < p.Data.From || p.Validation.To != p.Data.To {
		t.Errorf("holdout %s..%s is not the newest part of %s..%s", p.Validation.From, p.Validation.To, p.Data.From, p.Data.To)
	}
	if len(p.Segments) < 2 {
		t.Errorf("found %d segments, want at least 2", len(p.Segments))
	}
	for _, s := range p.Segments {
		if s.Name == "" || len(s.Traits) == 0 || s.RuleText == "" || len(s.Centroid) != p.Encoder.Width {
			t.Errorf("segment %s is not described: %+v", s.ID, s)
		}
	}
	if tt := p.Tiers; !(tt.Tier1 > tt.Tier2 && tt.Tier2 > tt.Tier3) {
		t.Errorf("tiers %+v are not strictly decreasing", tt)
	}
}

func TestIdealLabel(t *testing.T) {
	p, tab := trained(t, 3000, 7, TargetIdeal)
	won := 0
	for _, s := range tab.Column("outcome").Str {
		if s == "won" {
			won++
		}
	}
	if p.Label.Positives >= won || p.Label.Positives < won/3 {
		t.Errorf("ideal positives = %d of %d won, want fewer than won but not a handful", p.Label.Positives, won)
	}
	if p.Label.LTVColumn != "ltv_usd" || p.Label.ChurnColumn != "churned" || p.Label.LTVThreshold <= 0 {
		t.Errorf("label = %+v, want churn and an LTV threshold", p.Label)
	}
	if !strings.Contains(p.Label.Definition, "did not churn") {
		t.Errorf("definition %q does not mention churn", p.Label.Definition)
	}
}

func TestTrainDeterministic(t *testing.T) {
	tab := generated(t, 2000, 3)
	var out [2]bytes.Buffer
	for k := range out {
		p, err := Train(tab, features.Infer(tab, features.InferConfig{}), Config{Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Encode(&out[k]); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(out[0].Bytes(), out[1].Bytes()) {
		t.Errorf("two trainings with the same data and seed gave different artifacts")
	}
}

func TestTrainBadInput(t *testing.T) {
	read := func(t *testing.T, csv string) *datasets.Table {
		tab, err := datasets.Read(strings.NewReader(csv), "bad.csv", nil)
		if err != nil {
			t.Fatal(err)
		}
		return tab
	}
	var many strings.Builder
	many.WriteString("industry,employees,outcome,close_date\n")
	for i := 0; i < 40; i++ {
		many.WriteString("SaaS,10,won,2024-01-01\n")
	}
	tests := []struct {
		name string
		give string
		want string
	}{
		{"no outcome column", "industry,employees\nSaaS,10\nRetail,20\n", "no outcome column"},
		{"single class", many.String(), "single outcome class"},
		{"all open", "industry,employees,outcome\nSaaS,10,open\nRetail,20,engaging\n", "no closed deals"},
		{"no features", "account_id,outcome\nA,won\nB,lost\n", "no feature columns"},
		{"negative employees", "industry,employees,outcome\nSaaS,10,won\nRetail,-20,lost\n", "bad.csv: line 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := read(t, tt.give)
			_, err := Train(tab, features.Infer(tab, features.InferConfig{}), Config{})
			if err == nil || !errors.Is(err, icp.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Train error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestRetainedLabel(t *testing.T) {
	var b strings.Builder
	b.WriteString("customerID,contract,tenure,Churn\n")
	for i := 0; i < 400; i++ {
		contract, churn := "Month-to-month", "Yes"
		if i%3 == 0 {
			contract, churn = "Two year", "No"
		} else if i%5 == 0 {
			churn = "No"
		}
		fmt.Fprintf(&b, "C-%04d,%s,%d,%s\n", i, contract, i%70, churn)
	}
	tab, err := datasets.Read(strings.NewReader(b.String()), "telco.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Train(tab, features.Infer(tab, features.InferConfig{}), Config{})
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	if p.Label.Target != TargetRetained || p.Label.Positives == 0 || p.Label.Negatives == 0 {
		t.Errorf("label = %+v, want retained customers of both classes", p.Label)
	}
	if p.Validation.Holdout.ROCAUC < 0.8 {
		t.Errorf("holdout ROC AUC = %.3f on a contract-driven churn table, want at least 0.8", p.Validation.Holdout.ROCAUC)
	}
}

// TestLearnRule checks that a surrogate tree recovers a planted rule on
// raw values: members are SaaS or FinTech with 50 to 500 employees.
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

func TestBacktest(t *testing.T) {
	p, _ := trained(t, 5000, 42, TargetWon)
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
