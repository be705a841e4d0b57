package profile

import (
	"context"
	"flag"
	"fmt"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/features"
)

var benchLarge = flag.Bool("profile.large", false, "run the 1M-row training benchmark")

// BenchmarkTrain trains on generated tables, both candidates, label won:
// the whole of Train (validation fits, refit, segments, report data).
func BenchmarkTrain(b *testing.B) {
	for _, rows := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			if rows > 100_000 && !*benchLarge {
				b.Skip("set -profile.large for the 1M-row table")
			}
			tab := generated(b, rows, 42)
			s := features.Infer(tab, features.InferConfig{})
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := Train(tab, s, Config{Seed: 1, Label: LabelConfig{Target: TargetWon}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkScoreKinds scores one account with attributions through the
// serve code path, for each model kind, on a model trained on 20k rows.
func BenchmarkScoreKinds(b *testing.B) {
	tab := generated(b, 20_000, 42)
	s := features.Infer(tab, features.InferConfig{})
	for _, kind := range []string{KindLogistic, KindGBM} {
		b.Run(kind, func(b *testing.B) {
			p, err := Train(tab, s, Config{Seed: 1, Label: LabelConfig{Target: TargetWon}, Models: ModelConfig{Kinds: []string{kind}}})
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
