package report

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/train"
)

func markdown(t *testing.T, p *profile.Profile) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteMarkdown(&b, p, Options{}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// copyProfile returns a shallow copy of p whose tiers, backtest and
// validation can be changed without changing p.
func copyProfile(p *profile.Profile) *profile.Profile {
	c := *p
	c.Backtest.Tiers = append([]profile.GroupResult(nil), p.Backtest.Tiers...)
	return &c
}

// A churn table speaks of customers retained, with no holdout of "newest
// deals" when it has no close dates.
func TestReportChurnWording(t *testing.T) {
	var b strings.Builder
	b.WriteString("customerID,contract,tenure,Churn\n")
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 600 {
		contract, p := "Month-to-month", 0.45
		if rng.IntN(3) == 0 {
			contract, p = "Two year", 0.05
		}
		churn := "No"
		if rng.Float64() < p {
			churn = "Yes"
		}
		fmt.Fprintf(&b, "C-%04d,%s,%d,%s\n", i, contract, rng.IntN(70), churn)
	}
	tab, err := datasets.Read(strings.NewReader(b.String()), "telco.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := features.Infer(tab, features.InferConfig{})
	p, err := train.Train(s.Clean(tab), s, train.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	md := markdown(t, p)
	for _, want := range []string{"| tier | customers | retained | retention rate |", "held out at random", "retention rate falls"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, bad := range []string{"newest", "win rate falls", "| won |"} {
		for _, line := range strings.Split(md, "\n") {
			if strings.Contains(line, bad) {
				t.Errorf("report of a churn table without dates says %q: %s", bad, line)
			}
		}
	}
}

// Tied tier thresholds are merged, with a sentence saying so, and no tier
// row counts more deals than the holdout.
func TestReportTiedThresholds(t *testing.T) {
	p, _ := trained(t, 5000, 42, train.TargetWon)
	c := copyProfile(p)
	c.Tiers.Tier2 = c.Tiers.Tier1
	// Tier 2 is empty once its threshold is Tier 1's; its deals go up.
	t1, t2 := c.Backtest.Tiers[0].Evidence, c.Backtest.Tiers[1].Evidence
	t1.Closed += t2.Closed
	c.Backtest.Tiers[0].Evidence = t1
	c.Backtest.Tiers[1].Evidence = profile.Evidence{}
	md := markdown(t, c)
	if !strings.Contains(md, "Tier1 and tier2 share the threshold") {
		t.Errorf("report does not say that tier1 and tier2 are tied:\n%s", md)
	}
	if !strings.Contains(md, "| tier1 (tier2 empty) |") {
		t.Errorf("report does not merge tier2 into tier1")
	}
	if strings.Contains(md, "\n| tier2 |") {
		t.Errorf("report still has a tier2 row")
	}
}

// Leakage columns come at the top of the report with their evidence and
// the line that puts one back; an AUC above 0.97 is warned about.
func TestReportLeakageAndAUCWarning(t *testing.T) {
	p, _ := trained(t, 5000, 42, train.TargetWon)
	c := copyProfile(p)
	sc := *c.Schema
	sc.Columns = append([]features.Column{{Name: "Amount", Role: features.RoleLeakage, Kind: "number",
		Reason:  `leaks the outcome: filled for 100% of won and 0% of lost deals; put it back with {"columns": {"Amount": {"role": "numeric"}}}`,
		Leakage: &features.Leakage{Positive: "won", Negative: "lost", AUC: 0.998, FilledPositive: 1, FilledNegative: 0}}}, sc.Columns...)
	c.Schema = &sc
	c.Validation.Holdout.ROCAUC = 0.991
	md := markdown(t, c)
	leak := strings.Index(md, "## Left out: columns that leak the outcome")
	segs := strings.Index(md, "## Ideal customer segments")
	if leak < 0 || segs < 0 || leak > segs {
		t.Fatalf("leakage section at %d, segments at %d: want the leakage first", leak, segs)
	}
	for _, want := range []string{"| `Amount` | 0.998 | 100.0% of won, 0.0% of lost |", `{"columns": {"Amount": {"role": "numeric"}}}`,
		"**Warning:** the holdout ROC AUC is 0.991"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	var sum bytes.Buffer
	WriteSummary(&sum, c)
	if !strings.Contains(sum.String(), "Amount: alone ROC AUC 0.998") || !strings.Contains(sum.String(), "warning: the holdout ROC AUC is 0.991") {
		t.Errorf("summary lacks the leakage or the warning:\n%s", sum.String())
	}
	if strings.Index(sum.String(), "left out as leakage") > strings.Index(sum.String(), "validation:") {
		t.Errorf("summary lists the leakage after the validation")
	}
}

func TestTraitValueDates(t *testing.T) {
	tr := profile.Trait{Measure: "median"}
	if got := traitValue(tr, 19000, true, 1); got != "median 2022-01-08" {
		t.Errorf("traitValue(days) = %q", got)
	}
	if got := traitValue(tr, 52, true, daysPerYear); got != "median 2022-01-01" {
		t.Errorf("traitValue(years) = %q", got)
	}
	if got := traitValue(profile.Trait{Measure: "share"}, 0.25, false, 1); got != "25.0%" {
		t.Errorf("traitValue(share) = %q", got)
	}
}

// The tier shares the report shows are the accounts the tiers hold.
func TestTierShares(t *testing.T) {
	p, _ := trained(t, 5000, 42, train.TargetWon)
	shares, actual := icpReport{p}.tierShares()
	if !actual {
		t.Fatalf("tierShares did not read the drift reference")
	}
	var sum float64
	for k, tr := range icp.Tiers() {
		sum += shares[k]
		if shares[k] != p.Drift.Tiers[tr] {
			t.Errorf("share of %s = %v, want %v", tr, shares[k], p.Drift.Tiers[tr])
		}
	}
	if sum < 0.999 || sum > 1.001 {
		t.Errorf("tier shares add up to %v", sum)
	}
}
