package profile_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/train"
)

// TestScoreBatch checks that a batch gives, account by account, what Score
// gives: the same scores with attributions, the same but the attributions
// without; and that bad accounts get their own field errors without
// stopping the others.
func TestScoreBatch(t *testing.T) {
	tab := generated(t, 2000, 7)
	for _, kind := range []string{profile.KindLogistic, profile.KindGBM} {
		t.Run(kind, func(t *testing.T) {
			p, err := train.Train(tab, features.Infer(tab, features.InferConfig{}), train.Config{Seed: 1, Models: train.ModelConfig{Kinds: []string{kind}}})
			if err != nil {
				t.Fatal(err)
			}
			accs := make([]icp.Account, 60)
			for i := range accs {
				accs[i] = tab.Account(i)
			}
			accs[7] = icp.Account{"employees": "many"}
			accs[31] = icp.Account{"industy": "SaaS", "employees": -3.0}
			ctx := context.Background()
			for _, attributions := range []bool{true, false} {
				dst := make([]icp.Score, len(accs))
				errs := make([]error, len(accs))
				if err := p.ScoreBatch(ctx, accs, attributions, dst, errs); err != nil {
					t.Fatalf("ScoreBatch(attributions=%v) = %v, want nil", attributions, err)
				}
				for i, acc := range accs {
					want, wantErr := p.Score(ctx, acc)
					if (errs[i] == nil) != (wantErr == nil) {
						t.Fatalf("ScoreBatch errs[%d] = %v, want %v", i, errs[i], wantErr)
					}
					if wantErr != nil {
						var got, w *icp.ValidationError
						if !errors.As(errs[i], &got) || !errors.As(wantErr, &w) || len(got.Fields) != len(w.Fields) || got.Fields[0] != w.Fields[0] {
							t.Errorf("ScoreBatch errs[%d] = %v, want %v", i, errs[i], wantErr)
						}
						continue
					}
					checkSameScore(t, i, dst[i], want, attributions)
				}
			}
		})
	}
}

func checkSameScore(t *testing.T, i int, got, want icp.Score, attributions bool) {
	t.Helper()
	const tol = 1e-9
	if got.AccountID != want.AccountID || got.ModelVersion != want.ModelVersion || got.Tier != want.Tier ||
		got.AttributionScale != want.AttributionScale ||
		math.Abs(got.Score-want.Score) > tol || math.Abs(got.Margin-want.Margin) > tol ||
		math.Abs(got.BaseValue-want.BaseValue) > tol || math.Abs(got.Percentile-want.Percentile) > 1e-6 {
		t.Fatalf("ScoreBatch dst[%d] = %+v, want %+v", i, got, want)
	}
	if (got.Segment == nil) != (want.Segment == nil) || (got.Segment != nil &&
		(got.Segment.ID != want.Segment.ID || math.Abs(got.Segment.Distance-want.Segment.Distance) > tol)) {
		t.Errorf("ScoreBatch dst[%d].Segment = %+v, want %+v", i, got.Segment, want.Segment)
	}
	if (got.AntiICP == nil) != (want.AntiICP == nil) || (got.AntiICP != nil && *got.AntiICP != *want.AntiICP) {
		t.Errorf("ScoreBatch dst[%d].AntiICP = %+v, want %+v", i, got.AntiICP, want.AntiICP)
	}
	if !attributions {
		if got.Attributions != nil {
			t.Errorf("ScoreBatch dst[%d].Attributions = %v, want nil", i, got.Attributions)
		}
		return
	}
	if len(got.Attributions) != len(want.Attributions) {
		t.Fatalf("ScoreBatch dst[%d] has %d attributions, want %d", i, len(got.Attributions), len(want.Attributions))
	}
	for j, a := range got.Attributions {
		w := want.Attributions[j]
		if a.Feature != w.Feature || math.Abs(a.Contribution-w.Contribution) > tol {
			t.Errorf("ScoreBatch dst[%d].Attributions[%d] = %+v, want %+v", i, j, a, w)
		}
	}
}

func TestScoreBatchEdges(t *testing.T) {
	p, tab := trained(t, 2000, 42, train.TargetWon)
	ctx := context.Background()
	if err := p.ScoreBatch(ctx, nil, true, nil, nil); err != nil {
		t.Errorf("ScoreBatch(no accounts) = %v, want nil", err)
	}
	// A single bad account, and only bad accounts.
	bad := []icp.Account{{"employees": "many"}, {"nope": 1.0}}
	errs := make([]error, len(bad))
	if err := p.ScoreBatch(ctx, bad, false, make([]icp.Score, len(bad)), errs); err != nil || errs[0] == nil || errs[1] == nil {
		t.Errorf("ScoreBatch(bad accounts) = %v, errs %v; want nil and two errors", err, errs)
	}
	var verr *icp.ValidationError
	if !errors.As(errs[1], &verr) || verr.Fields[0].Field != "nope" {
		t.Errorf("ScoreBatch errs[1] = %v, want the field nope named without an index", errs[1])
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	accs := []icp.Account{tab.Account(0)}
	if err := p.ScoreBatch(canceled, accs, true, make([]icp.Score, 1), make([]error, 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("ScoreBatch(canceled) = %v, want context.Canceled", err)
	}
	if got := p.ModelVersion(); got != p.Version || got == "" {
		t.Errorf("ModelVersion() = %q, want %q", got, p.Version)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("ScoreBatch with a short dst did not panic")
		}
	}()
	_ = p.ScoreBatch(ctx, accs, true, nil, make([]error, 1))
}

func BenchmarkScoreBatch(b *testing.B) {
	p, tab := trained(b, 5000, 42, train.TargetWon)
	accs := make([]icp.Account, 1000)
	for i := range accs {
		accs[i] = tab.Account(i)
	}
	dst, errs := make([]icp.Score, len(accs)), make([]error, len(accs))
	for _, attributions := range []bool{true, false} {
		name := "attributions=false"
		if attributions {
			name = "attributions=true"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := p.ScoreBatch(context.Background(), accs, attributions, dst, errs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(accs))*float64(b.N)/b.Elapsed().Seconds(), "accounts/s")
		})
	}
}
