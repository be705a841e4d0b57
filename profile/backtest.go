package profile

import (
	"github.com/icpengine/icp"
)

// Backtest replays the holdout (the newest closed deals, or a seeded
// random draw without close dates): each holdout deal is scored by the
// model fitted on the other deals (calibrated on its own cross-fitted
// margins) and placed in a tier by the final thresholds, in a segment and
// in the anti-ICP by the final rules. Every count is over holdout deals
// only.
type Backtest struct {
	// Rows is the number of holdout deals.
	Rows int `json:"rows"`
	// Tiers, Segments and AntiICP sum up the outcomes of each group of
	// holdout deals; Segments ends with the deals in no segment.
	Tiers    []GroupResult `json:"tiers"`
	Segments []GroupResult `json:"segments"`
	AntiICP  GroupResult   `json:"anti_icp"`
	// WinRateFalls reports whether the positive rate (the win rate under
	// the won label) falls from each tier to the next (tiers without
	// deals are skipped).
	WinRateFalls bool `json:"win_rate_falls"`
	// Gains is the cumulative share of positives captured by the top
	// share of holdout deals by score, at every 5% of deals.
	Gains []GainPoint `json:"gains"`
	// Histogram counts holdout deals by score, in 20 bins of width 0.05,
	// for positives and negatives.
	Histogram ScoreHistogram `json:"histogram"`
	// Recent lists up to 20 won and 20 lost deals of the holdout, the
	// newest first when the split is by date.
	Recent []RecentDeal `json:"recent"`
}

// GroupResult is the outcome of one group of holdout deals.
type GroupResult struct {
	Name     string   `json:"name"`
	Evidence Evidence `json:"evidence"`
}

// GainPoint is one point of the gains curve.
type GainPoint struct {
	// Share is the share of deals taken from the top score down, and
	// Captured the share of all positives among them. Lift is their ratio.
	Share    float64 `json:"share"`
	Captured float64 `json:"captured"`
	Lift     float64 `json:"lift"`
}

// ScoreHistogram counts scores in equal bins over [0, 1].
type ScoreHistogram struct {
	Positive []int `json:"positive"`
	Negative []int `json:"negative"`
}

// RecentDeal is one recent holdout deal with how the model placed it.
type RecentDeal struct {
	AccountID string `json:"account_id"`
	CloseDate string `json:"close_date,omitempty"`
	// Won is the deal's outcome; in a churn table, whether the customer
	// stayed.
	Won     bool     `json:"won"`
	Score   float64  `json:"score"`
	Tier    icp.Tier `json:"tier"`
	Segment string   `json:"segment,omitempty"`
	AntiICP string   `json:"anti_icp,omitempty"`
}
