package report

import (
	"github.com/icpengine/icp/profile"
)

// ICPDocument is the whole ICP as data: what GET /v1/icp answers.
type ICPDocument struct {
	ModelVersion string        `json:"model_version"`
	Label        profile.Label `json:"label"`
	// Baseline sums up the outcomes of all closed accounts.
	Baseline profile.Evidence `json:"baseline"`
	// Segments are the ideal customer segments; Reliable is false (and
	// Reason says why) when the data support none.
	Segments []ICPSegment    `json:"segments"`
	Reliable bool            `json:"reliable"`
	Reason   string          `json:"reason,omitempty"`
	AntiICP  profile.AntiICP `json:"anti_icp"`
	Tiers    profile.Tiers   `json:"tiers"`
	// Metrics are the holdout metrics of the serving model, uncalibrated
	// and calibrated.
	Metrics    profile.Metrics `json:"metrics"`
	Calibrated profile.Metrics `json:"calibrated"`
	// TierBacktest sums up the holdout deals of each tier, and
	// WinRateFalls says whether the win rate falls from tier to tier.
	TierBacktest []profile.GroupResult `json:"tier_backtest"`
	WinRateFalls bool                  `json:"win_rate_falls"`
	Data         profile.DataInfo      `json:"data"`
	// Value is the value model's validation and backtest, absent without a
	// value outcome.
	Value *ValueSummary `json:"value,omitempty"`
	// Channels breaks the closed deals down by channel, absent without a
	// channel column.
	Channels *profile.Channels `json:"channels,omitempty"`
}

// ICPSegment is one segment of the ICP document.
type ICPSegment struct {
	ID       string       `json:"id"`
	Name     string       `json:"name"`
	RuleText string       `json:"rule_text"`
	Rule     profile.Rule `json:"rule"`
	Summary  string       `json:"summary"`
	// Evidence sums up the closed accounts the rule matches, every rate
	// with its 95% interval.
	Evidence profile.Evidence `json:"evidence"`
	Traits   []profile.Trait  `json:"traits"`
	Size     int              `json:"size"`
	// Confidence says how sure the holdout makes the segment ("high" or
	// "moderate"); Holdout is its evidence there.
	Confidence string     `json:"confidence,omitempty"`
	Holdout    ICPHoldout `json:"holdout"`
	// Outcomes names the searches that found it ("won", "ideal"), and
	// Warning what its customers do worse than most once won.
	Outcomes string `json:"outcomes,omitempty"`
	Warning  string `json:"warning,omitempty"`
}

// ICPHoldout is a segment's evidence on the holdout, the newest deals the
// rule search did not see.
type ICPHoldout struct {
	Accounts     int              `json:"accounts"`
	Positives    int              `json:"positives"`
	Rate         float64          `json:"rate"`
	RateInterval profile.Interval `json:"rate_interval"`
	BaseRate     float64          `json:"base_rate"`
	Lift         float64          `json:"lift"`
	Z            float64          `json:"z"`
}

// Document returns the ICP document of p, what GET /v1/icp answers.
func Document(p *profile.Profile) *ICPDocument {
	d := &ICPDocument{
		ModelVersion: p.Version, Label: p.Label, Baseline: p.Baseline,
		Reliable: p.SegmentSearch.Reliable, Reason: p.SegmentSearch.Reason,
		AntiICP: p.AntiICP, Tiers: p.Tiers,
		Metrics: p.Validation.Holdout, Calibrated: p.Validation.Calibrated,
		TierBacktest: p.Backtest.Tiers, WinRateFalls: p.Backtest.WinRateFalls,
		Data:     p.Data,
		Segments: []ICPSegment{},
		Value:    valueSummary(p), Channels: p.Channels,
	}
	if d.AntiICP.Rules == nil {
		d.AntiICP.Rules = []profile.AntiRule{}
	}
	for _, s := range p.Segments {
		d.Segments = append(d.Segments, ICPSegment{ID: s.ID, Name: s.Name, RuleText: s.RuleText, Rule: s.Rule,
			Summary: s.Summary, Evidence: s.Evidence, Traits: s.Traits, Size: s.Size,
			Confidence: s.Confidence, Outcomes: s.Outcomes, Warning: s.Warning,
			Holdout: ICPHoldout{Accounts: s.HoldoutAccounts, Positives: s.HoldoutPositives, Rate: s.HoldoutRate,
				RateInterval: s.HoldoutRateInterval, BaseRate: s.HoldoutBaseRate, Lift: s.HoldoutLift, Z: s.HoldoutZ}})
	}
	return d
}
