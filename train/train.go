package train

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model"
	"github.com/icpengine/icp/profile"
)

// The label targets (see LabelConfig), as the artifact records them.
const (
	TargetIdeal    = profile.TargetIdeal
	TargetWon      = profile.TargetWon
	TargetRetained = profile.TargetRetained
)

// Config tunes Train. The zero value is ready to use.
type Config struct {
	// Seed seeds every random choice; the same data and seed give the same
	// artifact.
	Seed uint64
	// Version names the model; empty means a name derived from the
	// artifact's content ("m-" and 12 hex digits).
	Version string
	Label   LabelConfig
	// HoldoutFraction is the share of closed deals held out for
	// validation: the newest by close date, or without close dates a
	// seeded random share of each outcome. Zero means 0.2.
	HoldoutFraction float64
	Models          ModelConfig
	Encoder         features.EncoderConfig
	Tiers           TierConfig
	Segments        SegmentConfig
	Anti            AntiConfig
	Value           ValueConfig
	// Timings, when not nil, receives how long the steps took.
	Timings *Timings
	// Progress, when not nil, hears of each step of Train as it begins
	// (done false) and as it ends (done true), from the goroutine that
	// called Train: encoding the closed deals, fitting each candidate
	// model, the refit, scoring, the segment and anti-ICP searches, the
	// backtest. step names the step in words, e.g. "fit gbm on 1600 older
	// deals". A step that fails is not reported as done.
	Progress func(step string, done bool)
	// Split, when not nil, receives the rows of the validation split and
	// the holdout's calibrated probabilities.
	Split *Split
}

// Split is the validation split of a training: the rows (0-based, in the
// table Train was given) of the training part and of the holdout, in
// split order, and the calibrated probability the validation model gave
// each holdout row. Scripts compare other learners on the same rows
// (cmd/train --holdout-out).
type Split struct {
	// ByDate is set when the holdout is the newest closed deals; otherwise
	// it is a seeded random draw within each outcome.
	ByDate bool
	Fit    []int
	Hold   []int
	// Label is the label of every row of the table: 1, 0, or NaN for open
	// deals.
	Label []float64
	// HoldProbs are the holdout's calibrated probabilities, in Hold order.
	HoldProbs []float64
}

// TierConfig sets the tier thresholds. The zero value gives Tier 1, 2 and
// 3 to the top 10%, next 20% and next 30% of training scores.
type TierConfig struct {
	// Shares are the shares of training accounts in Tier 1, 2 and 3, from
	// the top score down; the rest are non-fit. Zero means 0.10, 0.20,
	// 0.30.
	Shares [3]float64
	// Lift, when set, puts the threshold of each tier at a calibrated
	// score of Lift[k] times the base rate: with {3, 1.5, 0.75} a Tier 1
	// account is expected to become a positive at three times the base
	// rate or more. It overrides Shares.
	Lift [3]float64
	// Capacity, when positive, sizes Tier 1 to the accounts sales can work
	// in a quarter: Tier 1 holds Capacity of the accounts closed per
	// quarter (counted from the close dates), and Tiers 2 and 3 the next
	// Shares[1] and Shares[2]. It needs a close date column.
	Capacity int
}

// Train learns an ICP profile from a table and its schema.
//
// It labels rows from the outcome columns, holds out the newest closed
// deals (by close date; without one, a seeded random share of each
// outcome) to validate models fitted on the others, then refits the
// encoder and the selected model on every labeled row, calibrated on its
// own out-of-fold margins. Segments are rules found on the outcomes of the
// older deals and checked on the newest (see SegmentConfig); tier
// thresholds come from the score distribution of all rows, open ones
// included. The profile returned decodes and warms up as serve loads it.
func Train(t *datasets.Table, s *features.Schema, cfg Config) (*profile.Profile, error) {
	return TrainContext(context.Background(), t, s, cfg)
}

// TrainContext is Train, stopped between its steps (and between the
// candidate models) once ctx is done, with ctx's error.
func TrainContext(ctx context.Context, t *datasets.Table, s *features.Schema, cfg Config) (*profile.Profile, error) {
	began := time.Now()
	r, err := newRun(t, s, cfg)
	if err != nil {
		return nil, err
	}
	r.ctx = ctx
	value := s.Outcomes.Value != "" && !cfg.Value.Disable
	for _, step := range []struct {
		name string // for errors
		what string // for Config.Progress; "" when the step reports its own parts
		run  func() error
	}{
		{"validate", "", r.validate}, // fit every candidate on the older deals, select on the holdout
		{"refit", fmt.Sprintf("refit the selected model on all %d closed deals", len(r.labeled)), r.refit}, // calibrated; every row encoded once
		{"importance", "rank the columns by attribution", r.importance},
		{"value model", when(value, "value model"), r.fitValue},             // where the export has a value outcome
		{"score", fmt.Sprintf("score %d rows", t.Rows()), r.scoreAll},       // percentiles and tier thresholds
		{"drift reference", "drift reference", r.driftReference},            // what served traffic is compared with
		{"segments", "segment search", r.findSegments},                      // rules of groups that win far more often, checked on the holdout
		{"anti-ICP", "anti-ICP search", r.findAntiICP},                      // the rules of accounts not worth pursuing
		{"backtest", "backtest on the holdout", r.backtest},                 // per tier, segment and anti-ICP
		{"value backtest", when(value, "value backtest"), r.valueBacktest},  // tier 1 by expected value against by probability
		{"channels", when(s.Channel != "", "deals by channel"), r.channels}, // the closed deals by channel
		{"name", "", r.name}, // the version, derived from the content
		{"verify", "check the artifact as serve loads it", r.verify}, // decoded and warmed up as serve will
	} {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		done := r.progress(step.what)
		if err := step.run(); err != nil {
			return nil, err
		}
		if err := checkFinite(r.p); err != nil {
			return nil, fmt.Errorf("after the %s step: %w", step.name, err)
		}
		done()
	}
	if cfg.Split != nil {
		*cfg.Split = r.splitRows()
	}
	if cfg.Timings != nil {
		cfg.Timings.Total = time.Since(began)
	}
	return r.p, nil
}

// when returns what when the step applies and "" (reported by no one)
// otherwise.
func when(applies bool, what string) string {
	if !applies {
		return ""
	}
	return what
}

// progress reports the beginning of the step what to Config.Progress and
// returns the function that reports its end; an empty what reports
// nothing.
func (r *trainRun) progress(what string) (done func()) {
	if r.cfg.Progress == nil || what == "" {
		return func() {}
	}
	r.cfg.Progress(what, false)
	return func() { r.cfg.Progress(what, true) }
}

// trainRun is one training: it owns the table, its labels, the
// time-ordered splits and the encodings that every step reads, and the
// profile the steps fill in.
type trainRun struct {
	ctx context.Context // checked between candidates
	cfg Config
	t   *datasets.Table
	s   *features.Schema
	lab *labels
	od  *outcomeData
	// labeled are the closed rows in split order: oldest close first
	// when the split is by date (byDate), else in a seeded random order
	// with the holdout last. fit are the models' training split (the
	// older deals), hold the holdout (the newest), and labeled is fit
	// then hold.
	labeled, fit, hold []int
	byDate             bool
	// closeDays are the close dates of the rows in days, nil without a
	// close date column.
	closeDays []float64
	// best is the candidate validation selected and holdProbs its
	// cross-fitted calibrated probabilities on the holdout.
	best      *fitted
	holdProbs []float64
	// shape is the shape of boosted trees cross-validation chose (see
	// cvRounds); the zero value is ModelConfig.GBM's.
	shape treeShape
	// all holds every row of t encoded by the profile's encoder, and
	// scores their calibrated scores.
	all    *mat.Dense
	scores []float64
	// val holds the value model's predictions, nil without one.
	val *valueRun
	// views are the columns as the rule search reads them, built once for
	// the segments and the anti-ICP (see searchRows).
	views []view
	p     *profile.Profile
}

// newRun checks the table, labels it and splits the closed deals by
// close date.
func newRun(t *datasets.Table, s *features.Schema, cfg Config) (*trainRun, error) {
	if t.Rows() == 0 {
		return nil, fmt.Errorf("%s: no rows: %w", t.Source, icp.ErrInvalid)
	}
	if err := s.Check(t); err != nil {
		return nil, err
	}
	if err := checkFeatures(t, s); err != nil {
		return nil, err
	}
	lab, err := makeLabels(t, s, cfg.Label)
	if err != nil {
		return nil, err
	}
	r := &trainRun{ctx: context.Background(), cfg: cfg, t: t, s: s, lab: lab, p: &profile.Profile{Seed: cfg.Seed, Schema: s, Label: lab.def}}
	if r.p.DataHash, err = tableHash(t); err != nil {
		return nil, err
	}
	frac := cfg.HoldoutFraction
	if frac == 0 {
		frac = 0.2
	}
	if !(frac > 0 && frac < 1) {
		return nil, fmt.Errorf("holdout fraction %g is not in (0, 1): %w", frac, icp.ErrInvalid)
	}
	r.labeled, r.closeDays = orderByClose(t, s, lab)
	if r.closeDays != nil && datedShare(r.labeled, r.closeDays) >= minDatedShare {
		nHold := int(math.Round(frac * float64(len(r.labeled))))
		r.fit, r.hold = r.labeled[:len(r.labeled)-nHold], r.labeled[len(r.labeled)-nHold:]
		r.byDate = true
		r.p.Validation.Split = fmt.Sprintf("time-ordered: the newest %.0f%% of closed deals by %s", 100*frac, s.Outcomes.CloseDate)
		if len(r.hold) > 0 {
			r.p.Validation.From, r.p.Validation.To = r.day(r.hold[0]), r.day(r.hold[len(r.hold)-1])
		}
	} else {
		why := "there is no close date column"
		if r.closeDays != nil {
			why = fmt.Sprintf("fewer than %.0f%% of closed deals have a %s", 100*minDatedShare, s.Outcomes.CloseDate)
		}
		r.fit, r.hold = randomSplit(r.labeled, lab.y, frac, cfg.Seed)
		r.labeled = append(append(make([]int, 0, len(r.labeled)), r.fit...), r.hold...)
		r.p.Validation.Split = fmt.Sprintf("seeded random: %.0f%% of the rows of each outcome drawn at random (seed %d), since %s", 100*frac, cfg.Seed, why)
	}
	r.od = newOutcomeData(t, s, lab)
	r.p.Baseline = r.od.evidence(r.labeled)
	return r, nil
}

// splitRows returns the validation split.
func (r *trainRun) splitRows() Split {
	return Split{ByDate: r.byDate, Fit: append([]int(nil), r.fit...), Hold: append([]int(nil), r.hold...),
		Label: append([]float64(nil), r.lab.y...), HoldProbs: append([]float64(nil), r.holdProbs...)}
}

// day is the close date of row i, "" when unknown.
func (r *trainRun) day(i int) string {
	if r.closeDays == nil {
		return ""
	}
	return profile.FormatDay(r.closeDays[i])
}

// refit fits the encoder on every labeled row, encodes every row of the
// table once with it, and refits the selected kind on the labeled rows
// with the number of trees early stopping chose. The refitted model, the
// one served, is calibrated on its own cross-fitted margins (see
// fitCalibrated), never on the validation model's.
func (r *trainRun) refit() error {
	enc, err := features.Fit(r.t, r.s, r.labeled, r.cfg.Encoder)
	if err != nil {
		return err
	}
	if r.all, err = enc.Transform(r.t, nil); err != nil {
		return err
	}
	kind, rounds := r.best.m.Kind, r.best.cand.Rounds
	x, y := rowsOf(r.all, r.labeled), pick(r.lab.y, r.labeled)
	m, _, _, err := r.fitCalibrated(kind, enc, x, y, max(rounds, 1))
	if err != nil {
		return fmt.Errorf("refit: %s: %w", kind, err)
	}
	p := r.p
	p.Encoder, p.Model = enc, m
	p.Data = profile.DataInfo{Source: r.t.Source, Rows: r.t.Rows(), Labeled: len(r.labeled), Features: enc.Width}
	if r.closeDays != nil {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, i := range r.labeled {
			if v := r.closeDays[i]; !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		if lo <= hi {
			p.Data.From, p.Data.To = profile.FormatDay(lo), profile.FormatDay(hi)
		}
	}
	return nil
}

// scoreAll scores every row, open deals included, and sets the score
// percentiles and the tier thresholds from them.
func (r *trainRun) scoreAll() error {
	p := r.p
	r.scores = p.Model.Probs(r.all)[:r.t.Rows()]
	sorted := append([]float64(nil), r.scores...)
	sort.Float64s(sorted)
	p.ScoreQuantiles = scoreQuantiles(sorted)
	baseRate := float64(r.lab.def.Positives) / float64(r.lab.def.Positives+r.lab.def.Negatives)
	var err error
	if p.Tiers, err = makeTiers(sorted, r.cfg.Tiers, baseRate, perQuarter(r.labeled, r.closeDays)); err != nil {
		return err
	}
	return r.tierByValue()
}

// scoreQuantiles returns the 0th to 100th percentiles of sorted scores,
// interpolated, never decreasing and within the scores' range:
// interpolating across tied scores can stray by one unit in the last
// place on either side of the tie, and serve refuses unsorted quantiles.
func scoreQuantiles(sorted []float64) []float64 {
	q := make([]float64, 101)
	lo, hi := sorted[0], sorted[len(sorted)-1]
	for k := range q {
		q[k] = min(hi, max(lo, stat.Quantile(float64(k)/100, stat.LinInterp, sorted, nil)))
		if k > 0 && q[k] < q[k-1] {
			q[k] = q[k-1]
		}
	}
	return q
}

// name sets the version: Config.Version, or one derived from the content.
// Empty lists are set first, so that they encode as [], not null, for
// readers of the artifact.
func (r *trainRun) name() error {
	p := r.p
	if p.Segments == nil {
		p.Segments = []profile.Segment{}
	}
	if p.AntiICP.Rules == nil {
		p.AntiICP.Rules = []profile.AntiRule{}
	}
	p.Version = r.cfg.Version
	if p.Version == "" {
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		p.Version = "m-" + hex.EncodeToString(sum[:6])
	}
	return nil
}

// checkFeatures refuses a table with no usable feature column.
func checkFeatures(t *datasets.Table, s *features.Schema) error {
	if len(s.Features()) == 0 {
		return fmt.Errorf("%s: no feature columns: every column is an id, an outcome or excluded: %w", t.Source, icp.ErrInvalid)
	}
	return nil
}

func metrics(y, p []float64) profile.Metrics {
	m := profile.Metrics{Rows: len(y)}
	for _, v := range y {
		if v == 1 {
			m.Positives++
		}
	}
	m.ROCAUC = model.ROCAUC(y, p, nil)
	m.PRAUC = model.PRAUC(y, p, nil)
	m.LogLoss = model.LogLoss(y, p, nil)
	m.Brier = model.Brier(y, p, nil)
	m.LiftTopDecile = model.LiftAtTop(y, p, 0.1)
	return m
}

func bothClasses(y []float64) bool {
	var pos, neg bool
	for _, v := range y {
		pos = pos || v == 1
		neg = neg || v == 0
	}
	return pos && neg
}

// orderByClose returns the labeled rows, oldest close first (rows without
// a close date first, then by row order), and the close days per row (nil
// without a close date column).
func orderByClose(t *datasets.Table, s *features.Schema, lab *labels) ([]int, []float64) {
	var rows []int
	for i, v := range lab.y {
		if !math.IsNaN(v) {
			rows = append(rows, i)
		}
	}
	c := outcomeColumn(t, s.Outcomes.CloseDate)
	if c == nil || c.Kind != datasets.Date {
		return rows, nil
	}
	key := func(i int) float64 {
		if math.IsNaN(c.Num[i]) {
			return math.Inf(-1)
		}
		return c.Num[i]
	}
	sort.SliceStable(rows, func(a, b int) bool { return key(rows[a]) < key(rows[b]) })
	return rows, c.Num
}

// makeTiers sets the thresholds from the sorted training scores: by
// shares, by lift over the base rate, or by sales capacity per quarter.
func makeTiers(sorted []float64, cfg TierConfig, baseRate, perQuarter float64) (profile.Tiers, error) {
	shares := cfg.Shares
	if shares == [3]float64{} {
		shares = [3]float64{0.10, 0.20, 0.30}
	}
	t := profile.Tiers{Method: "shares"}
	switch {
	case cfg.Lift != [3]float64{}:
		l := cfg.Lift
		if !(l[0] >= l[1] && l[1] >= l[2] && l[2] > 0) {
			return t, fmt.Errorf("tiers: lifts %v must be positive and decreasing: %w", l, icp.ErrInvalid)
		}
		t.Method = "lift"
		t.Target = fmt.Sprintf("calibrated score at least %g×, %g× and %g× the base rate of %s", l[0], l[1], l[2], profile.FormatPercent(baseRate))
		t.Tier1, t.Tier2, t.Tier3 = math.Min(1, l[0]*baseRate), math.Min(1, l[1]*baseRate), math.Min(1, l[2]*baseRate)
		above := func(th float64) float64 {
			return 1 - float64(sort.SearchFloat64s(sorted, th))/float64(max(1, len(sorted)))
		}
		a1, a2, a3 := above(t.Tier1), above(t.Tier2), above(t.Tier3)
		t.Shares = [3]float64{a1, a2 - a1, a3 - a2}
		return t, nil
	case cfg.Capacity > 0:
		if !(perQuarter > 0) {
			return t, fmt.Errorf("tiers: a capacity needs close dates to count accounts per quarter: %w", icp.ErrInvalid)
		}
		t.Method = "capacity"
		shares[0] = math.Min(1, float64(cfg.Capacity)/perQuarter)
		shares[1] = math.Min(shares[1], 1-shares[0])
		shares[2] = math.Min(shares[2], 1-shares[0]-shares[1])
		t.Target = fmt.Sprintf("Tier 1 holds %d of the %.0f accounts closed per quarter", cfg.Capacity, perQuarter)
	default:
		for _, v := range shares {
			if v < 0 || math.IsNaN(v) {
				return t, fmt.Errorf("tiers: shares %v must not be negative: %w", shares, icp.ErrInvalid)
			}
		}
		if shares[0]+shares[1]+shares[2] > 1+1e-9 {
			return t, fmt.Errorf("tiers: shares %v add up to more than 1: %w", shares, icp.ErrInvalid)
		}
		t.Target = fmt.Sprintf("the top %s, next %s and next %s of training scores", profile.FormatPercent(shares[0]), profile.FormatPercent(shares[1]), profile.FormatPercent(shares[2]))
	}
	t.Shares = shares
	cum := 0.0
	cut := func(share float64) float64 {
		cum += share
		return stat.Quantile(math.Max(0, 1-cum), stat.Empirical, sorted, nil)
	}
	t.Tier1, t.Tier2, t.Tier3 = cut(shares[0]), cut(shares[1]), cut(shares[2])
	return t, nil
}

// perQuarter is the number of closed accounts per quarter (91.3 days)
// over the span of close dates, NaN without dates.
func perQuarter(rows []int, closeDays []float64) float64 {
	if closeDays == nil || len(rows) < 2 {
		return math.NaN()
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, i := range rows {
		if v := closeDays[i]; !math.IsNaN(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	span := hi - lo + 1
	if !(span > 0) {
		return math.NaN()
	}
	return float64(len(rows)) / math.Max(1, span/91.3125)
}

func tableHash(t *datasets.Table) (string, error) {
	h := sha256.New()
	if err := datasets.WriteCSV(h, t); err != nil {
		return "", fmt.Errorf("hash training data: %w", err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// rowsOf copies the given rows of x into a new matrix, in order.
func rowsOf(x *mat.Dense, rows []int) *mat.Dense {
	_, c := x.Dims()
	out := mat.NewDense(max(len(rows), 1), c, nil)
	for j, i := range rows {
		copy(out.RawRowView(j), x.RawRowView(i))
	}
	return out
}

func pick(v []float64, rows []int) []float64 {
	out := make([]float64, len(rows))
	for j, i := range rows {
		out[j] = v[i]
	}
	return out
}

func columnMeans(x *mat.Dense) []float64 {
	r, c := x.Dims()
	m := make([]float64, c)
	for i := 0; i < r; i++ {
		row := x.RawRowView(i)
		for j, v := range row {
			m[j] += v
		}
	}
	for j := range m {
		m[j] /= float64(r)
	}
	return m
}
