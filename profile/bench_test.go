package profile_test

import (
	"context"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/train"
)

// BenchmarkScoreKinds scores one account with attributions through the
// serve code path, for each model kind, on a model trained on 20k rows.
func BenchmarkScoreKinds(b *testing.B) {
	tab := generated(b, 20_000, 42)
	s := features.Infer(tab, features.InferConfig{})
	for _, kind := range []string{profile.KindLogistic, profile.KindGBM} {
		b.Run(kind, func(b *testing.B) {
			p, err := train.Train(tab, s, train.Config{Seed: 1, Label: train.LabelConfig{Target: train.TargetWon}, Models: train.ModelConfig{Kinds: []string{kind}}})
			if err != nil {
				b.Fatal(err)
			}
			accs := make([]icp.Account, 64)
			for i := range accs {
				accs[i] = tab.Account(i)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				if _, err := p.Score(ctx, accs[i%len(accs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			if p.Model.GBM != nil {
				b.ReportMetric(float64(len(p.Model.GBM.Trees)), "trees")
			}
		})
	}
}
