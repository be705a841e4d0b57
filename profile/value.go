package profile

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model"
	"github.com/icpengine/icp/model/gbm"
)

// TierByValue is Tiers.By for tiers set on the expected value instead of
// the calibrated score.
const TierByValue = "expected_value"

// ValueScale is the scale of expected-value attributions: the unit of the
// value column.
const ValueScale = "value"

// Value is the value model of a profile: what a won account is worth,
// learned where the export has a value outcome (Schema.Outcomes.Value), and
// how it did against a plain median on the newest won deals. Model is nil
// when the value model was left out, and Reason says why.
//
// The model is boosted trees with squared error on log(value), fitted on
// the won accounts whose value is above zero: a regression on the log scale
// weighs a 10% error alike on small and large deals, and does not depend on
// the unit (dollars, thousands, millions). The prediction on the value
// scale is exp of it times Duan's smearing factor (the mean of exp of the
// log-scale residuals on the newest won deals, out of sample), so that it
// estimates the mean value rather than the median (Duan 1983).
//
// Expected values are attributed to the columns on the value scale, so
// that the contributions add up exactly to the expected value minus its
// base (see ValueAttributions): the score's log-odds contributions are
// carried to the probability scale, and the value model's log-scale ones
// to the value scale, each by the ratio of the change of its output to the
// change of its margin (the rescale rule of DeepLIFT, Shrikumar et al.
// 2017, which DeepSHAP uses to carry Shapley values through a link); the
// two factors are then combined by the Shapley value of their product,
// p·v − p₀·v₀ = Δp·(v+v₀)/2 + Δv·(p+p₀)/2, each factor's share spread over
// the columns in proportion to their contributions to it. The log of the
// expected value would not do: log p is not additive in the score's
// log-odds contributions.
type Value struct {
	// Column is the value outcome the model predicts.
	Column string `json:"column"`
	// Validation compares the model with the median on the newest won
	// deals.
	Validation ValueValidation `json:"validation"`
	// Reason says why no value model serves; "" when one does.
	Reason string `json:"reason,omitempty"`
	// Model is the served value model, nil when it was left out.
	Model *ValueModel `json:"model,omitempty"`
	// Backtest compares the value that tier 1 captures on the newest deals
	// ranked by expected value and by probability; nil without a model.
	Backtest *ValueBacktest `json:"backtest,omitempty"`
}

// ValueModel predicts the log of the value of a won account from the
// encoded features.
type ValueModel struct {
	// GBM is fitted with the squared loss on log(value); its margin is the
	// predicted log value.
	GBM *gbm.Model `json:"gbm"`
	// Smearing is Duan's factor: the predicted value is Smearing × exp of
	// the margin.
	Smearing float64 `json:"smearing"`
	// Rounds is the number of trees early stopping kept.
	Rounds int `json:"rounds"`
}

// ValueValidation holds the time-ordered evaluation of the value model:
// fitted on the won deals of the older split (the classifier's), scored on
// the won deals of the holdout.
type ValueValidation struct {
	// Train and Holdout count the won deals with a value above zero in each
	// split; LeftOut the won deals without one (missing or zero), which the
	// value model neither learns from nor is measured on.
	Train   int `json:"train"`
	Holdout int `json:"holdout"`
	LeftOut int `json:"left_out"`
	// Median is the median value of the training split's won deals, the
	// baseline's prediction for every deal.
	Median   float64      `json:"median"`
	Model    ValueMetrics `json:"model"`
	Baseline ValueMetrics `json:"baseline"`
}

// ValueMetrics are a value prediction's errors on the holdout's won deals.
type ValueMetrics struct {
	// RMSELog is the root mean squared error on the natural log scale.
	RMSELog float64 `json:"rmse_log"`
	// MdAPE is the median absolute percentage error, |predicted − actual|
	// / actual, of the median prediction (exp of the log prediction, before
	// smearing).
	MdAPE float64 `json:"mdape"`
	// Spearman is the rank correlation of predicted and actual values (0
	// for the constant baseline).
	Spearman float64 `json:"spearman"`
}

// ValueBacktest compares two rankings of the holdout, the newest closed
// deals: by expected value (cross-fitted calibrated probability × the
// value model fitted on older deals) and by probability alone. Each puts
// the top Tier1Share of the deals in tier 1; captured is the share of the
// holdout's won value that tier 1 holds (accounts tied at the cut count in
// part).
type ValueBacktest struct {
	Rows int `json:"rows"`
	Won  int `json:"won"`
	// TotalValue is the value of the holdout's won deals.
	TotalValue float64 `json:"total_value"`
	// Tier1Share is the share of holdout deals in tier 1 (the profile's
	// tier 1 share), Tier1Deals their number.
	Tier1Share float64 `json:"tier1_share"`
	Tier1Deals int     `json:"tier1_deals"`
	// ByValue and ByProbability are the shares of the won value that tier 1
	// captures under each ranking.
	ByValue       float64 `json:"by_value"`
	ByProbability float64 `json:"by_probability"`
	// Difference is ByValue − ByProbability, with the 2.5% and 97.5%
	// quantiles of a seeded paired bootstrap of the holdout deals.
	Difference float64 `json:"difference"`
	DiffLow    float64 `json:"difference_low"`
	DiffHigh   float64 `json:"difference_high"`
	// Curve is the captured value at every 5% of deals under both
	// rankings.
	Curve []ValueGainPoint `json:"curve"`
}

// ValueGainPoint is one point of the value gains curves.
type ValueGainPoint struct {
	Share         float64 `json:"share"`
	ByValue       float64 `json:"by_value"`
	ByProbability float64 `json:"by_probability"`
}

// HasValueModel reports whether p serves expected values.
func (p *Profile) HasValueModel() bool { return p.Value != nil && p.Value.Model != nil }

// TierKey is what p's tiers are set on for the score s: its expected value
// when the tiers are by value, else its calibrated score.
func (p *Profile) TierKey(s icp.Score) float64 {
	if p.Tiers.By == TierByValue && s.ValueScore != nil {
		return s.ExpectedValue
	}
	return s.Score
}

// PredictValue returns the predicted value (see Value) of each encoded
// row of x, nil without a value model.
func (p *Profile) PredictValue(x *mat.Dense) []float64 {
	if !p.HasValueModel() {
		return nil
	}
	m := p.Value.Model
	out := m.GBM.MarginBatch(TreeMatrix(p.Encoder, x), nil)
	for i, f := range out {
		out[i] = m.Smearing * math.Exp(f)
	}
	return out
}

// valueScorer adds the expected value to the scores of scoreRows; a nil
// *valueScorer (no value model) adds nothing.
type valueScorer struct {
	p   *Profile
	m   *ValueModel
	phi []float64 // the value model's contributions per encoded column, scratch
	// byScore and byValue are the contributions per feature column of the
	// score and of the value model, scratch.
	byScore, byValue []float64
	vals             []icp.ValueScore
	attrs            []icp.ValueAttributions
}

// newValueScorer returns the value scorer of n rows, nil without a value
// model.
func (p *Profile) newValueScorer(n int) *valueScorer {
	if !p.HasValueModel() {
		return nil
	}
	w := p.Encoder.Width
	c := len(p.Encoder.Columns)
	return &valueScorer{p: p, m: p.Value.Model, phi: make([]float64, w), vals: make([]icp.ValueScore, 0, n),
		byScore: make([]float64, c), byValue: make([]float64, c)}
}

// score sets the expected value of s, whose encoded row is x, and its tier
// when the tiers are by value.
func (v *valueScorer) score(s *icp.Score, x []float64) {
	if v == nil {
		return
	}
	v.p.Encoder.MarkMissing(x)
	v.set(s, v.m.Smearing*math.Exp(v.m.GBM.Margin(x)))
}

// set records the predicted value pv in s.
func (v *valueScorer) set(s *icp.Score, pv float64) {
	v.vals = append(v.vals, icp.ValueScore{ExpectedValue: s.Score * pv, PredictedValue: pv})
	s.ValueScore = &v.vals[len(v.vals)-1]
	if v.p.Tiers.By == TierByValue {
		s.Tier = v.p.Tiers.Tier(s.ExpectedValue)
	}
}

// explain is score with attributions: contrib holds the score's
// contributions per encoded column, and acc the raw fields.
func (v *valueScorer) explain(s *icp.Score, x, contrib []float64, acc icp.Account) {
	if v == nil {
		return
	}
	p, enc, m := v.p, v.p.Encoder, v.m
	enc.MarkMissing(x)
	base, _ := m.GBM.SHAP(x, v.phi)
	pv := m.Smearing * math.Exp(m.GBM.Margin(x))
	v.set(s, pv)
	prob, prob0 := s.Score, p.Model.Calibration.Prob(s.BaseValue)
	pv0 := m.Smearing * math.Exp(base)
	cols := enc.Columns
	if v.attrs == nil {
		v.attrs = make([]icp.ValueAttributions, 0, cap(v.vals))
	}
	out := make([]icp.Attribution, len(cols))
	byScore, byValue := v.byScore, v.byValue
	var sumScore, sumValue float64
	for k, ce := range cols {
		byScore[k], byValue[k] = 0, 0
		for _, c := range contrib[ce.Offset : ce.Offset+ce.Width()] {
			byScore[k] += c
		}
		for _, c := range v.phi[ce.Offset : ce.Offset+ce.Width()] {
			byValue[k] += c
		}
		sumScore += byScore[k]
		sumValue += byValue[k]
	}
	// The rescale rule carries each factor's contributions to its own
	// scale; the product's Shapley value weighs each factor's change by
	// the mean of the other factor at both ends.
	var wScore, wValue float64
	if sumScore != 0 {
		wScore = (prob - prob0) / sumScore * (pv + pv0) / 2
	}
	if sumValue != 0 {
		wValue = (pv - pv0) / sumValue * (prob + prob0) / 2
	}
	for k, ce := range cols {
		out[k] = icp.Attribution{Feature: ce.Name, Value: acc[ce.Name], Contribution: wScore*byScore[k] + wValue*byValue[k]}
	}
	sortAttributions(out)
	v.attrs = append(v.attrs, icp.ValueAttributions{Scale: ValueScale, BaseValue: prob0 * pv0, Attributions: out})
	s.ValueAttributions = &v.attrs[len(v.attrs)-1]
}

// sortAttributions orders attributions by absolute contribution, largest
// first, ties by column name.
func sortAttributions(out []icp.Attribution) {
	slices.SortStableFunc(out, func(a, b icp.Attribution) int {
		da, db := math.Abs(a.Contribution), math.Abs(b.Contribution)
		if da != db {
			if da > db {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Feature, b.Feature)
	})
}

// The bounds of a decoded value model (see Value.check). Margins are log
// values: e^50 is beyond any currency, so a base or leaf past it can only
// overflow.
const (
	maxLogValue    = 50
	maxLogSmearing = 10
)

// check verifies that a decoded value model fits the encoder and lies
// within bounds, and that tiers by value have a model to come from.
func (v *Value) check(enc *features.Encoder, tiers Tiers) error {
	if v == nil {
		if tiers.By == TierByValue {
			return errors.New("tiers by expected value without a value model")
		}
		return nil
	}
	if tiers.By == TierByValue && v.Model == nil {
		return errors.New("tiers by expected value without a value model")
	}
	if v.Model == nil {
		return nil
	}
	g := v.Model.GBM
	if g == nil || g.NumFeatures != enc.Width || g.Loss != "squared" {
		return fmt.Errorf("value model does not fit %d encoded columns", enc.Width)
	}
	if err := g.Validate(); err != nil {
		return fmt.Errorf("value model: %s", strings.TrimSuffix(err.Error(), ": "+model.ErrInvalidInput.Error()))
	}
	if math.Abs(g.Base) > maxLogValue {
		return fmt.Errorf("value model's base %g beyond ±%d on the log scale", g.Base, maxLogValue)
	}
	for ti := range g.Trees {
		for n, x := range g.Trees[ti].Value {
			if math.Abs(x) > maxLogValue {
				return fmt.Errorf("value model: tree %d: node %d: leaf value %g beyond ±%d on the log scale", ti, n, x, maxLogValue)
			}
		}
	}
	if s := v.Model.Smearing; !(s > 0) || math.Abs(math.Log(s)) > maxLogSmearing {
		return fmt.Errorf("value model's smearing factor %g: want e^±%d", s, maxLogSmearing)
	}
	return nil
}

// valueTolerance bounds, relative to the expected value, how far its base
// value plus contributions may lie from it in a warm-up score.
const valueTolerance = 1e-6

// checkValueScore returns an error naming what is wrong with the expected
// value of a score: present exactly when p has a value model, finite and
// not negative, the score times the predicted value, with attributions
// naming every feature column and adding up to it.
func (p *Profile) checkValueScore(s icp.Score) error {
	v := s.ValueScore
	switch {
	case !p.HasValueModel() && v != nil:
		return errors.New("an expected value without a value model")
	case !p.HasValueModel():
		return nil
	case v == nil:
		return errors.New("no expected value from the value model")
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case !finite(v.PredictedValue) || v.PredictedValue < 0:
		return fmt.Errorf("predicted value %v: want a finite number of at least 0", v.PredictedValue)
	case !finite(v.ExpectedValue) || math.Abs(v.ExpectedValue-s.Score*v.PredictedValue) > valueTolerance*max(1, v.ExpectedValue):
		return fmt.Errorf("expected value %v is not the score %v times the predicted value %v", v.ExpectedValue, s.Score, v.PredictedValue)
	}
	a := v.ValueAttributions
	if a == nil {
		return nil
	}
	if len(a.Attributions) != len(p.Encoder.Columns) {
		return fmt.Errorf("%d expected-value attributions for %d feature columns", len(a.Attributions), len(p.Encoder.Columns))
	}
	sum := a.BaseValue
	for _, c := range a.Attributions {
		if !finite(c.Contribution) {
			return fmt.Errorf("expected-value contribution of %s is %v", c.Feature, c.Contribution)
		}
		sum += c.Contribution
	}
	if d := math.Abs(sum - v.ExpectedValue); !(d <= valueTolerance*max(1, v.ExpectedValue, math.Abs(a.BaseValue))) {
		return fmt.Errorf("expected-value attributions add up to %v, expected value is %v", sum, v.ExpectedValue)
	}
	return nil
}
