package model

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// gbmTestData makes a seeded synthetic binary problem with n rows and nf
// features: numeric features with some NaN, a few 0/1 columns, and an
// interaction in the true log-odds.
func gbmTestData(n, nf int, seed uint64) (*mat.Dense, []float64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	x := mat.NewDense(n, nf, nil)
	y := make([]float64, n)
	for i := range n {
		row := x.RawRowView(i)
		for j := range row {
			switch {
			case j%4 == 3:
				if rng.Float64() < 0.3 {
					row[j] = 1
				}
			default:
				row[j] = rng.NormFloat64()
			}
		}
		z := 0.8*row[0] - 0.5*row[1] + 1.2*row[2]*row[min(4, nf-1)]
		if nf > 3 {
			z += 0.7 * row[3]
		}
		if nf > 5 && row[5] > 0.5 {
			z -= 1
		}
		if nf > 6 && rng.Float64() < 0.1 {
			row[6] = math.NaN()
		}
		if rng.Float64() < Sigmoid(z) {
			y[i] = 1
		}
	}
	return x, y
}
