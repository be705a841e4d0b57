package profile

import (
	"fmt"
	"math"
	"time"
)

// The readable texts of a profile (rules, segment summaries, the label's
// definition) and the report that presents it format numbers alike with
// these functions.

// FormatNumber formats a number for people: 1.2M, 45k, 480, 0.35; NaN is
// "–".
func FormatNumber(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "–"
	case a >= 999.95e6:
		return trimZeros(fmt.Sprintf("%.1f", v/1e9)) + "B"
	case a >= 999.5e3:
		return trimZeros(fmt.Sprintf("%.1f", v/1e6)) + "M"
	case a >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case a >= 100 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// FormatPercent formats a share as a percentage with one decimal, "41.5%";
// NaN is "–".
func FormatPercent(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

// FormatTimes formats a ratio as "3.1×"; zero and NaN are "–".
func FormatTimes(v float64) string {
	if v == 0 || math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.1f×", v)
}

// FormatDay formats a date held as days since 1970-01-01 as 2006-01-02;
// NaN is "".
func FormatDay(days float64) string {
	if math.IsNaN(days) {
		return ""
	}
	return time.Unix(int64(math.Floor(days))*86400, 0).UTC().Format("2006-01-02")
}
