package profile

import (
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/model"
)

// The clustering spaces of SegmentSearch.Space in artifacts whose
// segments were clusters of positives (format 1 before rule discovery).
const (
	SpaceAttributions = "attributions"
	SpaceFeatures     = "features"
)

// MethodRules is SegmentSearch.Method for segments found by rule
// discovery on the outcomes (see package train).
const MethodRules = "subgroup discovery"

// The confidence levels of a segment (Segment.Confidence).
const (
	// ConfidenceHigh: on the holdout the segment's accounts turn positive
	// at least SegmentConfig.MinLift times the base rate, with a binomial
	// z statistic of at least SegmentConfig.MinZ.
	ConfidenceHigh = "high"
	// ConfidenceModerate: the holdout is too small for that z statistic
	// even if the training rate held, and it shows the excess at the 5%
	// level with the lift.
	ConfidenceModerate = "moderate"
	// ConfidenceLow: the holdout holds too few positives to confirm or
	// refute anything (a table of a few dozen won deals); the training
	// deals support the segment and the holdout does not contradict it.
	ConfidenceLow = "low"
)

// Segment is a group of accounts that turn positive far more often than
// the rest, the readable rule that says who they are, and the evidence
// behind the rule.
type Segment struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Size is the number of positive training accounts the segment holds
	// (those its rule matches and no earlier segment's does) and Share
	// their share of all positives.
	Size  int     `json:"size"`
	Share float64 `json:"share"`
	// Centroid is the mean encoded row of the segment's positive
	// accounts; a score reports the account's distance to it.
	Centroid []float64 `json:"centroid"`
	Traits   []Trait   `json:"traits"`
	// Rule describes the segment on raw column values; it decides
	// membership when scoring. RuleText is its readable form.
	Rule     Rule   `json:"rule"`
	RuleText string `json:"rule_text"`
	// Precision is the share of the training accounts the rule holds that
	// are positive, and Recall the share of all positive training
	// accounts it holds. (For segments that were clusters of positives,
	// the share of the positives matching the rule that were members and
	// the share of members it matched.)
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	// Evidence sums up the accounts matching the rule.
	Evidence Evidence `json:"evidence"`
	// Summary says who the segment is in plain words.
	Summary string `json:"summary"`
	// HoldoutAccounts, HoldoutLift and HoldoutZ test the rule on the
	// newest deals, which it was not learned from: the number matching,
	// their positive rate over the holdout's base rate and the binomial z
	// statistic of the excess.
	HoldoutAccounts int     `json:"holdout_accounts"`
	HoldoutLift     float64 `json:"holdout_lift"`
	HoldoutZ        float64 `json:"holdout_z"`
	// HoldoutPositives counts the positives among HoldoutAccounts,
	// HoldoutRate is their share with its 95% Wilson interval, and
	// HoldoutBaseRate the positive rate of the whole holdout.
	HoldoutPositives    int      `json:"holdout_positives,omitempty"`
	HoldoutRate         float64  `json:"holdout_rate,omitempty"`
	HoldoutRateInterval Interval `json:"holdout_rate_interval,omitzero"`
	HoldoutBaseRate     float64  `json:"holdout_base_rate,omitempty"`
	// Accounts, Positives and PositiveRate count the closed accounts that
	// match the rule; Lift is PositiveRate over the base rate.
	Accounts     int     `json:"accounts"`
	Positives    int     `json:"positives"`
	PositiveRate float64 `json:"positive_rate"`
	Lift         float64 `json:"lift"`
	// Confidence says how sure the holdout makes the segment:
	// ConfidenceHigh, ConfidenceModerate or ConfidenceLow (empty in older
	// artifacts).
	Confidence string `json:"confidence,omitempty"`
	// Outcomes names the outcomes whose search found the segment, such as
	// "won" or "won, ideal": a segment found for won deals is kept even
	// when its customers churn or stay small, and Warning then says so.
	Outcomes string `json:"outcomes,omitempty"`
	// Warning says what the segment's customers do worse than most once
	// won (churn, LTV, the label's rate), empty when nothing.
	Warning string `json:"warning,omitempty"`
	// PreviousJaccard is the overlap (Jaccard index of the accounts of
	// the training table they hold) with the previous model's segment of
	// the same ID, when training was given the previous model and the
	// segment kept its ID.
	PreviousJaccard float64 `json:"previous_jaccard,omitempty"`
}

// Interval is a 95% interval of a rate.
type Interval struct {
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
}

// Wilson returns the 95% Wilson score interval of k successes in n
// trials, the zero Interval when n is 0. Unlike the normal
// approximation it stays within [0, 1] and is honest at small n and at
// rates near 0 or 1.
func Wilson(k, n int) Interval {
	if n <= 0 {
		return Interval{}
	}
	lo, hi := model.Wilson(k, n)
	return Interval{Lo: lo, Hi: hi}
}

// Trait is one thing that sets a segment apart from all accounts.
type Trait struct {
	Column string `json:"column"`
	// Text reads as a condition: "industry in {SaaS, FinTech}",
	// "employees 52–480", "tech_stack has hubspot".
	Text string `json:"text"`
	// Short is the form used in segment names.
	Short string `json:"short"`
	// Measure is "share" or "median": what Segment and Base hold, in the
	// segment and across all accounts.
	Measure string  `json:"measure"`
	Segment float64 `json:"segment"`
	Base    float64 `json:"base"`
	// Effect ranks traits: a difference in shares, or a standardized
	// difference in means halved.
	Effect float64 `json:"effect"`
}

// SegmentSearch records how the segments were found, and why there are
// none when there are none.
type SegmentSearch struct {
	// Method is MethodRules for rule discovery; empty in artifacts whose
	// segments were clusters of positives (Space, Ks and K then say how
	// they were clustered).
	Method string `json:"method,omitempty"`
	// Columns are the columns the rules may use (or were clustered on).
	Columns []string `json:"columns"`
	// Space is where older artifacts clustered (SpaceAttributions or
	// SpaceFeatures); empty for rule discovery.
	Space string `json:"space"`
	// Positives is the number of positive training accounts, and
	// Clustered the size of the seeded sample of them clustered by older
	// artifacts.
	Positives int `json:"positives"`
	Clustered int `json:"clustered,omitempty"`
	// Rows is the number of closed training accounts the rules were
	// searched on, and Sampled the size of the seeded sample searched
	// when there were more than SegmentConfig.MaxRows (zero when all
	// were); every check of a rule runs on all of them.
	Rows    int `json:"rows,omitempty"`
	Sampled int `json:"sampled,omitempty"`
	// Outcomes lists the outcomes searched: the label, and won deals too
	// when the label asks more than a win.
	Outcomes []string `json:"outcomes,omitempty"`
	// Ks scores every number of clusters tried by older artifacts.
	Ks []KScore `json:"ks,omitempty"`
	// K is the number of segments (for older artifacts, of clusters).
	K int `json:"k"`
	// Dropped lists the candidate segments that were not kept, and why:
	// their evidence did not hold on the holdout, they were too small, or
	// they were merged into another.
	Dropped []string `json:"dropped,omitempty"`
	// Pruned lists the conditions dropped from kept rules because they
	// did not change the holdout's rate.
	Pruned []string `json:"pruned,omitempty"`
	// Reliable is false when the data support no segment, and Reason then
	// says why.
	Reliable bool   `json:"reliable"`
	Reason   string `json:"reason,omitempty"`
}

// KScore is the silhouette and the bootstrap stability of one k.
type KScore struct {
	K          int     `json:"k"`
	Silhouette float64 `json:"silhouette"`
	// Stability is the mean adjusted Rand index between the clustering and
	// its refits on bootstrap resamples.
	Stability float64 `json:"stability"`
	// Segments counts the clusters whose rule passed the evidence test
	// and Coverage is the share of positives their rules match (both zero
	// for an unstable k, which is not described).
	Segments int     `json:"segments"`
	Coverage float64 `json:"coverage"`
	// Gain is the mutual information (nats per closed account) between
	// the label and membership of those segments; the k with the most
	// (within 0.5%, the best silhouette) is chosen.
	Gain float64 `json:"gain"`
}

// SegmentOf returns the index of the first segment of segs whose rule row
// i of t matches, or -1: the segment an account is placed in.
func SegmentOf(segs []Segment, t *datasets.Table, i int) int {
	for k := range segs {
		if segs[k].Rule.Match(t, i) {
			return k
		}
	}
	return -1
}
