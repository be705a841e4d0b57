package profile

import (
	"math"
	"sort"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/drift"
	"github.com/icpengine/icp/features"
)

// Profile is a trained ICP: everything serve needs, saved as the artifact.
type Profile struct {
	Version string `json:"version"`
	// DataHash is the SHA-256 of the training table written as canonical CSV.
	DataHash string            `json:"data_hash"`
	Seed     uint64            `json:"seed"`
	Schema   *features.Schema  `json:"schema"`
	Encoder  *features.Encoder `json:"encoder"`
	Label    Label             `json:"label"`
	Model    Model             `json:"model"`
	Segments []Segment         `json:"segments"`
	// SegmentSearch records how segments were chosen, or why there are
	// none.
	SegmentSearch SegmentSearch `json:"segment_search"`
	// Baseline sums up the outcomes of all closed accounts, what segment
	// and anti-ICP evidence is compared with.
	Baseline Evidence `json:"baseline"`
	// AntiICP holds the rules of accounts not worth pursuing.
	AntiICP AntiICP `json:"anti_icp"`
	Tiers   Tiers   `json:"tiers"`
	// Backtest replays the holdout per tier, segment and anti-ICP.
	Backtest Backtest `json:"backtest"`
	// ScoreQuantiles are the 0th to 100th percentiles of the training
	// accounts' scores, for Score.Percentile.
	ScoreQuantiles []float64  `json:"score_quantiles"`
	Validation     Validation `json:"validation"`
	Data           DataInfo   `json:"data"`
	// Importance ranks the columns by mean absolute attribution.
	Importance Importance `json:"importance"`
	// Drift holds the reference distributions that served traffic and new
	// outcomes are compared with.
	Drift *drift.Reference `json:"drift"`
	// Value is the value model, nil when the export has no value outcome.
	Value *Value `json:"value,omitempty"`
	// Channels breaks the closed deals down by channel, nil without a
	// channel column.
	Channels *Channels `json:"channels,omitempty"`
}

// Tiers are score thresholds: an account is in Tier 1 when its score is at
// or above Tier1, and so on; below Tier3 it is non-fit.
type Tiers struct {
	Tier1 float64 `json:"tier1"`
	Tier2 float64 `json:"tier2"`
	Tier3 float64 `json:"tier3"`
	// Shares are the shares of training accounts in each tier.
	Shares [3]float64 `json:"shares"`
	// Method is "shares", "lift" or "capacity" (see train.TierConfig), and
	// Target says what the thresholds aim at.
	Method string `json:"method,omitempty"`
	Target string `json:"target,omitempty"`
	// By is TierByValue when the thresholds are on the expected value
	// (Score.ExpectedValue) instead of the calibrated score; "" otherwise.
	By string `json:"by,omitempty"`
}

// Tier returns the tier of a score.
func (t Tiers) Tier(score float64) icp.Tier {
	switch {
	case score >= t.Tier1:
		return icp.Tier1
	case score >= t.Tier2:
		return icp.Tier2
	case score >= t.Tier3:
		return icp.Tier3
	}
	return icp.NonFit
}

// Metrics are a model's scores on labeled rows.
type Metrics struct {
	Rows      int     `json:"rows"`
	Positives int     `json:"positives"`
	ROCAUC    float64 `json:"roc_auc"`
	PRAUC     float64 `json:"pr_auc"`
	LogLoss   float64 `json:"log_loss"`
	Brier     float64 `json:"brier"`
	// LiftTopDecile is the positive rate among the top 10% of scores over
	// the overall positive rate.
	LiftTopDecile float64 `json:"lift_top_decile"`
}

// Validation holds the holdout evaluation: the newest closed deals, or a
// seeded random draw within each outcome when there are no close dates.
type Validation struct {
	// Split says how the holdout was chosen.
	Split string `json:"split"`
	// From and To bound the holdout's close dates (empty without dates).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Holdout and Train score the selected model, uncalibrated.
	Holdout Metrics `json:"holdout"`
	Train   Metrics `json:"train"`
	// Calibrated scores the selected model's calibrated probabilities on
	// the holdout (the calibration fitted on out-of-fold margins of the
	// training split, never on the holdout), and Reliability bins them by
	// decile.
	Calibrated  Metrics          `json:"calibrated"`
	Reliability []ReliabilityBin `json:"reliability"`
	// Candidates are every model fitted, the selected one marked.
	Candidates []Candidate `json:"candidates"`
}

// Candidate is one model the trainer fitted and compared.
type Candidate struct {
	Kind string `json:"kind"`
	// Holdout scores the uncalibrated probabilities (the logistic function
	// of the margin) on the holdout; Calibrated scores the calibrated ones,
	// whose calibration was fitted on out-of-fold margins of the training
	// split. Calibration is the validation model's method; the served
	// model, refitted on every closed deal, chooses its own.
	Holdout     Metrics `json:"holdout"`
	Calibrated  Metrics `json:"calibrated"`
	Calibration string  `json:"calibration"`
	// Rounds is the number of trees early stopping or cross-validation
	// chose (GBM only).
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

// DataInfo describes the training data.
type DataInfo struct {
	Source  string `json:"source"`
	Rows    int    `json:"rows"`
	Labeled int    `json:"labeled"`
	// From and To bound the close dates of labeled rows.
	From     string `json:"from,omitempty"`
	To       string `json:"to,omitempty"`
	Features int    `json:"features"`
}

// Importance ranks the feature columns by their mean absolute contribution
// to the margin.
type Importance struct {
	// Rows is how many training accounts the means are over.
	Rows    int                `json:"rows"`
	Columns []ColumnImportance `json:"columns"`
}

// ColumnImportance is one column's mean absolute contribution (log-odds).
type ColumnImportance struct {
	Column  string  `json:"column"`
	MeanAbs float64 `json:"mean_abs"`
}

// percentile returns the share of training scores at or below s, in
// [0, 100], interpolated between the stored quantiles.
func (p *Profile) percentile(s float64) float64 {
	q := p.ScoreQuantiles
	if len(q) == 0 {
		return math.NaN()
	}
	if s <= q[0] {
		return 0
	}
	if s >= q[len(q)-1] {
		return 100
	}
	k := sort.SearchFloat64s(q, s) // q[k-1] < s <= q[k]
	lo, hi := q[k-1], q[k]
	step := 100 / float64(len(q)-1)
	return step*float64(k-1) + step*(s-lo)/(hi-lo)
}
