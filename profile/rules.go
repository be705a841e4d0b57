package profile

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
)

// Rule is a readable rule on raw column values: an account matches when it
// matches any of the clauses, and a clause when it meets all of its
// conditions. Rules are learned by shallow surrogate trees on the raw
// values, so their thresholds read in the columns' own units.
type Rule struct {
	Clauses []Clause `json:"clauses"`
}

// Clause is a conjunction of conditions.
type Clause struct {
	Conds []Cond `json:"conds"`
}

// The condition operators.
const (
	// OpIn: a categorical value is one of Levels (or, with Negate, none of
	// them).
	OpIn = "in"
	// OpRange: a number or date lies in (Lo, Hi]; a nil bound is open.
	OpRange = "range"
	// OpHas: a tag list holds Tag (or, with Negate, does not).
	OpHas = "has"
	// OpIs: a boolean is true (or, with Negate, false).
	OpIs = "is"
)

// Cond is one condition on one column.
type Cond struct {
	Column string `json:"column"`
	Op     string `json:"op"`
	// Levels are the categorical levels of OpIn, sorted.
	Levels []string `json:"levels,omitempty"`
	// Tag is the tag of OpHas, and Separator splits the tag list.
	Tag       string `json:"tag,omitempty"`
	Separator string `json:"separator,omitempty"`
	// Negate inverts OpIn, OpHas and OpIs.
	Negate bool `json:"negate,omitempty"`
	// Lo and Hi bound OpRange: Lo < value <= Hi. Dates are in days since
	// 1970-01-01.
	Lo *float64 `json:"lo,omitempty"`
	Hi *float64 `json:"hi,omitempty"`
	// Integer marks a column of whole numbers, so bounds read as
	// "50 <= employees <= 500" rather than "49.5 < employees <= 500.5".
	Integer bool `json:"integer,omitempty"`
	// Date marks a date column.
	Date bool `json:"date,omitempty"`
	// Missing reports whether a missing value meets the condition.
	Missing bool `json:"missing,omitempty"`
}

// Match reports whether row i of t matches the rule. A column absent from
// t counts as missing.
func (r *Rule) Match(t *datasets.Table, i int) bool {
	if r == nil {
		return false
	}
	for k := range r.Clauses {
		if r.Clauses[k].match(t, i) {
			return true
		}
	}
	return false
}

// Empty reports whether the rule has no clause (matches nothing).
func (r *Rule) Empty() bool { return r == nil || len(r.Clauses) == 0 }

func (c *Clause) match(t *datasets.Table, i int) bool {
	for k := range c.Conds {
		if !c.Conds[k].match(t.Column(c.Conds[k].Column), i) {
			return false
		}
	}
	return true
}

func (c *Cond) match(col *datasets.Column, i int) bool {
	if col == nil || col.IsMissing(i) {
		return c.Missing
	}
	switch c.Op {
	case OpIn:
		v := CategoryText(col, i)
		k := sort.SearchStrings(c.Levels, v)
		in := k < len(c.Levels) && c.Levels[k] == v
		return in != c.Negate
	case OpHas:
		if col.Kind != datasets.String {
			return c.Negate
		}
		// The encoder's tag split and comparison (features.TagKey).
		return features.HasTag(col.Str[i], c.Separator, c.Tag) != c.Negate
	case OpIs:
		return (col.Num[i] == 1) != c.Negate
	case OpRange:
		if col.Kind == datasets.String {
			return false
		}
		v := col.Num[i]
		return (c.Lo == nil || v > *c.Lo) && (c.Hi == nil || v <= *c.Hi)
	}
	return false
}

// CategoryText is the text of a categorical cell, as the encoder reads it
// and as OpIn compares it.
func CategoryText(col *datasets.Column, i int) string {
	switch col.Kind {
	case datasets.String:
		return col.Str[i]
	case datasets.Bool:
		if col.Num[i] != 0 {
			return "true"
		}
		return "false"
	}
	return fmtExact(col.Num[i])
}

func fmtExact(v float64) string { return fmt.Sprintf("%g", v) }

// String renders the rule: clauses joined by "or", each in parentheses
// when there are several.
func (r *Rule) String() string {
	if r.Empty() {
		return "(no rule)"
	}
	parts := make([]string, len(r.Clauses))
	for k := range r.Clauses {
		parts[k] = r.Clauses[k].String()
		if len(r.Clauses) > 1 {
			parts[k] = "(" + parts[k] + ")"
		}
	}
	return strings.Join(parts, " or ")
}

// String renders the clause, conditions joined by "and".
func (c *Clause) String() string {
	if len(c.Conds) == 0 {
		return "any account"
	}
	parts := make([]string, len(c.Conds))
	for k := range c.Conds {
		parts[k] = c.Conds[k].String()
	}
	return strings.Join(parts, " and ")
}

// String renders the condition, for example "industry in {SaaS, FinTech}",
// "50 <= employees <= 500" or "tech_stack has hubspot".
func (c *Cond) String() string {
	s := c.text()
	if c.Missing {
		s += " (or missing)"
	}
	return s
}

func (c *Cond) text() string {
	switch c.Op {
	case OpIn:
		if len(c.Levels) == 1 {
			if c.Negate {
				return c.Column + " is not " + c.Levels[0]
			}
			return c.Column + " = " + c.Levels[0]
		}
		set := "{" + strings.Join(c.Levels, ", ") + "}"
		if c.Negate {
			return c.Column + " not in " + set
		}
		return c.Column + " in " + set
	case OpHas:
		if c.Negate {
			return c.Column + " lacks " + c.Tag
		}
		return c.Column + " has " + c.Tag
	case OpIs:
		if c.Negate {
			return c.Column + " is false"
		}
		return c.Column + " is true"
	case OpRange:
		lo, loOp, hi, hiOp := c.Bounds()
		switch {
		case c.Lo != nil && c.Hi != nil:
			return lo + " " + loOp + " " + c.Column + " " + hiOp + " " + hi
		case c.Lo != nil:
			return c.Column + " " + map[string]string{"<": ">", "<=": ">="}[loOp] + " " + lo
		case c.Hi != nil:
			return c.Column + " " + hiOp + " " + hi
		}
		return c.Column + " is present"
	}
	return c.Column + " ?"
}

// Bounds formats the range bounds: an integer column's "> 49.5" reads
// ">= 50" and "<= 500.5" reads "<= 500".
func (c *Cond) Bounds() (lo, loOp, hi, hiOp string) {
	format := fmtBound
	if c.Date {
		format = FormatDay
	}
	loOp, hiOp = "<", "<="
	if c.Lo != nil {
		v := *c.Lo
		if c.Integer {
			v, loOp = math.Floor(v)+1, "<="
		}
		lo = format(v)
	}
	if c.Hi != nil {
		v := *c.Hi
		if c.Integer {
			v = math.Floor(v)
		}
		hi = format(v)
	}
	return lo, loOp, hi, hiOp
}

// fmtBound formats a threshold readably but without hiding differences
// that matter: 500, 24M, 1.5M, 0.35.
func fmtBound(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return trimZeros(fmt.Sprintf("%.2f", v/1e6)) + "M"
	case a >= 1e4:
		return trimZeros(fmt.Sprintf("%.1f", v/1e3)) + "k"
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// trimZeros drops the trailing zeros of a decimal and then a trailing dot.
func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return strings.TrimRight(strings.TrimRight(s, "0"), ".")
}

// validate checks a decoded rule: known operators, sorted levels, bounds
// in order.
func (r *Rule) validate() error {
	for _, cl := range r.Clauses {
		for _, c := range cl.Conds {
			switch c.Op {
			case OpIn:
				if !sort.StringsAreSorted(c.Levels) {
					return fmt.Errorf("rule on %q: levels not sorted", c.Column)
				}
			case OpRange:
				if c.Lo != nil && c.Hi != nil && *c.Lo > *c.Hi {
					return fmt.Errorf("rule on %q: empty range", c.Column)
				}
			case OpHas, OpIs:
			default:
				return fmt.Errorf("rule on %q: unknown operator %q", c.Column, c.Op)
			}
		}
	}
	return nil
}
