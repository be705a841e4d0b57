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
	ID       string           `json:"id"`
	Name     string           `json:"name"`
	RuleText string           `json:"rule_text"`
	Rule     profile.Rule     `json:"rule"`
	Summary  string           `json:"summary"`
	Evidence profile.Evidence `json:"evidence"`
	Traits   []profile.Trait  `json:"traits"`
	Size     int              `json:"size"`
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
			Summary: s.Summary, Evidence: s.Evidence, Traits: s.Traits, Size: s.Size})
	}
	return d
}
