package datasets

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/icpengine/icp"
)

// Errors returned by the cell parsers. They are wrapped with the offending
// text.
var (
	// ErrNotNumber marks a cell that is not a number.
	ErrNotNumber = errors.New("not a number")
	// ErrNotDate marks a cell that is not a date in a supported layout. It
	// is icp.ErrNotDate.
	ErrNotDate = icp.ErrNotDate
	// ErrNotBool marks a cell that is not a boolean word.
	ErrNotBool = errors.New("not a boolean")
	// ErrOutOfRange marks a number beyond the range of float64, such as
	// 1e400.
	ErrOutOfRange = errors.New("number out of the float64 range (about ±1.8e308)")
)

// numResult says how a cell parsed as a number.
type numResult uint8

const (
	numOK    numResult = iota
	numBad             // not a number
	numRange           // a well-formed number beyond the float64 range
)

// IsMissing reports whether the cell s (surrounding white space ignored)
// marks a missing value. The markers "", "N/A", "#N/A", "null", "NaN", "-"
// and "--" (case-insensitive where it makes sense) are missing in every
// column. "NA" and "None" are missing only when numeric is true, that is
// for cells of Number, Date and Bool columns: in a String column "NA" is a
// real value (the region North America).
func IsMissing(s string, numeric bool) bool {
	s = strings.TrimSpace(s)
	switch len(s) {
	case 0:
		return true
	case 1:
		return s == "-"
	case 2:
		return s == "--" || numeric && strings.EqualFold(s, "na")
	case 3:
		return strings.EqualFold(s, "n/a") || strings.EqualFold(s, "nan")
	case 4:
		return strings.EqualFold(s, "null") || s == "#N/A" ||
			numeric && strings.EqualFold(s, "none")
	}
	return false
}

// ParseNumber parses a number as CRM exports and spreadsheets write it:
// "1200", "-3.5", "1e6", "1,200,000" and "1 200" (thousands groups separated
// by commas, spaces or apostrophes, each group three digits), a currency
// sign before or after the digits ("$1,200", "€3.4", "3.4 €", "£5", "¥7"),
// a trailing percent sign, which is dropped ("12.5%" is 12.5, in percentage
// points, not 0.125), and accounting negatives in parentheses ("(1,234)" is
// -1234). The decimal separator is '.'. The text "NaN" and infinities are
// rejected with ErrNotNumber; well-formed values that overflow float64, such
// as 1e400, are rejected with ErrOutOfRange. Values too small for float64
// (1e-400) read as zero.
func ParseNumber(s string) (float64, error) {
	return parseNumber(s, '.')
}

// parseNumber is ParseNumber with a choice of decimal separator, '.' or
// ','. With ',' the thousands separator becomes '.' (or a space).
func parseNumber(s string, decimal byte) (float64, error) {
	s = strings.TrimSpace(s)
	if v, ok := parsePlain(s); ok {
		return v, nil
	}
	v, res := parseDecorated(s, decimal)
	switch res {
	case numBad:
		return 0, fmt.Errorf("%w: %q", ErrNotNumber, s)
	case numRange:
		return 0, fmt.Errorf("%w: %q", ErrOutOfRange, s)
	}
	return v, nil
}

// parsePlain is the fast path for cells made only of ASCII digits, one
// optional leading '-' and at most one '.'.
func parsePlain(s string) (float64, bool) {
	if s == "" || len(s) > 20 {
		return 0, false
	}
	i := 0
	if s[0] == '-' {
		i = 1
	}
	if i == len(s) {
		return 0, false
	}
	dot := false
	digits := 0
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 {
		return 0, false
	}
	if !dot {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return float64(n), true
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// parseDecorated handles signs, currency, percent, parentheses and thousands
// separators. It reports numRange for a well-formed number that
// overflows float64.
func parseDecorated(s string, decimal byte) (float64, numResult) {
	neg := false
	if len(s) >= 2 && s[0] == '(' && s[len(s)-1] == ')' {
		neg = true
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	s = strings.TrimSuffix(s, "%")
	s = strings.TrimSpace(s)
	sign := func() {
		if s != "" && (s[0] == '-' || s[0] == '+') {
			if s[0] == '-' {
				neg = !neg
			}
			s = strings.TrimSpace(s[1:])
		}
	}
	sign()
	s = trimCurrency(s)
	if !neg {
		sign() // "$-12" as well as "-$12"
	}
	if s == "" {
		return 0, numBad
	}
	var b strings.Builder
	b.Grow(len(s))
	thousands := byte(',')
	if decimal == ',' {
		thousands = '.'
	}
	// Integer part: digits with optional validated grouping.
	i := 0
	group := -1 // digits in the current group once a separator was seen
	lead := 0   // digits before the first separator
	for i < len(s) {
		c := s[i]
		if c >= '0' && c <= '9' {
			b.WriteByte(c)
			if group >= 0 {
				group++
			} else {
				lead++
			}
			i++
			continue
		}
		w := separatorWidth(s[i:], thousands)
		if w == 0 {
			break
		}
		if group >= 0 && group != 3 || group < 0 && (lead == 0 || lead > 3) {
			return 0, numBad
		}
		group = 0
		i += w
	}
	if group >= 0 && group != 3 {
		return 0, numBad
	}
	digits := lead + max(group, 0)
	if i < len(s) && s[i] == decimal {
		b.WriteByte('.')
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, numBad
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		b.WriteByte('e')
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			b.WriteByte(s[i])
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
			i++
			exp++
		}
		if exp == 0 {
			return 0, numBad
		}
	}
	if i != len(s) {
		return 0, numBad
	}
	v, err := strconv.ParseFloat(b.String(), 64)
	if errors.Is(err, strconv.ErrRange) && math.IsInf(v, 0) {
		return 0, numRange
	}
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, numBad
	}
	if neg {
		v = -v
	}
	return v, numOK
}

// separatorWidth returns the byte width of a thousands separator at the
// start of s, or 0: the given ASCII separator, a space, an apostrophe, a
// no-break space or a narrow no-break space.
func separatorWidth(s string, thousands byte) int {
	switch {
	case s[0] == thousands, s[0] == ' ', s[0] == '\'':
		return 1
	case strings.HasPrefix(s, "\u00a0"):
		return len("\u00a0")
	case strings.HasPrefix(s, "\u202f"):
		return len("\u202f")
	}
	return 0
}

// trimCurrency removes one currency mark from the start or the end of s.
func trimCurrency(s string) string {
	for _, c := range [...]string{"$", "€", "£", "¥", "US$", "USD", "EUR", "GBP"} {
		if strings.HasPrefix(s, c) {
			return strings.TrimSpace(s[len(c):])
		}
		if strings.HasSuffix(s, c) {
			return strings.TrimSpace(s[:len(s)-len(c)])
		}
	}
	return s
}

// ParseDate parses a date or a timestamp with icp.ParseDate, the module's
// one date parser, and returns days since 1970-01-01 UTC, fractional for
// times of day. See icp.ParseDate for the layouts: ISO dates, RFC 3339,
// "2006-01-02 15:04:05" and month-first slash dates such as 03/01/2024 and
// 3/1/2024, optionally with a time. Day-first slash dates such as
// 31/01/2024 are rejected, never reinterpreted. A timestamp without a zone
// is UTC. Errors wrap ErrNotDate.
func ParseDate(s string) (float64, error) {
	t, err := icp.ParseDate(s)
	if err != nil {
		return 0, err
	}
	return daysSinceEpoch(t), nil
}

// daysSinceEpoch converts t to days since 1970-01-01 UTC.
func daysSinceEpoch(t time.Time) float64 {
	sec := t.Unix()
	days := math.Floor(float64(sec) / 86400)
	rem := float64(sec-int64(days)*86400) + float64(t.Nanosecond())/1e9
	return days + rem/86400
}

// dayTime converts days since 1970-01-01 UTC back to a time, to the
// microsecond.
func dayTime(days float64) time.Time {
	whole := math.Floor(days)
	micros := math.Round((days - whole) * 86400e6)
	return time.Unix(int64(whole)*86400, 0).Add(time.Duration(micros) * time.Microsecond).UTC()
}

// ParseBool parses a boolean word: true/false, yes/no, y/n and t/f, in any
// case. The digits 0 and 1 are numbers, not booleans.
func ParseBool(s string) (bool, error) {
	s = strings.TrimSpace(s)
	switch len(s) {
	case 1:
		switch s[0] {
		case 't', 'T', 'y', 'Y':
			return true, nil
		case 'f', 'F', 'n', 'N':
			return false, nil
		}
	case 2:
		if strings.EqualFold(s, "no") {
			return false, nil
		}
	case 3:
		if strings.EqualFold(s, "yes") {
			return true, nil
		}
	case 4:
		if strings.EqualFold(s, "true") {
			return true, nil
		}
	case 5:
		if strings.EqualFold(s, "false") {
			return false, nil
		}
	}
	return false, fmt.Errorf("%w: %q", ErrNotBool, s)
}
