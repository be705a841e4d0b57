package model

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// LogisticConfig holds the settings of FitLogistic. The zero value is ready
// to use.
type LogisticConfig struct {
	// L2 is the ridge penalty. FitLogistic minimizes
	//
	//	sum_i w_i * logloss_i + L2/2 * ||coef||^2
	//
	// where the intercept is not penalized. Zero means 1, which matches
	// scikit-learn's LogisticRegression(C=1) when the sample weights sum to
	// the number of rows (as uniform weights do). A negative value means no
	// penalty at all; the fit then fails to converge on separable data.
	L2 float64

	// MaxIter is the maximum number of L-BFGS iterations. Zero means 500.
	// Reaching the limit is not an error: the best point found is returned.
	MaxIter int

	// Tol is the convergence threshold on the infinity norm of the gradient
	// of the objective divided by the total weight, taken with respect to
	// standardized features. Zero means 1e-8.
	Tol float64
}

// Logistic is a fitted binary logistic regression model,
// P(y=1|x) = Sigmoid(Intercept + Coef·x). It is serializable to JSON.
type Logistic struct {
	Coef      []float64 `json:"coef"`
	Intercept float64   `json:"intercept"`
}

const (
	logisticDefaultMaxIter = 500
	logisticDefaultTol     = 1e-8
	// logisticBlockRows is the number of rows per parallel block. It is a
	// constant, not a function of GOMAXPROCS, so the order in which partial
	// sums are combined, and therefore the result, never depends on the
	// machine.
	logisticBlockRows = 4096
)

// FitLogistic fits an L2-regularized logistic regression of y on the rows of
// x by minimizing the weighted log-loss with L-BFGS and an analytic gradient.
//
// y holds the labels, each 0 or 1. weights holds one non-negative weight per
// row; nil means every row has weight 1. A row with weight w counts exactly
// like w copies of the row. cfg may be nil for the defaults.
//
// FitLogistic returns an error when x has no rows or columns, when the
// lengths of x, y and weights disagree, when x or y holds NaN or ±Inf, when a
// label is not 0 or 1, when a weight is negative or not finite, and when only
// one class has positive weight. The fit is deterministic: the same inputs
// give bit-identical coefficients on any machine.
//
// Internally the problem is solved in standardized coordinates (features
// centered and scaled by their weighted standard deviation, with the penalty
// rescaled so the optimum is unchanged); this keeps L-BFGS well conditioned
// when feature scales differ by orders of magnitude.
func FitLogistic(x mat.Matrix, y, weights []float64, cfg *LogisticConfig) (*Logistic, error) {
	var c LogisticConfig
	if cfg != nil {
		c = *cfg
	}
	switch {
	case c.L2 == 0:
		c.L2 = 1
	case c.L2 < 0:
		c.L2 = 0
	}
	if math.IsNaN(c.L2) || math.IsInf(c.L2, 0) {
		return nil, fmt.Errorf("fit logistic: penalty L2 = %v, want a finite value", cfg.L2)
	}
	if c.MaxIter <= 0 {
		c.MaxIter = logisticDefaultMaxIter
	}
	if !(c.Tol > 0) {
		c.Tol = logisticDefaultTol
	}

	data, n, p, stride := linearRawMatrix(x)
	if n == 0 || p == 0 {
		return nil, fmt.Errorf("fit logistic: empty matrix (%d rows, %d columns)", n, p)
	}
	if len(y) != n {
		return nil, fmt.Errorf("fit logistic: %d labels for %d rows", len(y), n)
	}
	if weights != nil && len(weights) != n {
		return nil, fmt.Errorf("fit logistic: %d weights for %d rows", len(weights), n)
	}
	var wPos, wNeg float64
	for i, v := range y {
		w := 1.0
		if weights != nil {
			w = weights[i]
			if !(w >= 0) || math.IsInf(w, 1) {
				return nil, fmt.Errorf("fit logistic: row %d: weight %v, want a finite non-negative value", i, w)
			}
		}
		switch v {
		case 0:
			wNeg += w
		case 1:
			wPos += w
		default:
			return nil, fmt.Errorf("fit logistic: row %d: label %v, want 0 or 1", i, v)
		}
		row := data[i*stride : i*stride+p]
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("fit logistic: row %d, column %d: value %v, want a finite number", i, j, v)
			}
		}
	}
	if wPos == 0 || wNeg == 0 {
		return nil, fmt.Errorf("fit logistic: single class: positive weight %v, negative weight %v", wPos, wNeg)
	}

	prob := newLogisticProblem(data, n, p, stride, y, weights, c.L2)
	theta := make([]float64, p+1)
	theta[p] = Logit(wPos / (wPos + wNeg))

	settings := &optimize.Settings{
		GradientThreshold: c.Tol,
		MajorIterations:   c.MaxIter,
		// Stop when the objective has not decreased at all for 20
		// iterations: it is then flat to machine precision.
		Converger: &optimize.FunctionConverge{Iterations: 20},
	}
	method := &optimize.LBFGS{GradStopThreshold: c.Tol, Linesearcher: &optimize.MoreThuente{}}
	res, err := optimize.Minimize(optimize.Problem{Func: prob.Func, Grad: prob.Grad}, theta, settings, method)
	if res == nil {
		return nil, fmt.Errorf("fit logistic: %w", err)
	}
	if err != nil {
		// A line search that cannot make progress at a point where the
		// gradient is already tiny means the objective is flat to machine
		// precision: that point is the optimum for all practical purposes.
		g := make([]float64, p+1)
		prob.Grad(g, res.X)
		if gn := floats.Norm(g, math.Inf(1)); !(gn <= math.Max(1e-5, c.Tol)) {
			return nil, fmt.Errorf("fit logistic: optimizer stopped with gradient norm %v: %w", gn, err)
		}
	}
	m := &Logistic{Coef: make([]float64, p)}
	m.Intercept = prob.toOriginal(m.Coef, res.X)
	return m, nil
}

// Margin returns the log-odds Intercept + Coef·x. It panics if len(x) differs
// from len(m.Coef).
func (m *Logistic) Margin(x []float64) float64 {
	if len(x) != len(m.Coef) {
		panic(fmt.Sprintf("model: Logistic.Margin: %d features, model has %d", len(x), len(m.Coef)))
	}
	return m.Intercept + floats.Dot(m.Coef, x)
}

// Prob returns the probability Sigmoid(Margin(x)) that the label of x is 1.
func (m *Logistic) Prob(x []float64) float64 {
	return Sigmoid(m.Margin(x))
}

// MarginBatch writes the margin of every row of x into dst and returns it.
// If dst is nil a new slice is allocated. It panics if x does not have
// len(m.Coef) columns or if dst is non-nil and its length is not the number
// of rows of x.
func (m *Logistic) MarginBatch(x mat.Matrix, dst []float64) []float64 {
	r, c := x.Dims()
	if c != len(m.Coef) {
		panic(fmt.Sprintf("model: Logistic.MarginBatch: %d columns, model has %d features", c, len(m.Coef)))
	}
	if dst == nil {
		dst = make([]float64, r)
	} else if len(dst) != r {
		panic(fmt.Sprintf("model: Logistic.MarginBatch: dst length %d, want %d", len(dst), r))
	}
	if rm, ok := x.(mat.RawMatrixer); ok {
		raw := rm.RawMatrix()
		for i := range dst {
			dst[i] = m.Intercept + floats.Dot(m.Coef, raw.Data[i*raw.Stride:i*raw.Stride+c])
		}
		return dst
	}
	row := make([]float64, c)
	for i := range dst {
		mat.Row(row, i, x)
		dst[i] = m.Intercept + floats.Dot(m.Coef, row)
	}
	return dst
}

// Attributions splits Margin(x) into a base value and one additive
// contribution per feature relative to a reference point ref (usually the
// training mean): contrib[j] = Coef[j]*(x[j]-ref[j]) and
// base = Intercept + Coef·ref, so base + sum(contrib) equals Margin(x) up to
// floating-point rounding. A nil ref means the origin. contrib is written to
// dst, which is allocated when nil. It panics on length mismatches.
func (m *Logistic) Attributions(x, ref, dst []float64) (base float64, contrib []float64) {
	p := len(m.Coef)
	if len(x) != p || (ref != nil && len(ref) != p) {
		panic(fmt.Sprintf("model: Logistic.Attributions: %d features and %d reference values, model has %d", len(x), len(ref), p))
	}
	if dst == nil {
		dst = make([]float64, p)
	} else if len(dst) != p {
		panic(fmt.Sprintf("model: Logistic.Attributions: dst length %d, want %d", len(dst), p))
	}
	base = m.Intercept
	for j, b := range m.Coef {
		r := 0.0
		if ref != nil {
			r = ref[j]
		}
		base += b * r
		dst[j] = b * (x[j] - r)
	}
	return base, dst
}

// logisticProblem evaluates the penalized log-loss and its gradient in
// standardized coordinates. The parameter vector theta holds gamma (one
// value per feature) followed by the centered intercept c, related to the
// original coefficients by beta_j = gamma_j/s_j and
// intercept = c - sum_j beta_j*mu_j.
type logisticProblem struct {
	data      []float64
	n, p, str int
	y, w      []float64
	l2        float64
	mu, s     []float64
	wsum      float64

	// Cache of the last evaluation; Minimize asks for the value and the
	// gradient at the same point one after the other.
	lastX    []float64
	lastF    float64
	lastGrad []float64
	valid    bool

	beta      []float64
	blockGrad [][]float64
	blockLoss []float64
}

func newLogisticProblem(data []float64, n, p, stride int, y, w []float64, l2 float64) *logisticProblem {
	pr := &logisticProblem{data: data, n: n, p: p, str: stride, y: y, w: w, l2: l2}
	pr.mu = make([]float64, p)
	pr.s = make([]float64, p)
	// Weighted mean and standard deviation per column (two passes for
	// accuracy).
	for i := 0; i < n; i++ {
		wi := pr.weight(i)
		pr.wsum += wi
		floats.AddScaled(pr.mu, wi, data[i*stride:i*stride+p])
	}
	floats.Scale(1/pr.wsum, pr.mu)
	for i := 0; i < n; i++ {
		wi := pr.weight(i)
		row := data[i*stride : i*stride+p]
		for j, v := range row {
			d := v - pr.mu[j]
			pr.s[j] += wi * d * d
		}
	}
	for j := range pr.s {
		sd := math.Sqrt(pr.s[j] / pr.wsum)
		if !(sd > 1e-12*math.Max(1, math.Abs(pr.mu[j]))) || math.IsInf(sd, 0) {
			sd = 1 // constant column: leave it unscaled
		}
		pr.s[j] = sd
	}
	nb := (n + logisticBlockRows - 1) / logisticBlockRows
	pr.blockGrad = make([][]float64, nb)
	for b := range pr.blockGrad {
		pr.blockGrad[b] = make([]float64, p+1)
	}
	pr.blockLoss = make([]float64, nb)
	pr.beta = make([]float64, p)
	pr.lastX = make([]float64, p+1)
	pr.lastGrad = make([]float64, p+1)
	return pr
}

func (pr *logisticProblem) weight(i int) float64 {
	if pr.w == nil {
		return 1
	}
	return pr.w[i]
}

// toOriginal writes the original coefficients for theta into beta and
// returns the original intercept.
func (pr *logisticProblem) toOriginal(beta, theta []float64) float64 {
	b0 := theta[pr.p]
	for j := range beta {
		beta[j] = theta[j] / pr.s[j]
		b0 -= beta[j] * pr.mu[j]
	}
	return b0
}

// Func returns the objective divided by the total weight.
func (pr *logisticProblem) Func(theta []float64) float64 {
	pr.evaluate(theta)
	return pr.lastF
}

// Grad writes the gradient of Func at theta into grad.
func (pr *logisticProblem) Grad(grad, theta []float64) {
	pr.evaluate(theta)
	copy(grad, pr.lastGrad)
}

func (pr *logisticProblem) evaluate(theta []float64) {
	if pr.valid && floats.Equal(theta, pr.lastX) {
		return
	}
	p := pr.p
	b0 := pr.toOriginal(pr.beta, theta)
	linearParallelBlocks(pr.n, logisticBlockRows, func(b, lo, hi int) {
		g := pr.blockGrad[b]
		for j := range g {
			g[j] = 0
		}
		gb := g[:p]
		var loss, g0 float64
		for i := lo; i < hi; i++ {
			wi := pr.weight(i)
			if wi == 0 {
				continue
			}
			row := pr.data[i*pr.str : i*pr.str+p]
			z := b0 + floats.Dot(pr.beta, row)
			// log(1+e^z) and sigmoid(z) from a single exponential.
			e := math.Exp(-math.Abs(z))
			l1p := math.Log1p(e)
			var sig float64
			if z >= 0 {
				l1p += z
				sig = 1 / (1 + e)
			} else {
				sig = e / (1 + e)
			}
			yi := pr.y[i]
			loss += wi * (l1p - yi*z)
			r := wi * (sig - yi)
			g0 += r
			floats.AddScaled(gb, r, row)
		}
		g[p] = g0
		pr.blockLoss[b] = loss
	})
	// Combine the blocks in a fixed order.
	grad := pr.lastGrad
	for j := range grad {
		grad[j] = 0
	}
	var f float64
	for b, g := range pr.blockGrad {
		f += pr.blockLoss[b]
		floats.Add(grad, g)
	}
	var pen float64
	for j, bj := range pr.beta {
		pen += bj * bj
		grad[j] += pr.l2 * bj
	}
	f += 0.5 * pr.l2 * pen
	// Chain rule to standardized coordinates, then divide by the total
	// weight so the tolerance does not depend on the number of rows.
	g0 := grad[p]
	inv := 1 / pr.wsum
	for j := 0; j < p; j++ {
		grad[j] = (grad[j] - pr.mu[j]*g0) / pr.s[j] * inv
	}
	grad[p] = g0 * inv
	pr.lastF = f * inv
	copy(pr.lastX, theta)
	pr.valid = true
}

// linearRawMatrix returns the row-major backing data of x with its
// dimensions and stride, copying x only when it does not expose a raw
// row-major matrix. The returned data must not be modified.
func linearRawMatrix(x mat.Matrix) (data []float64, rows, cols, stride int) {
	rows, cols = x.Dims()
	if rows == 0 || cols == 0 {
		return nil, rows, cols, cols
	}
	if rm, ok := x.(mat.RawMatrixer); ok {
		raw := rm.RawMatrix()
		return raw.Data, raw.Rows, raw.Cols, raw.Stride
	}
	d := mat.DenseCopyOf(x)
	raw := d.RawMatrix()
	return raw.Data, raw.Rows, raw.Cols, raw.Stride
}

// linearParallelBlocks calls fn for every block of blockRows consecutive
// rows in [0, n), running blocks on up to GOMAXPROCS goroutines. fn receives
// the block index, so each block can write to its own slot; callers combine
// the slots in index order, which keeps results independent of scheduling.
func linearParallelBlocks(n, blockRows int, fn func(block, lo, hi int)) {
	nb := (n + blockRows - 1) / blockRows
	workers := min(runtime.GOMAXPROCS(0), nb)
	if workers <= 1 {
		for b := 0; b < nb; b++ {
			fn(b, b*blockRows, min(n, (b+1)*blockRows))
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int, nb)
	for b := 0; b < nb; b++ {
		next <- b
	}
	close(next)
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for b := range next {
				fn(b, b*blockRows, min(n, (b+1)*blockRows))
			}
		})
	}
	wg.Wait()
}
