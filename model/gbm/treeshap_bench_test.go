package gbm

import (
	"fmt"
	"testing"
)

// BenchmarkSHAP measures TreeSHAP of one row on leaf-wise boosted trees
// of 31 leaves (the default), as served: deep, unbalanced trees where
// features repeat along the paths.
func BenchmarkSHAP(b *testing.B) {
	x, y := testB2B(20_000, 1)
	g, _, err := Fit(x, y, nil, nil, &Config{Rounds: 30, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	n, nf := x.Dims()
	p := g.prepared()
	b.Run(fmt.Sprintf("trees=%d/depth=%d", len(g.Trees), p.maxDepth), func(b *testing.B) {
		phi := make([]float64, nf)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			g.SHAP(x.RawRowView(i%n), phi)
			i++
		}
	})
}
