package profile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/train"
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
	p, err := train.Train(tab, features.Infer(tab, features.InferConfig{}), train.Config{Seed: 1, Label: train.LabelConfig{Target: target}})
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	cache.Store(k, p)
	return p, tab
}

func TestArtifactRoundTrip(t *testing.T) {
	p, tab := trained(t, 3000, 7, train.TargetIdeal)
	path := filepath.Join(t.TempDir(), "m", "model.json")
	if err := p.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := profile.ReadFile(path)
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
	out, err := profile.Reseal(art, edit)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDecodeRejects(t *testing.T) {
	p, _ := trained(t, 3000, 7, train.TargetIdeal)
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
			_, err := profile.Decode(bytes.NewReader(tt.give))
			if err == nil || !errors.Is(err, icp.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestScoreAttributions(t *testing.T) {
	p, tab := trained(t, 3000, 7, train.TargetIdeal)
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
	all, err := p.ScoreTable(tab.Take([]int{0, 1, 2}), nil, true)
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
	p, _ := trained(t, 3000, 7, train.TargetIdeal)
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

func BenchmarkScore(b *testing.B) {
	p, tab := trained(b, 3000, 7, train.TargetIdeal)
	acc := tab.Account(17)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Score(ctx, acc); err != nil {
			b.Fatal(err)
		}
	}
}

// TestScoreTable checks the table door of the scoring core: the rows of a
// table encoded by the caller score as the table itself does, and as Score
// scores each account; a column of another kind is refused.
func TestScoreTable(t *testing.T) {
	p, tab := trained(t, 3000, 7, train.TargetIdeal)
	rows := tab.Take([]int{3, 5, 8, 13, 21, 34})
	x, err := p.Encoder.Transform(rows, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := p.ScoreTable(rows, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	encoded, err := p.ScoreTable(rows, x, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range plain {
		one, err := p.Score(context.Background(), rows.Account(i))
		if err != nil {
			t.Fatal(err)
		}
		if plain[i].Score != encoded[i].Score || plain[i].Score != one.Score || plain[i].Tier != one.Tier ||
			plain[i].AccountID != one.AccountID || plain[i].Attributions != nil {
			t.Errorf("row %d: ScoreTable = %v %s %q (encoded %v), Score = %v %s %q; want equal, without attributions",
				i, plain[i].Score, plain[i].Tier, plain[i].AccountID, encoded[i].Score, one.Score, one.Tier, one.AccountID)
		}
	}
	bad := rows.Take([]int{0})
	for k, c := range bad.Columns {
		if c.Name == "employees" {
			bad.Columns[k] = &datasets.Column{Name: c.Name, Kind: datasets.String, Str: []string{"many"}}
		}
	}
	if _, err := p.ScoreTable(bad, nil, true); !errors.Is(err, icp.ErrInvalid) {
		t.Errorf("ScoreTable(employees as text) = %v, want an error matching icp.ErrInvalid", err)
	}
}
