package drift

import "time"

// Report is one evaluation of the drift monitor. Turning its drifted
// results into alerts, with their severity and text, is package watch's
// job: this package only measures.
type Report struct {
	// Time is when the evaluation ran.
	Time time.Time `json:"time"`
	// Window is the number of observations evaluated.
	Window int `json:"window"`
	// Features holds one result per reference feature, sorted by name.
	Features []FeatureResult `json:"features"`
	// Score, TierMix and ICP are nil when the reference does not cover
	// them or nothing was observed.
	Score   *FeatureResult  `json:"score,omitempty"`
	TierMix *FeatureResult  `json:"tier_mix,omitempty"`
	ICP     *ICPDriftResult `json:"icp,omitempty"`
}
