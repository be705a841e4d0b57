// Package traits says what sets a group of accounts apart from a
// population: the categorical levels and tags the group holds far more
// often, the booleans it differs on and the numeric ranges it sits in, as
// profile.Trait values that read as conditions ("industry in {SaaS,
// FinTech}", "employees 52–480", "tech_stack has hubspot").
//
// Training describes each segment against all training accounts
// (Describe); the serve-time search for emerging segments describes a
// cluster of recent winners against the training population kept in the
// artifact's drift reference (DescribeVsReference). Both read the same
// encoder columns and share the level, boolean and range tests.
package traits

import (
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/stat"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/drift"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
)

// Describe finds the traits that set the member rows of t apart from all
// rows of t, strongest first (at most six).
func Describe(t *datasets.Table, enc *features.Encoder, members []int) []profile.Trait {
	var traits []profile.Trait
	for _, ce := range enc.Columns {
		col := t.Column(ce.Name)
		if col == nil {
			continue
		}
		switch ce.Role {
		case features.RoleCategorical:
			traits = append(traits, categoryTrait(col, members)...)
		case features.RoleTags:
			traits = append(traits, tagTraits(col, ce.Separator, members)...)
		case features.RoleBoolean:
			traits = append(traits, boolTrait(col, members)...)
		default:
			traits = append(traits, rangeTrait(col, &ce, members)...)
		}
	}
	sort.SliceStable(traits, func(a, b int) bool { return traits[a].Effect > traits[b].Effect })
	if len(traits) > 6 {
		traits = traits[:6]
	}
	return traits
}

// DescribeVsReference finds the traits that set the member rows of t apart
// from the training population, strongest first (at most eight): level
// shares of categorical, boolean and tag features come from ref (nil for
// none), numeric ranges are judged on the encoder's fitted means and
// standard deviations.
func DescribeVsReference(t *datasets.Table, enc *features.Encoder, ref *drift.Reference, members []int) []profile.Trait {
	refCat := make(map[string]*drift.CategoricalRef)
	if ref != nil {
		for i := range ref.Categorical {
			refCat[ref.Categorical[i].Name] = &ref.Categorical[i]
		}
	}
	var traits []profile.Trait
	for k := range enc.Columns {
		ce := &enc.Columns[k]
		col := t.Column(ce.Name)
		if col == nil {
			continue
		}
		switch ce.Role {
		case features.RoleCategorical:
			if r := refCat[ce.Name]; r != nil {
				traits = append(traits, levelTraitVs(col, members, refShares(r))...)
			}
		case features.RoleTags:
			traits = append(traits, tagTraitsVs(col, ce, members, refCat)...)
		case features.RoleBoolean:
			if r := refCat[ce.Name]; r != nil {
				traits = append(traits, boolTraitVs(col, members, refShares(r)["true"])...)
			}
		default:
			traits = append(traits, rangeTrait(col, ce, members)...)
		}
	}
	sort.SliceStable(traits, func(a, b int) bool { return traits[a].Effect > traits[b].Effect })
	if len(traits) > 8 {
		traits = traits[:8]
	}
	return traits
}

// categoryTrait lists the levels that, together, hold at least half of the
// members and are over-represented at least 1.5 times against all rows.
func categoryTrait(col *datasets.Column, members []int) []profile.Trait {
	return levelTraitVs(col, members, levelShares(col, nil))
}

func levelShares(col *datasets.Column, rows []int) map[string]float64 {
	counts := make(map[string]float64)
	n := 0
	each(col.Len(), rows, func(i int) {
		if col.IsMissing(i) {
			return
		}
		n++
		counts[col.Text(i)]++
	})
	for k := range counts {
		counts[k] /= float64(n)
	}
	return counts
}

func tagTraits(col *datasets.Column, sep string, members []int) []profile.Trait {
	share := func(rows []int) map[string]float64 {
		counts := make(map[string]float64)
		n := 0
		each(col.Len(), rows, func(i int) {
			if col.Str[i] == "" {
				return
			}
			n++
			for _, tag := range strings.Split(col.Str[i], sep) {
				if tag = strings.TrimSpace(tag); tag != "" {
					counts[tag]++
				}
			}
		})
		for k := range counts {
			counts[k] /= float64(max(n, 1))
		}
		return counts
	}
	all, seg := share(nil), share(members)
	var out []profile.Trait
	for tag, s := range seg {
		if b := all[tag]; s >= 0.5 && s-b >= 0.2 {
			out = append(out, profile.Trait{Column: col.Name, Text: col.Name + " has " + tag, Short: tag, Measure: "share", Segment: s, Base: b, Effect: s - b})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Short < out[b].Short })
	return out
}

// boolTrait describes a boolean column whose rate among the members is
// at least 0.2 away from its rate over all rows.
func boolTrait(col *datasets.Column, members []int) []profile.Trait {
	var sum, n float64
	for _, v := range col.Num {
		if !math.IsNaN(v) {
			sum += v
			n++
		}
	}
	return boolTraitVs(col, members, sum/math.Max(n, 1))
}

// rangeTrait describes a numeric column whose mean in the segment, on the
// encoder's scale, differs from the overall mean by at least half a
// standard deviation. The range shown is the members' 10th to 90th
// percentile on the original scale.
func rangeTrait(col *datasets.Column, ce *features.ColumnEncoder, members []int) []profile.Trait {
	if col.Kind == datasets.String {
		return nil
	}
	var vals, scaled []float64
	for _, i := range members {
		if v := col.Num[i]; !math.IsNaN(v) {
			vals = append(vals, v)
			if ce.Role == features.RoleDate {
				v /= 365.25
			}
			if ce.Log {
				v = math.Log1p(math.Max(v, 0))
			}
			scaled = append(scaled, (v-ce.Mean)/ce.Std)
		}
	}
	if len(vals) < 5 {
		return nil
	}
	smd := stat.Mean(scaled, nil)
	if math.Abs(smd) < 0.5 {
		return nil
	}
	sort.Float64s(vals)
	lo := stat.Quantile(0.1, stat.Empirical, vals, nil)
	hi := stat.Quantile(0.9, stat.Empirical, vals, nil)
	format := profile.FormatNumber
	if ce.Role == features.RoleDate {
		format = profile.FormatDay
	}
	r := format(lo) + "–" + format(hi)
	return []profile.Trait{{Column: col.Name, Text: col.Name + " " + r, Short: r + " " + col.Name,
		Measure: "median", Segment: stat.Quantile(0.5, stat.Empirical, vals, nil), Base: ce.Median, Effect: math.Abs(smd) / 2}}
}

// each calls f for each of rows, or for 0..n-1 when rows is nil.
func each(n int, rows []int, f func(i int)) {
	if rows == nil {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	for _, i := range rows {
		f(i)
	}
}

func refShares(r *drift.CategoricalRef) map[string]float64 {
	m := make(map[string]float64, len(r.Levels))
	for i, l := range r.Levels {
		m[l] = r.Props[i]
	}
	return m
}

// levelTraitVs lists the levels that, together, hold at least half of the
// members and are over-represented at least 1.5 times against the baseline
// shares base.
func levelTraitVs(col *datasets.Column, members []int, base map[string]float64) []profile.Trait {
	seg := levelShares(col, members)
	type lv struct {
		name    string
		seg, bs float64
	}
	var picked []lv
	for name, s := range seg {
		if s >= 0.1 && s >= 1.5*base[name] {
			picked = append(picked, lv{name, s, base[name]})
		}
	}
	sort.Slice(picked, func(a, b int) bool {
		if picked[a].seg != picked[b].seg {
			return picked[a].seg > picked[b].seg
		}
		return picked[a].name < picked[b].name
	})
	var names []string
	var s, b float64
	for _, p := range picked {
		if s >= 0.8 || len(names) == 3 {
			break
		}
		names = append(names, p.name)
		s += p.seg
		b += p.bs
	}
	if s < 0.5 || s-b < 0.2 {
		return nil
	}
	text := col.Name + " = " + names[0]
	if len(names) > 1 {
		text = col.Name + " in {" + strings.Join(names, ", ") + "}"
	}
	return []profile.Trait{{Column: col.Name, Text: text, Short: strings.Join(names, "/"), Measure: "share", Segment: s, Base: b, Effect: s - b}}
}

// tagTraitsVs lists the tags that at least 40% of the members carry, at
// least twice and 0.2 more often than the training population. The bar is
// lower than for a segment's traits (half) because a new market often
// shares a cluster with neighbours that lack its tool.
func tagTraitsVs(col *datasets.Column, ce *features.ColumnEncoder, members []int, ref map[string]*drift.CategoricalRef) []profile.Trait {
	counts := make(map[string]float64)
	n := 0
	for _, i := range members {
		if col.Str[i] == "" {
			continue
		}
		n++
		for _, tag := range strings.Split(col.Str[i], ce.Separator) {
			if tag = strings.TrimSpace(tag); tag != "" {
				counts[tag]++
			}
		}
	}
	var out []profile.Trait
	for _, tag := range ce.Levels {
		r := ref[ce.Name+" has "+tag]
		if r == nil || n == 0 {
			continue
		}
		s, b := counts[tag]/float64(n), refShares(r)["true"]
		if s >= 0.4 && s >= 2*b && s-b >= 0.2 {
			out = append(out, profile.Trait{Column: col.Name, Text: col.Name + " has " + tag, Short: tag, Measure: "share", Segment: s, Base: b, Effect: s - b})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Short < out[b].Short })
	return out
}

// boolTraitVs describes a boolean column whose rate among the members is
// at least 0.2 away from the baseline rate b.
func boolTraitVs(col *datasets.Column, members []int, b float64) []profile.Trait {
	var sum, n float64
	for _, i := range members {
		if !math.IsNaN(col.Num[i]) {
			sum += col.Num[i]
			n++
		}
	}
	s := sum / math.Max(n, 1)
	switch {
	case s >= 0.5 && s-b >= 0.2:
		return []profile.Trait{{Column: col.Name, Text: col.Name + " is true", Short: col.Name, Measure: "share", Segment: s, Base: b, Effect: s - b}}
	case s <= 0.5 && b-s >= 0.2:
		return []profile.Trait{{Column: col.Name, Text: col.Name + " is false", Short: "no " + col.Name, Measure: "share", Segment: 1 - s, Base: 1 - b, Effect: b - s}}
	}
	return nil
}
