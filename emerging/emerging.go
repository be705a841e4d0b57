package emerging

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/drift"
	"github.com/icpengine/icp/model"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/traits"
)

// Config tunes Find. The zero value is ready to use.
type Config struct {
	// MinCount is the fewest winners outside every segment worth
	// clustering, and the fewest members an emerging segment has. Zero
	// means 10.
	MinCount int
	// MaxK is the most clusters tried. Zero means 6.
	MaxK int
	// MinTraits is the fewest distinguishing traits an emerging segment
	// has; a cluster without them is ordinary variety, not a new market.
	// Zero means 2.
	MinTraits int
	// Seed seeds k-means.
	Seed uint64
}

// Segment is a cluster of recent winners that no segment of the
// profile covers.
type Segment struct {
	// Key names the segment by its traits without their numbers (for
	// example "industry=Logistics,tech_stack:snowflake,employees:high"), so
	// that it stays the same while the cluster grows.
	Key string `json:"key"`
	// Name joins the short forms of up to five traits: up to three levels
	// and tags, then numeric ranges.
	Name string `json:"name"`
	// Description reads "12 of the last 40 wins are Logistics, snowflake:
	// no current segment covers them".
	Description string `json:"description"`
	// Count is the number of winners in the cluster, Outside the number of
	// winners outside every segment and Winners the number examined.
	Count   int `json:"count"`
	Outside int `json:"outside"`
	Winners int `json:"winners"`
	// InRegion is how many of the uncovered recent winners lie within the
	// cluster's region (nearest to its centre among the clusters found, and
	// within its radius, the 0.9 quantile of the members' distances), and
	// Observed their share of all recent winners. Baseline is the number of
	// earlier winners given, Expected the share of them in the region
	// (with one pseudo-count each way), and PValue the binomial probability
	// of InRegion or more recent winners in the region if it still held
	// the Expected share. Earlier winners are judged by the same rule:
	// uncovered, nearest to the region's centre, within its radius. PValue is 1 when Baseline is 0.
	InRegion int     `json:"in_region"`
	Observed float64 `json:"observed"`
	Baseline int     `json:"baseline"`
	Expected float64 `json:"expected"`
	PValue   float64 `json:"p_value"`
	// Traits set the cluster apart from the training population (the drift
	// reference of the artifact), strongest first.
	Traits []profile.Trait `json:"traits"`
	// Members are the indexes, into the winners given, of the cluster's
	// accounts.
	Members []int `json:"members"`
}

// Find finds groups of recent winners that the profile p does not cover:
// it keeps the winners that match no segment's rule or whose score falls
// in tier3 or non_fit, as p scores them (a broad segment can hold accounts
// the model still scores low, so its rule alone misses a new market),
// clusters them with k-means once there are
// cfg.MinCount of them (k from 2 to cfg.MaxK by silhouette, and no more
// than one cluster per cfg.MinCount winners), and describes each cluster
// of at least cfg.MinCount winners.
//
// Ordinary winners outside the ICP form clusters too: k-means finds
// concentrations in any sample. Whether a cluster is new is judged against
// earlier winners (those that closed before the recent ones): each segment
// carries the share of recent and of earlier winners within its region and
// a binomial p-value (see Segment.PValue); callers alert only on small
// ones. The training data itself cannot serve as the baseline, since
// the artifact keeps only marginal distributions, and products of
// marginals overstate how rare a cluster's combination of traits is.
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
func Find(p *profile.Profile, winners, earlier []icp.Account, cfg Config) ([]Segment, error) {
	if cfg.MinCount <= 0 {
		cfg.MinCount = 10
	}
	if cfg.MaxK <= 0 {
		cfg.MaxK = 6
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
	outside, err := uncovered(p, t, x)
	if err != nil {
		return nil, fmt.Errorf("emerging segments: %w", err)
	}
	if len(outside) < cfg.MinCount {
		return nil, nil
	}
	xo := mat.NewDense(len(outside), p.Encoder.Width, nil)
	for j, i := range outside {
		xo.SetRow(j, x.RawRowView(i))
	}
	var xe *mat.Dense
	var earlierOut []int
	if len(earlier) > 0 {
		te, err := p.Schema.Table(earlier)
		if err != nil {
			return nil, fmt.Errorf("emerging segments: earlier winners: %w", err)
		}
		if xe, err = p.Encoder.Transform(te, nil); err != nil {
			return nil, fmt.Errorf("emerging segments: earlier winners: %w", err)
		}
		if earlierOut, err = uncovered(p, te, xe); err != nil {
			return nil, fmt.Errorf("emerging segments: earlier winners: %w", err)
		}
	}
	s := &search{p: p, cfg: cfg, t: t, x: x, xe: xe, outside: outside, earlierOut: earlierOut, winners: len(winners), earlier: len(earlier)}
	// Without earlier winners, k is chosen by silhouette. With them, every
	// k from 1 to kMax is tried and the clustering holding the region that
	// grew most surely (the smallest p-value) is kept; the p-values are
	// multiplied by the number of clusters tried (Bonferroni), since the
	// scan picks the smallest of them.
	kMax := max(1, min(cfg.MaxK, len(outside)/cfg.MinCount))
	var out []Segment
	tried := 0
	best := math.Inf(1)
	if len(earlier) == 0 && kMax >= 2 {
		km, lab, _, err := model.ChooseK(xo, nil, 2, kMax, cfg.Seed, 2000)
		if err != nil {
			return nil, fmt.Errorf("emerging segments: %w", err)
		}
		out = s.clusters(lab, len(km.Centroids))
	} else {
		for k := 1; k <= kMax; k++ {
			lab := make([]int, len(outside))
			if k > 1 {
				var err error
				if _, lab, err = model.FitKMeans(xo, nil, model.KMeansConfig{K: k, Seed: cfg.Seed}); err != nil {
					return nil, fmt.Errorf("emerging segments: %w", err)
				}
			}
			tried += k
			segs := s.clusters(lab, k)
			for _, e := range segs {
				if e.PValue < best || out == nil && len(segs) > 0 {
					best, out = math.Min(best, e.PValue), segs
				}
			}
		}
		for i := range out {
			out[i].PValue = math.Min(1, out[i].PValue*float64(tried))
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].Count != out[b].Count {
			return out[a].Count > out[b].Count
		}
		return out[a].Key < out[b].Key
	})
	return out, nil
}

// Records finds the emerging segments of the recent winners as Find does
// and returns them as the drift watcher reports them: traits as text,
// Members indexing winners and Winners counting all of them. Winners and
// earlier winners whose fields no longer fit p's schema (the export
// changed since training) are left out of the search rather than failing
// it.
func Records(p *profile.Profile, winners, earlier []icp.Account, cfg Config) ([]icp.EmergingSegment, error) {
	keep := make([]icp.Account, 0, len(winners))
	index := make([]int, 0, len(winners))
	for i, acc := range winners {
		if _, err := p.Schema.Table([]icp.Account{acc}); err == nil {
			keep = append(keep, acc)
			index = append(index, i)
		}
	}
	base := make([]icp.Account, 0, len(earlier))
	for _, acc := range earlier {
		if _, err := p.Schema.Table([]icp.Account{acc}); err == nil {
			base = append(base, acc)
		}
	}
	segs, err := Find(p, keep, base, cfg)
	if err != nil {
		return nil, err
	}
	out := make([]icp.EmergingSegment, len(segs))
	for i, s := range segs {
		e := icp.EmergingSegment{Key: s.Key, Name: s.Name, Description: s.Description,
			Count: s.Count, Outside: s.Outside, Winners: len(winners),
			Observed: s.Observed, Expected: s.Expected, Baseline: s.Baseline, PValue: s.PValue}
		for _, t := range s.Traits {
			e.Traits = append(e.Traits, t.Text)
		}
		for _, j := range s.Members {
			e.Members = append(e.Members, index[j])
		}
		out[i] = e
	}
	return out, nil
}

func newEmerging(traits []profile.Trait, members []int, outside, winners int) Segment {
	// Levels and tags name a market more plainly than numeric ranges, so
	// they come first: the three strongest of them, then the two
	// strongest ranges.
	named := make([]profile.Trait, 0, 5)
	for _, measure := range []string{"share", "median"} {
		n, limit := 0, min(3, 5-len(named))
		if measure == "median" {
			limit = 5 - len(named)
		}
		for _, tr := range traits {
			if tr.Measure == measure && n < limit {
				named = append(named, tr)
				n++
			}
		}
	}
	keys := make([]string, len(named))
	shorts := make([]string, len(named))
	for i, tr := range named {
		keys[i], shorts[i] = traitKey(tr), tr.Short
	}
	// The key is sorted, so that an order change between two strong
	// traits does not rename the segment.
	sort.Strings(keys)
	name := strings.Join(shorts, ", ")
	return Segment{
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
func traitKey(tr profile.Trait) string {
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

// region returns the mean of the member rows of x and the 0.9 quantile of
// their distances to it.
func region(x *mat.Dense, members []int) (centre []float64, radius float64) {
	_, d := x.Dims()
	centre = make([]float64, d)
	for _, i := range members {
		for j, v := range x.RawRowView(i) {
			centre[j] += v
		}
	}
	for j := range centre {
		centre[j] /= float64(len(members))
	}
	dists := make([]float64, len(members))
	for k, i := range members {
		dists[k] = model.Distance(x.RawRowView(i), centre)
	}
	sort.Float64s(dists)
	return centre, stat.Quantile(0.9, stat.Empirical, dists, nil)
}

// regionCounts counts, per region, the given rows of x whose nearest
// centre is the region's and lie within its radius.
func regionCounts(x *mat.Dense, rows []int, centres [][]float64, radii []float64) []int {
	counts := make([]int, len(centres))
	for _, i := range rows {
		best, bestD := -1, math.Inf(1)
		for k, c := range centres {
			if d := model.Distance(x.RawRowView(i), c); d < bestD {
				best, bestD = k, d
			}
		}
		if best >= 0 && bestD <= radii[best] {
			counts[best]++
		}
	}
	return counts
}

// uncovered returns the rows of t (encoded as x) that match no segment's
// rule, or score in tier3 or non_fit, as p scores them.
func uncovered(p *profile.Profile, t *datasets.Table, x *mat.Dense) ([]int, error) {
	scores, err := p.ScoreTable(t, x, false)
	if err != nil {
		return nil, err
	}
	var out []int
	for i, s := range scores {
		if s.Segment == nil || s.Tier == icp.Tier3 || s.Tier == icp.NonFit {
			out = append(out, i)
		}
	}
	return out, nil
}

// search is one run of Find: the recent winners (the table t, encoded as
// x) and those of them p does not cover (rows outside), and the earlier
// winners p does not cover (rows earlierOut of xe; xe is nil without
// earlier winners).
type search struct {
	p                   *profile.Profile
	cfg                 Config
	t                   *datasets.Table
	x, xe               *mat.Dense
	outside, earlierOut []int
	// winners and earlier count the recent and the earlier winners.
	winners, earlier int
}

// clusters describes the k clusters of the uncovered winners (cluster
// labels lab, one per row of outside) and tests each region against the
// uncovered earlier winners.
func (s *search) clusters(lab []int, k int) []Segment {
	p, cfg, x, xe, outside, winners, earlier := s.p, s.cfg, s.x, s.xe, s.outside, s.winners, s.earlier
	members := make([][]int, k)
	for j, c := range lab {
		members[c] = append(members[c], outside[j])
	}
	type cluster struct {
		members []int
		traits  []profile.Trait
	}
	var kept []cluster
	var centres [][]float64
	var radii []float64
	for _, m := range members {
		if len(m) < cfg.MinCount {
			continue
		}
		trs := traits.DescribeVsReference(s.t, p.Encoder, p.Drift, m)
		if len(trs) < cfg.MinTraits {
			continue
		}
		c, r := region(x, m)
		kept = append(kept, cluster{m, trs})
		centres, radii = append(centres, c), append(radii, r)
	}
	inRecent := regionCounts(x, outside, centres, radii)
	var inEarlier []int
	if xe != nil {
		inEarlier = regionCounts(xe, s.earlierOut, centres, radii)
	}
	out := make([]Segment, 0, len(kept))
	for i, c := range kept {
		e := newEmerging(c.traits, c.members, len(outside), winners)
		e.InRegion = inRecent[i]
		e.Observed = float64(e.InRegion) / float64(winners)
		e.Baseline, e.PValue = earlier, 1
		if xe != nil {
			e.Expected = float64(inEarlier[i]+1) / float64(earlier+2)
			e.PValue = drift.BinomialTestGreater(e.InRegion, winners, e.Expected)
		}
		out = append(out, e)
	}
	return out
}
