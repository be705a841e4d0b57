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

// gbmTestB2B makes a seeded B2B-like account table: skewed numeric columns
// with missing values and their indicators, one-hot categories, multi-hot
// tech flags and a nonlinear true log-odds.
func gbmTestB2B(n int, seed uint64) (*mat.Dense, []float64) {
	const (
		numeric = 14
		cats    = 3
		levels  = 8
		flags   = 12
		nf      = numeric + numeric/2 + cats*levels + flags
	)
	rng := rand.New(rand.NewPCG(seed, 1234))
	x := mat.NewDense(n, nf, nil)
	y := make([]float64, n)
	catEffect := [cats][levels]float64{}
	crng := rand.New(rand.NewPCG(77, 77))
	for c := range catEffect {
		for l := range catEffect[c] {
			catEffect[c][l] = crng.NormFloat64() * 0.5
		}
	}
	for i := range n {
		row := x.RawRowView(i)
		num := row[:numeric]
		for j := range num {
			num[j] = math.Exp(rng.NormFloat64()*0.8 + float64(j%3))
			if j%2 == 0 {
				num[j] = math.Round(num[j])
			}
		}
		// Missing values, more often for small accounts.
		ind := row[numeric : numeric+numeric/2]
		for j := range ind {
			p := 0.1
			if num[0] < 1 {
				p = 0.3
			}
			if rng.Float64() < p {
				num[2*j+1] = math.NaN()
				ind[j] = 1
			}
		}
		off := numeric + numeric/2
		var z float64
		for c := range cats {
			l := rng.IntN(levels)
			row[off+c*levels+l] = 1
			z += catEffect[c][l]
		}
		off += cats * levels
		nflags := 0
		for j := range flags {
			if rng.Float64() < 0.15+0.03*float64(j%5) {
				row[off+j] = 1
				nflags++
			}
		}
		emp := math.Log1p(num[0])
		z += 0.6*emp - 0.05*emp*emp
		if !math.IsNaN(num[1]) {
			z += 0.4 * math.Tanh(num[1]-2)
		} else {
			z -= 0.3
		}
		z += 0.25 * float64(nflags)
		if row[off] == 1 && row[off+1] == 1 {
			z += 0.8
		}
		if num[4] > 8 && row[numeric+numeric/2] == 1 {
			z += 0.7
		}
		z += 0.3 * math.Sin(num[2])
		if !math.IsNaN(num[3]) && num[3] > 2 && num[6] < 5 {
			z -= 0.6
		}
		z -= 2.2
		if rng.Float64() < Sigmoid(z) {
			y[i] = 1
		}
	}
	return x, y
}
