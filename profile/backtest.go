package profile

import (
	"github.com/icpengine/icp"
)

// Backtest replays the time-ordered holdout: each of the newest closed
// deals is scored by the model fitted on the older ones (calibrated by
// cross-fitting) and placed in a tier by the final thresholds, in a
// segment and in the anti-ICP by the final rules.
type Backtest struct {
	// Rows is the number of holdout deals.
	Rows int `json:"rows"`
	// Tiers, Segments and AntiICP sum up the outcomes of each group of
	// holdout deals; Segments ends with the deals in no segment.
	Tiers    []GroupResult `json:"tiers"`
	Segments []GroupResult `json:"segments"`
	AntiICP  GroupResult   `json:"anti_icp"`
	// WinRateFalls reports whether the win rate falls from each tier to
	// the next (tiers without deals are skipped).
	WinRateFalls bool `json:"win_rate_falls"`
	// Gains is the cumulative share of positives captured by the top
	// share of holdout deals by score, at every 5% of deals.
	Gains []GainPoint `json:"gains"`
	// Histogram counts holdout deals by score, in 20 bins of width 0.05,
	// for positives and negatives.
	Histogram ScoreHistogram `json:"histogram"`
	// Recent lists the last 20 won and the last 20 lost deals of the
	// holdout, newest first.
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
	AccountID string   `json:"account_id"`
	CloseDate string   `json:"close_date,omitempty"`
	Won       bool     `json:"won"`
	Score     float64  `json:"score"`
	Tier      icp.Tier `json:"tier"`
	Segment   string   `json:"segment,omitempty"`
	AntiICP   string   `json:"anti_icp,omitempty"`
}
