package features

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/icpengine/icp/datasets"
)

// DefaultPlaceholders returns the text values that Infer reads as missing
// in text columns, compared without case and surrounding space: what
// web forms and CRMs write for "not filled in". A schema records its list
// (Schema.Placeholders), and an override file may replace it.
func DefaultPlaceholders() []string {
	return []string{"Select", "Unknown", "N/A", "None", "--None--", "-", "(blank)", "Not specified", "?"}
}

// placeholders is a list of placeholder values.
type placeholders []string

// has reports whether v is a placeholder (or empty). It does not allocate.
func (p placeholders) has(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return true
	}
	for _, x := range p {
		// Two strings whose first bytes are ASCII letters or signs that
		// differ without case do not fold alike: checked first, this
		// spares most calls of EqualFold, which scoring makes per cell.
		if x == "" || v[0] < utf8.RuneSelf && x[0] < utf8.RuneSelf && v[0]|0x20 != x[0]|0x20 {
			continue
		}
		if strings.EqualFold(v, x) {
			return true
		}
	}
	return false
}

var (
	idName      = regexp.MustCompile(`^(id|uuid|guid|key|permalink|object_id)$|_id$|^id_|_uuid$|_key$`)
	camelID     = regexp.MustCompile(`[a-z](Id|ID)$`)
	nameName    = regexp.MustCompile(`(?i)(^name$|_name$|^title$|^url$|^email$|^homepage|^website|^domain$|^phone)`)
	rowName     = regexp.MustCompile(`^(unnamed(_+\d+)?|index|idx|row|row_?(id|num|number|no)|no|num|number|#|_+)$|_(number|no|num|nr)$`)
	closeName   = regexp.MustCompile(`^(close_?date|closed_?at|closed_?date|close_?at|date_?closed|closed_?on|close_?time|decision_?date)$`)
	cycleName   = regexp.MustCompile(`(sales_?cycle|cycle_?days|days_?to_?close|time_?to_?close)`)
	ltvName     = regexp.MustCompile(`(^ltv|_ltv|^cltv$|^clv$|lifetime_?value|customer_?value$)`)
	churnName   = regexp.MustCompile(`^(is_|has_)?(churn|churned|churn_?flag|churn_?value|churn_?label|churn_?status|attrition|attrited|cancelled|canceled)$`)
	churnDate   = regexp.MustCompile(`^(churn(ed)?_?(date|at|on)|date_?churned|cancel(l)?(ed|ation)_?(date|at|on)|date_?cancel(l)?ed|termination_?date|terminated_?(at|on))$`)
	leakName    = regexp.MustCompile(`(churn|^closed?_|_closed?_|close_value|closed_at|reason|cltv|^ltv|_ltv|lifetime|sales_?cycle|deal_?cycle|cycle_?(days|length|time)|refund|won_|lost_|_won$|_lost$|revenue_to_date|revenue_since)`)
	nonNegName  = regexp.MustCompile(`(employee|revenue|count|visits|users|tickets|seats|amount|arr$|mrr$|ltv|funding_total|headcount)`)
	tagsName    = regexp.MustCompile(`(tech_?stack|technolog|tags?$|^tags?_|tools|stack|keywords|skills)`)
	outcomeName = regexp.MustCompile(`^(is_|has_|deal_|lead_|opportunity_|opp_)?(won|win|outcome|result|converted|conversion|target|label|class|y|success|successful|closed_won|status|stage|stage_?name|sales_?stage|pipeline_?stage|deal_?stage|deal_?status|lifecycle_?stage|purchased|subscribed|signed)(_flag|_label|_status)?$`)
)

// minLevelRows is how many rows a value needs before the encoder gives it
// a column of its own (EncoderConfig.MinLevelCount's default); roles use
// it to tell a repeated identifier from a unique one.
const minLevelRows = 10

// normName lower-cases a column name and turns spaces, hyphens, dots,
// colons and the like into underscores, so that "Churn Label" matches the
// patterns like "churn_label" and "Unnamed: 0" like "unnamed_0".
func normName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	var b strings.Builder
	under := false
	for _, r := range s {
		if r == '_' || r == ' ' || r == '-' || r == '.' || r == ':' || r == '/' || r == '(' || r == ')' {
			if !under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = true
			continue
		}
		b.WriteRune(r)
		under = false
	}
	out := strings.TrimSuffix(b.String(), "_")
	if out == "" && s != "" {
		return "_"
	}
	return out
}

// textStats summarises a text column, placeholders counted as missing.
type textStats struct {
	present  int
	distinct map[string]int // value -> rows
	ph       map[string]int // placeholder spelling -> rows
	runes    []int          // length of each present value
}

func statText(v []string, ph placeholders) textStats {
	st := textStats{distinct: make(map[string]int), ph: make(map[string]int)}
	for _, s := range v {
		if s == "" {
			continue
		}
		if ph.has(s) {
			st.ph[s]++
			continue
		}
		st.present++
		st.distinct[s]++
		st.runes = append(st.runes, utf8.RuneCountInString(s))
	}
	return st
}

// repeatedShare is the share of present rows whose value occurs at least
// minLevelRows times: the rows a one-hot encoding with rare levels grouped
// can tell apart.
func (st textStats) repeatedShare() float64 {
	if st.present == 0 {
		return 0
	}
	n := 0
	for _, c := range st.distinct {
		if c >= minLevelRows {
			n += c
		}
	}
	return float64(n) / float64(st.present)
}

func (st textStats) medianRunes() int {
	if len(st.runes) == 0 {
		return 0
	}
	r := append([]int(nil), st.runes...)
	sort.Ints(r)
	return r[len(r)/2]
}

// placeholderNote names the placeholders found, for a reason.
func (st textStats) placeholderNote() string {
	if len(st.ph) == 0 {
		return ""
	}
	var names []string
	for v := range st.ph {
		names = append(names, v)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for k, v := range names {
		parts[k] = fmt.Sprintf("%q×%d", v, st.ph[v])
	}
	return "; placeholders " + strings.Join(parts, ", ") + " read as missing"
}

// inferRole decides the role of one column by name and content, before
// outcome detection and the leakage guard. sep is the tags separator.
func inferRole(t *datasets.Table, c *datasets.Column, cfg InferConfig, ph placeholders) (role Role, reason, sep string) {
	rows := c.Len()
	name := normName(c.Name)
	var st textStats
	present := rows - missingCount(c)
	if c.Kind == datasets.String {
		st = statText(c.Str, ph)
		present = st.present
	}
	switch {
	case present == 0 && len(st.ph) > 0:
		return RoleExcluded, "every value is missing" + st.placeholderNote(), ""
	case present == 0:
		return RoleExcluded, "every value is missing", ""
	case closeName.MatchString(name) && c.Kind == datasets.Date:
		return RoleOutcome, "close date by name", ""
	case cycleName.MatchString(name) && c.Kind == datasets.Number:
		return RoleOutcome, "sales cycle by name", ""
	case ltvName.MatchString(name) && c.Kind == datasets.Number:
		return RoleOutcome, "lifetime value by name: an outcome, never a feature", ""
	case churnName.MatchString(name) && (c.Kind == datasets.Bool || c.Kind == datasets.Number && isBinary(c.Num) || c.Kind == datasets.String && len(st.distinct) <= 3):
		return RoleOutcome, "churn flag by name", ""
	case churnDate.MatchString(name) && c.Kind == datasets.Date:
		return RoleOutcome, "churn date by name: filled means churned", ""
	case leakName.MatchString(name):
		return RoleLeakage, "known only after the outcome, by name", ""
	case idName.MatchString(name) || camelID.MatchString(c.Name):
		return idRole(c, st)
	}
	switch c.Kind {
	case datasets.Bool:
		return RoleBoolean, "true/false values", ""
	case datasets.Date:
		return RoleDate, "date values", ""
	case datasets.Number:
		if why := rowNumber(c.Num, name); why != "" {
			return RoleID, why, ""
		}
		if isBinary(c.Num) {
			return RoleBoolean, "only 0 and 1", ""
		}
		return RoleNumeric, "numeric values", ""
	}
	return textRole(t, c, name, st, cfg, ph)
}

// idRole keeps an id-named column as an identifier unless its values
// repeat enough to be a category (a landing page id over thousands of
// leads, an account id over deals).
func idRole(c *datasets.Column, st textStats) (Role, string, string) {
	if c.Kind != datasets.String {
		st = textStats{distinct: make(map[string]int)}
		for i := 0; i < c.Len(); i++ {
			if !c.IsMissing(i) {
				st.present++
				st.distinct[c.Text(i)]++
			}
		}
	}
	n := len(st.distinct)
	if share := st.repeatedShare(); n > 1 && share >= 0.5 {
		return RoleCategorical, fmt.Sprintf("repeated identifier: %d values over %d rows, %.0f%% of rows on a value seen %d+ times; rare values are grouped",
			n, st.present, 100*share, minLevelRows), ""
	}
	return RoleID, "identifier by name", ""
}

// rowNumber returns why a numeric column is a row number, or "": distinct
// integers that either count up or down in steps of one size, or sit in a
// dense range under a name such as "Unnamed: 0", "index" or "Lead Number".
func rowNumber(v []float64, name string) string {
	var vals []float64
	for _, x := range v {
		if math.IsNaN(x) {
			continue
		}
		if x != math.Trunc(x) {
			return ""
		}
		vals = append(vals, x)
	}
	n := len(vals)
	if n < 20 || n < len(v)*19/20 {
		return ""
	}
	sorted := append([]float64(nil), vals...)
	sort.Float64s(sorted)
	for k := 1; k < n; k++ {
		if sorted[k] == sorted[k-1] {
			return ""
		}
	}
	// Sequential: monotone in file order, most steps the same size.
	steps := make(map[float64]int)
	up, down := true, true
	for k := 1; k < n; k++ {
		d := vals[k] - vals[k-1]
		up = up && d > 0
		down = down && d < 0
		steps[d]++
	}
	most := 0
	for _, c := range steps {
		most = max(most, c)
	}
	if (up || down) && most*10 >= (n-1)*9 {
		return fmt.Sprintf("row number: %d distinct integers counting in steps of one size", n)
	}
	span := sorted[n-1] - sorted[0]
	if rowName.MatchString(name) && span <= 20*float64(n) {
		return fmt.Sprintf("row number by name: %d distinct integers from %s to %s", n,
			strconv.FormatFloat(sorted[0], 'f', -1, 64), strconv.FormatFloat(sorted[n-1], 'f', -1, 64))
	}
	return ""
}

// textRole decides the role of a text column by its content.
func textRole(t *datasets.Table, c *datasets.Column, name string, st textStats, cfg InferConfig, ph placeholders) (Role, string, string) {
	n := len(st.distinct)
	note := st.placeholderNote()
	if tagsName.MatchString(name) {
		sep, _ := sniffTags(st.distinct, ph, true)
		if sep == "" {
			sep = ";"
		}
		return RoleTags, fmt.Sprintf("lists of tags by name, separated by %q", sep) + note, sep
	}
	if nameName.MatchString(name) {
		return RoleExcluded, "free text by name", ""
	}
	if med := st.medianRunes(); med >= 25 && n*2 >= st.present && st.present > 1 {
		return RoleExcluded, fmt.Sprintf("free text: long values (median %d characters), %.0f%% of them distinct", med, 100*float64(n)/float64(st.present)), ""
	}
	if sep, ts := sniffTags(st.distinct, ph, false); sep != "" {
		return RoleTags, fmt.Sprintf("lists of tags separated by %q in %d of %d cells, %d distinct tags", sep, ts.withSep, ts.present, ts.distinct) + note, sep
	}
	if why := mostlyNumbers(t, c, st, ph); why != "" {
		if numericDistinct(st) > 20 {
			return RoleExcluded, why + "; fix those cells to use the column as a number", ""
		}
		return RoleCategorical, fmt.Sprintf("%d distinct values; ", n) + why + note, ""
	}
	if n == st.present && st.present > 20 {
		return RoleExcluded, "every value is different (identifier or free text)", ""
	}
	if n > cfg.MaxLevels {
		return RoleExcluded, fmt.Sprintf("%d distinct values: too many for a category (free text?)", n), ""
	}
	if n == 1 {
		return RoleExcluded, "a single value" + note, ""
	}
	return RoleCategorical, fmt.Sprintf("%d distinct values", n) + note, ""
}

// mostlyNumbers returns a reason when nearly every present cell of a text
// column is a number (all but two, or a fifth): the column was read as
// text because of the others, which it names with their lines (a
// spreadsheet's "####", a date in a money column).
func mostlyNumbers(t *datasets.Table, c *datasets.Column, st textStats, ph placeholders) string {
	numeric := 0
	for v, k := range st.distinct {
		if _, err := datasets.ParseNumber(v); err == nil {
			numeric += k
		}
	}
	other := st.present - numeric
	if numeric < 2 || other == 0 || other >= numeric || other > max(2, st.present/5) {
		return ""
	}
	var bad []string
	more := 0
	for i, v := range c.Str {
		if ph.has(v) {
			continue
		}
		if _, err := datasets.ParseNumber(v); err == nil {
			continue
		}
		if len(bad) == 3 {
			more++
			continue
		}
		where := ""
		if l := t.Line(i); l > 0 {
			where = fmt.Sprintf(" on line %d", l)
		}
		bad = append(bad, fmt.Sprintf("%q%s", clip(v), where))
	}
	msg := fmt.Sprintf("read as text although %d of %d values are numbers: not numbers: %s", numeric, st.present, strings.Join(bad, ", "))
	if more > 0 {
		msg += fmt.Sprintf(" and %d more", more)
	}
	return msg
}

func numericDistinct(st textStats) int {
	n := 0
	for v := range st.distinct {
		if _, err := datasets.ParseNumber(v); err == nil {
			n++
		}
	}
	return n
}

func missingCount(c *datasets.Column) int {
	n := 0
	for i := 0; i < c.Len(); i++ {
		if c.IsMissing(i) {
			n++
		}
	}
	return n
}

func isBinary(v []float64) bool {
	seen := false
	for _, x := range v {
		if math.IsNaN(x) {
			continue
		}
		if x != 0 && x != 1 {
			return false
		}
		seen = true
	}
	return seen
}

// single reports whether the present values of v are all equal.
func single(v []float64) bool {
	first := math.NaN()
	for _, x := range v {
		switch {
		case math.IsNaN(x):
		case math.IsNaN(first):
			first = x
		case x != first:
			return false
		}
	}
	return true
}
