package features

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
)

// Table turns accounts decoded from JSON into a table with the schema's
// feature and id columns, parsing each value to the column's kind with the
// same parsers the CSV reader uses. Every problem is reported as a field
// error; for more than one account the field names carry the index, as in
// "[3].employees". Outcome, excluded and leakage columns are accepted and
// ignored; fields the schema does not know are errors.
func (s *Schema) Table(accs []icp.Account) (*datasets.Table, error) {
	// The columns, their values and the index from schema column to table
	// column are carved out of a few slabs: one account (a scoring request)
	// costs a handful of allocations, not two per column.
	var atBuf [64]int
	at := atBuf[:0] // schema column index -> table column index, or -1
	nstr, nnum := 0, 0
	for _, c := range s.Columns {
		if !c.Role.IsFeature() && c.Name != s.ID {
			at = append(at, -1)
			continue
		}
		at = append(at, nstr+nnum)
		if c.Name == s.ID || kindOf(c.Kind) == datasets.String {
			nstr++
		} else {
			nnum++
		}
	}
	n := len(accs)
	slab := make([]datasets.Column, nstr+nnum)
	strs := make([]string, nstr*n)
	nums := make([]float64, nnum*n)
	for i := range nums {
		nums[i] = math.NaN()
	}
	t := &datasets.Table{Source: "request", Columns: make([]*datasets.Column, 0, len(slab))}
	for _, c := range s.Columns {
		if !c.Role.IsFeature() && c.Name != s.ID {
			continue
		}
		kind := kindOf(c.Kind)
		if c.Name == s.ID {
			kind = datasets.String
		}
		col := &slab[len(t.Columns)]
		col.Name, col.Kind = c.Name, kind
		if kind == datasets.String {
			col.Str, strs = strs[:n:n], strs[n:]
		} else {
			col.Num, nums = nums[:n:n], nums[n:]
		}
		t.Columns = append(t.Columns, col)
	}
	// Many fields are looked up through a map made once, not by a search
	// of the columns for each (quadratic in wide tables).
	var byName map[string]int
	if len(s.Columns) > 64 {
		byName = make(map[string]int, len(s.Columns))
		for k := range s.Columns {
			if _, dup := byName[s.Columns[k].Name]; !dup {
				byName[s.Columns[k].Name] = k
			}
		}
	}
	var verr icp.ValidationError
	for i, acc := range accs {
		prefix := ""
		if len(accs) > 1 {
			prefix = "[" + strconv.Itoa(i) + "]."
		}
		for name, v := range acc {
			k := -1
			if byName != nil {
				if j, ok := byName[name]; ok {
					k = j
				}
			} else {
				k = s.columnIndex(name)
			}
			if k < 0 {
				verr.Add(prefix+name, "unknown field")
				continue
			}
			if at[k] < 0 || v == nil {
				continue // an ignored column, or a missing value
			}
			if msg := setCell(t.Columns[at[k]], &s.Columns[k], i, v, name == s.ID, s.Placeholders); msg != "" {
				verr.Add(prefix+name, msg)
			}
		}
	}
	if err := verr.Err(); err != nil {
		sortFields(verr.Fields)
		return nil, err
	}
	return t, nil
}

// columnIndex returns the index of the named column in s.Columns, or -1.
func (s *Schema) columnIndex(name string) int {
	for i := range s.Columns {
		if s.Columns[i].Name == name {
			return i
		}
	}
	return -1
}

// setCell parses v into row i of col and returns a message for a bad value.
// A placeholder of ph in a categorical column is missing, as in training.
func setCell(col *datasets.Column, sc *Column, i int, v any, isID bool, ph placeholders) string {
	text, isText := v.(string)
	switch col.Kind {
	case datasets.String:
		switch x := v.(type) {
		case string:
			if sc.Role == RoleTags || isID || !datasets.IsMissing(x, false) && !(sc.Role == RoleCategorical && ph.has(x)) {
				col.Str[i] = strings.TrimSpace(x)
			}
		case json.Number:
			// A JSON number for a text column is a client's type error,
			// as a string is for a numeric one; an id may be numeric.
			if !isID {
				return fmt.Sprintf("must be a string, got the number %[1]s (send a code quoted: \"%[1]s\")", clip(x.String()))
			}
			col.Str[i] = x.String()
		case float64:
			col.Str[i] = strconv.FormatFloat(x, 'f', -1, 64)
		case []any:
			if sc.Role != RoleTags {
				return "must be a string, not a list"
			}
			tags := make([]string, 0, len(x))
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return "must be a list of strings"
				}
				if strings.Contains(s, sc.Separator) {
					return fmt.Sprintf("tag %q contains the separator %q", s, sc.Separator)
				}
				if s = strings.TrimSpace(s); s != "" {
					tags = append(tags, s)
				}
			}
			col.Str[i] = strings.Join(tags, sc.Separator)
		case bool:
			if sc.Role == RoleTags || isID {
				return "must be a string"
			}
			col.Str[i] = strconv.FormatBool(x)
		default:
			return "must be a string"
		}
		return ""
	case datasets.Number:
		var f float64
		switch x := v.(type) {
		case json.Number:
			var err error
			if f, err = strconv.ParseFloat(x.String(), 64); err != nil {
				return "must be a finite number"
			}
		case float64:
			f = x
		case string:
			if notFinite(x) {
				return "must be a finite number"
			}
			if datasets.IsMissing(x, true) {
				return ""
			}
			var err error
			if f, err = datasets.ParseNumber(x); err != nil {
				return fmt.Sprintf("must be a number, got %q", clip(x))
			}
		default:
			return "must be a number"
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "must be a finite number"
		}
		if sc.NonNegative && f < 0 {
			return "must not be negative"
		}
		col.Num[i] = f
	case datasets.Bool:
		switch x := v.(type) {
		case bool:
			col.Num[i] = b2f(x)
		case json.Number:
			switch x.String() {
			case "0":
				col.Num[i] = 0
			case "1":
				col.Num[i] = 1
			default:
				return "must be true or false"
			}
		case string:
			if datasets.IsMissing(x, false) {
				return ""
			}
			b, err := datasets.ParseBool(x)
			if err != nil {
				return fmt.Sprintf("must be true or false, got %q", clip(x))
			}
			col.Num[i] = b2f(b)
		default:
			return "must be true or false"
		}
	case datasets.Date:
		if !isText {
			return "must be a date string such as 2024-03-01"
		}
		if datasets.IsMissing(text, false) {
			return ""
		}
		d, err := datasets.ParseDate(text)
		if err != nil {
			return fmt.Sprintf("must be a date such as 2024-03-01, got %q", clip(text))
		}
		col.Num[i] = d
	}
	return ""
}

// Check validates a training table against the schema: today, that
// non-negative columns hold no negative value. Errors name the source, line
// and column; at most ten are listed.
func (s *Schema) Check(t *datasets.Table) error {
	var errs []error
	for _, sc := range s.Columns {
		col := t.Column(sc.Name)
		if !sc.NonNegative || col == nil || col.Kind != datasets.Number {
			continue
		}
		for i, v := range col.Num {
			if v < 0 {
				errs = append(errs, &datasets.ParseError{Source: t.Source, Line: t.Line(i), Column: columnIndex(t, sc.Name), Field: sc.Name,
					Err: fmt.Errorf("negative value %g in a column of counts or amounts: %w", v, icp.ErrInvalid)})
				if len(errs) == 10 {
					errs = append(errs, errors.New("more errors not shown"))
					return errors.Join(errs...)
				}
			}
		}
	}
	return errors.Join(errs...)
}

func columnIndex(t *datasets.Table, name string) int {
	for k, c := range t.Columns {
		if c.Name == name {
			return k + 1
		}
	}
	return 0
}

// notFinite reports whether a request string spells NaN or infinity. The
// CSV reader reads "NaN" as a missing cell, as spreadsheets write it; in a
// JSON request it is refused, since null says "missing" plainly.
func notFinite(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity":
		return true
	}
	return false
}

func kindOf(s string) datasets.Kind {
	switch s {
	case "number":
		return datasets.Number
	case "bool":
		return datasets.Bool
	case "date":
		return datasets.Date
	}
	return datasets.String
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// clip shortens a value quoted back in an error message.
func clip(s string) string {
	n := 0
	for i := range s {
		if n == 40 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// sortFields orders field errors by field, then message, so responses are
// deterministic.
func sortFields(f []icp.FieldError) {
	sort.Slice(f, func(a, b int) bool {
		if f[a].Field != f[b].Field {
			return f[a].Field < f[b].Field
		}
		return f[a].Message < f[b].Message
	})
}
