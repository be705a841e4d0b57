package profile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
)

var update = flag.Bool("update", false, "update golden files")

// trained caches one profile per configuration, since training is the slow
// part of these tests.
var trained sync.Map

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

func train(t testing.TB, rows int, seed uint64, target string) (*Profile, *datasets.Table) {
	t.Helper()
	k := trainKey{rows, seed, target}
	tab := generated(t, rows, seed)
	if p, ok := trained.Load(k); ok {
		return p.(*Profile), tab
	}
	p, err := Train(tab, features.Infer(tab, features.InferConfig{}), Config{Seed: 1, Label: LabelConfig{Target: target}})
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	trained.Store(k, p)
	return p, tab
}

func TestTrainGenerated(t *testing.T) {
	p, tab := train(t, 5000, 42, TargetWon)
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
	p, tab := train(t, 3000, 7, TargetIdeal)
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

func TestArtifactRoundTrip(t *testing.T) {
	p, tab := train(t, 3000, 7, TargetIdeal)
	path := filepath.Join(t.TempDir(), "m", "model.json")
	if err := p.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	var a, b bytes.Buffer
	if err := p.Encode(&a); err != nil {
		t.Fatal(err)
	}
	if err := back.Encode(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("decode then encode changed the artifact")
	}
	for i := 0; i < 50; i++ {
		acc := tab.Account(i)
		s1, err1 := p.Score(context.Background(), acc)
		s2, err2 := back.Score(context.Background(), acc)
		if err1 != nil || err2 != nil {
			t.Fatalf("Score: %v, %v", err1, err2)
		}
		if s1.Score != s2.Score || s1.Tier != s2.Tier {
			t.Fatalf("row %d: decoded model scores %v (%s), original %v (%s)", i, s2.Score, s2.Tier, s1.Score, s1.Tier)
		}
	}
}

// reseal recomputes the checksum of an edited artifact, as an attacker or a
// careless hand edit would, to reach the structural checks.
func reseal(t *testing.T, art []byte, edit func(profile string) string) []byte {
	t.Helper()
	var env envelope
	if err := json.Unmarshal(art, &env); err != nil {
		t.Fatal(err)
	}
	body := edit(string(env.Profile))
	sum, err := profileSum([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	env.Profile = json.RawMessage(body)
	env.Checksum = sum
	out, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDecodeRejects(t *testing.T) {
	p, _ := train(t, 3000, 7, TargetIdeal)
	var buf bytes.Buffer
	if err := p.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	art := buf.Bytes()
	tests := []struct {
		name string
		give []byte
		want string
	}{
		{"empty", nil, "not JSON"},
		{"truncated", art[:len(art)/2], "not JSON"},
		{"not an artifact", []byte(`{"hello": 1}`), "not an ICP model artifact"},
		{"newer format", bytes.Replace(art, []byte(`"format_version": 1`), []byte(`"format_version": 2`), 1), "newer than this program reads"},
		{"tampered", bytes.Replace(art, []byte(`"tier1": 0.`), []byte(`"tier1": 1.`), 1), "checksum mismatch"},
		{"bad checksum", bytes.Replace(art, []byte(`"checksum": "sha256:`), []byte(`"checksum": "sha256:00`), 1), "checksum mismatch"},
		{"model kind swapped", reseal(t, art, func(s string) string {
			if strings.Contains(s, `"kind": "gbm"`) {
				return strings.Replace(s, `"kind": "gbm"`, `"kind": "logistic"`, 1)
			}
			return strings.Replace(s, `"kind": "logistic"`, `"kind": "gbm"`, 1)
		}), "does not fit"},
		{"encoder offsets", reseal(t, art, func(s string) string {
			return strings.Replace(s, `"offset": 0,`, `"offset": 1,`, 1)
		}), "offset 1, want 0"},
		{"unknown field", reseal(t, art, func(s string) string {
			return strings.Replace(s, `"version":`, `"surprise": 1, "version":`, 1)
		}), "unknown field"},
		{"tiers upside down", reseal(t, art, func(s string) string {
			return strings.Replace(s, `"tier1": `, `"tier1": -`, 1)
		}), "not decreasing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(bytes.NewReader(tt.give))
			if err == nil || !errors.Is(err, icp.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode error = %v, want one containing %q", err, tt.want)
			}
		})
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

func TestScoreAttributions(t *testing.T) {
	p, tab := train(t, 3000, 7, TargetIdeal)
	for i := 0; i < 300; i++ {
		s, err := p.Score(context.Background(), tab.Account(i))
		if err != nil {
			t.Fatalf("Score(row %d): %v", i, err)
		}
		sum := s.BaseValue
		for _, a := range s.Attributions {
			sum += a.Contribution
		}
		if math.Abs(sum-s.Margin) > 1e-9 {
			t.Fatalf("row %d: base + contributions = %v, margin %v", i, sum, s.Margin)
		}
		if want := p.Model.Calibration.Prob(s.Margin); math.Abs(want-s.Score) > 1e-12 {
			t.Fatalf("row %d: score %v is not the calibrated margin %v (%v)", i, s.Score, s.Margin, want)
		}
		if len(s.Attributions) != len(p.Encoder.Columns) {
			t.Fatalf("row %d: %d attributions for %d columns", i, len(s.Attributions), len(p.Encoder.Columns))
		}
		if s.Tier != p.Tiers.Tier(s.Score) || s.Percentile < 0 || s.Percentile > 100 {
			t.Fatalf("row %d: tier %s, percentile %v for score %v", i, s.Tier, s.Percentile, s.Score)
		}
		if want := tab.Column("account_id").Str[i]; s.AccountID != want {
			t.Fatalf("row %d: account id %q, want %q", i, s.AccountID, want)
		}
	}
	// The batch path agrees with the single-account path.
	all, err := p.ScoreTable(tab.Take([]int{0, 1, 2}))
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range all {
		one, _ := p.Score(context.Background(), tab.Account(i))
		if math.Abs(one.Score-s.Score) > 1e-12 {
			t.Errorf("row %d: ScoreTable %v, Score %v", i, s.Score, one.Score)
		}
	}
}

func TestScoreValidation(t *testing.T) {
	p, _ := train(t, 3000, 7, TargetIdeal)
	_, err := p.Score(context.Background(), icp.Account{"employees": json.Number("-4"), "industri": "SaaS", "tech_stack": []any{"a", 3.0}})
	var verr *icp.ValidationError
	if !errors.As(err, &verr) || len(verr.Fields) != 3 {
		t.Fatalf("Score error = %v, want three field errors", err)
	}
	want := []string{"employees", "industri", "tech_stack"}
	for k, f := range verr.Fields {
		if f.Field != want[k] {
			t.Errorf("field %d = %q, want %q", k, f.Field, want[k])
		}
	}
}

func TestReportGolden(t *testing.T) {
	p, _ := train(t, 1500, 5, TargetIdeal)
	var b bytes.Buffer
	if err := p.WriteReport(&b); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "report.golden.md")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./profile -update to create it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("report differs from %s; run go test ./profile -update and review the diff\n%s", golden, b.String())
	}
}

func BenchmarkScore(b *testing.B) {
	p, tab := train(b, 3000, 7, TargetIdeal)
	acc := tab.Account(17)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Score(ctx, acc); err != nil {
			b.Fatal(err)
		}
	}
}
