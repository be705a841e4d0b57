package gbm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/icpengine/icp/model"
)

// testData makes a seeded synthetic binary problem with n rows and nf
// features: numeric features with some NaN, a few 0/1 columns, and an
// interaction in the true log-odds.
func testData(n, nf int, seed uint64) (*mat.Dense, []float64) {
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
		if rng.Float64() < model.Sigmoid(z) {
			y[i] = 1
		}
	}
	return x, y
}

// testB2B makes a seeded B2B-like account table: skewed numeric columns
// with missing values and their indicators, one-hot categories, multi-hot
// tech flags and a nonlinear true log-odds.
func testB2B(n int, seed uint64) (*mat.Dense, []float64) {
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
		if rng.Float64() < model.Sigmoid(z) {
			y[i] = 1
		}
	}
	return x, y
}

// refDir, when set, makes TestReferenceData write the benchmark table
// there as CSV (for a side-by-side run of other libraries) and log this
// package's figures on it.
var refDir = flag.String("trees.refdir", "", "write the GBM reference benchmark data to this directory")

func TestReferenceData(t *testing.T) {
	if *refDir == "" {
		t.Skip("set -trees.refdir to run the reference comparison")
	}
	const ntrain, ntest = 100_000, 25_000
	x, y := testB2B(ntrain+ntest, 42)
	_, nf := x.Dims()
	write := func(name string, lo, hi int) {
		f, err := os.Create(filepath.Join(*refDir, name))
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
	g, info, err := Fit(xtr.Slice(0, nfit, 0, nf), y[:nfit], nil,
		&Validation{X: xtr.Slice(nfit, ntrain, 0, nf), Y: y[nfit:ntrain]}, nil)
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
		p[i] = model.Sigmoid(v)
		ll += pointLoss(v, y[ntrain+i], "logloss")
	}
	phi := make([]float64, nf)
	lat := make([]float64, 5000)
	for i := range lat {
		row := xte.RawRowView(i)
		start = time.Now()
		g.Margin(row)
		g.SHAP(row, phi)
		lat[i] = float64(time.Since(start).Nanoseconds()) / 1e3
	}
	sort.Float64s(lat)
	t.Logf("go-gbm: rounds %d best %d fit %.3fs auc %.4f logloss %.4f predict %.3f us/row margin+shap p50 %.1f p99 %.1f us",
		info.Rounds, info.BestRound, fit.Seconds(), treeTestAUC(y[ntrain:], p), ll/float64(len(m)),
		float64(pred.Nanoseconds())/1e3/float64(len(m)), lat[len(lat)/2], lat[len(lat)*99/100])
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

func TestFitLearnsXOR(t *testing.T) {
	// y = xor(x0 > 0, x1 > 0): no linear model does better than chance.
	rng := rand.New(rand.NewPCG(11, 12))
	n := 4000
	x := mat.NewDense(n, 3, nil)
	y := make([]float64, n)
	for i := range n {
		a, b := rng.NormFloat64(), rng.NormFloat64()
		x.SetRow(i, []float64{a, b, rng.NormFloat64()})
		if (a > 0) != (b > 0) {
			y[i] = 1
		}
	}
	g, _, err := Fit(x, y, nil, nil, &Config{Rounds: 50, Threads: 2})
	if err != nil {
		t.Fatalf("Fit() error = %v", err)
	}
	p := g.MarginBatch(x, nil)
	if auc := treeTestAUC(y, p); auc < 0.97 {
		t.Errorf("Fit(xor) train AUC = %v, want >= 0.97", auc)
	}
}

func TestFitSquaredStep(t *testing.T) {
	n := 1000
	x := mat.NewDense(n, 1, nil)
	y := make([]float64, n)
	for i := range n {
		v := float64(i) / float64(n)
		x.Set(i, 0, v)
		if v > 0.3 {
			y[i] = 2
		}
		if v > 0.7 {
			y[i] = 5
		}
	}
	g, info, err := Fit(x, y, nil, nil, &Config{Loss: "squared", Rounds: 100, LearningRate: 0.3})
	if err != nil {
		t.Fatalf("Fit() error = %v", err)
	}
	tests := []struct {
		give, want float64
	}{{0.1, 0}, {0.29, 0}, {0.31, 2}, {0.5, 2}, {0.69, 2}, {0.71, 5}, {0.99, 5}}
	for _, tt := range tests {
		if got := g.Margin([]float64{tt.give}); math.Abs(got-tt.want) > 1e-3 {
			t.Errorf("Margin(%v) = %v, want %v", tt.give, got, tt.want)
		}
	}
	if last := info.TrainLoss[len(info.TrainLoss)-1]; last > 1e-6 {
		t.Errorf("final train MSE = %v, want ~0", last)
	}
}

func TestFitTrainLossMonotone(t *testing.T) {
	x, y := testData(3000, 8, 1)
	_, info, err := Fit(x, y, nil, nil, &Config{Rounds: 60})
	if err != nil {
		t.Fatalf("Fit() error = %v", err)
	}
	if len(info.TrainLoss) != 60 || info.Rounds != 60 || info.BestRound != 60 {
		t.Fatalf("Fit() info = %d losses, %d rounds, best %d; want 60", len(info.TrainLoss), info.Rounds, info.BestRound)
	}
	for i := 1; i < len(info.TrainLoss); i++ {
		if info.TrainLoss[i] > info.TrainLoss[i-1]+1e-12 {
			t.Errorf("TrainLoss[%d] = %v > TrainLoss[%d] = %v", i, info.TrainLoss[i], i-1, info.TrainLoss[i-1])
		}
	}
}

func TestFitEarlyStopping(t *testing.T) {
	// Labels independent of the features: validation loss soon rises.
	rng := rand.New(rand.NewPCG(21, 22))
	n := 3000
	x := mat.NewDense(n, 5, nil)
	y := make([]float64, n)
	for i := range n {
		for j := range 5 {
			x.Set(i, j, rng.NormFloat64())
		}
		if rng.Float64() < 0.3 {
			y[i] = 1
		}
	}
	valid := &Validation{X: x.Slice(2000, n, 0, 5), Y: y[2000:]}
	g, info, err := Fit(x.Slice(0, 2000, 0, 5), y[:2000], nil, valid, &Config{Rounds: 300, EarlyStopRounds: 10})
	if err != nil {
		t.Fatalf("Fit() error = %v", err)
	}
	if info.Rounds >= 300 {
		t.Errorf("Fit() trained %d rounds, want early stop", info.Rounds)
	}
	if info.Rounds != info.BestRound+10 {
		t.Errorf("Rounds = %d, BestRound = %d, want Rounds = BestRound + 10", info.Rounds, info.BestRound)
	}
	if len(g.Trees) != info.BestRound || len(info.ValidLoss) != info.Rounds {
		t.Errorf("len(Trees) = %d, len(ValidLoss) = %d, want %d and %d", len(g.Trees), len(info.ValidLoss), info.BestRound, info.Rounds)
	}
	for i, l := range info.ValidLoss {
		if l < info.ValidLoss[max(info.BestRound-1, 0)]-1e-7 {
			t.Errorf("ValidLoss[%d] = %v below the best round's", i, l)
		}
	}
}

func testJSON(t *testing.T, g *Model) []byte {
	t.Helper()
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatalf("json.Marshal(Model) error = %v", err)
	}
	return b
}

func TestFitDeterministic(t *testing.T) {
	x, y := testB2B(8000, 5)
	tests := []struct {
		name string
		give Config
	}{
		{"default", Config{Rounds: 15}},
		{"subsampled", Config{Rounds: 15, RowSample: 0.7, ColSample: 0.6, Seed: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []byte
			for _, threads := range []int{1, 2, 3} {
				c := tt.give
				c.Threads = threads
				g, _, err := Fit(x, y, nil, nil, &c)
				if err != nil {
					t.Fatalf("Fit() error = %v", err)
				}
				got := testJSON(t, g)
				if want == nil {
					want = got
				} else if !bytes.Equal(got, want) {
					t.Fatalf("Fit(Threads=%d) JSON differs from Threads=1", threads)
				}
			}
		})
	}
}

func TestFitConcurrent(t *testing.T) {
	x, y := testData(3000, 6, 8)
	var wg sync.WaitGroup
	out := make([][]byte, 2)
	for k := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g, _, err := Fit(x, y, nil, nil, &Config{Rounds: 10, Threads: 2})
			if err != nil {
				t.Errorf("Fit() error = %v", err)
				return
			}
			phi := make([]float64, 6)
			for i := range 100 {
				g.SHAP(x.RawRowView(i), phi)
			}
			out[k] = testJSON(t, g)
		}()
	}
	wg.Wait()
	if !bytes.Equal(out[0], out[1]) {
		t.Errorf("concurrent Fit() results differ")
	}
}

func TestFitMissingDirection(t *testing.T) {
	// Feature 0 is missing for most positives; its value is noise.
	rng := rand.New(rand.NewPCG(31, 32))
	n := 4000
	x := mat.NewDense(n, 2, nil)
	y := make([]float64, n)
	for i := range n {
		x.Set(i, 0, rng.NormFloat64())
		x.Set(i, 1, rng.NormFloat64())
		if rng.Float64() < 0.3 {
			y[i] = 1
			if rng.Float64() < 0.9 {
				x.Set(i, 0, math.NaN())
			}
		}
	}
	g, _, err := Fit(x, y, nil, nil, &Config{Rounds: 30})
	if err != nil {
		t.Fatalf("Fit() error = %v", err)
	}
	pm := g.Prob([]float64{math.NaN(), 0})
	pv := g.Prob([]float64{0, 0})
	if pm < 0.8 || pv > 0.15 {
		t.Errorf("Prob(missing) = %v, Prob(present) = %v; want > 0.8 and < 0.15", pm, pv)
	}
	// The split on feature 0 learned to send missing values to the
	// positive side, and SHAP credits the missingness.
	_, phi := g.SHAP([]float64{math.NaN(), 0}, nil)
	if phi[0] <= 0 || math.Abs(phi[0]) < 10*math.Abs(phi[1]) {
		t.Errorf("SHAP(missing) = %v, want a large positive phi[0]", phi)
	}
}

func TestMarginBatchAndJSON(t *testing.T) {
	x, y := testData(3000, 7, 2)
	g, _, err := Fit(x, y, nil, nil, &Config{Rounds: 20, MaxLeaves: 8, MaxDepth: 3})
	if err != nil {
		t.Fatalf("Fit() error = %v", err)
	}
	var back Model
	if err := json.Unmarshal(testJSON(t, g), &back); err != nil {
		t.Fatalf("json.Unmarshal() error = %v", err)
	}
	if err := back.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	batch := back.MarginBatch(x, nil)
	for i := range 3000 {
		row := x.RawRowView(i)
		if got, want := batch[i], g.Margin(row); got != want {
			t.Fatalf("row %d: MarginBatch = %v, Margin = %v", i, got, want)
		}
	}
	for _, tr := range g.Trees {
		leaves := 0
		for _, f := range tr.Feature {
			if f < 0 {
				leaves++
			}
		}
		if leaves > 8 {
			t.Errorf("tree has %d leaves, want <= 8", leaves)
		}
	}
	if back.prepared().maxDepth > 3 {
		t.Errorf("depth %d, want <= 3", back.prepared().maxDepth)
	}
}

func TestFitErrors(t *testing.T) {
	x := mat.NewDense(4, 1, []float64{1, 2, 3, 4})
	tests := []struct {
		name string
		y, w []float64
		cfg  Config
	}{
		{"label not binary", []float64{0, 1, 2, 0}, nil, Config{}},
		{"NaN label", []float64{0, 1, math.NaN(), 0}, nil, Config{}},
		{"negative weight", []float64{0, 1, 1, 0}, []float64{1, 1, -1, 1}, Config{}},
		{"zero weights", []float64{0, 1, 1, 0}, []float64{0, 0, 0, 0}, Config{}},
		{"bad loss", []float64{0, 1, 1, 0}, nil, Config{Loss: "hinge"}},
		{"bad bins", []float64{0, 1, 1, 0}, nil, Config{MaxBins: 300}},
		{"bad sample", []float64{0, 1, 1, 0}, nil, Config{RowSample: 1.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := Fit(x, tt.y, tt.w, nil, &tt.cfg); !errors.Is(err, model.ErrInvalidInput) {
				t.Errorf("Fit() error = %v, want ErrInvalidInput", err)
			}
		})
	}
	inf := mat.NewDense(2, 1, []float64{1, math.Inf(1)})
	if _, _, err := Fit(inf, []float64{0, 1}, nil, nil, nil); err == nil {
		t.Errorf("Fit(Inf) error = nil, want an error")
	}
	bad := &Model{Loss: "logloss", NumFeatures: 1, Trees: []Tree{{
		Feature: []int32{0}, Threshold: []float64{0}, Left: []int32{0}, Right: []int32{0},
		MissingLeft: []bool{false}, Value: []float64{0}, Cover: []float64{1},
	}}}
	if err := bad.Validate(); err == nil {
		t.Errorf("Validate(cyclic tree) = nil, want an error")
	}
}

func TestBinEdges(t *testing.T) {
	tests := []struct {
		name    string
		give    []float64
		maxBins int
		want    []float64
	}{
		{"binary", []float64{0, 1, 1, 0, math.NaN()}, 255, []float64{0.5}},
		{"constant", []float64{3, 3, 3}, 255, []float64{}},
		{"few", []float64{1, 5, 3, 3}, 255, []float64{2, 4}},
		{"quantiles", []float64{1, 2, 3, 4, 5, 6, 7, 8}, 4, []float64{2.5, 4.5, 6.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := binEdgesFor(tt.give, tt.maxBins, nil)
			if len(got) != len(tt.want) {
				t.Fatalf("binEdgesFor(%v) = %v, want %v", tt.give, got, tt.want)
			}
			for i := range got {
				if math.Abs(got[i]-tt.want[i]) > 1e-12 {
					t.Errorf("binEdgesFor(%v) = %v, want %v", tt.give, got, tt.want)
				}
			}
		})
	}
}

// benchFit benchmarks Fit on the B2B table.
func benchFit(b *testing.B, n int) {
	x, y := testB2B(n, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, _, err := Fit(x, y, nil, nil, &Config{Rounds: 100}); err != nil {
			b.Fatal(err)
		}
	}
}

var benchLarge = flag.Bool("trees.large", false, "run the 1M-row GBM benchmark")

func BenchmarkFit(b *testing.B) {
	b.Run("10k", func(b *testing.B) { benchFit(b, 10_000) })
	b.Run("100k", func(b *testing.B) { benchFit(b, 100_000) })
	b.Run("1M", func(b *testing.B) {
		if !*benchLarge {
			b.Skip("set -trees.large")
		}
		benchFit(b, 1_000_000)
	})
}

func benchModel(b *testing.B) (*Model, *mat.Dense) {
	x, y := testB2B(100_000, 1)
	g, _, err := Fit(x, y, nil, nil, &Config{Rounds: 150})
	if err != nil {
		b.Fatal(err)
	}
	return g, x
}

func BenchmarkPredict(b *testing.B) {
	g, x := benchModel(b)
	n, nf := x.Dims()
	dst := make([]float64, n)
	b.Run("MarginBatch", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			g.MarginBatch(x, dst)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*n), "µs/row")
	})
	b.Run("Margin", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			g.Margin(x.RawRowView(i % n))
		}
	})
	b.Run("MarginSHAP", func(b *testing.B) {
		phi := make([]float64, nf)
		b.ReportAllocs()
		for i := range b.N {
			row := x.RawRowView(i % n)
			g.Margin(row)
			g.SHAP(row, phi)
		}
	})
}

func TestFitOneHotOnly(t *testing.T) {
	// Every column is a sparse 0/1 flag: histograms come from the sparse
	// lists alone.
	rng := rand.New(rand.NewPCG(41, 42))
	n := 3000
	x := mat.NewDense(n, 6, nil)
	y := make([]float64, n)
	for i := range n {
		for j := range 6 {
			if rng.Float64() < 0.2 {
				x.Set(i, j, 1)
			}
		}
		if x.At(i, 0) == 1 && x.At(i, 1) == 0 {
			y[i] = 1
		}
	}
	g, _, err := Fit(x, y, nil, nil, &Config{Rounds: 40, LearningRate: 0.3})
	if err != nil {
		t.Fatalf("Fit() error = %v", err)
	}
	tests := []struct {
		give []float64
		want float64
	}{
		{[]float64{1, 0, 0, 0, 0, 0}, 1},
		{[]float64{1, 1, 0, 0, 0, 0}, 0},
		{[]float64{0, 0, 1, 1, 0, 0}, 0},
	}
	for _, tt := range tests {
		if got := g.Prob(tt.give); math.Abs(got-tt.want) > 0.05 {
			t.Errorf("Prob(%v) = %v, want %v", tt.give, got, tt.want)
		}
	}
}
