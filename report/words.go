package report

import (
	"fmt"
	"strings"

	"github.com/icpengine/icp/profile"
)

// words are the nouns and verbs a report uses for its outcome, so that a
// churn table speaks of customers retained, a lead table of leads
// converted and a pipeline of deals won.
type words struct {
	// unit counts closed rows: "deals", "customers" or "leads".
	unit string
	// won names the positive outcome of a row: "won", "retained" or
	// "converted"; rate is its rate ("win rate") and share the share of
	// all of them a group holds ("share of all wins").
	won, rate, share string
	// ideal is set for the ideal label, whose positives (won, not
	// churned, of enough value) are fewer than the won deals: the tables
	// show both.
	ideal bool
	// retained is set for a churn table: every row is a won customer and
	// the positives are the ones who stay.
	retained bool
}

// wordsFor returns the words of p's outcome.
func wordsFor(p *profile.Profile) words {
	switch {
	case p.Label.Target == profile.TargetRetained:
		return words{unit: "customers", won: "retained", rate: "retention rate", share: "share of all retained", retained: true}
	case converts(p.Label.WonColumn):
		return words{unit: "leads", won: "converted", rate: "conversion rate", share: "share of all conversions", ideal: p.Label.Target == profile.TargetIdeal}
	}
	return words{unit: "deals", won: "won", rate: "win rate", share: "share of all wins", ideal: p.Label.Target == profile.TargetIdeal}
}

// converts reports whether an outcome column is named for a conversion
// ("Converted", "is_converted", "conversion"), as lead tables name it.
func converts(column string) bool {
	return strings.Contains(strings.ToLower(column), "conver")
}

// groupHead is the head of a table of groups (tiers, segments) of closed
// rows; groupRows fills it.
func (w words) groupHead(first string) []string {
	switch {
	case w.retained:
		return []string{first, w.unit, w.won, w.rate, "median LTV", w.share}
	case w.ideal:
		return []string{first, w.unit, w.won, w.rate, "ideal", "ideal rate", "median cycle of " + w.won + " (days)", "median LTV of " + w.won, "churn of " + w.won, "share of all ideal"}
	}
	return []string{first, w.unit, w.won, w.rate, "median cycle of " + w.won + " (days)", "median LTV of " + w.won, "churn of " + w.won, w.share}
}

func (w words) groupRows(gs []profile.GroupResult) [][]string {
	var rows [][]string
	for _, g := range gs {
		e := g.Evidence
		switch {
		case w.retained:
			rows = append(rows, []string{g.Name, fmt.Sprint(e.Closed), fmt.Sprint(e.Positives), pct(e.PositiveRate),
				optNum(e.MedianLTV, e.HasLTV), pct(e.ShareOfPositives)})
		case w.ideal:
			rows = append(rows, []string{g.Name, fmt.Sprint(e.Closed), fmt.Sprint(e.Won), pct(e.WinRate), fmt.Sprint(e.Positives), pct(e.PositiveRate),
				optNum(e.MedianCycleDays, e.HasCycle), optNum(e.MedianLTV, e.HasLTV), optPct(e.ChurnRate, e.HasChurn), pct(e.ShareOfPositives)})
		default:
			rows = append(rows, []string{g.Name, fmt.Sprint(e.Closed), fmt.Sprint(e.Won), pct(e.WinRate), optNum(e.MedianCycleDays, e.HasCycle),
				optNum(e.MedianLTV, e.HasLTV), optPct(e.ChurnRate, e.HasChurn), pct(e.ShareOfWins)})
		}
	}
	return rows
}

// byDate reports whether p's holdout is its newest deals, not a random
// draw: only a split by date bounds the holdout's close dates.
func byDate(p *profile.Profile) bool { return p.Validation.From != "" }

// splitWords names the two parts of p's validation split: the "older"
// and the "newest" deals for a split by date, the "training" and the
// "held-out" ones for a random draw.
func splitWords(p *profile.Profile) (older, newest string) {
	if byDate(p) {
		return "older", "newest"
	}
	return "training", "held-out"
}
