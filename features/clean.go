package features

import (
	"strings"

	"github.com/icpengine/icp/datasets"
)

// Clean returns t normalised as the schema reads it, for training:
//
//   - in categorical columns, placeholders ("Select", "Unknown": see
//     Schema.Placeholders) become missing;
//   - tag lists are rewritten with each tag in its most common spelling
//     ("AWS", "aws" and " Aws " are all written as the commonest of them),
//     joined by the column's separator, empty tags and placeholders
//     dropped;
//   - a churn date becomes a churn flag (1 when the date is filled).
//
// The encoder and rule matching read uncleaned tables the same way (they
// compare tags by TagKey and skip placeholders); Clean makes every other
// reader of the table (segment descriptions, drift references, reports)
// agree with them. Columns it does not change are shared with t, which is
// not modified.
func (s *Schema) Clean(t *datasets.Table) *datasets.Table {
	out := &datasets.Table{Source: t.Source, Lines: t.Lines, Columns: append([]*datasets.Column(nil), t.Columns...)}
	ph := placeholders(s.Placeholders)
	for k, c := range out.Columns {
		sc := s.Column(c.Name)
		if sc == nil {
			continue
		}
		switch {
		case sc.Role == RoleCategorical && c.Kind == datasets.String:
			out.Columns[k] = cleanCategorical(c, ph)
		case sc.Role == RoleTags && c.Kind == datasets.String:
			out.Columns[k] = cleanTags(c, sc.Separator, ph)
		case c.Name == s.Outcomes.Churned && c.Kind == datasets.Date:
			flag := &datasets.Column{Name: c.Name, Kind: datasets.Bool, Num: make([]float64, len(c.Num))}
			for i := range c.Num {
				flag.Num[i] = b2f(IsChurned(c, i))
			}
			out.Columns[k] = flag
		}
	}
	return out
}

func cleanCategorical(c *datasets.Column, ph placeholders) *datasets.Column {
	changed := false
	for _, v := range c.Str {
		if v != "" && ph.has(v) {
			changed = true
			break
		}
	}
	if !changed {
		return c
	}
	nc := &datasets.Column{Name: c.Name, Kind: c.Kind, Str: make([]string, len(c.Str))}
	for i, v := range c.Str {
		if !ph.has(v) {
			nc.Str[i] = v
		}
	}
	return nc
}

func cleanTags(c *datasets.Column, sep string, ph placeholders) *datasets.Column {
	if sep == "" {
		sep = ";"
	}
	sp := make(spellings)
	for _, cell := range c.Str {
		for _, tag := range SplitTags(cell, sep) {
			if !ph.has(tag) {
				sp.add(TagKey(tag), tag)
			}
		}
	}
	shown := make(map[string]string, len(sp))
	for k := range sp {
		shown[k] = sp.best(k)
	}
	nc := &datasets.Column{Name: c.Name, Kind: c.Kind, Str: make([]string, len(c.Str))}
	changed := false
	var b strings.Builder
	for i, cell := range c.Str {
		b.Reset()
		for _, tag := range SplitTags(cell, sep) {
			if ph.has(tag) {
				continue
			}
			if b.Len() > 0 {
				b.WriteString(sep)
			}
			b.WriteString(shown[TagKey(tag)])
		}
		nc.Str[i] = b.String()
		changed = changed || nc.Str[i] != cell
	}
	if !changed {
		return c
	}
	return nc
}
