package profile

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/drift"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model"
)

// EmergingConfig tunes EmergingSegments. The zero value is ready to use.
type EmergingConfig struct {
	// MinCount is the fewest winners outside every segment worth
	// clustering, and the fewest members an emerging segment has. Zero
	// means 10.
	MinCount int
	// MaxK is the most clusters tried. Zero means 4.
	MaxK int
	// MinTraits is the fewest distinguishing traits an emerging segment
	// has; a cluster without them is ordinary variety, not a new market.
	// Zero means 2.
	MinTraits int
	// Seed seeds k-means.
	Seed uint64
}

// EmergingSegment is a cluster of recent winners that no segment of the
// profile covers.
type EmergingSegment struct {
	// Key names the segment by its traits without their numbers (for
	// example "industry=Logistics,tech_stack:snowflake,employees:high"), so
	// that it stays the same while the cluster grows.
	Key string `json:"key"`
	// Name joins the short forms of up to four traits, levels and tags
	// before numeric ranges.
	Name string `json:"name"`
	// Description reads "12 of the last 40 wins are Logistics, snowflake:
	// no current segment covers them".
	Description string `json:"description"`
	// Count is the number of winners in the cluster, Outside the number of
	// winners outside every segment and Winners the number examined.
	Count   int `json:"count"`
	Outside int `json:"outside"`
	Winners int `json:"winners"`
	// Traits set the cluster apart from the training population (the drift
	// reference of the artifact), strongest first.
	Traits []Trait `json:"traits"`
	// Members are the indexes, into the winners given, of the cluster's
	// accounts.
	Members []int `json:"members"`
}

// EmergingSegments finds groups of recent winners that the profile does
// not cover: it keeps the winners whose encoded row is within the radius of
// no segment or whose score falls in tier3 or non_fit (a broad segment's
// radius can hold accounts the model still scores low, so the radius alone
// misses a new market), clusters them with k-means once there are
// cfg.MinCount of them (k from 2 to cfg.MaxK by silhouette, and no more
// than one cluster per cfg.MinCount winners), and describes each cluster
// of at least cfg.MinCount winners.
//
// Ordinary winners outside the ICP form clusters too; whether a cluster is
// new is for the caller to judge with the ICP drift test (more winners
// outside than the holdout had), which package watch requires before it
// raises an emerging-segment alert.
//
// The traits compare the cluster with the training population, taken
// from the drift reference stored in the artifact (level shares of
// categorical, boolean and tag features) and from the encoder's fitted
// means and standard deviations (numeric features): the artifact holds no
// raw training rows, and comparing with the other recent winners instead
// would hide a segment that grows to dominate them. Clusters with fewer
// than cfg.MinTraits traits are dropped. Segments come largest first.
//
// An account that does not fit the schema gives an *icp.ValidationError
// whose field names carry its index ("[3].employees").
func (p *Profile) EmergingSegments(winners []icp.Account, cfg EmergingConfig) ([]EmergingSegment, error) {
	if cfg.MinCount <= 0 {
		cfg.MinCount = 10
	}
	if cfg.MaxK <= 0 {
		cfg.MaxK = 4
	}
	if cfg.MinTraits <= 0 {
		cfg.MinTraits = 2
	}
	if len(winners) < cfg.MinCount {
		return nil, nil
	}
	t, err := p.Schema.Table(winners)
	if err != nil {
		return nil, fmt.Errorf("emerging segments: %w", err)
	}
	x, err := p.Encoder.Transform(t, nil)
	if err != nil {
		return nil, fmt.Errorf("emerging segments: %w", err)
	}
	var outside []int
	for i := range winners {
		row := x.RawRowView(i)
		tier := p.Tiers.Tier(model.Sigmoid(p.Model.Logistic.Margin(row)))
		if nearestSegment(p.Segments, row) < 0 || tier == icp.Tier3 || tier == icp.NonFit {
			outside = append(outside, i)
		}
	}
	if len(outside) < cfg.MinCount {
		return nil, nil
	}
	xo := mat.NewDense(len(outside), p.Encoder.Width, nil)
	for j, i := range outside {
		xo.SetRow(j, x.RawRowView(i))
	}
	assign := make([]int, len(outside)) // one cluster unless there are enough for two
	k := 1
	if kMax := min(cfg.MaxK, len(outside)/cfg.MinCount); kMax >= 2 {
		km, lab, _, err := model.ChooseK(xo, nil, 2, kMax, cfg.Seed, 2000)
		if err != nil {
			return nil, fmt.Errorf("emerging segments: %w", err)
		}
		assign, k = lab, len(km.Centroids)
	}
	members := make([][]int, k)
	for j, c := range assign {
		members[c] = append(members[c], outside[j])
	}
	var out []EmergingSegment
	for _, m := range members {
		if len(m) < cfg.MinCount {
			continue
		}
		traits := p.describeVsReference(t, m)
		if len(traits) < cfg.MinTraits {
			continue
		}
		out = append(out, newEmerging(traits, m, len(outside), len(winners)))
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].Count != out[b].Count {
			return out[a].Count > out[b].Count
		}
		return out[a].Key < out[b].Key
	})
	return out, nil
}

func newEmerging(traits []Trait, members []int, outside, winners int) EmergingSegment {
	// Levels and tags name a market more plainly than numeric ranges, so
	// they come first; the four strongest of that order are named.
	named := make([]Trait, 0, len(traits))
	for _, tr := range traits {
		if tr.Measure != "median" {
			named = append(named, tr)
		}
	}
	for _, tr := range traits {
		if tr.Measure == "median" {
			named = append(named, tr)
		}
	}
	named = named[:min(len(named), 4)]
	keys := make([]string, len(named))
	shorts := make([]string, len(named))
	for i, tr := range named {
		keys[i], shorts[i] = traitKey(tr), tr.Short
	}
	// The key is sorted, so that an order change between two strong
	// traits does not rename the segment.
	sort.Strings(keys)
	name := strings.Join(shorts, ", ")
	return EmergingSegment{
		Key:  strings.Join(keys, ","),
		Name: name,
		Description: fmt.Sprintf("%d of the last %d wins are %s: no current segment covers them",
			len(members), winners, name),
		Count: len(members), Outside: outside, Winners: winners,
		Traits: traits, Members: members,
	}
}

// traitKey is a trait without its numbers: "industry=Logistics",
// "tech_stack:snowflake", "employees:high".
func traitKey(tr Trait) string {
	switch tr.Measure {
	case "median":
		if tr.Segment >= tr.Base {
			return tr.Column + ":high"
		}
		return tr.Column + ":low"
	}
	if strings.Contains(tr.Text, " has ") {
		return tr.Column + ":" + tr.Short
	}
	return tr.Column + "=" + tr.Short
}

// describeVsReference finds the traits that set the member rows of t apart
// from the training population, strongest first (at most six).
func (p *Profile) describeVsReference(t *datasets.Table, members []int) []Trait {
	refCat := make(map[string]*drift.CategoricalRef)
	if p.Drift != nil {
		for i := range p.Drift.Categorical {
			refCat[p.Drift.Categorical[i].Name] = &p.Drift.Categorical[i]
		}
	}
	var traits []Trait
	for k := range p.Encoder.Columns {
		ce := &p.Encoder.Columns[k]
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
	if len(traits) > 6 {
		traits = traits[:6]
	}
	return traits
}

func refShares(r *drift.CategoricalRef) map[string]float64 {
	m := make(map[string]float64, len(r.Levels))
	for i, l := range r.Levels {
		m[l] = r.Props[i]
	}
	return m
}

// levelTraitVs is categoryTrait against given baseline shares.
func levelTraitVs(col *datasets.Column, members []int, base map[string]float64) []Trait {
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
	return []Trait{{Column: col.Name, Text: text, Short: strings.Join(names, "/"), Measure: "share", Segment: s, Base: b, Effect: s - b}}
}

// tagTraitsVs lists the tags that at least half the members carry, 0.2
// more often than the training population.
func tagTraitsVs(col *datasets.Column, ce *features.ColumnEncoder, members []int, ref map[string]*drift.CategoricalRef) []Trait {
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
	var out []Trait
	for _, tag := range ce.Levels {
		r := ref[ce.Name+" has "+tag]
		if r == nil || n == 0 {
			continue
		}
		s, b := counts[tag]/float64(n), refShares(r)["true"]
		if s >= 0.5 && s-b >= 0.2 {
			out = append(out, Trait{Column: col.Name, Text: col.Name + " has " + tag, Short: tag, Measure: "share", Segment: s, Base: b, Effect: s - b})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Short < out[b].Short })
	return out
}

func boolTraitVs(col *datasets.Column, members []int, b float64) []Trait {
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
		return []Trait{{Column: col.Name, Text: col.Name + " is true", Short: col.Name, Measure: "share", Segment: s, Base: b, Effect: s - b}}
	case s <= 0.5 && b-s >= 0.2:
		return []Trait{{Column: col.Name, Text: col.Name + " is false", Short: "no " + col.Name, Measure: "share", Segment: 1 - s, Base: 1 - b, Effect: b - s}}
	}
	return nil
}
