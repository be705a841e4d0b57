package profile

import (
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model"
)

// The model kinds.
const (
	KindLogistic = "logistic"
	KindGBM      = "gbm"
)

// The calibration methods.
const (
	CalibrationNone     = "none"
	CalibrationPlatt    = "platt"
	CalibrationIsotonic = "isotonic"
)

// minIsotonicRows is the fewest calibration rows isotonic regression is
// tried on; below it, its steps would follow noise.
const minIsotonicRows = 1000

// Model is the fitted scorer: a logistic regression or gradient-boosted
// trees on the encoded features, and a calibration of its margin.
type Model struct {
	Kind     string          `json:"kind"`
	Logistic *model.Logistic `json:"logistic,omitempty"`
	GBM      *model.GBM      `json:"gbm,omitempty"`
	// Ref is the mean encoded training row, the reference point of the
	// logistic model's attributions: base value = Margin(Ref).
	Ref         []float64   `json:"ref,omitempty"`
	Calibration Calibration `json:"calibration"`
}

// Calibration maps a margin to a probability.
type Calibration struct {
	// Method is "none" (the logistic function), "platt" or "isotonic".
	Method   string          `json:"method"`
	Platt    *model.Platt    `json:"platt,omitempty"`
	Isotonic *model.Isotonic `json:"isotonic,omitempty"`
}

// Prob returns the calibrated probability of a margin.
func (c *Calibration) Prob(margin float64) float64 {
	switch c.Method {
	case CalibrationPlatt:
		return c.Platt.Prob(margin)
	case CalibrationIsotonic:
		return c.Isotonic.Prob(margin)
	}
	return model.Sigmoid(margin)
}

// Candidate is one model the trainer fitted and compared.
type Candidate struct {
	Kind string `json:"kind"`
	// Holdout scores the uncalibrated probabilities (the logistic function
	// of the margin) on the holdout; Calibrated scores the calibrated ones,
	// cross-fitted so that no holdout row is scored by a calibration fitted
	// on it.
	Holdout     Metrics `json:"holdout"`
	Calibrated  Metrics `json:"calibrated"`
	Calibration string  `json:"calibration"`
	// Rounds is the number of trees early stopping kept (GBM only).
	Rounds   int  `json:"rounds,omitempty"`
	Selected bool `json:"selected"`
}

// ReliabilityBin compares predicted and observed rates in one bin of the
// holdout's calibrated scores.
type ReliabilityBin struct {
	Lo        float64 `json:"lo"`
	Hi        float64 `json:"hi"`
	Predicted float64 `json:"predicted"`
	Observed  float64 `json:"observed"`
	N         int     `json:"n"`
}

// ModelConfig chooses and tunes the candidate models. The zero value fits
// both a logistic regression and boosted trees.
type ModelConfig struct {
	// Kinds lists the candidates; empty means logistic and gbm.
	Kinds []string
	// L2 is the logistic regression penalty; zero means 1.
	L2 float64
	// GBM tunes the boosted trees; its Seed is set from Config.Seed.
	GBM model.GBMConfig
	// EarlyStopFraction is the share of the newest training deals that
	// early stopping of the boosted trees watches. Zero means 0.1.
	EarlyStopFraction float64
}

// Timings receives how long the steps of Train took. It is not part of the
// artifact, whose bytes must not depend on the machine.
type Timings struct {
	// Fit is the time to fit each candidate on the training split (the
	// encoded matrix ready), by kind.
	Fit map[string]time.Duration
	// Total is the whole of Train.
	Total time.Duration
}

// fitted is one candidate fitted on the training split.
type fitted struct {
	m       Model
	holdout []float64 // margins on the holdout
	cand    Candidate
}

// fitCandidate fits one kind on the encoded rows x (time-ordered, oldest
// first) with labels y. For boosted trees the newest EarlyStopFraction of
// the rows watch early stopping; rounds > 0 fixes the number of trees
// instead (the refit on all rows).
func fitCandidate(kind string, enc *features.Encoder, x *mat.Dense, y []float64, cfg ModelConfig, seed uint64, rounds int) (Model, int, error) {
	switch kind {
	case KindLogistic:
		lr, err := model.FitLogistic(x, y, nil, &model.LogisticConfig{L2: cfg.L2})
		if err != nil {
			return Model{}, 0, fmt.Errorf("fit logistic regression: %w", err)
		}
		return Model{Kind: kind, Logistic: lr, Ref: columnMeans(x)}, 0, nil
	case KindGBM:
		gcfg := cfg.GBM
		gcfg.Seed = seed
		xt := treeMatrix(enc, x)
		var valid *model.GBMValidation
		fit, fy := mat.Matrix(xt), y
		if rounds > 0 {
			gcfg.Rounds = rounds
		} else {
			frac := cfg.EarlyStopFraction
			if frac == 0 {
				frac = 0.1
			}
			n, _ := xt.Dims()
			nv := int(math.Round(frac * float64(n)))
			if nv > 0 && n-nv > 0 && bothClasses(y[n-nv:]) && bothClasses(y[:n-nv]) {
				fit, fy = xt.Slice(0, n-nv, 0, enc.Width), y[:n-nv]
				valid = &model.GBMValidation{X: xt.Slice(n-nv, n, 0, enc.Width), Y: y[n-nv:]}
			}
		}
		g, info, err := model.FitGBM(fit, fy, nil, valid, &gcfg)
		if err != nil {
			return Model{}, 0, fmt.Errorf("fit boosted trees: %w", err)
		}
		return Model{Kind: kind, GBM: g}, info.BestRound, nil
	}
	return Model{}, 0, fmt.Errorf("unknown model kind %q (want %q or %q): %w", kind, KindLogistic, KindGBM, icp.ErrInvalid)
}

// treeMatrix returns a copy of the encoded matrix with missing numbers
// marked NaN, so that trees learn where missing values go.
func treeMatrix(enc *features.Encoder, x *mat.Dense) *mat.Dense {
	out := mat.DenseCopyOf(x)
	r, _ := out.Dims()
	for i := 0; i < r; i++ {
		enc.MarkMissing(out.RawRowView(i))
	}
	return out
}

// margins returns the model's margins for the encoded rows x.
func (m *Model) margins(enc *features.Encoder, x *mat.Dense) []float64 {
	if m.Kind == KindGBM {
		return m.GBM.MarginBatch(treeMatrix(enc, x), nil)
	}
	return m.Logistic.MarginBatch(x, nil)
}

// explain returns the margin of one encoded row and writes exact additive
// contributions per encoded column into contrib, returning their base
// value: base + sum(contrib) = margin. x is changed (missing values marked)
// for boosted trees.
func (m *Model) explain(enc *features.Encoder, x, contrib []float64) (margin, base float64) {
	if m.Kind == KindGBM {
		enc.MarkMissing(x)
		base, _ = m.GBM.SHAP(x, contrib)
		return m.GBM.Margin(x), base
	}
	base, _ = m.Logistic.Attributions(x, m.Ref, contrib)
	return m.Logistic.Margin(x), base
}

// calibrate chooses, by cross-fitted log loss on the holdout, among no
// calibration, Platt scaling and (with at least minIsotonicRows rows)
// isotonic regression. It returns the calibration fitted on the whole
// holdout and the cross-fitted probabilities: each half of the holdout
// (alternate rows in time order) scored by a calibration fitted on the
// other half.
func calibrate(margins, y []float64) (Calibration, []float64, error) {
	if !bothClasses(y) {
		return Calibration{}, nil, fmt.Errorf("calibrate: a single outcome class: %w", icp.ErrInvalid)
	}
	methods := []string{CalibrationNone, CalibrationPlatt}
	if len(y) >= minIsotonicRows {
		methods = append(methods, CalibrationIsotonic)
	}
	var fold [2][]int
	for i := range y {
		fold[i%2] = append(fold[i%2], i)
	}
	best, bestLoss, bestP := "", math.Inf(1), []float64(nil)
	for _, method := range methods {
		p := make([]float64, len(y))
		ok := true
		for k := range fold {
			train, test := fold[1-k], fold[k]
			c, err := fitCalibration(method, pick(margins, train), pick(y, train))
			if err != nil {
				ok = false // a half with one class: this method cannot be checked
				break
			}
			for _, i := range test {
				p[i] = c.Prob(margins[i])
			}
		}
		if !ok {
			continue
		}
		if loss := model.LogLoss(y, p, nil); loss < bestLoss {
			best, bestLoss, bestP = method, loss, p
		}
	}
	c, err := fitCalibration(best, margins, y)
	if err != nil {
		return Calibration{}, nil, err
	}
	return c, bestP, nil
}

func fitCalibration(method string, margins, y []float64) (Calibration, error) {
	c := Calibration{Method: method}
	var err error
	switch method {
	case CalibrationPlatt:
		c.Platt, err = model.FitPlatt(margins, y, nil)
	case CalibrationIsotonic:
		c.Isotonic, err = model.FitIsotonic(margins, y, nil)
	}
	return c, err
}

func reliability(y, p []float64) []ReliabilityBin {
	var out []ReliabilityBin
	for _, b := range model.Reliability(y, p, 10) {
		out = append(out, ReliabilityBin{Lo: b.Lo, Hi: b.Hi, Predicted: b.MeanPredicted, Observed: b.Observed, N: b.N})
	}
	return out
}

func sigmoids(m []float64) []float64 {
	p := make([]float64, len(m))
	for i, v := range m {
		p[i] = model.Sigmoid(v)
	}
	return p
}
