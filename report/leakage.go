package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/icpengine/icp/profile"
)

// leakyAUC is the holdout ROC AUC above which the report warns: models on
// pre-sale fields of a CRM export rarely pass 0.90, so 0.97 almost always
// means a column recorded after the outcome.
const leakyAUC = 0.97

// aucWarning returns the warning for a holdout ROC AUC above leakyAUC,
// naming the column that drives the score most, or "".
func aucWarning(p *profile.Profile) string {
	auc := p.Validation.Holdout.ROCAUC
	if !(auc > leakyAUC) {
		return ""
	}
	s := fmt.Sprintf("the holdout ROC AUC is %.3f, above %.2f, which fields known before a sale rarely reach: a column probably leaks the outcome (it is filled or set after the deal closes).", auc, leakyAUC)
	if imp := p.Importance.Columns; len(imp) > 0 {
		s += fmt.Sprintf(" The score leans most on %q; if it is known only after the outcome, leave it out with the schema file: %s.",
			imp[0].Column, fmt.Sprintf(`{"columns": {%s: {"role": "leakage"}}}`, strconv.Quote(imp[0].Column)))
	}
	return s
}

// leak is a column left out as leakage, with its evidence.
type leak struct {
	name, kind, reason string
	// auc, filled and after sum up the leakage guard's evidence, "–"
	// where it has none.
	auc, filled, after string
}

// leaks returns the schema's leakage columns.
func leaks(p *profile.Profile) []leak {
	var out []leak
	for _, c := range p.Schema.Columns {
		if c.Role != "leakage" {
			continue
		}
		l := leak{name: c.Name, kind: c.Kind, reason: c.Reason, auc: "–", filled: "–", after: "–"}
		if e := c.Leakage; e != nil {
			l.auc = fmt.Sprintf("%.3f", e.AUC)
			l.filled = fmt.Sprintf("%s of %s, %s of %s", pct(e.FilledPositive), e.Positive, pct(e.FilledNegative), e.Negative)
			if e.AfterClose > 0 {
				l.after = pct(e.AfterClose)
			}
		}
		out = append(out, l)
	}
	return out
}

// restore is the schema file line that puts a leakage column back as a
// feature, with the role its storage kind reads as.
func (l leak) restore() string {
	role := map[string]string{"number": "numeric", "bool": "boolean", "date": "date"}[l.kind]
	if role == "" {
		role = "categorical"
	}
	return fmt.Sprintf(`{"columns": {%s: {"role": %q}}}`, strconv.Quote(l.name), role)
}

// leakageLines are one line per leakage column for the trainer's console.
func leakageLines(p *profile.Profile) []string {
	var out []string
	for _, l := range leaks(p) {
		line := l.name + ": " + reasonOf(l.reason)
		if l.auc != "–" {
			line = fmt.Sprintf("%s: alone ROC AUC %s, filled for %s", l.name, l.auc, l.filled)
		}
		out = append(out, line)
	}
	return out
}

// leakageSection lists, at the top of the report, the columns left out as
// leakage with their evidence and the line that puts one back.
func (p icpReport) leakageSection(d *document) {
	cols := leaks(p.Profile)
	if len(cols) == 0 {
		return
	}
	d.h2("Left out: columns that leak the outcome")
	d.para("These columns are known only after a deal closes (or are filled mostly for one outcome), so a model that uses them looks excellent on past deals and fails on new accounts. They are not features. The one-column ROC AUC is how well the column alone, out of fold, ranks the outcomes (pre-sale fields rarely reach 0.80); the fill rates compare the outcomes.")
	var rows [][]string
	for _, l := range cols {
		rows = append(rows, []string{"`" + l.name + "`", l.auc, l.filled, l.after, reasonOf(l.reason)})
	}
	d.table([]string{"column", "one-column ROC AUC", "filled (by outcome)", "on or after the close date", "why"}, rows)
	var lines []string
	for _, l := range cols {
		lines = append(lines, "`"+l.restore()+"`")
	}
	d.para("If a column is in fact known before the sale, put it back in the schema file (`--schema`), for example %s.", strings.Join(lines, " or "))
}

// reasonOf is a leakage reason without the override line that ends it
// (the report gives the lines below the table).
func reasonOf(reason string) string {
	if k := strings.Index(reason, "; put it back with "); k >= 0 {
		return reason[:k]
	}
	return reason
}
