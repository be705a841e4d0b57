package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model/gbm"
	"github.com/icpengine/icp/profile"
)

// The values of ValueConfig.TierBy.
const (
	// TierByScore sets the tiers on the calibrated score (the default).
	TierByScore = "score"
	// TierByValue sets them on the expected value: the calibrated score
	// times the value model's predicted value.
	TierByValue = "value"
)

// ValueConfig tunes the value model (see profile.Value). The zero value
// fits one wherever the schema names a value outcome, and keeps the tiers
// on the calibrated score.
type ValueConfig struct {
	// Disable leaves the value model out.
	Disable bool
	// TierBy is TierByScore ("" too) or TierByValue.
	TierBy string
	// GBM tunes the boosted trees; Loss is squared and Seed comes from
	// Config.Seed.
	GBM gbm.Config
}

// The fewest won deals with a value above zero that the value model is
// fitted on (in the older split) and measured on (in the holdout).
const (
	minValueTrain = 30
	minValueHold  = 10
	// valueBootstrap is the number of paired bootstrap resamples of the
	// value backtest.
	valueBootstrap = 1000
	// saltValue gives the value backtest's bootstrap its own stream.
	saltValue = 0x7a1e
)

// valueRun is what the value steps keep between them.
type valueRun struct {
	// all is the served value model's predicted value of every row; hold
	// the validation model's for each holdout row, in holdout order.
	all, hold []float64
}

// fitValue fits the value model where the schema names a value outcome:
// boosted trees with squared error on log(value) of the won deals whose
// value is above zero, early-stopped on the newest tenth of the older
// split's, against the median of the older split on the holdout's. A
// model that does not beat the median on log RMSE is left out, with the
// reason; one that does is refitted on every such won deal with the number
// of trees validation chose, and its smearing factor comes from the
// holdout's residuals.
func (r *trainRun) fitValue() error {
	cfg := r.cfg.Value
	switch cfg.TierBy {
	case "", TierByScore, TierByValue:
	default:
		return fmt.Errorf("value: tiers by %q: want %q or %q: %w", cfg.TierBy, TierByScore, TierByValue, icp.ErrInvalid)
	}
	col := numColumn(r.t, r.s.Outcomes.Value)
	if cfg.Disable || col == nil {
		return nil
	}
	v := &profile.Value{Column: col.Name}
	r.p.Value = v
	value := func(i int) float64 {
		if x := col.Num[i]; x > 0 && !math.IsInf(x, 0) {
			return x
		}
		return math.NaN()
	}
	var fitRows, holdRows []int
	for _, split := range []struct {
		rows []int
		dst  *[]int
	}{{r.fit, &fitRows}, {r.hold, &holdRows}} {
		for _, i := range split.rows {
			switch {
			case !r.lab.won[i]:
			case math.IsNaN(value(i)):
				v.Validation.LeftOut++
			default:
				*split.dst = append(*split.dst, i)
			}
		}
	}
	vv := &v.Validation
	vv.Train, vv.Holdout = len(fitRows), len(holdRows)
	if vv.Train < minValueTrain || vv.Holdout < minValueHold {
		v.Reason = fmt.Sprintf("too few won deals with a value: %d in training and %d held out, where the value model needs %d and %d", vv.Train, vv.Holdout, minValueTrain, minValueHold)
		return nil
	}
	enc, err := features.Fit(r.t, r.s, r.fit, r.cfg.Encoder)
	if err != nil {
		return fmt.Errorf("value: %w", err)
	}
	x, err := enc.Transform(r.t.Take(append(append([]int(nil), fitRows...), holdRows...)), nil)
	if err != nil {
		return fmt.Errorf("value: %w", err)
	}
	xt := profile.TreeMatrix(enc, x)
	y := make([]float64, 0, len(fitRows)+len(holdRows))
	for _, i := range append(append([]int(nil), fitRows...), holdRows...) {
		y = append(y, math.Log(value(i)))
	}
	nf, w := len(fitRows), enc.Width
	g, rounds, err := r.fitValueTrees(xt.Slice(0, nf, 0, w).(*mat.Dense), y[:nf], 0)
	if err != nil {
		return err
	}
	yHold := y[nf:]
	pred := g.MarginBatch(xt.Slice(nf, len(y), 0, w), nil)
	vv.Median = medianValue(fitRows, value)
	base := make([]float64, len(yHold))
	for k := range base {
		base[k] = math.Log(vv.Median)
	}
	vv.Model, vv.Baseline = valueMetrics(yHold, pred), valueMetrics(yHold, base)
	vv.Baseline.Spearman = 0
	if !(vv.Model.RMSELog < vv.Baseline.RMSELog) {
		v.Reason = fmt.Sprintf("the value model does not beat the median on the held-out won deals: log RMSE %.3f against %.3f", vv.Model.RMSELog, vv.Baseline.RMSELog)
		return nil
	}
	smear := 0.0
	for k, f := range pred {
		smear += math.Exp(yHold[k] - f)
	}
	smear /= float64(len(pred))

	// The served model: every won deal with a value, encoded by the
	// profile's encoder, oldest first.
	rows := append(append([]int(nil), fitRows...), holdRows...)
	final, _, err := r.fitValueTrees(profile.TreeMatrix(r.p.Encoder, rowsOf(r.all, rows)), y, rounds)
	if err != nil {
		return err
	}
	v.Model = &profile.ValueModel{GBM: final, Smearing: smear, Rounds: rounds}
	r.val = &valueRun{all: r.p.PredictValue(r.all)[:r.t.Rows()]}
	xh, err := enc.Transform(r.t.Take(r.hold), nil)
	if err != nil {
		return fmt.Errorf("value: %w", err)
	}
	r.val.hold = g.MarginBatch(profile.TreeMatrix(enc, xh), nil)[:len(r.hold)]
	for k, f := range r.val.hold {
		r.val.hold[k] = smear * math.Exp(f)
	}
	return nil
}

// medianValue is the median of value over rows (the mean of the middle
// two for an even count).
func medianValue(rows []int, value func(int) float64) float64 {
	v := make([]float64, len(rows))
	for k, i := range rows {
		v[k] = value(i)
	}
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// fitValueTrees fits boosted trees with the squared loss on the rows x
// (tree-encoded, oldest first) and targets y. With rounds 0 the newest
// tenth of the rows (at least 10) watch early stopping; rounds > 0 fixes
// the number of trees.
func (r *trainRun) fitValueTrees(x *mat.Dense, y []float64, rounds int) (*gbm.Model, int, error) {
	cfg := r.cfg.Value.GBM
	cfg.Loss, cfg.Seed = "squared", r.cfg.Seed
	n, w := x.Dims()
	var valid *gbm.Validation
	var fit mat.Matrix = x
	fy := y
	if rounds > 0 {
		cfg.Rounds = rounds
	} else {
		nv := max(10, int(math.Round(0.1*float64(n))))
		fit, fy = x.Slice(0, n-nv, 0, w), y[:n-nv]
		valid = &gbm.Validation{X: x.Slice(n-nv, n, 0, w), Y: y[n-nv:]}
	}
	g, info, err := gbm.Fit(fit, fy, nil, valid, &cfg)
	if err != nil {
		return nil, 0, fmt.Errorf("value: fit boosted trees: %w", err)
	}
	return g, max(1, info.BestRound), nil
}

// valueMetrics scores log-scale predictions pred of the log values y.
func valueMetrics(y, pred []float64) profile.ValueMetrics {
	var m profile.ValueMetrics
	ape := make([]float64, len(y))
	for k, v := range y {
		d := pred[k] - v
		m.RMSELog += d * d
		ape[k] = math.Abs(math.Expm1(d))
	}
	m.RMSELog = math.Sqrt(m.RMSELog / float64(len(y)))
	sort.Float64s(ape)
	m.MdAPE = stat.Quantile(0.5, stat.Empirical, ape, nil)
	m.Spearman = spearman(y, pred)
	return m
}

// spearman is the rank correlation of a and b, ties ranked by their mean
// rank; 0 when either is constant.
func spearman(a, b []float64) float64 {
	ra, rb := ranks(a), ranks(b)
	c := stat.Correlation(ra, rb, nil)
	if math.IsNaN(c) {
		return 0
	}
	return c
}

// ranks returns the rank of each value (1-based), ties at their mean rank.
func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	out := make([]float64, len(v))
	for s := 0; s < len(idx); {
		e := s
		for e < len(idx) && v[idx[e]] == v[idx[s]] {
			e++
		}
		for k := s; k < e; k++ {
			out[idx[k]] = float64(s+e+1) / 2
		}
		s = e
	}
	return out
}

// rowTierKey is what the tiers are set on for row i of the table, whose
// calibrated score is score: the score, or its expected value with tiers
// by value.
func (r *trainRun) rowTierKey(i int, score float64) float64 {
	if r.p.Tiers.By == profile.TierByValue {
		return score * r.val.all[i]
	}
	return score
}

// holdTierKey is rowTierKey for the j-th holdout deal as the validation
// models score it: its cross-fitted probability, or that times the
// validation value model's prediction.
func (r *trainRun) holdTierKey(j int, prob float64) float64 {
	if r.p.Tiers.By == profile.TierByValue {
		return prob * r.val.hold[j]
	}
	return prob
}

// tierByValue sets the tier thresholds on the training accounts' expected
// values, with the shares or the capacity of the tier configuration, when
// the configuration asks for tiers by value.
func (r *trainRun) tierByValue() error {
	if r.cfg.Value.TierBy != TierByValue {
		return nil
	}
	p := r.p
	switch {
	case !p.HasValueModel():
		why := "the export has no value column; name one with a schema file such as {\"outcomes\": {\"value\": \"Amount\"}}"
		if p.Value != nil {
			why = p.Value.Reason
		}
		if r.cfg.Value.Disable {
			why = "the value model is disabled"
		}
		return fmt.Errorf("tiers by value: no value model: %s: %w", why, icp.ErrInvalid)
	case r.cfg.Tiers.Lift != [3]float64{}:
		return fmt.Errorf("tiers by value: lifts over the base rate are thresholds on the calibrated score; use shares or a tier 1 capacity: %w", icp.ErrInvalid)
	}
	ev := make([]float64, len(r.scores))
	for i, s := range r.scores {
		ev[i] = s * r.val.all[i]
	}
	sort.Float64s(ev)
	t, err := makeTiers(ev, r.cfg.Tiers, math.NaN(), perQuarter(r.labeled, r.closeDays))
	if err != nil {
		return err
	}
	t.By = profile.TierByValue
	t.Target = strings.Replace(t.Target, "training scores", "training accounts' expected values", 1) + " (tiers by expected value: the calibrated score times the predicted " + p.Value.Column + ")"
	p.Tiers = t
	return nil
}

// valueBacktest compares, on the holdout, the value that tier 1 captures
// when the deals are ranked by expected value and by probability (see
// profile.ValueBacktest).
func (r *trainRun) valueBacktest() error {
	v := r.p.Value
	if v == nil || v.Model == nil || len(r.hold) == 0 {
		return nil
	}
	col := numColumn(r.t, v.Column)
	n := len(r.hold)
	got := make([]float64, n)
	ev := make([]float64, n)
	b := &profile.ValueBacktest{Rows: n}
	for j, i := range r.hold {
		ev[j] = r.holdProbs[j] * r.val.hold[j]
		if r.wonDeal(i) {
			b.Won++
			if x := col.Num[i]; x > 0 && !math.IsInf(x, 0) {
				got[j] = x
				b.TotalValue += x
			}
		}
	}
	if !(b.TotalValue > 0) {
		return nil
	}
	b.Tier1Share = r.p.Tiers.Shares[0]
	if !(b.Tier1Share > 0) {
		b.Tier1Share = 0.1
	}
	b.Tier1Deals = int(math.Round(b.Tier1Share * float64(n)))
	byValue, byProb := newRanking(ev), newRanking(r.holdProbs)
	ones := make([]float64, n)
	for j := range ones {
		ones[j] = 1
	}
	k := b.Tier1Share * float64(n)
	b.ByValue, b.ByProbability = byValue.captured(got, ones, k), byProb.captured(got, ones, k)
	b.Difference = b.ByValue - b.ByProbability
	for s := 1; s <= 20; s++ {
		share := float64(s) / 20
		b.Curve = append(b.Curve, profile.ValueGainPoint{Share: share,
			ByValue: byValue.captured(got, ones, share*float64(n)), ByProbability: byProb.captured(got, ones, share*float64(n))})
	}
	rng := rand.New(rand.NewPCG(r.cfg.Seed, saltValue))
	diffs := make([]float64, 0, valueBootstrap)
	mult := make([]float64, n)
	for range valueBootstrap {
		clear(mult)
		for range n {
			mult[rng.IntN(n)]++
		}
		a, c := byValue.captured(got, mult, k), byProb.captured(got, mult, k)
		if !math.IsNaN(a) && !math.IsNaN(c) {
			diffs = append(diffs, a-c)
		}
	}
	sort.Float64s(diffs)
	if len(diffs) > 0 {
		b.DiffLow = stat.Quantile(0.025, stat.Empirical, diffs, nil)
		b.DiffHigh = stat.Quantile(0.975, stat.Empirical, diffs, nil)
	}
	v.Backtest = b
	return nil
}

// wonDeal reports whether row i brought its value: a won deal, or for
// the retained target (every row a customer) one who stayed.
func (r *trainRun) wonDeal(i int) bool {
	if r.lab.def.Target == TargetRetained {
		return r.lab.y[i] == 1
	}
	return r.lab.won[i]
}

// ranking is the holdout deals in descending order of a key, in groups
// of tied keys.
type ranking struct {
	order  []int
	groups []int // start of each group in order, and len(order) last
}

func newRanking(key []float64) ranking {
	r := ranking{order: make([]int, len(key))}
	for j := range r.order {
		r.order[j] = j
	}
	sort.SliceStable(r.order, func(a, b int) bool { return key[r.order[a]] > key[r.order[b]] })
	for s := 0; s < len(r.order); s++ {
		if s == 0 || key[r.order[s]] != key[r.order[s-1]] {
			r.groups = append(r.groups, s)
		}
	}
	r.groups = append(r.groups, len(r.order))
	return r
}

// captured is the share of the value got (each deal counted mult times, as
// a bootstrap resample draws it) that the top k deals hold; deals tied at
// the cut count in the share of their group that fits. NaN when the
// deals hold no value.
func (r ranking) captured(got, mult []float64, k float64) float64 {
	var total, in, taken float64
	for _, j := range r.order {
		total += mult[j] * got[j]
	}
	if !(total > 0) {
		return math.NaN()
	}
	for g := 0; g+1 < len(r.groups) && taken < k; g++ {
		var cnt, val float64
		for _, j := range r.order[r.groups[g]:r.groups[g+1]] {
			cnt += mult[j]
			val += mult[j] * got[j]
		}
		if cnt == 0 {
			continue
		}
		frac := math.Min(1, (k-taken)/cnt)
		in += frac * val
		taken += frac * cnt
	}
	return in / total
}
