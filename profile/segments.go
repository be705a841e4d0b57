package profile

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model"
)

// SegmentConfig tunes segment discovery. The zero value is ready to use.
type SegmentConfig struct {
	// KMin and KMax bound the number of clusters tried; zero means 2 and 8.
	KMin, KMax int
	// MinPositives is the fewest positive accounts worth clustering; zero
	// means 30.
	MinPositives int
	// MinShare drops clusters holding less than this share of the positive
	// accounts; zero means 0.03.
	MinShare float64
	// RadiusQuantile sets a segment's radius as this quantile of its
	// members' distances to the centre; accounts farther from every centre
	// belong to no segment. Zero means 0.9.
	RadiusQuantile float64
}

// Segment is a cluster of ideal customers and what sets it apart.
type Segment struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Size is the number of positive accounts in the cluster and Share
	// their share of all positives.
	Size     int       `json:"size"`
	Share    float64   `json:"share"`
	Centroid []float64 `json:"centroid"`
	Radius   float64   `json:"radius"`
	Traits   []Trait   `json:"traits"`
	// Accounts, Positives and PositiveRate count the labeled accounts that
	// fall in the segment (nearest centre, within the radius); Lift is
	// PositiveRate over the base rate.
	Accounts     int     `json:"accounts"`
	Positives    int     `json:"positives"`
	PositiveRate float64 `json:"positive_rate"`
	Lift         float64 `json:"lift"`
}

// Trait is one thing that sets a segment apart from all accounts.
type Trait struct {
	Column string `json:"column"`
	// Text reads as a condition: "industry in {SaaS, FinTech}",
	// "employees 52–480", "tech_stack has hubspot".
	Text string `json:"text"`
	// Short is the form used in segment names.
	Short string `json:"short"`
	// Measure is "share" or "median": what Segment and Base hold, in the
	// segment and across all accounts.
	Measure string  `json:"measure"`
	Segment float64 `json:"segment"`
	Base    float64 `json:"base"`
	// Effect ranks traits: a difference in shares, or a standardized
	// difference in means halved.
	Effect float64 `json:"effect"`
}

// findSegments clusters the positive accounts (rows of x, the encoded
// table) with k-means++, k by silhouette, and describes each cluster.
func findSegments(t *datasets.Table, enc *features.Encoder, x *mat.Dense, positives, labeled []int, lab *labels, cfg SegmentConfig, seed uint64) ([]Segment, error) {
	if cfg.KMin == 0 {
		cfg.KMin = 2
	}
	if cfg.KMax == 0 {
		cfg.KMax = 8
	}
	if cfg.MinPositives == 0 {
		cfg.MinPositives = 30
	}
	if cfg.MinShare == 0 {
		cfg.MinShare = 0.03
	}
	if cfg.RadiusQuantile == 0 {
		cfg.RadiusQuantile = 0.9
	}
	if len(positives) < cfg.MinPositives || len(positives) < 2*cfg.KMax {
		return nil, nil
	}
	xp := mat.NewDense(len(positives), enc.Width, nil)
	for j, i := range positives {
		xp.SetRow(j, x.RawRowView(i))
	}
	km, assign, _, err := model.ChooseK(xp, nil, cfg.KMin, cfg.KMax, seed, 2000)
	if err != nil {
		return nil, fmt.Errorf("find segments: %w", err)
	}
	members := make([][]int, len(km.Centroids))
	dists := make([][]float64, len(km.Centroids))
	for j, c := range assign {
		members[c] = append(members[c], positives[j])
		dists[c] = append(dists[c], distance(xp.RawRowView(j), km.Centroids[c]))
	}
	var segs []Segment
	for c := range km.Centroids {
		if float64(len(members[c])) < cfg.MinShare*float64(len(positives)) {
			continue
		}
		sort.Float64s(dists[c])
		segs = append(segs, Segment{
			Size:     len(members[c]),
			Share:    float64(len(members[c])) / float64(len(positives)),
			Centroid: km.Centroids[c],
			Radius:   stat.Quantile(cfg.RadiusQuantile, stat.Empirical, dists[c], nil),
			Traits:   describe(t, enc, members[c]),
		})
	}
	// Largest first, so ids are stable for a given clustering.
	sort.SliceStable(segs, func(a, b int) bool { return segs[a].Size > segs[b].Size })
	base := float64(lab.def.Positives) / float64(lab.def.Positives+lab.def.Negatives)
	for k := range segs {
		s := &segs[k]
		s.ID = fmt.Sprintf("seg-%d", k+1)
		s.Name = segmentName(s.Traits, k+1)
	}
	for _, i := range labeled {
		k := nearestSegment(segs, x.RawRowView(i))
		if k < 0 {
			continue
		}
		segs[k].Accounts++
		if lab.y[i] == 1 {
			segs[k].Positives++
		}
	}
	for k := range segs {
		s := &segs[k]
		if s.Accounts > 0 {
			s.PositiveRate = float64(s.Positives) / float64(s.Accounts)
			s.Lift = s.PositiveRate / base
		}
	}
	return segs, nil
}

// nearestSegment returns the index of the nearest segment whose radius
// holds x, or -1.
func nearestSegment(segs []Segment, x []float64) int {
	best, bestD := -1, math.Inf(1)
	for k := range segs {
		d := distance(x, segs[k].Centroid)
		if d <= segs[k].Radius && d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func distance(a, b []float64) float64 {
	s := 0.0
	for j, v := range a {
		d := v - b[j]
		s += d * d
	}
	return math.Sqrt(s)
}

// describe finds the traits that set the member rows apart from all rows
// of t, strongest first (at most six).
func describe(t *datasets.Table, enc *features.Encoder, members []int) []Trait {
	var traits []Trait
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

// categoryTrait lists the levels that, together, hold at least half of the
// members and are over-represented at least 1.5 times.
func categoryTrait(col *datasets.Column, members []int) []Trait {
	all, seg := levelShares(col, nil), levelShares(col, members)
	type lv struct {
		name      string
		seg, base float64
	}
	var picked []lv
	for name, s := range seg {
		if s >= 0.1 && s >= 1.5*all[name] {
			picked = append(picked, lv{name, s, all[name]})
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
		b += p.base
	}
	if s < 0.5 || s-b < 0.2 {
		return nil
	}
	text := col.Name + " = " + names[0]
	if len(names) > 1 {
		text = col.Name + " in {" + strings.Join(names, ", ") + "}"
	}
	return []Trait{{Column: col.Name, Text: text, Short: strings.Join(names, "/"), Measure: "share", Segment: s, Base: b, Effect: s - b}}
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

func tagTraits(col *datasets.Column, sep string, members []int) []Trait {
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
	var out []Trait
	for tag, s := range seg {
		if b := all[tag]; s >= 0.5 && s-b >= 0.2 {
			out = append(out, Trait{Column: col.Name, Text: col.Name + " has " + tag, Short: tag, Measure: "share", Segment: s, Base: b, Effect: s - b})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Short < out[b].Short })
	return out
}

func boolTrait(col *datasets.Column, members []int) []Trait {
	rate := func(rows []int) float64 {
		var s, n float64
		each(col.Len(), rows, func(i int) {
			if !math.IsNaN(col.Num[i]) {
				s += col.Num[i]
				n++
			}
		})
		return s / math.Max(n, 1)
	}
	s, b := rate(members), rate(nil)
	switch {
	case s >= 0.5 && s-b >= 0.2:
		return []Trait{{Column: col.Name, Text: col.Name + " is true", Short: col.Name, Measure: "share", Segment: s, Base: b, Effect: s - b}}
	case s <= 0.5 && b-s >= 0.2:
		return []Trait{{Column: col.Name, Text: col.Name + " is false", Short: "no " + col.Name, Measure: "share", Segment: 1 - s, Base: 1 - b, Effect: b - s}}
	}
	return nil
}

// rangeTrait describes a numeric column whose mean in the segment, on the
// encoder's scale, differs from the overall mean by at least half a
// standard deviation. The range shown is the members' 10th to 90th
// percentile on the original scale.
func rangeTrait(col *datasets.Column, ce *features.ColumnEncoder, members []int) []Trait {
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
	format := fmtNum
	if ce.Role == features.RoleDate {
		format = dayString
	}
	r := format(lo) + "–" + format(hi)
	return []Trait{{Column: col.Name, Text: col.Name + " " + r, Short: r + " " + col.Name,
		Measure: "median", Segment: stat.Quantile(0.5, stat.Empirical, vals, nil), Base: ce.Median, Effect: math.Abs(smd) / 2}}
}

func segmentName(traits []Trait, k int) string {
	var parts []string
	for _, t := range traits {
		if len(parts) == 3 {
			break
		}
		parts = append(parts, t.Short)
	}
	if len(parts) == 0 {
		return fmt.Sprintf("Segment %d", k)
	}
	return strings.Join(parts, ", ")
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

// fmtNum formats a number for people: 1.2M, 45k, 480, 0.35.
func fmtNum(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "–"
	case a >= 1e9:
		return trimZero(fmt.Sprintf("%.1f", v/1e9)) + "B"
	case a >= 1e6:
		return trimZero(fmt.Sprintf("%.1f", v/1e6)) + "M"
	case a >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case a >= 100 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }
