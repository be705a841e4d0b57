package train

import (
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model"
	"github.com/icpengine/icp/model/gbm"
	"github.com/icpengine/icp/profile"
)

// minIsotonicRows is the fewest calibration rows isotonic regression is
// tried on; below it, its steps would follow noise.
const minIsotonicRows = 1000

// ModelConfig chooses and tunes the candidate models. The zero value fits
// both a logistic regression and boosted trees.
type ModelConfig struct {
	// Kinds lists the candidates; empty means logistic and gbm.
	Kinds []string
	// L2 is the logistic regression penalty; zero means 1.
	L2 float64
	// GBM tunes the boosted trees; its Seed is set from Config.Seed.
	GBM gbm.Config
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
	m       profile.Model
	holdout []float64 // margins on the holdout
	cand    profile.Candidate
}

// validate fits every candidate on the older deals, scores the holdout,
// calibrates each by cross-fitting on the holdout, and selects the one
// with the least calibrated log loss. It fills the profile's Validation
// and keeps the selected candidate with its cross-fitted holdout
// probabilities.
func (r *trainRun) validate() error {
	p, cfg := r.p, r.cfg
	if len(r.hold) == 0 || len(r.fit) == 0 {
		return fmt.Errorf("validate: %d labeled rows are too few to hold any out: %w", len(r.labeled), icp.ErrInvalid)
	}
	yFit, yHold := pick(r.lab.y, r.fit), pick(r.lab.y, r.hold)
	if !bothClasses(yFit) {
		return fmt.Errorf("validate: the older %d closed deals hold a single outcome class; the time-ordered split needs both: %w", len(r.fit), icp.ErrInvalid)
	}
	if !bothClasses(yHold) {
		return fmt.Errorf("validate: the newest %d closed deals (the holdout) hold a single outcome class, so ranking cannot be measured; add data or raise the holdout fraction: %w", len(r.hold), icp.ErrInvalid)
	}
	// The encoder of the candidates is fitted on the older deals alone;
	// the closed deals are encoded once with it, older ones first.
	encoded := r.progress(fmt.Sprintf("encode %d closed deals", len(r.labeled)))
	enc, err := features.Fit(r.t, r.s, r.fit, cfg.Encoder)
	if err != nil {
		return err
	}
	xl, err := enc.Transform(r.t.Take(r.labeled), nil)
	if err != nil {
		return err
	}
	encoded()
	nf := len(r.fit)
	x, xh := xl.Slice(0, nf, 0, enc.Width).(*mat.Dense), xl.Slice(nf, len(r.labeled), 0, enc.Width).(*mat.Dense)
	kinds := cfg.Models.Kinds
	if len(kinds) == 0 {
		kinds = []string{profile.KindLogistic, profile.KindGBM}
	}
	var bestTrain profile.Metrics
	for _, kind := range kinds {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		fitDone := r.progress(fmt.Sprintf("fit %s on %d older deals", kind, len(r.fit)))
		start := time.Now()
		m, rounds, err := r.fitCandidate(kind, enc, x, yFit, 0)
		if err != nil {
			return fmt.Errorf("validate: %w", err)
		}
		fitDone()
		if cfg.Timings != nil {
			if cfg.Timings.Fit == nil {
				cfg.Timings.Fit = make(map[string]time.Duration)
			}
			cfg.Timings.Fit[kind] = time.Since(start)
		}
		f := &fitted{m: m, holdout: m.Margins(xh)}
		var probs []float64
		f.m.Calibration, probs, err = calibrate(f.holdout, yHold)
		if err != nil {
			return fmt.Errorf("validate: calibrate %s: %w", kind, err)
		}
		f.cand = profile.Candidate{Kind: kind, Rounds: rounds, Calibration: f.m.Calibration.Method,
			Holdout: metrics(yHold, sigmoids(f.holdout)), Calibrated: metrics(yHold, probs)}
		p.Validation.Candidates = append(p.Validation.Candidates, f.cand)
		if r.best == nil || f.cand.Calibrated.LogLoss < r.best.cand.Calibrated.LogLoss {
			r.best, r.holdProbs = f, probs
			p.Validation.Reliability = reliability(yHold, probs)
			bestTrain = metrics(yFit, sigmoids(m.Margins(x)))
		}
	}
	for k := range p.Validation.Candidates {
		c := &p.Validation.Candidates[k]
		c.Selected = c.Kind == r.best.m.Kind
		if c.Selected {
			p.Validation.Holdout, p.Validation.Calibrated = c.Holdout, c.Calibrated
		}
	}
	p.Validation.Train = bestTrain
	return nil
}

// fitCandidate fits one kind on the rows x (time-ordered, oldest first),
// encoded by enc, with labels y. For boosted trees the newest
// EarlyStopFraction of the rows watch early stopping; rounds > 0 fixes the
// number of trees instead (the refit on all rows).
func (r *trainRun) fitCandidate(kind string, enc *features.Encoder, x *mat.Dense, y []float64, rounds int) (profile.Model, int, error) {
	cfg, seed := r.cfg.Models, r.cfg.Seed
	switch kind {
	case profile.KindLogistic:
		lr, err := model.FitLogistic(x, y, nil, &model.LogisticConfig{L2: cfg.L2})
		if err != nil {
			return profile.Model{}, 0, fmt.Errorf("fit logistic regression: %w", err)
		}
		return profile.NewLogisticModel(lr, columnMeans(x)), 0, nil
	case profile.KindGBM:
		gcfg := cfg.GBM
		gcfg.Seed = seed
		xt := profile.TreeMatrix(enc, x)
		var valid *gbm.Validation
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
				valid = &gbm.Validation{X: xt.Slice(n-nv, n, 0, enc.Width), Y: y[n-nv:]}
			}
		}
		g, info, err := gbm.Fit(fit, fy, nil, valid, &gcfg)
		if err != nil {
			return profile.Model{}, 0, fmt.Errorf("fit boosted trees: %w", err)
		}
		return profile.NewGBMModel(g, enc), info.BestRound, nil
	}
	return profile.Model{}, 0, fmt.Errorf("unknown model kind %q (want %q or %q): %w", kind, profile.KindLogistic, profile.KindGBM, icp.ErrInvalid)
}

// calibrate chooses, by cross-fitted log loss on the holdout, among no
// calibration, Platt scaling and (with at least minIsotonicRows rows)
// isotonic regression. It returns the calibration fitted on the whole
// holdout and the cross-fitted probabilities: each half of the holdout
// (alternate rows in time order) scored by a calibration fitted on the
// other half.
func calibrate(margins, y []float64) (profile.Calibration, []float64, error) {
	if !bothClasses(y) {
		return profile.Calibration{}, nil, fmt.Errorf("calibrate: a single outcome class: %w", icp.ErrInvalid)
	}
	methods := []string{profile.CalibrationNone, profile.CalibrationPlatt}
	if len(y) >= minIsotonicRows {
		methods = append(methods, profile.CalibrationIsotonic)
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
		return profile.Calibration{}, nil, err
	}
	return c, bestP, nil
}

func fitCalibration(method string, margins, y []float64) (profile.Calibration, error) {
	c := profile.Calibration{Method: method}
	var err error
	switch method {
	case profile.CalibrationPlatt:
		c.Platt, err = model.FitPlatt(margins, y, nil)
	case profile.CalibrationIsotonic:
		c.Isotonic, err = model.FitIsotonic(margins, y, nil)
	}
	return c, err
}

func reliability(y, p []float64) []profile.ReliabilityBin {
	var out []profile.ReliabilityBin
	for _, b := range model.Reliability(y, p, 10) {
		out = append(out, profile.ReliabilityBin{Lo: b.Lo, Hi: b.Hi, Predicted: b.MeanPredicted, Observed: b.Observed, N: b.N})
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
