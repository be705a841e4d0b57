package profile

import (
	"github.com/icpengine/icp/datasets"
)

// The clustering spaces of SegmentSearch.Space (see train.SegmentConfig).
const (
	SpaceAttributions = "attributions"
	SpaceFeatures     = "features"
)

// Segment is a cluster of ideal customers, the readable rule that
// describes it, and the evidence behind the rule.
type Segment struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Size is the number of positive accounts in the cluster and Share
	// their share of all positives.
	Size  int     `json:"size"`
	Share float64 `json:"share"`
	// Centroid is the mean encoded row of the cluster's members; a score
	// reports the account's distance to it.
	Centroid []float64 `json:"centroid"`
	Traits   []Trait   `json:"traits"`
	// Rule describes the segment on raw column values; it decides
	// membership when scoring. RuleText is its readable form.
	Rule     Rule   `json:"rule"`
	RuleText string `json:"rule_text"`
	// Precision is the share of the positives matching the rule that are
	// cluster members, and Recall the share of members the rule matches.
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
	// Accounts, Positives and PositiveRate count the closed accounts that
	// match the rule; Lift is PositiveRate over the base rate.
	Accounts     int     `json:"accounts"`
	Positives    int     `json:"positives"`
	PositiveRate float64 `json:"positive_rate"`
	Lift         float64 `json:"lift"`
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

// SegmentSearch records how the number of segments was chosen, and why
// there are none when there are none.
type SegmentSearch struct {
	// Columns are the columns clustered on.
	Columns []string `json:"columns"`
	// Space is where they were clustered (SegmentConfig.Space).
	Space string `json:"space"`
	// Positives is the number of positive accounts, and Clustered the
	// size of the seeded sample of them clustered when there were more
	// than SegmentConfig.MaxPositives (zero when all were).
	Positives int `json:"positives"`
	Clustered int `json:"clustered,omitempty"`
	// Ks scores every number of clusters tried.
	Ks []KScore `json:"ks,omitempty"`
	// K is the number chosen, 0 when none was trusted.
	K int `json:"k"`
	// Dropped lists the clusters whose rule failed the evidence test.
	Dropped []string `json:"dropped,omitempty"`
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
