package report

import (
	"fmt"
	"io"
	"math"

	"github.com/icpengine/icp/profile"
)

// ValueSummary is the value model as the ICP document shows it: its
// validation and backtest, without its trees.
type ValueSummary struct {
	// Column is the value outcome the model predicts.
	Column string `json:"column"`
	// Served reports whether scores carry an expected value; Reason says
	// why not when they do not.
	Served     bool                    `json:"served"`
	Reason     string                  `json:"reason,omitempty"`
	Validation profile.ValueValidation `json:"validation"`
	Backtest   *profile.ValueBacktest  `json:"backtest,omitempty"`
	Smearing   float64                 `json:"smearing,omitempty"`
	Rounds     int                     `json:"rounds,omitempty"`
	Scale      string                  `json:"attribution_scale,omitempty"`
	TierBy     string                  `json:"tier_by"`
}

// valueSummary is the ValueSummary of p, nil without a value outcome.
func valueSummary(p *profile.Profile) *ValueSummary {
	v := p.Value
	if v == nil {
		return nil
	}
	s := &ValueSummary{Column: v.Column, Served: v.Model != nil, Reason: v.Reason, Validation: v.Validation,
		Backtest: v.Backtest, TierBy: "score"}
	if v.Model != nil {
		s.Smearing, s.Rounds, s.Scale = v.Model.Smearing, v.Model.Rounds, profile.ValueScale
	}
	if p.Tiers.By == profile.TierByValue {
		s.TierBy = profile.TierByValue
	}
	return s
}

// valueSection says what accounts are worth: the value model against the
// median, what the expected value is and how its attributions add up, and
// the value tier 1 captures on the newest deals by expected value and by
// probability.
func (p icpReport) valueSection(d *document, charts bool) {
	v := p.Value
	if v == nil {
		return
	}
	vv := v.Validation
	d.h2("Value: what accounts are worth")
	if !(vv.Median > 0) {
		d.para("**No value model serves**: %s. Scores carry no expected value.", v.Reason)
		return
	}
	left := ""
	if vv.LeftOut > 0 {
		left = fmt.Sprintf(" %d won deals without a value above zero are left out of both.", vv.LeftOut)
	}
	older, newest := splitWords(p.Profile)
	d.para("The value model predicts `%s`, what a won account is worth, from the same columns as the score: boosted trees on the log of the value, fitted on the %d %s won deals with a value above zero and measured on the %d %s ones, against the median of the %s ones (%s) for every deal.%s",
		v.Column, vv.Train, older, vv.Holdout, newest, older, num(vv.Median), left)
	d.table([]string{"on the " + newest + " won deals", "value model", "median"}, [][]string{
		{"log RMSE (lower is better)", fmt3(vv.Model.RMSELog), fmt3(vv.Baseline.RMSELog)},
		{"median absolute percentage error", pct(vv.Model.MdAPE), pct(vv.Baseline.MdAPE)},
		{"rank correlation with the value (Spearman)", fmt3(vv.Model.Spearman), "–"},
	})
	if v.Model == nil {
		d.para("**No value model serves**: %s. Scores carry no expected value.", v.Reason)
		return
	}
	d.para("Every score carries `expected_value`, the calibrated score times `predicted_value` (the predicted value if won, the mean rather than the median: exp of the log prediction times a smearing factor of %s from the newest deals' residuals), and `expected_value_attributions`: per column, in the unit of `%s`, adding up with their base value to the expected value exactly. Each column's share is its share of the score's change (carried from log-odds to the probability by the ratio of the probability's change to the margin's) times the mean value at both ends, plus its share of the value's change (carried from the log scale likewise) times the mean probability at both ends, which splits p·v − p₀·v₀ exactly as the Shapley value of the product does.",
		fmt3(v.Model.Smearing), v.Column)
	if p.Tiers.By == profile.TierByValue {
		d.para("The tiers are set on the expected value (`--tier-by value`), not on the score.")
	}
	b := v.Backtest
	if b == nil {
		return
	}
	d.h3("Tier 1 by expected value against tier 1 by probability")
	d.para("On the %d %s deals (%d won, worth %s in all), ranked by the models fitted on the %s deals, tier 1 (the top %s, %d deals) holds **%s** of the won value when ranked by expected value and **%s** when ranked by probability: %s points (95%% interval %s to %s, paired bootstrap of the deals).",
		b.Rows, newest, b.Won, num(b.TotalValue), older, pct(b.Tier1Share), b.Tier1Deals, pct(b.ByValue), pct(b.ByProbability),
		signedPoints(b.Difference), signedPoints(b.DiffLow), signedPoints(b.DiffHigh))
	var rows [][]string
	var byValue, byProb [][2]float64
	byValue, byProb = append(byValue, [2]float64{}), append(byProb, [2]float64{})
	for _, g := range b.Curve {
		byValue = append(byValue, [2]float64{g.Share, g.ByValue})
		byProb = append(byProb, [2]float64{g.Share, g.ByProbability})
		if k := math.Round(g.Share * 100); k == 5 || k == 10 || k == 20 || k == 30 || k == 50 {
			rows = append(rows, []string{pct(g.Share), pct(g.ByValue), pct(g.ByProbability)})
		}
	}
	d.table([]string{"top deals", "value captured, by expected value", "value captured, by probability"}, rows)
	if charts && len(b.Curve) > 0 {
		d.chart(lineChart("Won value captured on the holdout", "share of deals, top first", "share of won value", 1, 1, pctTick, pctTick,
			[]series{{name: "random", color: colorMuted, dashed: true, pts: [][2]float64{{0, 0}, {1, 1}}},
				{name: "by expected value", color: colorA, pts: byValue},
				{name: "by probability", color: colorB, pts: byProb}}))
	}
}

// signedPoints writes a difference of shares in percentage points with
// its sign: "+12.3".
func signedPoints(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%+.1f", 100*v)
}

// writeValueSummary prints the value model's lines of the trainer's
// summary.
func writeValueSummary(w io.Writer, p *profile.Profile) {
	v := p.Value
	if v == nil {
		return
	}
	vv := v.Validation
	if v.Model == nil {
		fmt.Fprintf(w, "value model (%s): left out: %s\n", v.Column, v.Reason)
		return
	}
	_, newest := splitWords(p)
	fmt.Fprintf(w, "value model (%s): log RMSE %s against %s for the median, median absolute error %s against %s, on %d %s won deals\n",
		v.Column, fmt3(vv.Model.RMSELog), fmt3(vv.Baseline.RMSELog), pct(vv.Model.MdAPE), pct(vv.Baseline.MdAPE), vv.Holdout, newest)
	if b := v.Backtest; b != nil {
		fmt.Fprintf(w, "  tier 1 (top %s of the %s deals) captures %s of the won value by expected value, %s by probability (%s points, 95%% %s to %s)\n",
			pct(b.Tier1Share), newest, pct(b.ByValue), pct(b.ByProbability), signedPoints(b.Difference), signedPoints(b.DiffLow), signedPoints(b.DiffHigh))
	}
}
