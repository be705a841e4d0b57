package watch

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/icpengine/icp/drift"
)

// z95 is the standard normal quantile of a two-sided 95% interval.
const z95 = 1.959963984540054

// medianInterval returns the median of the sorted values x and a
// distribution-free 95% interval for it from order statistics: the values
// at ranks n/2 ± 1.96·sqrt(n)/2 (the normal approximation of the binomial
// count of values below the median). It returns NaNs for an empty x.
func medianInterval(x []float64) (med, lo, hi float64) {
	n := len(x)
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	med = quantile(x, 0.5)
	d := z95 * math.Sqrt(float64(n)) / 2
	l := int(math.Floor(float64(n)/2-d)) - 1 // 0-indexed rank
	h := int(math.Ceil(float64(n)/2+d)) - 1
	return med, x[min(max(l, 0), n-1)], x[min(max(h, 0), n-1)]
}

// quantile is the linear-interpolation quantile of sorted x (NaN when
// empty).
func quantile(x []float64, p float64) float64 {
	n := len(x)
	if n == 0 {
		return math.NaN()
	}
	h := p * float64(n-1)
	i := int(math.Floor(h))
	if i >= n-1 {
		return x[n-1]
	}
	return x[i] + (h-float64(i))*(x[i+1]-x[i])
}

// finiteSorted returns the finite values of x, sorted.
func finiteSorted(x []float64) []float64 {
	out := make([]float64, 0, len(x))
	for _, v := range x {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	sort.Float64s(out)
	return out
}

// readable turns a column or drift-feature name into words: the parts of
// snake_case, kebab-case and camelCase names are split, known acronyms are
// upper-cased, a trailing currency or day count becomes a unit in
// brackets, and the first letter is capitalized, so "annual_revenue_usd"
// reads "Annual revenue (USD)", "web_visits_30d" "Web visits (30 days)" and
// the tag feature "tech_stack has snowflake" "Tech stack: snowflake".
func readable(name string) string {
	if col, tag, ok := strings.Cut(name, " has "); ok {
		return readable(col) + ": " + tag
	}
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	prev := rune(0)
	for _, r := range name {
		switch {
		case r == '_' || r == '-' || r == '.' || unicode.IsSpace(r):
			flush()
		case unicode.IsUpper(r) && (unicode.IsLower(prev) || unicode.IsDigit(prev)):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
		prev = r
	}
	flush()
	if len(words) == 0 {
		return name
	}
	var unit string
	if last := strings.ToLower(words[len(words)-1]); len(words) > 1 {
		switch {
		case currencies[last]:
			unit = " (" + strings.ToUpper(last) + ")"
			words = words[:len(words)-1]
		case len(last) > 1 && last[len(last)-1] == 'd' && allDigits(last[:len(last)-1]):
			unit = " (" + last[:len(last)-1] + " days)"
			words = words[:len(words)-1]
		}
	}
	for i, w := range words {
		lw := strings.ToLower(w)
		switch {
		case acronyms[lw] || currencies[lw]:
			words[i] = strings.ToUpper(lw)
		case w == strings.ToUpper(w) && len(w) > 1:
			// an acronym already (ARR, NAICS)
		default:
			words[i] = lw
		}
	}
	s := strings.Join(words, " ") + unit
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// acronyms and currencies are upper-cased by readable.
var (
	acronyms = map[string]bool{
		"id": true, "url": true, "crm": true, "arr": true, "mrr": true, "ltv": true, "nps": true, "api": true,
		"b2b": true, "b2c": true, "saas": true, "sla": true, "roi": true, "cac": true, "acv": true, "tcv": true,
		"erp": true, "hq": true, "it": true, "ip": true, "sic": true, "naics": true, "us": true, "uk": true, "eu": true,
	}
	currencies = map[string]bool{"usd": true, "eur": true, "gbp": true, "jpy": true, "cad": true, "aud": true, "chf": true}
)

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// pct formats a share as a percentage: one decimal below 10%, none above.
func pct(x float64) string {
	if x > 0 && x < 0.1 {
		return strconv.FormatFloat(100*x, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(100*x, 'f', 0, 64) + "%"
}

// pctRange formats an interval of shares: "21–27%".
func pctRange(lo, hi float64) string {
	l, h := pct(lo), pct(hi)
	return strings.TrimSuffix(l, "%") + "–" + h
}

// number formats a value of a feature for people: thousands separators,
// K/M/B suffixes for large values, three significant digits for small
// ones.
func number(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "n/a"
	case a >= 1e9:
		return strconv.FormatFloat(v/1e9, 'f', 1, 64) + "B"
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 1, 64) + "M"
	case a >= 1e4:
		return thousands(int(math.Round(v)))
	case a >= 100 || v == math.Trunc(v):
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// thousands formats n with comma separators: 1234567 -> "1,234,567".
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}

// sizeWord says how large a shift of the given PSI is, in the bands of
// the industry's rule of thumb (below 0.1 small, to 0.25 moderate, above
// large), with its article.
func sizeWord(psi float64) string {
	switch {
	case psi > psiLarge:
		return "a large"
	case psi >= psiModerate:
		return "a moderate"
	}
	return "a small"
}

// scoredSpan says when the accounts of a window were scored, in UTC:
// "on 12 Mar 2026 between 09:00 and 10:30 UTC" or "from 12 Mar 09:00 to
// 13 Mar 10:30 UTC"; empty when the times are unknown.
func scoredSpan(from, to time.Time) string {
	if from.IsZero() || to.IsZero() {
		return ""
	}
	from, to = from.UTC(), to.UTC()
	if from.Truncate(time.Minute).Equal(to.Truncate(time.Minute)) {
		return fmt.Sprintf("Scored on %s at %s UTC.", from.Format("2 Jan 2006"), from.Format("15:04"))
	}
	if from.Format(time.DateOnly) == to.Format(time.DateOnly) {
		return fmt.Sprintf("Scored on %s between %s and %s UTC.", from.Format("2 Jan 2006"), from.Format("15:04"), to.Format("15:04"))
	}
	return fmt.Sprintf("Scored from %s to %s UTC.", from.Format("2 Jan 2006 15:04"), to.Format("2 Jan 2006 15:04"))
}

// closedSpan says when the deals of a window closed: "Closed 3 Jan 2024 –
// 28 Dec 2024."; empty when the dates are unknown.
func closedSpan(from, to time.Time) string {
	if from.IsZero() || to.IsZero() {
		return ""
	}
	return fmt.Sprintf("Deals closed %s – %s.", from.UTC().Format("2 Jan 2006"), to.UTC().Format("2 Jan 2006"))
}

// sentence joins non-empty parts with spaces.
func sentence(parts ...string) string {
	out := parts[:0:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

// quoteList formats up to n values as "“a”, “b” and “c”".
func quoteList(vals []string, n int) string {
	if len(vals) > n {
		vals = vals[:n]
	}
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = "“" + v + "”"
	}
	switch len(q) {
	case 0:
		return ""
	case 1:
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

// readableColumns rewrites the column names in a text written by the
// model (an emerging segment's name or traits) as words: with the columns
// "annual_revenue_usd" and "tech_stack", "57.7M–1.6B annual_revenue_usd"
// reads "57.7M–1.6B annual revenue (USD)" and "tech_stack has snowflake"
// "tech stack has snowflake". Only whole words are replaced, longest
// names first.
func readableColumns(text string, cols []string) string {
	cols = append([]string(nil), cols...)
	sort.Slice(cols, func(i, j int) bool { return len(cols[i]) > len(cols[j]) })
	for _, c := range cols {
		if c == "" {
			continue
		}
		var b strings.Builder
		rest := text
		for {
			i := strings.Index(rest, c)
			if i < 0 {
				b.WriteString(rest)
				break
			}
			end := i + len(c)
			if wordEdge(rest, i-1) && wordEdge(rest, end) {
				b.WriteString(rest[:i])
				b.WriteString(lower(readable(c)))
			} else {
				b.WriteString(rest[:end])
			}
			rest = rest[end:]
		}
		text = b.String()
	}
	return text
}

// wordEdge reports whether position i of s is outside a word: before the
// start, past the end, or not a letter, digit or underscore.
func wordEdge(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return true
	}
	c := s[i]
	return !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
}

// columns lists the column names of a drift reference: its numeric and
// categorical features, a tag feature "col has tag" as col.
func columns(ref *drift.Reference) []string {
	if ref == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	add := func(name string) {
		col, _, _ := strings.Cut(name, " has ")
		if !seen[col] {
			seen[col] = true
			out = append(out, col)
		}
	}
	for _, r := range ref.Numeric {
		add(r.Name)
	}
	for _, r := range ref.Categorical {
		add(r.Name)
	}
	return out
}
