package profile

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
)

// Rule is a readable rule on raw column values: an account matches when it
// matches any of the clauses, and a clause when it meets all of its
// conditions. Rules are learned on the raw values, so their thresholds
// read in the columns' own units, and matching does exactly what the
// rule's text says.
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
	// OpHas: a tag list holds Tag (or, with Negate, does not). Artifacts
	// of earlier versions use it; training now writes OpHasAny and
	// OpHasAll.
	OpHas = "has"
	// OpHasAny: a tag list holds at least one of Tags (or, with Negate,
	// none of them).
	OpHasAny = "has_any"
	// OpHasAll: a tag list holds every one of Tags (or, with Negate, lacks
	// at least one of them).
	OpHasAll = "has_all"
	// OpIs: a boolean is true (or, with Negate, false).
	OpIs = "is"
)

// Cond is one condition on one column.
type Cond struct {
	Column string `json:"column"`
	Op     string `json:"op"`
	// Levels are the categorical levels of OpIn, sorted.
	Levels []string `json:"levels,omitempty"`
	// Tag is the tag of OpHas, Tags the tags of OpHasAny and OpHasAll
	// (sorted, compared by features.TagKey), and Separator splits the tag
	// list.
	Tag       string   `json:"tag,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	Separator string   `json:"separator,omitempty"`
	// Negate inverts OpIn, OpHas, OpHasAny, OpHasAll and OpIs.
	Negate bool `json:"negate,omitempty"`
	// Lo and Hi bound OpRange: Lo < value <= Hi. Dates are in days since
	// 1970-01-01.
	Lo *float64 `json:"lo,omitempty"`
	Hi *float64 `json:"hi,omitempty"`
	// Integer marks a column of whole numbers, so bounds read as
	// "50 <= employees <= 500" rather than "49.5 < employees <= 500.5";
	// the value is then compared as the text reads: at least
	// floor(Lo) + 1 and at most floor(Hi).
	Integer bool `json:"integer,omitempty"`
	// Date marks a date column.
	Date bool `json:"date,omitempty"`
	// Missing reports whether a missing value meets the condition; the
	// rule's text then says "(or missing)". Training sets it only where
	// accounts missing the value turned out like those that meet the
	// condition.
	Missing bool `json:"missing,omitempty"`
}

// Match reports whether row i of t matches the rule. A column absent from
// t counts as missing.
func (r *Rule) Match(t *datasets.Table, i int) bool {
	if r == nil {
		return false
	}
	for k := range r.Clauses {
		if ok, _ := r.Clauses[k].match(t, i); ok {
			return true
		}
	}
	return false
}

// MatchMissing is Match that also says, for the first clause row i
// matches, how many conditions it has and how many of them the row meets
// only because the value is missing (a condition "(or missing)").
func (r *Rule) MatchMissing(t *datasets.Table, i int) (ok bool, conds, missing int) {
	if r == nil {
		return false, 0, 0
	}
	for k := range r.Clauses {
		if ok, missing := r.Clauses[k].match(t, i); ok {
			return true, len(r.Clauses[k].Conds), missing
		}
	}
	return false, 0, 0
}

// Empty reports whether the rule has no clause (matches nothing).
func (r *Rule) Empty() bool { return r == nil || len(r.Clauses) == 0 }

// match reports whether row i meets every condition, and how many of
// them it meets through a missing value.
func (c *Clause) match(t *datasets.Table, i int) (bool, int) {
	missing := 0
	for k := range c.Conds {
		col := t.Column(c.Conds[k].Column)
		if col == nil || col.IsMissing(i) {
			if !c.Conds[k].Missing {
				return false, 0
			}
			missing++
			continue
		}
		if !c.Conds[k].matchValue(col, i) {
			return false, 0
		}
	}
	return true, missing
}

// Holds reports whether row i of t meets the condition. A column absent
// from t counts as missing.
func (c *Cond) Holds(t *datasets.Table, i int) bool {
	col := t.Column(c.Column)
	if col == nil || col.IsMissing(i) {
		return c.Missing
	}
	return c.matchValue(col, i)
}

// matchValue reports whether the value of row i, which is not missing,
// meets the condition.
func (c *Cond) matchValue(col *datasets.Column, i int) bool {
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
	case OpHasAny, OpHasAll:
		if col.Kind != datasets.String {
			return c.Negate
		}
		// "any" looks for one tag held, "all" for one tag lacking.
		all := c.Op == OpHasAll
		found := false
		for _, tag := range c.Tags {
			if features.HasTag(col.Str[i], c.Separator, tag) != all {
				found = true
				break
			}
		}
		return found != all != c.Negate
	case OpIs:
		return (col.Num[i] == 1) != c.Negate
	case OpRange:
		if col.Kind == datasets.String {
			return false
		}
		return c.inRange(col.Num[i])
	}
	return false
}

// inRange reports whether v lies in the range, compared as the text
// reads it.
func (c *Cond) inRange(v float64) bool {
	if c.Integer {
		return (c.Lo == nil || v >= math.Floor(*c.Lo)+1) && (c.Hi == nil || v <= math.Floor(*c.Hi))
	}
	return (c.Lo == nil || v > *c.Lo) && (c.Hi == nil || v <= *c.Hi)
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
// "50 <= employees <= 500", "tech_stack has any of {hubspot, segment}" or
// "funding_stage is not Bootstrapped (or missing)".
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
	case OpHasAny, OpHasAll:
		if len(c.Tags) == 1 {
			if c.Negate {
				return c.Column + " lacks " + c.Tags[0]
			}
			return c.Column + " has " + c.Tags[0]
		}
		set := "{" + strings.Join(c.Tags, ", ") + "}"
		switch {
		case c.Op == OpHasAny && c.Negate:
			return c.Column + " has none of " + set
		case c.Op == OpHasAny:
			return c.Column + " has any of " + set
		case c.Negate:
			return c.Column + " lacks one of " + set
		}
		return c.Column + " has all of " + set
	case OpIs:
		if c.Negate {
			return c.Column + " is false"
		}
		return c.Column + " is true"
	case OpRange:
		lo, loOp, hi, hiOp := c.Bounds()
		switch {
		case c.Lo != nil && c.Hi != nil && loOp == "<=" && lo == hi:
			return c.Column + " = " + lo
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
// ">= 50" and "<= 500.5" reads "<= 500". A bound is written exactly: in
// short form (500, 24M, 1.5M, 0.35) when that form is the bound, with
// more digits when it is not.
func (c *Cond) Bounds() (lo, loOp, hi, hiOp string) {
	format := FormatBound
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

// FormatBound formats a rule's threshold readably and exactly: 500, 24M,
// 1.5M, 2.4B, 0.35, or 10.013M when 10.01M would not be the threshold
// itself.
func FormatBound(v float64) string {
	a := math.Abs(v)
	var scale float64
	var suffix string
	switch {
	case a >= 1e9:
		scale, suffix = 1e9, "B"
	case a >= 1e6:
		scale, suffix = 1e6, "M"
	case a >= 1e4:
		scale, suffix = 1e3, "k"
	}
	if scale > 0 {
		short := trimZeros(fmt.Sprintf("%.2f", v/scale))
		if x, err := strconv.ParseFloat(short, 64); err == nil && x*scale == v {
			return short + suffix
		}
		if x := v / scale; x*scale == v {
			return strconv.FormatFloat(x, 'f', -1, 64) + suffix
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	if short := fmt.Sprintf("%.3g", v); short != "" {
		if x, err := strconv.ParseFloat(short, 64); err == nil && x == v {
			return short
		}
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// trimZeros drops the trailing zeros of a decimal and then a trailing dot.
func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return strings.TrimRight(strings.TrimRight(s, "0"), ".")
}

// validate checks a decoded rule: known operators, sorted levels and
// tags, bounds in order, finite numbers.
func (r *Rule) validate() error {
	for _, cl := range r.Clauses {
		for _, c := range cl.Conds {
			switch c.Op {
			case OpIn:
				if !sort.StringsAreSorted(c.Levels) {
					return fmt.Errorf("rule on %q: levels not sorted", c.Column)
				}
			case OpRange:
				for _, b := range []*float64{c.Lo, c.Hi} {
					if b != nil && (math.IsNaN(*b) || math.IsInf(*b, 0)) {
						return fmt.Errorf("rule on %q: bound %v is not a finite number", c.Column, *b)
					}
				}
				if c.Lo != nil && c.Hi != nil && *c.Lo > *c.Hi {
					return fmt.Errorf("rule on %q: empty range", c.Column)
				}
			case OpHasAny, OpHasAll:
				if len(c.Tags) == 0 {
					return fmt.Errorf("rule on %q: operator %q without tags", c.Column, c.Op)
				}
				if c.Tag != "" {
					return fmt.Errorf("rule on %q: operator %q takes tags, not tag %q", c.Column, c.Op, c.Tag)
				}
				if !sort.StringsAreSorted(c.Tags) {
					return fmt.Errorf("rule on %q: tags not sorted", c.Column)
				}
				seen := make(map[string]bool, len(c.Tags))
				for _, tag := range c.Tags {
					key := features.TagKey(tag)
					if key == "" {
						return fmt.Errorf("rule on %q: empty tag", c.Column)
					}
					if seen[key] {
						return fmt.Errorf("rule on %q: tag %q repeated", c.Column, tag)
					}
					seen[key] = true
				}
			case OpHas, OpIs:
			default:
				return fmt.Errorf("rule on %q: unknown operator %q", c.Column, c.Op)
			}
			if c.Op != OpHasAny && c.Op != OpHasAll && len(c.Tags) > 0 {
				return fmt.Errorf("rule on %q: operator %q takes no tags", c.Column, c.Op)
			}
		}
	}
	return nil
}
