package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/traits"
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
		cfg.Space = profile.SpaceAttributions
	}
}

// behaviourName matches columns that count recent activity rather than
// describe the company.
var behaviourName = regexp.MustCompile(`(?i)(visit|trial|ticket|session|login|usage|click|open|event|activity|page_?view|download|_\d+d$)`)

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
//
// Segments are learned on the older deals and must hold up on the newest
// (the holdout), so that chance patterns of the training data do not
// become segments. It sets the profile's Segments and SegmentSearch.
func (r *trainRun) findSegments() error {
	segs, search, err := r.segments()
	r.p.Segments, r.p.SegmentSearch = segs, search
	return err
}

// segments is findSegments' search.
func (r *trainRun) segments() ([]profile.Segment, profile.SegmentSearch, error) {
	p, t, x, cfg, seed := r.p, r.t, r.all, r.cfg.Segments, r.cfg.Seed
	var positives []int
	for _, i := range r.fit {
		if r.lab.y[i] == 1 {
			positives = append(positives, i)
		}
	}
	cfg.defaults()
	enc := p.Encoder
	cols := segmentColumns(enc, cfg)
	search := profile.SegmentSearch{Columns: cols, Positives: len(positives), Space: cfg.Space}
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
	case profile.SpaceFeatures:
		xp = clusterMatrix(x, enc, cols, clustered, true)
	case profile.SpaceAttributions:
		// One row of attributions per positive account, not per table row.
		xa := mat.NewDense(len(clustered), enc.Width, nil)
		row := make([]float64, enc.Width)
		rows := make([]int, len(clustered))
		for j, i := range clustered {
			copy(row, x.RawRowView(i))
			p.Model.Explain(row, xa.RawRowView(j))
			rows[j] = j
		}
		xp = groupedMatrix(xa, enc, cols, rows)
	default:
		return nil, search, fmt.Errorf("find segments: unknown space %q (want %q or %q): %w", cfg.Space, profile.SpaceAttributions, profile.SpaceFeatures, icp.ErrInvalid)
	}
	base := p.Baseline
	type option struct {
		segs     []profile.Segment
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
		sil := model.Silhouette(xp, labels, 1000, seed)
		if math.IsNaN(sil) {
			sil = 0 // fewer than two clusters (identical points): no separation, and JSON holds no NaN
		}
		ks := profile.KScore{K: k, Silhouette: sil, Stability: stability(xp, labels, k, cfg.Resamples, seed)}
		if ks.Stability >= cfg.MinStability {
			segs, dropped, err := r.describeClusters(km, labels, clustered, cols, cfg)
			if err != nil {
				return nil, search, err
			}
			ks.Segments = len(segs)
			ks.Coverage = coverage(segs, t, positives)
			ks.Gain = infoGain(segs, t, r.fit, r.lab.y)
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
func infoGain(segs []profile.Segment, t *datasets.Table, labeled []int, y []float64) float64 {
	n := len(segs) + 1
	pos := make([]float64, n)
	tot := make([]float64, n)
	var allPos float64
	for _, i := range labeled {
		k := profile.SegmentOf(segs, t, i)
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
func coverage(segs []profile.Segment, t *datasets.Table, positives []int) float64 {
	if len(positives) == 0 {
		return 0
	}
	n := 0
	for _, i := range positives {
		if profile.SegmentOf(segs, t, i) >= 0 {
			n++
		}
	}
	return float64(n) / float64(len(positives))
}

// describeClusters learns the rule and evidence of each cluster of the
// clustering km of the positives (labels[j] is the cluster of
// positives[j]), on the columns cols, and keeps the clusters whose rule
// passes the evidence test, largest first.
func (r *trainRun) describeClusters(km *model.KMeans, labels, positives []int, cols []string, cfg SegmentConfig) ([]profile.Segment, []string, error) {
	t, x, od, enc, base := r.t, r.all, r.od, r.p.Encoder, r.p.Baseline
	hold := od.within(r.hold).evidence(r.hold)
	isPos := make([]float64, len(positives))
	var segs []profile.Segment
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
		sg := profile.Segment{Size: len(members), Share: float64(len(members)) / float64(len(positives)), Rule: rule, RuleText: rule.String()}
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
		in := matching(&rule, t, r.labeled)
		sg.Evidence = od.evidence(in)
		against(&sg.Evidence, base)
		sg.Accounts, sg.Positives, sg.PositiveRate, sg.Lift = sg.Evidence.Closed, sg.Evidence.Positives, sg.Evidence.PositiveRate, sg.Evidence.Lift
		he := od.evidence(matching(&rule, t, r.hold))
		against(&he, hold)
		sg.HoldoutAccounts, sg.HoldoutLift = he.Closed, he.Lift
		sg.HoldoutZ = zScore(he.Positives, he.Closed, hold.PositiveRate)
		if sg.HoldoutLift < cfg.MinLift || sg.HoldoutZ < cfg.MinZ {
			dropped = append(dropped, fmt.Sprintf("`%s`: on the holdout, %d closed accounts at %.2f× the base rate (z = %.1f)", sg.RuleText, he.Closed, he.Lift, sg.HoldoutZ))
			continue
		}
		sg.Traits = traits.Describe(t, enc, members)
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

// ruleName names a segment from its rule's first clause: levels first,
// then ranges, tags and exclusions ("SaaS/FinTech, 50–500 employees, on
// hubspot, not APAC").
func ruleName(r *profile.Rule, k int) string {
	if r.Empty() {
		return fmt.Sprintf("Segment %d", k)
	}
	var levels, ranges, tags, nots []string
	for _, c := range r.Clauses[0].Conds {
		switch {
		case c.Op == profile.OpIn && !c.Negate:
			levels = append(levels, strings.Join(c.Levels, "/"))
		case c.Op == profile.OpIn:
			nots = append(nots, "not "+strings.Join(c.Levels, "/"))
		case c.Op == profile.OpHas && !c.Negate:
			tags = append(tags, "on "+c.Tag)
		case c.Op == profile.OpHas:
			nots = append(nots, "without "+c.Tag)
		case c.Op == profile.OpIs && !c.Negate:
			levels = append(levels, c.Column)
		case c.Op == profile.OpIs:
			nots = append(nots, "no "+c.Column)
		case c.Op == profile.OpRange:
			lo, _, hi, _ := c.Bounds()
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
func segmentSummary(s *profile.Segment, base profile.Evidence) string {
	e := s.Evidence
	var b strings.Builder
	fmt.Fprintf(&b, "Accounts where %s. %d closed accounts match; they win %s of their deals, %s the base rate of %s",
		s.RuleText, e.Closed, profile.FormatPercent(e.WinRate), profile.FormatTimes(e.WinLift), profile.FormatPercent(base.WinRate))
	var more []string
	if e.HasChurn && base.HasChurn {
		more = append(more, fmt.Sprintf("churn %s of the time (%s overall)", profile.FormatPercent(e.ChurnRate), profile.FormatPercent(base.ChurnRate)))
	}
	if e.HasCycle && base.HasCycle {
		more = append(more, fmt.Sprintf("close in a median %s days (%s overall)", profile.FormatNumber(e.MedianCycleDays), profile.FormatNumber(base.MedianCycleDays)))
	}
	if e.HasLTV && base.HasLTV {
		more = append(more, fmt.Sprintf("are worth a median LTV of %s (%s overall)", profile.FormatNumber(e.MedianLTV), profile.FormatNumber(base.MedianLTV)))
	}
	if len(more) > 0 {
		b.WriteString("; once won they ")
		b.WriteString(joinAnd(more))
	}
	fmt.Fprintf(&b, ". They hold %s of all won deals.", profile.FormatPercent(e.ShareOfWins))
	return b.String()
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
