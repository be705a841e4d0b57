package train

import (
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
	// HoldoutFraction is the share of the newest closed deals held out for
	// validation. Zero means 0.2.
	HoldoutFraction float64
	Models          ModelConfig
	Encoder         features.EncoderConfig
	Tiers           TierConfig
	Segments        SegmentConfig
	Anti            AntiConfig
	// Timings, when not nil, receives how long the steps took.
	Timings *Timings
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
// deals (by close date) to validate a model fitted on the older ones, then
// refits the encoder and the model on every labeled row. Segments are
// k-means clusters of the positive accounts; tier thresholds come from the
// score distribution of all rows, open ones included.
func Train(t *datasets.Table, s *features.Schema, cfg Config) (*profile.Profile, error) {
	began := time.Now()
	if t.Rows() == 0 {
		return nil, fmt.Errorf("train: %s: no rows: %w", t.Source, icp.ErrInvalid)
	}
	if err := s.Check(t); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if err := checkFeatures(t, s); err != nil {
		return nil, err
	}
	lab, err := makeLabels(t, s, cfg.Label)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	p := &profile.Profile{Seed: cfg.Seed, Schema: s, Label: lab.def}
	p.DataHash, err = tableHash(t)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}

	labeled, closeDays := orderByClose(t, s, lab)
	frac := cfg.HoldoutFraction
	if frac == 0 {
		frac = 0.2
	}
	if !(frac > 0 && frac < 1) {
		return nil, fmt.Errorf("train: holdout fraction %g is not in (0, 1): %w", frac, icp.ErrInvalid)
	}
	nHold := int(math.Round(frac * float64(len(labeled))))
	fitRows, holdRows := labeled[:len(labeled)-nHold], labeled[len(labeled)-nHold:]
	best, holdProbs, err := validate(p, t, lab, fitRows, holdRows, cfg)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if closeDays != nil {
		p.Validation.Split = fmt.Sprintf("time-ordered: the newest %.0f%% of closed deals by %s", 100*frac, s.Outcomes.CloseDate)
		p.Validation.From, p.Validation.To = profile.FormatDay(closeDays[holdRows[0]]), profile.FormatDay(closeDays[holdRows[len(holdRows)-1]])
		p.Data.From, p.Data.To = profile.FormatDay(closeDays[labeled[0]]), profile.FormatDay(closeDays[labeled[len(labeled)-1]])
	} else {
		p.Validation.Split = fmt.Sprintf("file order: the last %.0f%% of closed deals (no close date column)", 100*frac)
	}

	// Refit the selected kind on every labeled row, keeping the number of
	// trees early stopping chose and the calibration fitted on the holdout.
	enc, x, err := fitEncoded(t, s, labeled, cfg)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	m, _, err := fitCandidate(best.m.Kind, enc, x, pick(lab.y, labeled), cfg.Models, cfg.Seed, best.cand.Rounds)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	m.Calibration = best.m.Calibration
	p.Encoder, p.Model = enc, m
	p.Data = profile.DataInfo{Source: t.Source, Rows: t.Rows(), Labeled: len(labeled), From: p.Data.From, To: p.Data.To, Features: enc.Width}

	if p.Importance, err = importance(p, t, labeled); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}

	// Scores for every row, open deals included.
	all, err := enc.Transform(t, nil)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	scores := p.Model.Probs(enc, all)
	sorted := append([]float64(nil), scores...)
	sort.Float64s(sorted)
	p.ScoreQuantiles = make([]float64, 101)
	for q := range p.ScoreQuantiles {
		p.ScoreQuantiles[q] = stat.Quantile(float64(q)/100, stat.LinInterp, sorted, nil)
	}
	baseRate := float64(lab.def.Positives) / float64(lab.def.Positives+lab.def.Negatives)
	if p.Tiers, err = makeTiers(sorted, cfg.Tiers, baseRate, perQuarter(labeled, closeDays)); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}

	var holdWinners []float64
	for j, i := range holdRows {
		if lab.won[i] {
			holdWinners = append(holdWinners, holdProbs[j])
		}
	}
	p.Drift = driftReference(p, t, scores, lab, holdWinners)

	// Segments and the anti-ICP are learned on the older deals and must
	// hold up on the newest (the holdout), so that chance patterns of the
	// training data do not become segments.
	var positives []int
	for _, i := range fitRows {
		if lab.y[i] == 1 {
			positives = append(positives, i)
		}
	}
	od := newOutcomeData(t, s, lab)
	p.Baseline = od.evidence(labeled)
	p.Segments, p.SegmentSearch, err = findSegments(p, t, all, positives, fitRows, holdRows, labeled, od, cfg.Segments, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	p.AntiICP, err = findAntiICP(p, t, fitRows, holdRows, labeled, od, segmentColumns(enc, cfg.Segments), p.Baseline, cfg.Anti)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if p.Backtest, err = backtest(p, t, od, holdRows, holdProbs, closeDays); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	// Empty lists encode as [], not null, for readers of the artifact.
	if p.Segments == nil {
		p.Segments = []profile.Segment{}
	}
	if p.AntiICP.Rules == nil {
		p.AntiICP.Rules = []profile.AntiRule{}
	}

	p.Version = cfg.Version
	if p.Version == "" {
		b, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		sum := sha256.Sum256(b)
		p.Version = "m-" + hex.EncodeToString(sum[:6])
	}
	if cfg.Timings != nil {
		cfg.Timings.Total = time.Since(began)
	}
	return p, nil
}

// checkFeatures refuses a table with no usable feature column.
func checkFeatures(t *datasets.Table, s *features.Schema) error {
	if len(s.Features()) == 0 {
		return fmt.Errorf("train: %s: no feature columns: every column is an id, an outcome or excluded: %w", t.Source, icp.ErrInvalid)
	}
	return nil
}

// validate fits every candidate on the older rows, scores the holdout,
// calibrates each by cross-fitting on the holdout, and selects the one with
// the least calibrated log loss. It fills p.Validation and returns the
// selected candidate with its cross-fitted holdout probabilities.
func validate(p *profile.Profile, t *datasets.Table, lab *labels, fitRows, holdRows []int, cfg Config) (*fitted, []float64, error) {
	if len(holdRows) == 0 || len(fitRows) == 0 {
		return nil, nil, fmt.Errorf("validate: %d labeled rows are too few to hold any out: %w", len(fitRows)+len(holdRows), icp.ErrInvalid)
	}
	yFit, yHold := pick(lab.y, fitRows), pick(lab.y, holdRows)
	if !bothClasses(yFit) {
		return nil, nil, fmt.Errorf("validate: the older %d closed deals hold a single outcome class; the time-ordered split needs both: %w", len(fitRows), icp.ErrInvalid)
	}
	if !bothClasses(yHold) {
		return nil, nil, fmt.Errorf("validate: the newest %d closed deals (the holdout) hold a single outcome class, so ranking cannot be measured; add data or raise the holdout fraction: %w", len(holdRows), icp.ErrInvalid)
	}
	enc, x, err := fitEncoded(t, p.Schema, fitRows, cfg)
	if err != nil {
		return nil, nil, err
	}
	xh, err := enc.Transform(t.Take(holdRows), nil)
	if err != nil {
		return nil, nil, err
	}
	kinds := cfg.Models.Kinds
	if len(kinds) == 0 {
		kinds = []string{profile.KindLogistic, profile.KindGBM}
	}
	var best *fitted
	var bestProbs []float64
	var bestTrain profile.Metrics
	for _, kind := range kinds {
		start := time.Now()
		m, rounds, err := fitCandidate(kind, enc, x, yFit, cfg.Models, cfg.Seed, 0)
		if err != nil {
			return nil, nil, fmt.Errorf("validate: %w", err)
		}
		if cfg.Timings != nil {
			if cfg.Timings.Fit == nil {
				cfg.Timings.Fit = make(map[string]time.Duration)
			}
			cfg.Timings.Fit[kind] = time.Since(start)
		}
		f := &fitted{m: m, holdout: m.Margins(enc, xh)}
		var probs []float64
		f.m.Calibration, probs, err = calibrate(f.holdout, yHold)
		if err != nil {
			return nil, nil, fmt.Errorf("validate: calibrate %s: %w", kind, err)
		}
		f.cand = profile.Candidate{Kind: kind, Rounds: rounds, Calibration: f.m.Calibration.Method,
			Holdout: metrics(yHold, sigmoids(f.holdout)), Calibrated: metrics(yHold, probs)}
		p.Validation.Candidates = append(p.Validation.Candidates, f.cand)
		if best == nil || f.cand.Calibrated.LogLoss < best.cand.Calibrated.LogLoss {
			best, bestProbs = f, probs
			p.Validation.Reliability = reliability(yHold, probs)
			bestTrain = metrics(yFit, sigmoids(m.Margins(enc, x)))
		}
	}
	for k := range p.Validation.Candidates {
		c := &p.Validation.Candidates[k]
		c.Selected = c.Kind == best.m.Kind
		if c.Selected {
			p.Validation.Holdout, p.Validation.Calibrated = c.Holdout, c.Calibrated
		}
	}
	p.Validation.Train = bestTrain
	return best, bestProbs, nil
}

func fitEncoded(t *datasets.Table, s *features.Schema, rows []int, cfg Config) (*features.Encoder, *mat.Dense, error) {
	enc, err := features.Fit(t, s, rows, cfg.Encoder)
	if err != nil {
		return nil, nil, err
	}
	x, err := enc.Transform(t.Take(rows), nil)
	if err != nil {
		return nil, nil, err
	}
	return enc, x, nil
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
