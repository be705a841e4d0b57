package train

import (
	"flag"
	"fmt"
	"testing"

	"github.com/icpengine/icp/features"
)

var benchLarge = flag.Bool("train.large", false, "run the 1M-row training benchmark")

// BenchmarkTrain trains on generated tables, both candidates, label won:
// the whole of Train (validation fits, refit, segments, report data).
func BenchmarkTrain(b *testing.B) {
	for _, rows := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			if rows > 100_000 && !*benchLarge {
				b.Skip("set -train.large for the 1M-row table")
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
