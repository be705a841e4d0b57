package icp

import "time"

// The records of drift monitoring: what the drift tests find, what the
// watcher adds to them, and what the store keeps and the server shows.
// They are declared here, once, so that the watcher writes the report the
// dashboard reads without either importing the other.

// FeatureDrift is the drift verdict for one feature (or for the score,
// the tier mix or the winners' scores).
type FeatureDrift struct {
	// Feature is the feature name.
	Feature string `json:"feature"`
	// Kind is "numeric", "categorical", "score", "tier_mix" or
	// "winner_score".
	Kind string `json:"kind"`
	// Test is the primary test: KSTest, ChiSquareTest, ChiSquareGOFTest,
	// WassersteinTest or CohensWTest (see package drift).
	Test string `json:"test"`
	// Statistic is the test statistic: KS D, chi-square, Wasserstein in
	// reference standard deviations, or bias-corrected Cohen's w.
	Statistic float64 `json:"statistic"`
	// DF is the chi-square degrees of freedom, zero for other tests.
	DF int `json:"df,omitempty"`
	// PValue is the test's p-value. For the distance tests it is the
	// probability that sampling noise alone reaches Statistic (see the
	// documentation of package drift).
	PValue float64 `json:"p_value"`
	// Threshold is what decides drift: the distance threshold for the
	// distance tests, the corrected alpha for the p-value tests.
	Threshold float64 `json:"threshold"`
	// CorrectedAlpha is Alpha divided by Tests (Bonferroni).
	CorrectedAlpha float64 `json:"corrected_alpha"`
	// Tests is the number of features tested together.
	Tests int `json:"tests"`
	// NoiseFloor is, for the distance tests, the expected distance under no
	// drift for this window and reference size (for Cohen's w, the amount
	// removed from it).
	NoiseFloor float64 `json:"noise_floor,omitempty"`
	// JSDistance is the Jensen-Shannon distance (base 2) of a categorical
	// feature, reported for reference on the large-reference path.
	JSDistance float64 `json:"js_distance,omitempty"`
	// PSI is the population stability index over the reference bins or
	// levels, and PSIBand its band ("stable", "watch", "alert").
	PSI     float64 `json:"psi"`
	PSIBand string  `json:"psi_band"`
	// Window is the number of current rows, N the number of them tested
	// (non-missing for numeric features), RefN the reference count.
	Window int `json:"window"`
	N      int `json:"n"`
	RefN   int `json:"ref_n"`
	// MissingRate and RefMissingRate are the current and reference shares
	// of missing values.
	MissingRate    float64 `json:"missing_rate"`
	RefMissingRate float64 `json:"ref_missing_rate"`
	// Status is "stable", "watch", "drift" or "insufficient_data" (the
	// Status constants of package drift).
	Status string `json:"status"`
	// Detail explains the verdict in one line.
	Detail string `json:"detail"`
}

// ICPDrift is the verdict on winners landing outside the ICP (tier3 or
// non_fit) more often than the holdout winners did.
type ICPDrift struct {
	Winners        int     `json:"winners"`
	WinnersOutside int     `json:"winners_outside"`
	ObservedShare  float64 `json:"observed_share"`
	ExpectedShare  float64 `json:"expected_share"`
	// PValue is the exact binomial P[X >= WinnersOutside] for
	// X ~ Binomial(Winners, ExpectedShare).
	PValue float64 `json:"p_value"`
	Alpha  float64 `json:"alpha"`
	// Status is "stable", "watch" (p below 2*Alpha), "drift" (p below
	// Alpha) or "insufficient_data" (too few winners).
	Status string `json:"status"`
	Detail string `json:"detail"`
	// Scores compares the recent winners' scores with the training
	// winners' scores, nil when not requested.
	Scores *FeatureDrift `json:"scores,omitempty"`
}

// DriftResult is one evaluation of the drift monitor.
type DriftResult struct {
	// Time is when the evaluation ran.
	Time time.Time `json:"time"`
	// Window is the number of observations evaluated.
	Window int `json:"window"`
	// Features holds one result per reference feature, sorted by name.
	Features []FeatureDrift `json:"features"`
	// Score, TierMix and ICP are nil when the reference does not cover
	// them or nothing was observed.
	Score   *FeatureDrift `json:"score,omitempty"`
	TierMix *FeatureDrift `json:"tier_mix,omitempty"`
	ICP     *ICPDrift     `json:"icp,omitempty"`
}

// WatchReport is one evaluation of the drift watcher: the drift result
// with the model version, the emerging segments, the tier KPIs and the
// watcher's counters. It is the body of a stored DriftReport.
type WatchReport struct {
	DriftResult
	ModelVersion string `json:"model_version"`
	// EmergingStatus is "drift" when an emerging segment is alerted,
	// "watch" when segments are listed but ICP drift is not established,
	// "stable" when none is found and "insufficient_data" below the
	// watcher's minimum of winners.
	EmergingStatus string            `json:"emerging_status"`
	EmergingDetail string            `json:"emerging_detail"`
	Emerging       []EmergingSegment `json:"emerging"`
	TierKPIs       []TierKPI         `json:"tier_kpis"`
	// Performance measures the model on the recorded outcomes.
	Performance ModelPerformance `json:"performance"`
	// Signals are every watched quantity with its severity, the one the
	// alerts, the dashboard and /metrics show (see WatchSignal).
	Signals []WatchSignal `json:"signals"`
	Stats   WatchStats    `json:"stats"`
}

// WatchSignal is one quantity an evaluation of the drift watcher watched,
// in the terms of its alert. Every feature, the score, the tier mix, the
// ICP drift tests and each emerging segment found give one, drifting or
// not, so that the dashboard and /metrics show the same severity as the
// alert: package watch grades it with its one severity rule.
type WatchSignal struct {
	// Key is the group key of its alert, for example
	// "feature_drift:industry".
	Key  string `json:"key"`
	Kind string `json:"kind"`
	// Feature is the drift result's name for the signals measured by PSI
	// (a feature, "score", "tier_mix", "winner_score"), empty for the
	// others.
	Feature string `json:"feature,omitempty"`
	// Subject names what is watched in words ("Industry", "Tier mix").
	Subject string `json:"subject"`
	// Status is the drift verdict: "stable", "watch", "drift" or
	// "insufficient_data" (the Status constants of package drift).
	Status string `json:"status"`
	// Severity is the watcher's grade, empty when none; an alert is
	// raised exactly for the signals with warning or critical.
	Severity Severity `json:"severity,omitempty"`
	// Value is the statistic its trend follows, named by Metric: the PSI
	// for distributions ("psi"), a share of won deals for the ICP drift
	// and emerging-segment signals ("share"), the share of accounts
	// without a value for a numeric feature whose values went missing
	// ("missing"); the Metric constants of package watch.
	Value  float64 `json:"value"`
	Metric string  `json:"metric"`
}

// EmergingSegment is a group of recent winners no segment covers.
type EmergingSegment struct {
	// Key names the group by its traits, without numbers.
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Count       int    `json:"count"`
	Outside     int    `json:"outside"`
	Winners     int    `json:"winners"`
	// Observed and Expected are the shares of recent and of earlier
	// winners in the group's region, Baseline the number of earlier
	// winners, and PValue the binomial p-value of the growth (see
	// emerging.Segment).
	Observed float64 `json:"observed"`
	Expected float64 `json:"expected"`
	Baseline int     `json:"baseline"`
	PValue   float64 `json:"p_value"`
	// Traits are the readable traits, strongest first.
	Traits []string `json:"traits"`
	// Members index the winners the search was given; AccountIDs are
	// their ids, filled in by the watcher.
	Members    []int    `json:"-"`
	AccountIDs []string `json:"account_ids"`
}

// TierKPI counts the recorded outcomes of one tier, as the current model
// scores their accounts.
type TierKPI struct {
	Tier    Tier    `json:"tier"`
	Deals   int     `json:"deals"`
	Won     int     `json:"won"`
	WinRate float64 `json:"win_rate"`
}

// ModelPerformance is how the current model ranks the outcomes recorded
// since serve started (closed deals only, so every one has matured), next
// to its holdout figure.
type ModelPerformance struct {
	Outcomes int `json:"outcomes"`
	Won      int `json:"won"`
	// ROCAUC ranks the recorded outcomes' scores; 0 with Status
	// insufficient_data.
	ROCAUC float64 `json:"roc_auc"`
	// TiersFalling is true when the win rate falls from each tier to the
	// next one that holds outcomes.
	TiersFalling bool   `json:"tiers_falling"`
	Status       string `json:"status"`
	Detail       string `json:"detail"`
}

// WatchStats are the drift watcher's counters since it started.
type WatchStats struct {
	// Queued scored accounts were accepted for the drift monitor; Dropped
	// found its queue full.
	Queued  int64 `json:"queued"`
	Dropped int64 `json:"dropped"`
	// Sampled went to the monitor and the log; Logged were written.
	Sampled int64 `json:"sampled"`
	Logged  int64 `json:"logged"`
	// Outcomes and Winners were observed.
	Outcomes int64 `json:"outcomes"`
	Winners  int64 `json:"winners"`
}
