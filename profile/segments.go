package profile

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model"
)

// SegmentConfig tunes segment discovery. The zero value is ready to use.
type SegmentConfig struct {
	// KMin and KMax bound the number of clusters tried; zero means 2 and 12.
	KMin, KMax int
	// MinPositives is the fewest positive accounts worth clustering; zero
	// means 30.
	MinPositives int
	// MaxPositives is the most positive accounts clustered: beyond it, a
	// seeded sample of this size is clustered and its rules are learned,
	// while every check of a rule (coverage, lift on the holdout, the
	// information it carries) still runs on all accounts. Segments of a
	// few percent of winners hold hundreds of the sample, plenty for
	// k-means and a depth-4 tree; the attributions, clusterings and
	// bootstrap refits of 240,000 winners (a 1M-row export) are not worth
	// minutes of a retrain. Zero means 20,000.
	MaxPositives int
	// MinShare drops clusters holding less than this share of the positive
	// accounts; zero means 0.03.
	MinShare float64
	// Columns are the columns clustered on. Nil means every feature column
	// except behaviour counts (names such as web_visits_30d, trial_users,
	// support_tickets_90d, logins, sessions, usage): who a customer is
	// defines a segment, not how busy it was this month.
	Columns []string
	// Resamples is the number of bootstrap resamples that measure the
	// stability of each k; zero means 4.
	Resamples int
	// MinStability is the least mean adjusted Rand index between the
	// clustering and its bootstrap refits for a k to be trusted; zero
	// means 0.75.
	MinStability float64
	// MinLift is the least lift in the positive rate a segment's rule must
	// show on the holdout (the newest closed deals, which clustering and
	// rules do not see), and MinZ the least binomial z statistic of that
	// excess; zero means 1.25 and 3. A segment that fails is dropped:
	// clusters of winners that win no more often than anyone, or only by
	// chance in the training data, are not segments.
	MinLift, MinZ float64
	// RuleDepth is the depth of the surrogate trees; zero means 4.
	RuleDepth int
	// Space is where the positives are clustered: SpaceAttributions (the
	// default) clusters each column's contribution to their score (its
	// one-hot and tag parts summed), so that accounts group by why they
	// fit, on a scale (log-odds) that weighs columns by what they say about
	// the outcome; SpaceFeatures clusters their encoded features, each
	// column scaled to equal weight.
	Space string
}

// The clustering spaces of SegmentConfig.Space.
const (
	SpaceAttributions = "attributions"
	SpaceFeatures     = "features"
)

func (cfg *SegmentConfig) defaults() {
	if cfg.KMin == 0 {
		cfg.KMin = 2
	}
	if cfg.KMax == 0 {
		cfg.KMax = 12
	}
	if cfg.MinPositives == 0 {
		cfg.MinPositives = 30
	}
	if cfg.MaxPositives == 0 {
		cfg.MaxPositives = 20000
	}
	if cfg.MinShare == 0 {
		cfg.MinShare = 0.03
	}
	if cfg.Resamples == 0 {
		cfg.Resamples = 4
	}
	if cfg.MinStability == 0 {
		cfg.MinStability = 0.75
	}
	if cfg.MinLift == 0 {
		cfg.MinLift = 1.25
	}
	if cfg.MinZ == 0 {
		cfg.MinZ = 3
	}
	if cfg.RuleDepth == 0 {
		cfg.RuleDepth = 4
	}
	if cfg.Space == "" {
		cfg.Space = SpaceAttributions
	}
}

// behaviourName matches columns that count recent activity rather than
// describe the company.
var behaviourName = regexp.MustCompile(`(?i)(visit|trial|ticket|session|login|usage|click|open|event|activity|page_?view|download|_\d+d$)`)

// Segment is a cluster of ideal customers, the readable rule that
// describes it, and the evidence behind the rule.
type Segment struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Size is the number of positive accounts in the cluster and Share
	// their share of all positives.
	Size  int     `json:"size"`
	Share float64 `json:"share"`
	// Centroid is the mean encoded row of the cluster's members; a score
	// reports the account's distance to it.
	Centroid []float64 `json:"centroid"`
	Traits   []Trait   `json:"traits"`
	// Rule describes the segment on raw column values; it decides
	// membership when scoring. RuleText is its readable form.
	Rule     Rule   `json:"rule"`
	RuleText string `json:"rule_text"`
	// Precision is the share of the positives matching the rule that are
	// cluster members, and Recall the share of members the rule matches.
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	// Evidence sums up the accounts matching the rule.
	Evidence Evidence `json:"evidence"`
	// Summary says who the segment is in plain words.
	Summary string `json:"summary"`
	// HoldoutAccounts, HoldoutLift and HoldoutZ test the rule on the
	// newest deals, which it was not learned from: the number matching,
	// their positive rate over the holdout's base rate and the binomial z
	// statistic of the excess.
	HoldoutAccounts int     `json:"holdout_accounts"`
	HoldoutLift     float64 `json:"holdout_lift"`
	HoldoutZ        float64 `json:"holdout_z"`
	// Accounts, Positives and PositiveRate count the closed accounts that
	// match the rule; Lift is PositiveRate over the base rate.
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

// SegmentSearch records how the number of segments was chosen, and why
// there are none when there are none.
type SegmentSearch struct {
	// Columns are the columns clustered on.
	Columns []string `json:"columns"`
	// Space is where they were clustered (SegmentConfig.Space).
	Space string `json:"space"`
	// Positives is the number of positive accounts, and Clustered the
	// size of the seeded sample of them clustered when there were more
	// than SegmentConfig.MaxPositives (zero when all were).
	Positives int `json:"positives"`
	Clustered int `json:"clustered,omitempty"`
	// Ks scores every number of clusters tried.
	Ks []KScore `json:"ks,omitempty"`
	// K is the number chosen, 0 when none was trusted.
	K int `json:"k"`
	// Dropped lists the clusters whose rule failed the evidence test.
	Dropped []string `json:"dropped,omitempty"`
	// Reliable is false when the data support no segment, and Reason then
	// says why.
	Reliable bool   `json:"reliable"`
	Reason   string `json:"reason,omitempty"`
}

// KScore is the silhouette and the bootstrap stability of one k.
type KScore struct {
	K          int     `json:"k"`
	Silhouette float64 `json:"silhouette"`
	// Stability is the mean adjusted Rand index between the clustering and
	// its refits on bootstrap resamples.
	Stability float64 `json:"stability"`
	// Segments counts the clusters whose rule passed the evidence test
	// and Coverage is the share of positives their rules match (both zero
	// for an unstable k, which is not described).
	Segments int     `json:"segments"`
	Coverage float64 `json:"coverage"`
	// Gain is the mutual information (nats per closed account) between
	// the label and membership of those segments; the k with the most
	// (within 0.5%, the best silhouette) is chosen.
	Gain float64 `json:"gain"`
}

// segmentColumns returns the columns to cluster on.
func segmentColumns(enc *features.Encoder, cfg SegmentConfig) []string {
	if cfg.Columns != nil {
		return cfg.Columns
	}
	var cols []string
	for _, ce := range enc.Columns {
		if ce.Role == features.RoleNumeric && behaviourName.MatchString(ce.Name) {
			continue
		}
		cols = append(cols, ce.Name)
	}
	if len(cols) == 0 {
		for _, ce := range enc.Columns {
			cols = append(cols, ce.Name)
		}
	}
	return cols
}

// clusterMatrix copies the encoded columns of cols for rows, each
// original column's block scaled so that it weighs as much as one
// standardized number: a one-hot block of a column with many levels would
// otherwise count for less than one number, and a tag list for more.
func clusterMatrix(x *mat.Dense, enc *features.Encoder, cols []string, rows []int, scaled bool) *mat.Dense {
	keep := make(map[string]bool, len(cols))
	for _, c := range cols {
		keep[c] = true
	}
	type block struct {
		off, w int
		scale  float64
	}
	var blocks []block
	width := 0
	for _, ce := range enc.Columns {
		if !keep[ce.Name] {
			continue
		}
		// Variance of the block over rows.
		v := 0.0
		for j := ce.Offset; j < ce.Offset+ce.Width(); j++ {
			var s, s2 float64
			for _, i := range rows {
				a := x.At(i, j)
				s += a
				s2 += a * a
			}
			n := float64(len(rows))
			v += s2/n - (s/n)*(s/n)
		}
		scale := 1.0
		if scaled {
			scale = 0
			if v > 1e-12 {
				scale = 1 / math.Sqrt(v)
			}
		}
		blocks = append(blocks, block{ce.Offset, ce.Width(), scale})
		width += ce.Width()
	}
	out := mat.NewDense(len(rows), max(width, 1), nil)
	for r, i := range rows {
		src, dst := x.RawRowView(i), out.RawRowView(r)
		o := 0
		for _, b := range blocks {
			for j := 0; j < b.w; j++ {
				dst[o+j] = src[b.off+j] * b.scale
			}
			o += b.w
		}
	}
	return out
}

// findSegments clusters the positive accounts with k-means++, on the
// columns of cfg.Columns scaled to equal weight; chooses k by silhouette
// among the ks whose clustering survives bootstrap resampling; describes
// each cluster by a rule learned by a shallow tree on raw values; and
// keeps the segments whose rule selects accounts that turn positive
// clearly more often than the base rate.
func (p *Profile) findSegments(t *datasets.Table, x *mat.Dense, positives, fitRows, holdRows, labeled []int, od *outcomeData, cfg SegmentConfig, seed uint64) ([]Segment, SegmentSearch, error) {
	cfg.defaults()
	enc := p.Encoder
	cols := segmentColumns(enc, cfg)
	search := SegmentSearch{Columns: cols, Positives: len(positives), Space: cfg.Space}
	if len(positives) < cfg.MinPositives || len(positives) < 4*cfg.KMax {
		search.Reason = fmt.Sprintf("too few %d positive accounts to cluster (at least %d needed)", len(positives), max(cfg.MinPositives, 4*cfg.KMax))
		return nil, search, nil
	}
	// clustered are the positives clustered: all of them, or a sample.
	clustered := positives
	if len(positives) > cfg.MaxPositives {
		clustered = sampleRows(positives, cfg.MaxPositives, seed)
		search.Clustered = len(clustered)
	}
	var xp *mat.Dense
	switch cfg.Space {
	case SpaceFeatures:
		xp = clusterMatrix(x, enc, cols, clustered, true)
	case SpaceAttributions:
		// One row of attributions per positive account, not per table row.
		xa := mat.NewDense(len(clustered), enc.Width, nil)
		row := make([]float64, enc.Width)
		rows := make([]int, len(clustered))
		for j, i := range clustered {
			copy(row, x.RawRowView(i))
			p.Model.explain(enc, row, xa.RawRowView(j))
			rows[j] = j
		}
		xp = groupedMatrix(xa, enc, cols, rows)
	default:
		return nil, search, fmt.Errorf("find segments: unknown space %q (want %q or %q): %w", cfg.Space, SpaceAttributions, SpaceFeatures, icp.ErrInvalid)
	}
	base := od.evidence(labeled)
	type option struct {
		segs     []Segment
		dropped  []string
		coverage float64
		sil      float64
		k        int
	}
	var opts []option
	for k := cfg.KMin; k <= cfg.KMax; k++ {
		km, labels, err := model.FitKMeans(xp, nil, model.KMeansConfig{K: k, Seed: seed})
		if err != nil {
			return nil, search, fmt.Errorf("find segments: %w", err)
		}
		ks := KScore{K: k, Silhouette: model.Silhouette(xp, labels, 1000, seed), Stability: stability(xp, labels, k, cfg.Resamples, seed)}
		if ks.Stability >= cfg.MinStability {
			segs, dropped, err := p.describeClusters(t, x, km, labels, clustered, holdRows, labeled, od, base, cols, cfg)
			if err != nil {
				return nil, search, err
			}
			ks.Segments = len(segs)
			ks.Coverage = coverage(segs, t, positives)
			ks.Gain = infoGain(segs, t, fitRows, od.lab.y)
			opts = append(opts, option{segs, dropped, ks.Gain, ks.Silhouette, k})
		}
		search.Ks = append(search.Ks, ks)
	}
	if len(opts) == 0 {
		search.Reason = fmt.Sprintf("no number of clusters from %d to %d is stable under bootstrap resampling (adjusted Rand index below %.2f)", cfg.KMin, cfg.KMax, cfg.MinStability)
		return nil, search, nil
	}
	// The k whose segments tell the most about the label; within 0.5% of
	// the best, the best silhouette.
	top := 0.0
	for _, o := range opts {
		top = math.Max(top, o.coverage)
	}
	var pick *option
	for k := range opts {
		o := &opts[k]
		if o.coverage >= 0.995*top && (pick == nil || o.sil > pick.sil) {
			pick = o
		}
	}
	search.K, search.Dropped = pick.k, pick.dropped
	segs := pick.segs
	if len(segs) == 0 {
		search.Reason = "no cluster of positives has a rule whose accounts turn positive clearly more often than the base rate"
		return nil, search, nil
	}
	search.Reliable = true
	for k := range segs {
		s := &segs[k]
		s.ID = fmt.Sprintf("seg-%d", k+1)
		s.Name = ruleName(&s.Rule, k+1)
		s.Summary = segmentSummary(s, base)
	}
	return segs, search, nil
}

// infoGain is the mutual information, in nats per closed account, between
// the label and the segment an account falls in (the first whose rule it
// matches, or none).
func infoGain(segs []Segment, t *datasets.Table, labeled []int, y []float64) float64 {
	n := len(segs) + 1
	pos := make([]float64, n)
	tot := make([]float64, n)
	var allPos float64
	for _, i := range labeled {
		k := segmentOf(segs, t, i)
		if k < 0 {
			k = len(segs)
		}
		tot[k]++
		pos[k] += y[i]
		allPos += y[i]
	}
	N := float64(len(labeled))
	if N == 0 || allPos == 0 || allPos == N {
		return 0
	}
	base := allPos / N
	g := 0.0
	for k := range tot {
		if tot[k] == 0 {
			continue
		}
		r := pos[k] / tot[k]
		if r > 0 {
			g += pos[k] * math.Log(r/base)
		}
		if r < 1 {
			g += (tot[k] - pos[k]) * math.Log((1-r)/(1-base))
		}
	}
	return g / N
}

// coverage is the share of positives that match the rule of a segment.
func coverage(segs []Segment, t *datasets.Table, positives []int) float64 {
	if len(positives) == 0 {
		return 0
	}
	n := 0
	for _, i := range positives {
		if segmentOf(segs, t, i) >= 0 {
			n++
		}
	}
	return float64(n) / float64(len(positives))
}

// describeClusters learns each cluster's rule and evidence, and keeps the
// clusters whose rule passes the evidence test, largest first.
func (p *Profile) describeClusters(t *datasets.Table, x *mat.Dense, km *model.KMeans, labels, positives, holdRows, labeled []int, od *outcomeData, base Evidence, cols []string, cfg SegmentConfig) ([]Segment, []string, error) {
	enc := p.Encoder
	hold := od.within(holdRows).evidence(holdRows)
	isPos := make([]float64, len(positives))
	var segs []Segment
	var dropped []string
	for c := range km.Centroids {
		var members []int
		for j, l := range labels {
			isPos[j] = 0
			if l == c {
				members = append(members, positives[j])
				isPos[j] = 1
			}
		}
		if float64(len(members)) < cfg.MinShare*float64(len(positives)) {
			dropped = append(dropped, fmt.Sprintf("cluster of %d: under %.0f%% of the positives", len(members), 100*cfg.MinShare))
			continue
		}
		rule, err := learnRule(t, enc, cols, positives, isPos, nil, ruleConfig{
			depth: cfg.RuleDepth, minLeaf: max(5, len(positives)/200), purity: 0.5, minCover: 0.15, maxClauses: 3})
		if err != nil {
			return nil, nil, fmt.Errorf("find segments: %w", err)
		}
		if rule.Empty() {
			dropped = append(dropped, fmt.Sprintf("cluster of %d: no rule separates it from the other positives", len(members)))
			continue
		}
		sg := Segment{Size: len(members), Share: float64(len(members)) / float64(len(positives)), Rule: rule, RuleText: rule.String()}
		var hit, hitMembers int
		for j, i := range positives {
			if rule.Match(t, i) {
				hit++
				if isPos[j] == 1 {
					hitMembers++
				}
			}
		}
		sg.Precision = float64(hitMembers) / float64(max(hit, 1))
		sg.Recall = float64(hitMembers) / float64(len(members))
		in := matching(&rule, t, labeled)
		sg.Evidence = od.evidence(in)
		sg.Evidence.against(base)
		sg.Accounts, sg.Positives, sg.PositiveRate, sg.Lift = sg.Evidence.Closed, sg.Evidence.Positives, sg.Evidence.PositiveRate, sg.Evidence.Lift
		he := od.evidence(matching(&rule, t, holdRows))
		he.against(hold)
		sg.HoldoutAccounts, sg.HoldoutLift = he.Closed, he.Lift
		sg.HoldoutZ = zScore(he.Positives, he.Closed, hold.PositiveRate)
		if sg.HoldoutLift < cfg.MinLift || sg.HoldoutZ < cfg.MinZ {
			dropped = append(dropped, fmt.Sprintf("`%s`: on the holdout, %d closed accounts at %.2f× the base rate (z = %.1f)", sg.RuleText, he.Closed, he.Lift, sg.HoldoutZ))
			continue
		}
		sg.Traits = describe(t, enc, members)
		// Centre and radius in the full encoded space, for distances.
		sg.Centroid = make([]float64, enc.Width)
		for _, i := range members {
			for j, v := range x.RawRowView(i) {
				sg.Centroid[j] += v
			}
		}
		for j := range sg.Centroid {
			sg.Centroid[j] /= float64(len(members))
		}
		segs = append(segs, sg)
	}
	// Largest first, so ids are stable for a given clustering.
	sort.SliceStable(segs, func(a, b int) bool { return segs[a].Size > segs[b].Size })
	return segs, dropped, nil
}

// sampleRows returns n of rows drawn without replacement with a seeded
// generator, in their original order.
func sampleRows(rows []int, n int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 0x5a3d1e))
	pick := rng.Perm(len(rows))[:n]
	slices.Sort(pick)
	out := make([]int, n)
	for j, i := range pick {
		out[j] = rows[i]
	}
	return out
}

// stability refits k-means with k clusters on bootstrap resamples of the
// rows of x and returns the mean adjusted Rand index between labels and
// the refits' nearest-centre labels of every row.
func stability(x *mat.Dense, labels []int, k, resamples int, seed uint64) float64 {
	n, d := x.Dims()
	rng := rand.New(rand.NewPCG(seed, 0x5ab1e))
	boot := mat.NewDense(n, d, nil)
	other := make([]int, n)
	total := 0.0
	for r := 0; r < resamples; r++ {
		for i := 0; i < n; i++ {
			boot.SetRow(i, x.RawRowView(rng.IntN(n)))
		}
		km, _, err := model.FitKMeans(boot, nil, model.KMeansConfig{K: k, Seed: seed + uint64(r) + 1, NInit: 1, MaxIter: 100})
		if err != nil {
			return 0
		}
		for i := 0; i < n; i++ {
			other[i], _ = km.Nearest(x.RawRowView(i))
		}
		total += model.AdjustedRandIndex(labels, other)
	}
	return total / float64(resamples)
}

// segmentOf returns the index of the first segment whose rule row i of t
// matches, or -1.
func segmentOf(segs []Segment, t *datasets.Table, i int) int {
	for k := range segs {
		if segs[k].Rule.Match(t, i) {
			return k
		}
	}
	return -1
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
// members and are over-represented at least 1.5 times against all rows.
func categoryTrait(col *datasets.Column, members []int) []Trait {
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

// boolTrait describes a boolean column whose rate among the members is
// at least 0.2 away from its rate over all rows.
func boolTrait(col *datasets.Column, members []int) []Trait {
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

// ruleName names a segment from its rule's first clause: levels first,
// then ranges, tags and exclusions ("SaaS/FinTech, 50–500 employees, on
// hubspot, not APAC").
func ruleName(r *Rule, k int) string {
	if r.Empty() {
		return fmt.Sprintf("Segment %d", k)
	}
	var levels, ranges, tags, nots []string
	for _, c := range r.Clauses[0].Conds {
		switch {
		case c.Op == OpIn && !c.Negate:
			levels = append(levels, strings.Join(c.Levels, "/"))
		case c.Op == OpIn:
			nots = append(nots, "not "+strings.Join(c.Levels, "/"))
		case c.Op == OpHas && !c.Negate:
			tags = append(tags, "on "+c.Tag)
		case c.Op == OpHas:
			nots = append(nots, "without "+c.Tag)
		case c.Op == OpIs && !c.Negate:
			levels = append(levels, c.Column)
		case c.Op == OpIs:
			nots = append(nots, "no "+c.Column)
		case c.Op == OpRange:
			lo, _, hi, _ := c.bounds()
			switch {
			case c.Lo != nil && c.Hi != nil:
				ranges = append(ranges, lo+"–"+hi+" "+c.Column)
			case c.Lo != nil:
				ranges = append(ranges, lo+"+ "+c.Column)
			case c.Hi != nil:
				ranges = append(ranges, "up to "+hi+" "+c.Column)
			}
		}
	}
	parts := append(append(append(levels, ranges...), tags...), nots...)
	if len(parts) > 4 {
		parts = parts[:4]
	}
	name := strings.Join(parts, ", ")
	if name == "" {
		return fmt.Sprintf("Segment %d", k)
	}
	if n := len(r.Clauses); n > 1 {
		name += fmt.Sprintf(" (+%d variant", n-1)
		if n > 2 {
			name += "s"
		}
		name += ")"
	}
	return name
}

// segmentSummary says in one paragraph who the segment is and how it
// does against the baseline.
func segmentSummary(s *Segment, base Evidence) string {
	e := s.Evidence
	var b strings.Builder
	fmt.Fprintf(&b, "Accounts where %s. %d closed accounts match; they win %s of their deals, %s the base rate of %s",
		s.RuleText, e.Closed, pct(e.WinRate), times(e.WinLift), pct(base.WinRate))
	var more []string
	if e.HasChurn && base.HasChurn {
		more = append(more, fmt.Sprintf("churn %s of the time (%s overall)", pct(e.ChurnRate), pct(base.ChurnRate)))
	}
	if e.HasCycle && base.HasCycle {
		more = append(more, fmt.Sprintf("close in a median %s days (%s overall)", fmtNum(e.MedianCycleDays), fmtNum(base.MedianCycleDays)))
	}
	if e.HasLTV && base.HasLTV {
		more = append(more, fmt.Sprintf("are worth a median LTV of %s (%s overall)", fmtNum(e.MedianLTV), fmtNum(base.MedianLTV)))
	}
	if len(more) > 0 {
		b.WriteString("; once won they ")
		b.WriteString(joinAnd(more))
	}
	fmt.Fprintf(&b, ". They hold %s of all won deals.", pct(e.ShareOfWins))
	return b.String()
}

// times formats a ratio as "3.1×".
func times(v float64) string {
	if v == 0 || math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.1f×", v)
}

func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// groupedMatrix sums, for each of rows, the attributions of each column in
// cols: one coordinate per original column.
func groupedMatrix(x *mat.Dense, enc *features.Encoder, cols []string, rows []int) *mat.Dense {
	keep := make(map[string]bool, len(cols))
	for _, c := range cols {
		keep[c] = true
	}
	var ces []features.ColumnEncoder
	for _, ce := range enc.Columns {
		if keep[ce.Name] {
			ces = append(ces, ce)
		}
	}
	out := mat.NewDense(len(rows), len(ces), nil)
	for r, i := range rows {
		src := x.RawRowView(i)
		for k, ce := range ces {
			s := 0.0
			for j := ce.Offset; j < ce.Offset+ce.Width(); j++ {
				s += src[j]
			}
			out.Set(r, k, s)
		}
	}
	return out
}
