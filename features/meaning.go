package features

import (
	"sort"
	"strings"
	"unicode"

	"github.com/icpengine/icp/datasets"
)

// The meanings of a value of the won column.
const (
	// MeaningWon marks a won deal (or a converted lead, an acquired company).
	MeaningWon = "won"
	// MeaningLost marks a lost deal.
	MeaningLost = "lost"
	// MeaningOpen marks a deal still open: it is scored, never trained on.
	MeaningOpen = "open"
)

// valueKey is the form under which outcome values are compared: lower-case
// letters and digits only, so that "Closed Won", "closed-won", "CLOSED_WON"
// and "closedwon" are one value.
func valueKey(v string) string {
	var b strings.Builder
	for _, r := range v {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// firstWord is the lower-cased leading run of letters of v: "won" for
// "Won - Expansion".
func firstWord(v string) string {
	v = strings.TrimSpace(v)
	end := strings.IndexFunc(v, func(r rune) bool { return !unicode.IsLetter(r) })
	if end < 0 {
		end = len(v)
	}
	return strings.ToLower(v[:end])
}

// wordMeaning reads an outcome value with the built-in words CRMs, lead
// tables and company databases use. generic marks the words of a plain
// yes/no column (yes, no, true, false, y, n, 1, 0), which mean won or lost
// only in a column named like an outcome; known is false for a value the
// words do not cover, which is read as open.
//
// This is the one word list of the engine: labels, the outcome detection
// and the leakage guard all read values through it (or through a schema's
// Outcomes.Values, which records its result).
func wordMeaning(v string) (meaning string, generic, known bool) {
	k := valueKey(v)
	switch k {
	case "yes", "y", "true", "t", "1":
		return MeaningWon, true, true
	case "no", "n", "false", "f", "0":
		return MeaningLost, true, true
	case "won", "win", "wins", "winner", "closedwon", "dealwon", "acquired", "ipo", "success", "successful",
		"customer", "converted", "signed", "purchased", "booked", "evangelist", "closedconverted":
		return MeaningWon, false, true
	case "lost", "loss", "closedlost", "deallost", "closed", "failed", "fail", "failure", "disqualified",
		"unqualified", "rejected", "dead", "declined", "cancelled", "canceled", "closednotconverted":
		return MeaningLost, false, true
	case "open", "new", "prospect", "prospecting", "qualification", "qualify", "qualified", "engaging", "engaged",
		"discovery", "demo", "trial", "proposal", "quote", "negotiation", "negotiating", "review", "pending",
		"inprogress", "working", "nurturing", "contacted", "operating", "pipeline", "commit", "bestcase",
		"upside", "evaluation", "presentation", "contractsent", "appointmentscheduled", "qualifiedtobuy",
		"presentationscheduled", "decisionmakerboughtin", "needsanalysis", "valueproposition":
		return MeaningOpen, false, true
	}
	if funnelStage(k) {
		return MeaningOpen, false, true
	}
	switch {
	case strings.Contains(k, "closedwon"):
		return MeaningWon, false, true
	case strings.Contains(k, "closedlost"):
		return MeaningLost, false, true
	}
	// "Won - Expansion", "Lost to competitor", "Closed - not interested".
	switch firstWord(v) {
	case "won":
		return MeaningWon, false, true
	case "lost", "closed":
		return MeaningLost, false, true
	}
	return MeaningOpen, false, false
}

// funnelStage reports whether the value key k is a stage of a marketing
// and sales funnel before the sale, as lifecycle stages name them
// (HubSpot's Subscriber, Lead, Marketing Qualified Lead, Sales Qualified
// Lead, Opportunity; their common abbreviations): a record there is still
// open.
func funnelStage(k string) bool {
	switch k {
	case "subscriber", "lead", "marketingqualifiedlead", "mql", "salesacceptedlead", "sal",
		"salesqualifiedlead", "sql", "opportunity":
		return true
	}
	return false
}

// catchAllStage reports whether the value key k is the catch-all stage of
// a lifecycle ("Other"), which in a column of funnel stages and customer
// stages holds the records that left the funnel without buying (see
// lifecycleLost).
func catchAllStage(k string) bool {
	switch k {
	case "other", "others":
		return true
	}
	return false
}

// ValueMeaning returns what a raw value of the won column means: MeaningWon,
// MeaningLost or MeaningOpen. Values listed in o.Values take their recorded
// meaning (compared without case, spaces or punctuation); the others are
// read with the built-in words, and a value they do not know is open.
func (o *Outcomes) ValueMeaning(v string) string {
	if m, ok := o.Values[v]; ok {
		return m
	}
	if len(o.Values) > 0 {
		// The first matching key in sorted order, so that a map holding
		// two spellings of one value reads the same on every run.
		k := valueKey(v)
		keys := make([]string, 0, len(o.Values))
		for raw := range o.Values {
			if valueKey(raw) == k {
				keys = append(keys, raw)
			}
		}
		if len(keys) > 0 {
			sort.Strings(keys)
			return o.Values[keys[0]]
		}
	}
	m, _, _ := wordMeaning(v)
	return m
}

// Meaning returns what row i of the won column c means. In a text column
// the value is read with ValueMeaning; in a boolean or numeric column 1 is
// won and 0 lost; a missing cell, or a number other than 0 and 1, is open.
func (o *Outcomes) Meaning(c *datasets.Column, i int) string {
	switch {
	case c.IsMissing(i):
		return MeaningOpen
	case c.Kind == datasets.String:
		return o.ValueMeaning(c.Str[i])
	case c.Num[i] == 1:
		return MeaningWon
	case c.Num[i] == 0:
		return MeaningLost
	}
	return MeaningOpen
}

// spelling returns the raw value recorded in o.Values with meaning m (the
// first in sorted order), or m itself.
func (o *Outcomes) spelling(m string) string {
	var keys []string
	for raw, mm := range o.Values {
		if mm == m {
			keys = append(keys, raw)
		}
	}
	if len(keys) == 0 {
		return m
	}
	sort.Strings(keys)
	return keys[0]
}

// IsChurned reports whether row i of the churn column c says the customer
// churned. A churn date means churned when it is filled; a flag when it is
// 1 (true), or in a text column a word such as "yes", "churned" or
// "cancelled". A missing flag is not churned.
func IsChurned(c *datasets.Column, i int) bool {
	switch {
	case c.Kind == datasets.Date:
		return !c.IsMissing(i)
	case c.IsMissing(i):
		return false
	case c.Kind == datasets.String:
		switch valueKey(c.Str[i]) {
		case "yes", "y", "true", "t", "1", "churn", "churned", "cancelled", "canceled", "left", "lost", "inactive":
			return true
		}
		return false
	}
	return c.Num[i] == 1
}
