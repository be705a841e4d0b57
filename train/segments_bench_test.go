package train

import (
	"fmt"
	"testing"

	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
)

// BenchmarkFindSegments times the segment and anti-ICP steps of Train
// alone, on generated tables (label won), the model fitted beforehand
// (1M rows with -train.large).
func BenchmarkFindSegments(b *testing.B) {
	for _, rows := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			if rows > 100_000 && !*benchLarge {
				b.Skip("set -train.large for the 1M-row table")
			}
			tab := generated(b, rows, 42)
			s := features.Infer(tab, features.InferConfig{})
			r, err := newRun(tab, s, Config{Seed: 1, Label: LabelConfig{Target: TargetWon},
				Models: ModelConfig{Kinds: []string{profile.KindLogistic}}})
			if err != nil {
				b.Fatal(err)
			}
			for _, step := range []func() error{r.validate, r.refit, r.importance} {
				if err := step(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := r.findSegments(); err != nil {
					b.Fatal(err)
				}
				if err := r.findAntiICP(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(r.p.Segments)), "segments")
		})
	}
}
