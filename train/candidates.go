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
	// encoded matrix ready), by kind: the model and everything its fit
	// needs, the cross-validation that chooses its trees and the fold
	// models whose margins calibrate it.
	Fit map[string]time.Duration
	// Total is the whole of Train.
	Total time.Duration
}

// calibrationFolds is the number of folds whose out-of-fold margins
// calibrate a model, as scikit-learn's CalibratedClassifierCV does with
// cv=5 and ensemble=False.
const calibrationFolds = 5

// minCalibrationRows is how many out-of-fold margins a calibration is
// fitted on when the table has more: enough for Platt scaling and
// isotonic regression to be precise to a fraction of a point.
const minCalibrationRows = 20000

// fitted is one candidate fitted on the training split.
type fitted struct {
	m    profile.Model
	cand profile.Candidate
}

// splitWords names the two parts of the validation split: "older" and
// "newest" deals for a split by date, "training" and "held-out" ones for
// a random split.
func (r *trainRun) splitWords() (older, newest string) {
	if r.byDate {
		return "older", "newest"
	}
	return "training", "held-out"
}

// validate fits every candidate on the older deals, each calibrated on
// its own cross-fitted margins of those deals (see fitCalibrated), scores
// the holdout, and selects the one with the least holdout log loss. It
// fills the profile's Validation and keeps the selected candidate with
// its calibrated probabilities on the holdout, which no step of its
// training saw.
func (r *trainRun) validate() error {
	p, cfg := r.p, r.cfg
	if len(r.hold) == 0 || len(r.fit) == 0 {
		return fmt.Errorf("validate: %d labeled rows are too few to hold any out: %w", len(r.labeled), icp.ErrInvalid)
	}
	yFit, yHold := pick(r.lab.y, r.fit), pick(r.lab.y, r.hold)
	older, newest := r.splitWords()
	if !bothClasses(yFit) {
		return fmt.Errorf("validate: the %s %d closed deals hold a single outcome class; the split needs both: %w", older, len(r.fit), icp.ErrInvalid)
	}
	if !bothClasses(yHold) {
		return fmt.Errorf("validate: the %s %d closed deals (the holdout) hold a single outcome class, so ranking cannot be measured; add data or raise the holdout fraction: %w", newest, len(r.hold), icp.ErrInvalid)
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
		m, rounds, took, err := r.fitCalibrated(kind, enc, x, yFit, 0)
		if err != nil {
			return fmt.Errorf("validate: %s: %w", kind, err)
		}
		fitDone()
		if cfg.Timings != nil {
			if cfg.Timings.Fit == nil {
				cfg.Timings.Fit = make(map[string]time.Duration)
			}
			cfg.Timings.Fit[kind] = took
		}
		margins := m.Margins(xh)
		probs := make([]float64, len(margins))
		for i, v := range margins {
			probs[i] = m.Calibration.Prob(v)
		}
		f := &fitted{m: m}
		f.cand = profile.Candidate{Kind: kind, Rounds: rounds, Calibration: m.Calibration.Method,
			Holdout: metrics(yHold, sigmoids(margins)), Calibrated: metrics(yHold, probs)}
		p.Validation.Candidates = append(p.Validation.Candidates, f.cand)
		if r.best == nil || f.cand.Calibrated.LogLoss < r.best.cand.Calibrated.LogLoss {
			r.best, r.holdProbs = f, probs
			p.Validation.Reliability = reliability(yHold, probs)
			bestTrain = metrics(yFit, m.Probs(x))
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

// fitCalibrated fits kind on the rows x (in split order, encoded by enc)
// with labels y, and calibrates it on out-of-fold margins of those rows,
// so that the calibration describes margins of the model's own scale on
// rows it did not fit; then it checks the calibration (see
// checkCalibration). rounds > 0 fixes the number of trees of boosted
// trees; 0 chooses it: by cross-validation on a training split of at most
// cvRoundsRows rows (see cvRounds), whose folds give the out-of-fold
// margins too, else by early stopping on the newest rows (see
// fitCandidate). It returns the model, its number of trees and the time
// it all took.
func (r *trainRun) fitCalibrated(kind string, enc *features.Encoder, x *mat.Dense, y []float64, rounds int) (profile.Model, int, time.Duration, error) {
	start := time.Now()
	var oof []float64
	n, _ := x.Dims()
	if kind == profile.KindGBM && rounds == 0 && n <= cvRoundsRows {
		var err error
		if rounds, oof, err = r.cvRounds(enc, x, y); err != nil {
			return profile.Model{}, 0, 0, err
		}
	}
	m, rounds, err := r.fitCandidate(kind, enc, x, y, rounds)
	if err != nil {
		return profile.Model{}, 0, 0, err
	}
	yOOF := y
	if oof == nil {
		if oof, yOOF, err = r.crossFit(kind, enc, x, y, rounds); err != nil {
			return profile.Model{}, 0, 0, fmt.Errorf("calibrate: %w", err)
		}
	}
	if m.Calibration, _, err = calibrate(oof, yOOF); err != nil {
		return profile.Model{}, 0, 0, fmt.Errorf("calibrate: %w", err)
	}
	return m, rounds, time.Since(start), checkCalibration(&m, x, y)
}

// crossFit returns out-of-fold margins of kind on rows of x, and labels
// of those rows: the rows are cut into calibrationFolds blocks in split
// order (time order when the split is by date), and each block scored is
// scored by a model fitted on the other blocks with the same number of
// trees. Only the newest blocks that together hold minCalibrationRows rows
// are scored (all of them on smaller tables): a calibration needs that
// many margins, not more, and each block costs a fit.
func (r *trainRun) crossFit(kind string, enc *features.Encoder, x *mat.Dense, y []float64, rounds int) (oof, yOOF []float64, err error) {
	n, w := x.Dims()
	k := min(calibrationFolds, n)
	if k < 2 {
		return nil, nil, fmt.Errorf("cross-fit: %d rows are too few: %w", n, icp.ErrInvalid)
	}
	first := 0
	for first < k-1 && n-(first+1)*n/k >= minCalibrationRows {
		first++
	}
	lo0 := first * n / k
	oof = make([]float64, n-lo0)
	rest := make([]int, 0, n)
	for f := first; f < k; f++ {
		lo, hi := f*n/k, (f+1)*n/k
		rest = rest[:0]
		for i := range n {
			if i < lo || i >= hi {
				rest = append(rest, i)
			}
		}
		yr := pick(y, rest)
		if !bothClasses(yr) {
			return nil, nil, fmt.Errorf("cross-fit: fold %d of %d: the other folds hold a single outcome class: %w", f+1, k, icp.ErrInvalid)
		}
		m, _, err := r.fitCandidate(kind, enc, rowsOf(x, rest), yr, max(rounds, 1))
		if err != nil {
			return nil, nil, fmt.Errorf("cross-fit: fold %d of %d: %w", f+1, k, err)
		}
		copy(oof[lo-lo0:hi-lo0], m.Margins(x.Slice(lo, hi, 0, w).(*mat.Dense)))
	}
	return oof, y[lo0:], nil
}

// maxCalibratedMeanGap is how far the mean calibrated score of the
// training deals may be from their base rate: a calibration that belongs
// to its model puts the average close to the share of positives; a
// calibration fitted on another model's margins does not.
const maxCalibratedMeanGap = 0.05

// checkCalibration checks m's calibrated scores on its training rows x
// (labels y): their mean is within maxCalibratedMeanGap of the base rate,
// and they are not all equal where the margins differ.
func checkCalibration(m *profile.Model, x *mat.Dense, y []float64) error {
	margins := m.Margins(x)
	var sum, pos float64
	lo, hi := math.Inf(1), math.Inf(-1)
	mlo, mhi := math.Inf(1), math.Inf(-1)
	for i, v := range margins {
		s := m.Calibration.Prob(v)
		if math.IsNaN(s) || s < 0 || s > 1 {
			return fmt.Errorf("check calibration: %s calibration maps margin %v to %v: %w", m.Calibration.Method, v, s, icp.ErrInvalid)
		}
		sum += s
		pos += y[i]
		lo, hi = math.Min(lo, s), math.Max(hi, s)
		mlo, mhi = math.Min(mlo, v), math.Max(mhi, v)
	}
	n := float64(len(margins))
	if mean, base := sum/n, pos/n; math.Abs(mean-base) > maxCalibratedMeanGap {
		return fmt.Errorf("check calibration: the mean %s-calibrated score of the %d training deals is %.3f, the base rate %.3f: %w",
			m.Calibration.Method, len(margins), mean, base, icp.ErrInvalid)
	}
	if mhi > mlo && hi == lo {
		return fmt.Errorf("check calibration: the %s calibration gives every training deal the score %v while margins range from %.3f to %.3f: %w",
			m.Calibration.Method, lo, mlo, mhi, icp.ErrInvalid)
	}
	return nil
}

// fitCandidate fits one kind on the rows x (time-ordered, oldest first),
// encoded by enc, with labels y. For boosted trees the newest
// EarlyStopFraction of the rows watch early stopping; rounds > 0 fixes the
// number of trees instead (the refit on all rows).
func (r *trainRun) fitCandidate(kind string, enc *features.Encoder, x *mat.Dense, y []float64, rounds int) (profile.Model, int, error) {
	cfg := r.cfg.Models
	switch kind {
	case profile.KindLogistic:
		lr, err := model.FitLogistic(x, y, nil, &model.LogisticConfig{L2: cfg.L2})
		if err != nil {
			return profile.Model{}, 0, fmt.Errorf("fit logistic regression: %w", err)
		}
		return profile.NewLogisticModel(lr, columnMeans(x)), 0, nil
	case profile.KindGBM:
		gcfg := r.gbmConfig(rounds)
		xt := profile.TreeMatrix(enc, x)
		var valid *gbm.Validation
		fit, fy := mat.Matrix(xt), y
		if rounds <= 0 {
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
	if best == "" {
		return profile.Calibration{}, nil, fmt.Errorf("calibrate: no method can be checked on %d rows: %w", len(y), icp.ErrInvalid)
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
		if err == nil && c.Isotonic.Y[0] == c.Isotonic.Y[len(c.Isotonic.Y)-1] {
			// One level: every account would get the same score.
			err = fmt.Errorf("isotonic calibration is flat: %w", icp.ErrInvalid)
		}
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

// cvRoundsRows is the largest training split whose number of trees is
// chosen by cross-validation rather than by early stopping on its newest
// tenth: below it, a tenth is too few rows for a steady validation curve
// (scikit-learn's HistGradientBoosting stops early only above 10,000
// rows, for the same reason), and fitting the folds to the full number of
// rounds is cheap.
const cvRoundsRows = 10000

// treeShape is a shape of the boosted trees that cross-validation may
// choose: MaxDepth and MaxLeaves as in gbm.Config.
type treeShape struct{ maxDepth, maxLeaves int }

// shapes returns the tree shapes cross-validation chooses among: trees of
// depth at most 4 (at most 16 leaves, as XGBoost's depth-limited trees)
// and trees of 31 leaves grown best-first (HistGradientBoosting's), or
// the one shape ModelConfig.GBM sets. Small tables often gain from the
// shallower trees and interacting recipes from the deeper ones; the data
// say which.
func (r *trainRun) shapes() []treeShape {
	g := r.cfg.Models.GBM
	if g.MaxDepth != 0 || g.MaxLeaves != 0 {
		return []treeShape{{g.MaxDepth, g.MaxLeaves}}
	}
	return []treeShape{{maxDepth: 4}, {}}
}

// cvRounds chooses the shape and the number of trees of boosted trees by
// cross-validation on the rows x (in split order) with labels y: the rows
// are cut into calibrationFolds blocks, and for each shape (see shapes) a
// model is fitted without each block, up to the configured maximum number
// of rounds (see crossValidate); the shape and number of trees whose log
// loss over the held-out blocks is least are chosen. It sets the shape for every later fit of
// this training and returns the number of trees and the out-of-fold
// margins at it, which calibrate the model fitted on all the rows.
func (r *trainRun) cvRounds(enc *features.Encoder, x *mat.Dense, y []float64) (int, []float64, error) {
	xt := profile.TreeMatrix(enc, x)
	n, _ := xt.Dims()
	k := min(calibrationFolds, n)
	if k < 2 {
		return 0, nil, fmt.Errorf("choose the number of trees: %d rows are too few: %w", n, icp.ErrInvalid)
	}
	bestLoss, bestRounds, bestShape := math.Inf(1), 0, treeShape{}
	var bestOOF []float64
	for _, shape := range r.shapes() {
		r.shape = shape
		rounds, loss, oof, err := r.crossValidate(xt, y, k)
		if err != nil {
			return 0, nil, err
		}
		if loss < bestLoss {
			bestLoss, bestRounds, bestShape, bestOOF = loss, rounds, shape, oof
		}
	}
	r.shape = bestShape
	return bestRounds, bestOOF, nil
}

// cvPatience is how many rounds a cross-validation fold trains past its
// best held-out loss before it stops, unless ModelConfig.GBM sets
// EarlyStopRounds: enough for the folds' mean curve to find its minimum.
const cvPatience = 30

// crossValidate fits boosted trees of the current shape without each of k
// blocks of the rows of xt (marked for trees), each stopping cvPatience
// rounds after its least loss on the held-out block, and returns the
// number of trees with the least log loss over all held-out blocks, that
// loss (mean per row), and the out-of-fold margins at that number of
// trees. A block's loss after its fit stopped is taken as its last one;
// its margins come from at most the trees its fit kept.
func (r *trainRun) crossValidate(xt *mat.Dense, y []float64, k int) (int, float64, []float64, error) {
	n, w := xt.Dims()
	models := make([]*gbm.Model, k)
	curves := make([][]float64, k) // held-out mean log loss after each number of trees
	longest := 0
	rest := make([]int, 0, n)
	for f := range k {
		lo, hi := f*n/k, (f+1)*n/k
		rest = rest[:0]
		for i := range n {
			if i < lo || i >= hi {
				rest = append(rest, i)
			}
		}
		yr, yf := pick(y, rest), y[lo:hi]
		if !bothClasses(yr) {
			return 0, 0, nil, fmt.Errorf("choose the number of trees: fold %d of %d: the other folds hold a single outcome class: %w", f+1, k, icp.ErrInvalid)
		}
		gcfg := r.gbmConfig(0)
		if gcfg.EarlyStopRounds == 0 {
			gcfg.EarlyStopRounds = cvPatience
		}
		valid := &gbm.Validation{X: xt.Slice(lo, hi, 0, w), Y: yf}
		g, info, err := gbm.Fit(rowsOf(xt, rest), yr, nil, valid, &gcfg)
		if err != nil {
			return 0, 0, nil, fmt.Errorf("choose the number of trees: fold %d of %d: fit boosted trees: %w", f+1, k, err)
		}
		models[f], curves[f] = g, info.ValidLoss
		longest = max(longest, len(info.ValidLoss))
	}
	loss := make([]float64, longest)
	for f, c := range curves {
		rows := float64((f+1)*n/k - f*n/k)
		for t := range loss {
			loss[t] += rows * c[min(t, len(c)-1)]
		}
	}
	best := 0
	for t := range loss {
		if loss[t] < loss[best] {
			best = t
		}
	}
	rounds := best + 1
	oof := make([]float64, n)
	for f, g := range models {
		lo, hi := f*n/k, (f+1)*n/k
		for i := lo; i < hi; i++ {
			row, m := xt.RawRowView(i), g.Base
			for t := range min(rounds, len(g.Trees)) {
				m += treeValue(&g.Trees[t], row)
			}
			oof[i] = m
		}
	}
	return rounds, loss[best] / float64(n), oof, nil
}

// gbmConfig is the boosted trees' configuration: ModelConfig.GBM seeded
// with Config.Seed, of the shape cross-validation chose, with rounds trees
// when rounds > 0.
func (r *trainRun) gbmConfig(rounds int) gbm.Config {
	c := r.cfg.Models.GBM
	c.Seed = r.cfg.Seed
	c.MaxDepth, c.MaxLeaves = r.shape.maxDepth, r.shape.maxLeaves
	if rounds > 0 {
		c.Rounds = rounds
	}
	return c
}

// treeValue is the value of tree t for a row whose missing values are
// NaN, read as package gbm reads it: left when x <= threshold, and a
// missing value where the tree learned to send it.
func treeValue(t *gbm.Tree, x []float64) float64 {
	k := int32(0)
	for t.Feature[k] >= 0 {
		v := x[t.Feature[k]]
		switch {
		case math.IsNaN(v):
			if t.MissingLeft[k] {
				k = t.Left[k]
			} else {
				k = t.Right[k]
			}
		case v <= t.Threshold[k]:
			k = t.Left[k]
		default:
			k = t.Right[k]
		}
	}
	return t.Value[k]
}
