package datasets_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
)

func BenchmarkRead(b *testing.B) {
	for _, rows := range []int{10_000, 100_000} {
		tab, _ := synth.Generate(synth.Config{Rows: rows, Seed: 1})
		var buf bytes.Buffer
		if err := datasets.WriteCSV(&buf, tab); err != nil {
			b.Fatal(err)
		}
		data := buf.Bytes()
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := datasets.Read(bytes.NewReader(data), "bench.csv", nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
