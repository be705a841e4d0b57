package profile

import (
	"github.com/icpengine/icp/datasets"
)

// AntiRule is one rule of the anti-ICP: a kind of account that loses,
// churns or stays small far more often than most.
type AntiRule struct {
	ID       string `json:"id"`
	Rule     Rule   `json:"rule"`
	RuleText string `json:"rule_text"`
	// GoodRate is the share of the rule's closed accounts with a good
	// outcome, and LossRate the share of its closed deals that were lost.
	GoodRate float64 `json:"good_rate"`
	// GoodRateInterval is GoodRate's 95% Wilson interval; the loss rate's
	// is one minus Evidence.WinRateInterval.
	GoodRateInterval Interval `json:"good_rate_interval,omitzero"`
	LossRate         float64  `json:"loss_rate"`
	// Evidence sums up the accounts matching the rule.
	Evidence Evidence `json:"evidence"`
	// Confidence says how sure the holdout makes the rule, as for a
	// segment (ConfidenceHigh or ConfidenceModerate; empty in older
	// artifacts).
	Confidence string `json:"confidence,omitempty"`
	// Summary says in plain words why these accounts are not worth
	// pursuing.
	Summary string `json:"summary"`
}

// AntiICP is the set of disqualifying rules and how they were learned.
type AntiICP struct {
	// Definition says what a good outcome is.
	Definition string `json:"definition"`
	// BaseGoodRate is the share of closed accounts with a good outcome.
	BaseGoodRate float64    `json:"base_good_rate"`
	Rules        []AntiRule `json:"rules"`
}

// antiMatch returns the index of the first anti-ICP rule row i of t
// matches, or -1.
func (p *Profile) antiMatch(t *datasets.Table, i int) int {
	for k := range p.AntiICP.Rules {
		if p.AntiICP.Rules[k].Rule.Match(t, i) {
			return k
		}
	}
	return -1
}
