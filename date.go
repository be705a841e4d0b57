package icp

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotDate marks text that is not a date in a layout ParseDate accepts.
// ParseDate wraps it with the offending text.
var ErrNotDate = errors.New("not a date")

// dateLayouts returns the layouts ParseDate accepts, most common first.
// Slash dates are month first (US order).
func dateLayouts() [13]string {
	return [...]string{
		"2006-01-02",
		time.RFC3339Nano,
		"2006-01-02T15:04:05",
		"2006-01-02 15:04:05",
		"2006-01-02 15:04",
		"2006-01-02T15:04",
		"2006-01-02 15:04:05Z07:00",
		"2006/01/02",
		"01/02/2006",
		"1/2/2006",
		"01/02/2006 15:04:05",
		"1/2/2006 15:04:05",
		"1/2/2006 15:04",
	}
}

// ParseDate parses a date or a timestamp as CRM exports, spreadsheets and
// API clients write them, and returns it in UTC. It is the one date parser
// of the module: the CSV reader, the schema's account decoder and the
// server's outcome route read dates with it.
//
// The layouts are 2006-01-02 and 2006/01/02; RFC 3339 with or without
// fractional seconds (2006-01-02T15:04:05Z, 2006-01-02T15:04:05.5+02:00);
// "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05",
// "2006-01-02T15:04" and "2006-01-02 15:04:05Z07:00"; and month-first
// slash dates 01/02/2006 and 1/2/2006, optionally followed by a time
// (15:04:05 or 15:04). Day-first slash dates such as 31/01/2024 are
// rejected, never reinterpreted. A timestamp without a zone is UTC; one
// with a zone is converted to UTC. Surrounding white space is ignored.
// Errors wrap ErrNotDate.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) < 8 || s[0] < '0' || s[0] > '9' {
		return time.Time{}, fmt.Errorf("%w: %q", ErrNotDate, s)
	}
	for _, layout := range dateLayouts() {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: %q", ErrNotDate, s)
}
