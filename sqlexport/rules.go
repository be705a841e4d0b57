package sqlexport

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
)

// namedRule is a segment's or an anti-ICP rule's id and rule.
type namedRule struct {
	id   string
	rule *profile.Rule
}

func segmentRules(p *profile.Profile) []namedRule {
	out := make([]namedRule, len(p.Segments))
	for k := range p.Segments {
		out[k] = namedRule{p.Segments[k].ID, &p.Segments[k].Rule}
	}
	return out
}

func antiRules(p *profile.Profile) []namedRule {
	out := make([]namedRule, len(p.AntiICP.Rules))
	for k := range p.AntiICP.Rules {
		out[k] = namedRule{p.AntiICP.Rules[k].ID, &p.AntiICP.Rules[k].Rule}
	}
	return out
}

// ruleCase is the id of the first rule a row matches, NULL when none.
func (b *builder) ruleCase(rules []namedRule) (string, error) {
	if len(rules) == 0 {
		return "CAST(NULL AS TEXT)", nil
	}
	var e strings.Builder
	e.WriteString("CASE")
	for _, r := range rules {
		cond, err := b.rule(r.rule)
		if err != nil {
			return "", fmt.Errorf("sql export: rule %s: %w", r.id, err)
		}
		fmt.Fprintf(&e, "\n    WHEN %s THEN %s", cond, str(r.id))
	}
	e.WriteString(" END")
	return e.String(), nil
}

// rule is the SQL condition (never NULL) of profile.Rule.Match: any clause,
// each of all its conditions.
func (b *builder) rule(r *profile.Rule) (string, error) {
	if r.Empty() {
		return "FALSE", nil
	}
	clauses := make([]string, len(r.Clauses))
	for k, cl := range r.Clauses {
		if len(cl.Conds) == 0 {
			clauses[k] = "TRUE"
			continue
		}
		conds := make([]string, len(cl.Conds))
		for j := range cl.Conds {
			c, err := b.cond(&cl.Conds[j])
			if err != nil {
				return "", err
			}
			conds[j] = c
		}
		clauses[k] = "(" + strings.Join(conds, " AND ") + ")"
	}
	return "(" + strings.Join(clauses, " OR ") + ")", nil
}

// cond is one condition as profile.Cond matches it on the table that
// features.Schema.Clean makes of the rows: a missing value (placeholders
// included) meets it when Missing says so.
func (b *builder) cond(c *profile.Cond) (string, error) {
	s, err := b.src(c.Column)
	if err != nil {
		return "", err
	}
	if s == nil {
		return strings.ToUpper(strconv.FormatBool(c.Missing)), nil // a column the table lacks
	}
	var test string
	switch c.Op {
	case profile.OpIn:
		var eqs []string
		for _, l := range c.Levels {
			eq, err := b.ruleLevelEq(s, l)
			if err != nil {
				return "", err
			}
			eqs = append(eqs, eq)
		}
		test = "FALSE"
		if len(eqs) > 0 {
			test = "(" + strings.Join(eqs, " OR ") + ")"
		}
		if c.Negate {
			test = "NOT " + test
		}
	case profile.OpHas:
		if s.kind != "string" || s.role != features.RoleTags {
			test = strings.ToUpper(strconv.FormatBool(c.Negate))
			break
		}
		if err := b.sameSeparator(c, s); err != nil {
			return "", err
		}
		test = b.d.hasKey(s.v, features.TagKey(c.Tag))
		if c.Negate {
			test = "NOT " + test
		}
	case profile.OpHasAny, profile.OpHasAll:
		if s.kind != "string" || s.role != features.RoleTags {
			test = strings.ToUpper(strconv.FormatBool(c.Negate))
			break
		}
		if err := b.sameSeparator(c, s); err != nil {
			return "", err
		}
		join := " OR "
		if c.Op == profile.OpHasAll {
			join = " AND "
		}
		has := make([]string, len(c.Tags))
		for k, tag := range c.Tags {
			has[k] = b.d.hasKey(s.v, features.TagKey(tag))
		}
		test = "FALSE"
		if c.Op == profile.OpHasAll {
			test = "TRUE" // all of no tags, as profile.Cond matches it
		}
		if len(has) > 0 {
			test = "(" + strings.Join(has, join) + ")"
		}
		if c.Negate {
			test = "NOT " + test
		}
	case profile.OpIs:
		if s.kind == "string" {
			test = strings.ToUpper(strconv.FormatBool(c.Negate)) // Num of a text column is nil: never 1
			if s.role == features.RoleTags {
				return "", fmt.Errorf("condition %q on a tag list", c.Op)
			}
			break
		}
		test = "COALESCE(" + s.v + " = " + b.d.num(1) + ", FALSE)"
		if c.Negate {
			test = "NOT " + test
		}
	case profile.OpRange:
		if s.kind == "string" {
			test = "FALSE"
			break
		}
		// As profile.Cond compares: an integer column's bounds as the
		// rule's text reads them.
		var parts []string
		switch {
		case c.Lo != nil && c.Integer:
			parts = append(parts, s.v+" >= "+b.d.num(math.Floor(*c.Lo)+1))
		case c.Lo != nil:
			parts = append(parts, s.v+" > "+b.d.num(*c.Lo))
		}
		switch {
		case c.Hi != nil && c.Integer:
			parts = append(parts, s.v+" <= "+b.d.num(math.Floor(*c.Hi)))
		case c.Hi != nil:
			parts = append(parts, s.v+" <= "+b.d.num(*c.Hi))
		}
		test = "TRUE"
		if len(parts) > 0 {
			test = "COALESCE(" + strings.Join(parts, " AND ") + ", FALSE)"
		}
	default:
		return "", fmt.Errorf("unknown operator %q", c.Op)
	}
	return "(CASE WHEN " + b.missing(s) + " THEN " + strings.ToUpper(strconv.FormatBool(c.Missing)) + " ELSE " + test + " END)", nil
}

// sameSeparator checks that the tag condition c splits its column s
// where the column's encoder does.
func (b *builder) sameSeparator(c *profile.Cond, s *source) error {
	sep := c.Separator
	if sep == "" {
		sep = ";"
	}
	if sep != s.sep {
		return fmt.Errorf("condition on %q splits tags at %q, the column at %q", c.Column, sep, s.sep)
	}
	return nil
}

// ruleLevelEq is the SQL condition that the value of s reads as the level
// l as profile.CategoryText writes it (numbers with %g).
func (b *builder) ruleLevelEq(s *source, l string) (string, error) {
	if s.kind == "string" && s.role == features.RoleTags {
		return "", fmt.Errorf("condition %q on a tag list", profile.OpIn)
	}
	if s.kind == "date" { // %g of the days
		v, err := strconv.ParseFloat(l, 64)
		if err != nil {
			return "FALSE", nil
		}
		return "COALESCE(" + s.v + " = " + b.d.num(v) + ", FALSE)", nil
	}
	return b.levelEq(s, l)
}
