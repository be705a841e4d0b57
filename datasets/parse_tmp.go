package datasets

// Temporary: the datasets branch replaces this file at merge.

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

func ParseNumber(s string) (float64, error) {
	s = strings.NewReplacer("$", "", ",", "").Replace(strings.TrimSpace(s))
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, errors.New("not a number")
	}
	return v, nil
}

func ParseDate(s string) (float64, error) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	return float64(t.Unix()) / 86400, nil
}

func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes":
		return true, nil
	case "false", "no":
		return false, nil
	}
	return false, errors.New("not a boolean")
}

func IsMissing(s string, numeric bool) bool {
	switch strings.TrimSpace(s) {
	case "", "N/A", "null", "-":
		return true
	case "NA":
		return numeric
	}
	return false
}

type ParseError struct {
	Source string
	Line   int
	Column int
	Field  string
	Err    error
}

func (e *ParseError) Error() string { return e.Source + ": " + e.Err.Error() }
func (e *ParseError) Unwrap() error { return e.Err }

func WriteCSV(w interface{ Write([]byte) (int, error) }, t *Table) error {
	for i := 0; i < t.Rows(); i++ {
		for _, c := range t.Columns {
			if c.Kind == String {
				w.Write([]byte(c.Str[i] + ","))
			} else {
				w.Write([]byte(strconv.FormatFloat(c.Num[i], 'g', -1, 64) + ","))
			}
		}
	}
	return nil
}
