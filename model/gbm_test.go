package model

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

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

// gbmRefDir, when set, makes TestGBMReferenceData write the benchmark table
// there as CSV (for a side-by-side run of other libraries) and log this
// package's figures on it.
var gbmRefDir = flag.String("trees.refdir", "", "write the GBM reference benchmark data to this directory")

func TestGBMReferenceData(t *testing.T) {
	if *gbmRefDir == "" {
		t.Skip("set -trees.refdir to run the reference comparison")
	}
	const ntrain, ntest = 100_000, 25_000
	x, y := gbmTestB2B(ntrain+ntest, 42)
	_, nf := x.Dims()
	write := func(name string, lo, hi int) {
		f, err := os.Create(filepath.Join(*gbmRefDir, name))
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(f)
		for i := lo; i < hi; i++ {
			for j, v := range x.RawRowView(i) {
				if j > 0 {
					w.WriteByte(',')
				}
				if !math.IsNaN(v) {
					w.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
				}
			}
			fmt.Fprintf(w, ",%g\n", y[i])
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	write("train.csv", 0, ntrain)
	write("test.csv", ntrain, ntrain+ntest)
	xtr := x.Slice(0, ntrain, 0, nf).(*mat.Dense)
	xte := x.Slice(ntrain, ntrain+ntest, 0, nf).(*mat.Dense)
	// Hold out 10% of the training rows for early stopping, as
	// scikit-learn does.
	nfit := ntrain * 9 / 10
	start := time.Now()
	g, info, err := FitGBM(xtr.Slice(0, nfit, 0, nf), y[:nfit], nil,
		&GBMValidation{X: xtr.Slice(nfit, ntrain, 0, nf), Y: y[nfit:ntrain]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fit := time.Since(start)
	start = time.Now()
	m := g.MarginBatch(xte, nil)
	pred := time.Since(start)
	p := make([]float64, len(m))
	var ll float64
	for i, v := range m {
		p[i] = Sigmoid(v)
		ll += gbmPointLoss(v, y[ntrain+i], "logloss")
	}
	phi := make([]float64, nf)
	start = time.Now()
	for i := range 2000 {
		row := xte.RawRowView(i)
		g.Margin(row)
		g.SHAP(row, phi)
	}
	shap := time.Since(start)
	t.Logf("go-gbm: rounds %d best %d fit %.3fs auc %.4f logloss %.4f predict %.3f us/row margin+shap %.1f us/row",
		info.Rounds, info.BestRound, fit.Seconds(), treeTestAUC(y[ntrain:], p), ll/float64(len(m)),
		float64(pred.Nanoseconds())/1e3/float64(len(m)), float64(shap.Nanoseconds())/1e3/2000)
}

// treeTestAUC is the ROC AUC of scores p for labels y (ties count half).
func treeTestAUC(y, p []float64) float64 {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	var pos, neg, sum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && p[idx[j]] == p[idx[i]] {
			j++
		}
		var tp, tn float64
		for _, k := range idx[i:j] {
			if y[k] == 1 {
				tp++
			} else {
				tn++
			}
		}
		sum += tp * (neg + tn/2)
		pos += tp
		neg += tn
		i = j
	}
	return sum / (pos * neg)
}
