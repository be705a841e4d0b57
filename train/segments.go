package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/traits"
)

// SegmentConfig tunes segment discovery. The zero value is ready to use.
type SegmentConfig struct {
	// MinPositives is the fewest positive training accounts worth a
	// search; zero means 20.
	MinPositives int
	// MaxRows is the most closed training accounts the rules are searched
	// on: beyond it, a seeded sample of this size is searched, while the
	// exact cut points, the holdout checks and the evidence use every
	// account. Zero means 200,000.
	MaxRows int
	// MinShare drops candidate segments holding less than this share of
	// the positive training accounts; zero means 0.03.
	MinShare float64
	// MaxSegments caps the segments of one search; zero means 12.
	MaxSegments int
	// Columns are the columns rules may use. Nil means every feature
	// column except dates and behaviour counts (names such as
	// web_visits_30d, trial_users, support_tickets_90d, logins, sessions,
	// usage): who a customer is defines a segment, not how busy it was
	// this month.
	Columns []string
	// MinLift is the least lift in the positive rate a segment's rule must
	// show on the holdout (the newest closed deals, which the search does
	// not see), and MinZ the least binomial z statistic of that excess;
	// zero means 1.25 and 3. A holdout too small to reach MinZ even at
	// the training rate accepts z >= 1.64 with the lift, and the segment's
	// confidence says "moderate".
	MinLift, MinZ float64
	// Depth is the most conditions of a rule, and Width the beam width of
	// the search; zero means 6 and 8.
	Depth, Width int
	// RefineAlpha is the significance level at which the training
	// accounts a condition keeps must do better than those it removes for
	// the condition to join a rule, divided by the number of conditions
	// tried on the column (a range is chosen among thousands, a boolean
	// between two); zero means 0.05.
	RefineAlpha float64
	// Previous are the segments of the model this one replaces (train
	// --previous): a segment holding mostly the same accounts of the
	// training table as a previous one (Jaccard index at least
	// MatchJaccard, zero meaning 0.5) keeps its ID and name, so that a
	// retrain does not rename the ICP; new segments get new IDs.
	Previous     []profile.Segment
	MatchJaccard float64
}

func (cfg *SegmentConfig) defaults() {
	if cfg.MinPositives == 0 {
		cfg.MinPositives = 20
	}
	if cfg.MaxRows == 0 {
		cfg.MaxRows = 200_000
	}
	if cfg.MinShare == 0 {
		cfg.MinShare = 0.03
	}
	if cfg.MaxSegments == 0 {
		cfg.MaxSegments = 12
	}
	if cfg.MinLift == 0 {
		cfg.MinLift = 1.25
	}
	if cfg.MinZ == 0 {
		cfg.MinZ = 3
	}
	if cfg.Depth == 0 {
		cfg.Depth = 6
	}
	if cfg.Width == 0 {
		cfg.Width = 8
	}
	if cfg.RefineAlpha == 0 {
		cfg.RefineAlpha = 0.05
	}
	if cfg.MatchJaccard == 0 {
		cfg.MatchJaccard = 0.5
	}
}

// behaviourName matches columns that count recent activity rather than
// describe the company.
var behaviourName = regexp.MustCompile(`(?i)(visit|trial|ticket|session|login|usage|click|open|event|activity|page_?view|download|meeting|call|_\d+d$)`)

// segmentColumns returns the columns rules may use.
func segmentColumns(enc *features.Encoder, cfg SegmentConfig) []string {
	if cfg.Columns != nil {
		return cfg.Columns
	}
	var cols []string
	for _, ce := range enc.Columns {
		if ce.Role == features.RoleDate || ce.Role == features.RoleNumeric && behaviourName.MatchString(ce.Name) {
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

// findSegments finds the segments: groups of accounts, each stated by a
// rule, that turn positive far more often than the rest. See search in
// subgroup.go for the rule search; here the searches run one after the
// other on what earlier segments leave (sequential covering), on the
// label and, when the label asks more than a win, on won deals too;
// each candidate must hold up on the holdout, its conditions that do not
// change the holdout's rate are pruned, and segments whose rules then
// coincide are merged.
//
// It sets the profile's Segments and SegmentSearch.
func (r *trainRun) findSegments() error {
	segs, search := r.segments()
	r.p.Segments, r.p.SegmentSearch = segs, search
	return nil
}

// outcomeSearch is one outcome segments are searched for.
type outcomeSearch struct {
	name string
	y    []float64
}

// candidate is a segment before the holdout has judged it.
type candidate struct {
	rule    profile.Rule
	outcome string
	// y is the outcome it was found for, per table row; the holdout
	// judges it on that outcome.
	y []float64
	// pair is, for the two halves of a split (see split), a number they
	// share, so that they are not merged back; 0 otherwise.
	pair int
}

// segments is findSegments' search.
func (r *trainRun) segments() ([]profile.Segment, profile.SegmentSearch) {
	cfg := r.cfg.Segments
	cfg.defaults()
	enc := r.p.Encoder
	cols := segmentColumns(enc, cfg)
	var positives int
	for _, i := range r.fit {
		if r.lab.y[i] == 1 {
			positives++
		}
	}
	search := profile.SegmentSearch{Method: profile.MethodRules, Columns: cols, Positives: positives, Rows: len(r.fit)}
	if positives < cfg.MinPositives {
		search.Reason = fmt.Sprintf("too few positive accounts to search: %d in the training deals (at least %d needed)", positives, cfg.MinPositives)
		return nil, search
	}
	views, rows := r.searchRows(cols, cfg)
	if len(rows) < len(r.fit) {
		search.Sampled = len(rows)
	}
	// One covering across the outcomes: a search for the label starts
	// from what the won deals' segments leave.
	var cands []candidate
	left := rows
	outcomes := r.outcomes()
	for _, o := range outcomes {
		search.Outcomes = append(search.Outcomes, o.name)
		var found []candidate
		found, left = r.cover(views, rows, left, o, cfg)
		cands = append(cands, found...)
	}
	if len(outcomes) > 1 {
		cands = r.split(views, rows, cands, outcomes[len(outcomes)-1], cfg)
	}
	segs, dropped, pruned := r.judge(cands, cfg)
	search.Dropped, search.Pruned = dropped, pruned
	search.K = len(segs)
	if len(segs) == 0 {
		search.Reason = "no group of accounts stated by a rule turns positive clearly more often than the base rate on the holdout"
		if len(cands) == 0 {
			search.Reason = "no group of accounts stated by a rule turns positive significantly more often than the base rate"
		}
		return nil, search
	}
	search.Reliable = true
	r.nameSegments(segs, cfg)
	return segs, search
}

// searchRows returns the closed training rows the rules are searched on
// (a seeded sample of cfg.MaxRows when there are more) and the views of
// cols over the table, built once for the segments and the anti-ICP.
func (r *trainRun) searchRows(cols []string, cfg SegmentConfig) ([]view, []int) {
	rows := r.fit
	if len(rows) > cfg.MaxRows {
		rows = sampleRows(rows, cfg.MaxRows, r.cfg.Seed)
	}
	if r.views == nil {
		r.views = newViews(r.t, r.p.Encoder, cols, rows)
	}
	return r.views, rows
}

// outcomes returns the outcomes searched: won deals when the table has a
// won column and the label asks more than a win (so that a recipe that
// wins but churns is found and shown as such), then the label.
func (r *trainRun) outcomes() []outcomeSearch {
	lab := r.lab
	label := outcomeSearch{name: lab.def.Target, y: lab.y}
	if lab.def.Target == TargetWon || lab.def.Target == TargetRetained || lab.def.WonColumn == "" {
		return []outcomeSearch{label}
	}
	won := make([]float64, len(lab.y))
	differs := false
	for i, v := range lab.y {
		switch {
		case math.IsNaN(v):
			won[i] = math.NaN()
		case lab.won[i]:
			won[i] = 1
		}
		differs = differs || won[i] != v && !math.IsNaN(v)
	}
	if !differs {
		return []outcomeSearch{label}
	}
	return []outcomeSearch{{name: TargetWon, y: won}, label}
}

// cover runs the search for one outcome again and again, each time on the
// rows the rules found so far leave (starting from left, the rows earlier
// outcomes' rules left), against the outcome's rate over all the search
// rows, and returns the rules and the rows they leave.
func (r *trainRun) cover(views []view, rows, left []int, o outcomeSearch, cfg SegmentConfig) ([]candidate, []int) {
	s := &searcher{views: views, y: o.y, a: 0.3, fitA: 0.5, width: cfg.Width, depth: cfg.Depth, alpha: cfg.RefineAlpha}
	var n, k float64
	for _, i := range rows {
		n++
		k += o.y[i]
	}
	if n == 0 || k == 0 || k == n {
		return nil, left
	}
	s.t = k / n
	s.minPos = math.Max(5, cfg.MinShare*k)
	var out []candidate
	for len(out) < cfg.MaxSegments {
		g, ok := s.search(left)
		if !ok {
			break
		}
		s.exactRanges(left, &g)
		s.orMissing(left, &g)
		// A group that does not reach MinLift on the training deals
		// cannot on the holdout either: the covering is done.
		if len(g.conds) == 0 || !s.supported(g.n, g.k) || g.k/g.n < cfg.MinLift*s.t {
			break
		}
		out = append(out, candidate{rule: s.rule(&g), outcome: o.name, y: o.y})
		rest := make([]int, 0, len(left))
		in := 0
		for _, i := range left {
			if in < len(g.rows) && g.rows[in] == i {
				in++
				continue
			}
			rest = append(rest, i)
		}
		left = rest
	}
	return out, left
}

// judge checks the candidates on the holdout in order, each on the
// holdout accounts no earlier kept segment holds; prunes the conditions
// of the kept ones that do not change the holdout's rate; merges
// segments whose rules then coincide or hold nothing of their own; and
// returns the segments with their evidence, with the reasons for what
// was dropped and pruned.
func (r *trainRun) judge(cands []candidate, cfg SegmentConfig) ([]profile.Segment, []string, []string) {
	t, y := r.t, r.lab.y
	hold := r.hold
	// The holdout's base rate and positives of each outcome.
	type base struct{ rate, pos float64 }
	bases := map[string]base{}
	baseOf := func(c *candidate) base {
		if b, ok := bases[c.outcome]; ok {
			return b
		}
		var b base
		for _, i := range hold {
			b.pos += c.y[i]
		}
		b.rate = b.pos / math.Max(1, float64(len(hold)))
		bases[c.outcome] = b
		return b
	}
	judge := func(c *candidate, rows []int) (string, string, counts) {
		b := baseOf(c)
		he := holdoutOf(&c.rule, t, rows, c.y)
		conf, why := confidence(he, b.rate, r.searchRate(&c.rule, c.y), b.pos, cfg)
		return conf, why, he
	}
	var kept []candidate
	var dropped, pruned []string
	taken := make([]bool, t.Rows())
	for _, c := range cands {
		rows := free(hold, taken)
		conf, why, _ := judge(&c, rows)
		if conf == "" {
			dropped = append(dropped, fmt.Sprintf("`%s` (found for %s): %s", c.rule.String(), c.outcome, why))
			continue
		}
		kept = append(kept, c)
		for _, i := range rows {
			if c.rule.Match(t, i) {
				taken[i] = true
			}
		}
	}
	// Prune, then merge: a pruned rule may now hold what a later one did.
	for k := range kept {
		for _, p := range r.prune(&kept[k], kept[:k], baseOf(&kept[k]).rate) {
			pruned = append(pruned, p)
		}
	}
	kept, merged := r.merge(kept)
	dropped = append(dropped, merged...)

	// Evidence of the segments as served: first match wins.
	var segs []profile.Segment
	taken = make([]bool, t.Rows())
	totalPos := 0
	for _, i := range r.fit {
		if y[i] == 1 {
			totalPos++
		}
	}
	for _, c := range kept {
		own := free(r.fit, taken)
		hrows := free(hold, taken)
		served := free(r.labeled, taken)
		conf, why, he := judge(&c, hrows)
		var members, matched []int
		var fitN, fitK int
		var found, foundPos float64
		for _, i := range own {
			if c.rule.Match(t, i) {
				matched = append(matched, i)
				fitN++
				found += c.y[i]
				if y[i] == 1 {
					members = append(members, i)
					fitK++
				}
			}
		}
		for _, i := range r.fit {
			foundPos += c.y[i]
		}
		if conf == "" || found < cfg.MinShare*foundPos {
			if conf != "" {
				why = fmt.Sprintf("holds %.0f of the %s of the training deals, under %.0f%% of them", found, c.outcome, 100*cfg.MinShare)
			}
			dropped = append(dropped, fmt.Sprintf("`%s` (found for %s): %s", c.rule.String(), c.outcome, why))
			continue
		}
		for _, i := range append(hrows, own...) {
			if c.rule.Match(t, i) {
				taken[i] = true
			}
		}
		b := baseOf(&c)
		sg := profile.Segment{Rule: c.rule, RuleText: c.rule.String(), Size: fitK, Share: float64(fitK) / float64(max(1, totalPos)),
			Confidence: conf, Outcomes: c.outcome}
		sg.Precision = float64(fitK) / float64(max(1, fitN))
		sg.Recall = sg.Share
		sg.HoldoutAccounts, sg.HoldoutPositives = int(he.n), int(he.k)
		sg.HoldoutRate = he.k / math.Max(1, he.n)
		sg.HoldoutRateInterval = profile.Wilson(int(he.k), int(he.n))
		sg.HoldoutBaseRate = b.rate
		if b.rate > 0 {
			sg.HoldoutLift = sg.HoldoutRate / b.rate
		}
		sg.HoldoutZ = zScore(int(he.k), int(he.n), b.rate)
		sg.Evidence = r.od.evidence(matching(&sg.Rule, t, served))
		against(&sg.Evidence, r.p.Baseline)
		sg.Accounts, sg.Positives, sg.PositiveRate, sg.Lift = sg.Evidence.Closed, sg.Evidence.Positives, sg.Evidence.PositiveRate, sg.Evidence.Lift
		sg.Warning = warning(sg.Evidence, r.p.Baseline, r.lab.def.Target)
		sg.Traits = traits.Describe(t, r.p.Encoder, members)
		sg.Centroid = centroid(r, members, matched)
		segs = append(segs, sg)
	}
	return segs, dropped, pruned
}

// split looks inside each segment found for won deals for a part whose
// accounts become positives under the label (ideal, retained) far more
// often than the rest of it: two recipes that win alike, one of whose
// customers churn or stay small, read as one for won deals. When the
// rest's odds of the label are at most a third of the part's, and
// significantly so, the part becomes a segment of its own, found for the
// label and placed first, so that the won segment holds the rest and its
// evidence shows what they do once won rather than being merged away.
func (r *trainRun) split(views []view, rows []int, cands []candidate, label outcomeSearch, cfg SegmentConfig) []candidate {
	const maxOdds = 1.0 / 3
	var out []candidate
	taken := make([]bool, r.t.Rows())
	var labelPos float64
	for _, i := range rows {
		labelPos += label.y[i]
	}
	for _, c := range cands {
		var in []int
		for _, i := range rows {
			if !taken[i] && c.rule.Match(r.t, i) {
				in = append(in, i)
				taken[i] = true
			}
		}
		if c.outcome != TargetWon || len(in) == 0 {
			out = append(out, c)
			continue
		}
		var n, k float64
		for _, i := range in {
			n++
			k += label.y[i]
		}
		s := &searcher{views: views, y: label.y, a: 0.3, fitA: 0.5, t: k / n, width: cfg.Width, depth: cfg.Depth, alpha: cfg.RefineAlpha,
			minPos: math.Max(5, cfg.MinShare*labelPos)}
		g, ok := s.search(in)
		if ok {
			s.exactRanges(in, &g)
			s.orMissing(in, &g)
		}
		rest := counts{n - g.n, k - g.k}
		if !ok || len(g.conds) == 0 || rest.n < s.minPos || g.n == 0 ||
			odds(rest.k/rest.n) > maxOdds*odds(g.k/g.n) || s.twoZ(g.k, g.n, rest.k, rest.n) < cfg.MinZ {
			out = append(out, c)
			continue
		}
		part := s.rule(&g)
		part.Clauses[0].Conds = conjoin(c.rule.Clauses[0].Conds, part.Clauses[0].Conds)
		c.pair = len(out) + 1
		c.rule = without(c.rule, part)
		out = append(out, candidate{rule: part, outcome: label.name, y: label.y, pair: c.pair}, c)
	}
	return out
}

// without returns rule w rid of the accounts of part, a narrowing of w,
// where one condition can say so: when part differs from w by the levels
// of one condition only, w keeps the other levels. Otherwise w is
// returned as it is (the part, placed first, takes its accounts).
func without(w, part profile.Rule) profile.Rule {
	cw, cp := w.Clauses[0].Conds, part.Clauses[0].Conds
	if len(cw) != len(cp) {
		return w
	}
	diff := -1
	for j := range cw {
		if cw[j].String() != cp[j].String() {
			if diff >= 0 || cw[j].Column != cp[j].Column {
				return w
			}
			diff = j
		}
	}
	if diff < 0 || cw[diff].Op != profile.OpIn || cp[diff].Op != profile.OpIn || cw[diff].Negate || cp[diff].Negate {
		return w
	}
	var rest []string
	for _, lv := range cw[diff].Levels {
		if !slices.Contains(cp[diff].Levels, lv) {
			rest = append(rest, lv)
		}
	}
	if len(rest) == 0 {
		return w
	}
	conds := slices.Clone(cw)
	conds[diff].Levels = rest
	return profile.Rule{Clauses: []profile.Clause{{Conds: conds}}}
}

// conjoin returns the conditions of a and of b, a condition of b on a
// column a has a condition on stated with it as one where it can be
// ("industry in {A, B}" and "industry = A" read "industry = A").
func conjoin(a, b []profile.Cond) []profile.Cond {
	out := slices.Clone(a)
	for _, cb := range b {
		k := slices.IndexFunc(out, func(c profile.Cond) bool { return c.Column == cb.Column })
		if k >= 0 {
			if both, ok := intersectCond(&out[k], &cb); ok {
				out[k] = both
				continue
			}
		}
		out = append(out, cb)
	}
	return out
}

// intersectCond returns the condition met by the values meeting both a
// and b (on one column), false when one condition cannot state it.
func intersectCond(a, b *profile.Cond) (profile.Cond, bool) {
	u := *a
	u.Missing = a.Missing && b.Missing
	switch {
	case a.Op == profile.OpIn && b.Op == profile.OpIn && !a.Negate && !b.Negate:
		u.Levels = nil
		for _, lv := range a.Levels {
			if slices.Contains(b.Levels, lv) {
				u.Levels = append(u.Levels, lv)
			}
		}
		return u, len(u.Levels) > 0
	case a.Op == profile.OpIn && b.Op == profile.OpIn && !a.Negate:
		u.Levels = nil
		for _, lv := range a.Levels {
			if !slices.Contains(b.Levels, lv) {
				u.Levels = append(u.Levels, lv)
			}
		}
		return u, len(u.Levels) > 0
	case a.Op == profile.OpIn && b.Op == profile.OpIn && !b.Negate:
		return intersectCond(b, a)
	case a.Op == profile.OpRange && b.Op == profile.OpRange && a.Integer == b.Integer && a.Date == b.Date:
		if b.Lo != nil && (a.Lo == nil || *b.Lo > *a.Lo) {
			u.Lo = b.Lo
		}
		if b.Hi != nil && (a.Hi == nil || *b.Hi < *a.Hi) {
			u.Hi = b.Hi
		}
		return u, u.Lo == nil || u.Hi == nil || *u.Lo < *u.Hi
	case a.Op == profile.OpHasAll && b.Op == profile.OpHasAll && !a.Negate && !b.Negate:
		u.Tags = sortedUnion(a.Tags, b.Tags)
		return u, true
	case a.Op == profile.OpIs && b.Op == profile.OpIs && a.Negate == b.Negate:
		return u, true
	}
	return u, false
}

func odds(p float64) float64 {
	if p >= 1 {
		return math.Inf(1)
	}
	return p / (1 - p)
}

// free returns the rows not taken.
func free(rows []int, taken []bool) []int {
	out := make([]int, 0, len(rows))
	for _, i := range rows {
		if !taken[i] {
			out = append(out, i)
		}
	}
	return out
}

// counts are the accounts and positives of a group.
type counts struct{ n, k float64 }

// sortedUnion returns the values of a and b, each once, sorted.
func sortedUnion(a, b []string) []string {
	u := slices.Clone(a)
	for _, v := range b {
		if !slices.Contains(u, v) {
			u = append(u, v)
		}
	}
	sort.Strings(u)
	return u
}

// holdoutOf counts the rows matching rule and their positives.
func holdoutOf(rule *profile.Rule, t *datasets.Table, rows []int, y []float64) counts {
	var c counts
	for _, i := range rows {
		if rule.Match(t, i) {
			c.n++
			c.k += y[i]
		}
	}
	return c
}

// searchRate is the lower end of the 95% interval of the rule's positive
// rate on the training deals: what the holdout may expect at least, the
// training rate being both noisy and chosen for being high.
func (r *trainRun) searchRate(rule *profile.Rule, y []float64) float64 {
	c := holdoutOf(rule, r.t, r.fit, y)
	return profile.Wilson(int(c.k), int(c.n)).Lo
}

// minHoldoutPositives is the fewest positives a holdout must hold to
// confirm or refute a segment: with fewer (a table of a few dozen won
// deals), a segment the training deals support and the holdout does not
// contradict is proposed with confidence low.
const minHoldoutPositives = 30

// confidence judges a rule by its holdout counts he against the
// holdout's base rate (holdPos positives in the whole holdout):
// ConfidenceHigh, ConfidenceModerate, ConfidenceLow, or "" and why the
// evidence does not hold. trainRate is the rule's rate on the training
// deals (the low end of its interval), which says whether the holdout
// could have confirmed it. The
// tests are exact binomial tails, which stay honest for the few accounts
// of a small holdout where the normal approximation does not.
func confidence(he counts, base, trainRate float64, holdPos float64, cfg SegmentConfig) (string, string) {
	if he.n == 0 && holdPos >= minHoldoutPositives {
		return "", "no account of the holdout matches it"
	}
	rate := he.k / math.Max(he.n, 1)
	lift := rate / math.Max(base, 1e-12)
	z := zScore(int(he.k), int(he.n), base)
	iv := profile.Wilson(int(he.k), int(he.n))
	stated := fmt.Sprintf("on the holdout, %d closed accounts at %s (%s–%s) against a base rate of %s, %.2f× (z = %.1f)",
		int(he.n), profile.FormatPercent(rate), profile.FormatPercent(iv.Lo), profile.FormatPercent(iv.Hi), profile.FormatPercent(base), lift, z)
	tail := binomialTail(int(he.k), int(he.n), base)
	if lift >= cfg.MinLift && tail <= distuv.UnitNormal.CDF(-cfg.MinZ) {
		return profile.ConfidenceHigh, stated
	}
	// Could the holdout have confirmed it had the training rate held?
	reach := 0.0
	if base > 0 && base < 1 {
		reach = (trainRate - base) * math.Sqrt(he.n) / math.Sqrt(base*(1-base))
	}
	small := holdPos < minHoldoutPositives
	if lift >= cfg.MinLift && (reach < cfg.MinZ || small) && tail <= 0.05 {
		return profile.ConfidenceModerate, stated
	}
	if small && (he.n == 0 || lift >= 1) {
		return profile.ConfidenceLow, stated + "; too few deals to confirm it"
	}
	return "", stated
}

// binomialTail is the chance of k or more successes in n trials at rate
// p.
func binomialTail(k, n int, p float64) float64 {
	if k <= 0 {
		return 1
	}
	if n <= 0 || k > n {
		return 0
	}
	return 1 - distuv.Binomial{N: float64(n), P: p}.CDF(float64(k-1))
}

// prune drops, one at a time, each condition of rule that does not change
// the rate on the holdout: the holdout accounts that meet every other
// condition but not this one (at least five of them) are, by likelihood,
// at least three times likelier to turn positive at the rule's own
// holdout rate than at the holdout's base rate. Where the holdout cannot
// tell, the condition stays: the training deals showed it significant.
// The holdout accounts of earlier segments are left out. It returns what
// it pruned.
//
// It is a backward elimination: each round judges every condition given
// the others and drops the one the holdout speaks most clearly against
// (the largest likelihood ratio), then judges the rest again. Dropping
// the first that fails instead would judge a condition the rule needs in
// the company of one it does not: a channel condition that raises every
// account's rate leaves few holdout accounts beside a size bound, where
// chance can make the bound look idle, while once the channel condition
// goes, the bound has the holdout accounts to show that it matters.
func (r *trainRun) prune(c *candidate, earlier []candidate, base float64) []string {
	const minRows = 5
	t, y, rule := r.t, c.y, &c.rule
	var rows []int
next:
	for _, i := range r.hold {
		for k := range earlier {
			if earlier[k].rule.Match(t, i) {
				continue next
			}
		}
		rows = append(rows, i)
	}
	var out []string
	cl := &rule.Clauses[0]
	for len(cl.Conds) > 1 {
		weak, weakLLR := -1, math.Log(3)
		var weakIn, weakAdded counts
		for j := range cl.Conds {
			in, added := r.pruneCounts(cl, j, rows, y)
			if added.n < minRows || in.n == 0 {
				continue
			}
			pr, pb := shrunk(in.k, in.n, base), math.Min(math.Max(base, 1e-4), 1-1e-4)
			llr := added.k*math.Log(pr/pb) + (added.n-added.k)*math.Log((1-pr)/(1-pb))
			if pr > pb && llr >= weakLLR {
				weak, weakLLR, weakIn, weakAdded = j, llr, in, added
			}
		}
		if weak < 0 {
			break
		}
		out = append(out, fmt.Sprintf("`%s` from `%s`: on the holdout the %d accounts it would exclude turn positive at %s, the rule's own at %s (base rate %s)",
			cl.Conds[weak].String(), rule.String(), int(weakAdded.n), profile.FormatPercent(weakAdded.k/weakAdded.n), profile.FormatPercent(weakIn.k/weakIn.n), profile.FormatPercent(base)))
		cl.Conds = slices.Delete(cl.Conds, weak, weak+1)
	}
	return out
}

// pruneCounts counts the rows of rows meeting every condition of cl but
// the j-th: those meeting it too (in) and those it excludes (added), with
// their positives.
func (r *trainRun) pruneCounts(cl *profile.Clause, j int, rows []int, y []float64) (in, added counts) {
	for _, i := range rows {
		meets := true
		for k := range cl.Conds {
			if k != j && !cl.Conds[k].Holds(r.t, i) {
				meets = false
				break
			}
		}
		if !meets {
			continue
		}
		if cl.Conds[j].Holds(r.t, i) {
			in.n++
			in.k += y[i]
		} else {
			added.n++
			added.k += y[i]
		}
	}
	return in, added
}

// merge merges candidates: a rule that an earlier one's covers is merged
// into it (it would hold nothing of its own), a rule that covers an
// earlier one and does alike replaces it, and two rules that differ
// by one condition only (a split of one group by a condition that does
// not matter, such as "bm = B2B SaaS" and "bm is not B2B SaaS") become
// one, the union of the two conditions, when their training deals turn
// positive at rates that do not differ significantly and the accounts the
// union adds (between two ranges) do not do significantly worse.
func (r *trainRun) merge(cands []candidate) ([]candidate, []string) {
	var out []candidate
	var why []string
	var rules []profile.Rule
	for _, c := range cands {
		rate := func(rule *profile.Rule) counts { return holdoutOf(rule, r.t, r.fit, c.y) }
		k, m, how := mergeInto(rules, &c.rule, rate, false)
		if k >= 0 && c.pair != 0 && out[k].pair == c.pair {
			k = -1
		}
		if k < 0 {
			out = append(out, c)
			rules = append(rules, c.rule)
			continue
		}
		why = append(why, fmt.Sprintf("`%s` (found for %s): %s `%s`", c.rule.String(), c.outcome, how, out[k].rule.String()))
		out[k].rule, rules[k] = m, m
		out[k].addOutcome(c.outcome)
	}
	return out, why
}

// mergeRules merges rules as merge merges candidates; rate counts a
// rule's training accounts and positives, and low says that the rules
// look for a low rate (the anti-ICP).
func mergeRules(rules []profile.Rule, rate func(*profile.Rule) counts, low bool) []profile.Rule {
	var out []profile.Rule
	for k := range rules {
		at, m, _ := mergeInto(out, &rules[k], rate, low)
		if at < 0 {
			out = append(out, rules[k])
			continue
		}
		out[at] = m
	}
	return out
}

// mergeInto finds the rule of rules that rule merges into: one that
// covers it, or one it differs from by one condition whose union keeps
// the rate. It returns its index (-1 for none), the merged rule and how
// they merged.
func mergeInto(rules []profile.Rule, rule *profile.Rule, rate func(*profile.Rule) counts, low bool) (int, profile.Rule, string) {
	for k := range rules {
		if covers(&rules[k], rule) {
			return k, rules[k], "merged into"
		}
		if covers(rule, &rules[k]) && similar(rate(&rules[k]), rate(rule), rate(rule), low) {
			return k, *rule, "holds all of and does alike as, so replaces,"
		}
		if m, ok := unionRule(&rules[k], rule); ok && similar(rate(&rules[k]), rate(rule), rate(&m), low) {
			return k, m, "differs by one condition from, and does alike as, the rule it joins:"
		}
	}
	return -1, profile.Rule{}, ""
}

func (c *candidate) addOutcome(o string) {
	if !slices.Contains(strings.Split(c.outcome, ", "), o) {
		c.outcome += ", " + o
	}
}

// similar reports whether two groups a and b (overlapping or not) turn
// positive at rates that do not differ significantly (|z| < 2), and the
// accounts their union u holds beyond them do not do significantly worse
// (with low, better) than the two together.
func similar(a, b, u counts, low bool) bool {
	s := searcher{low: low}
	if math.Abs(s.twoZ(a.k, a.n, b.k, b.n)) >= 2 {
		return false
	}
	pooled := counts{a.n + b.n, a.k + b.k}
	extra := counts{u.n - pooled.n, u.k - pooled.k}
	return extra.n <= 0 || s.twoZ(pooled.k, pooled.n, extra.k, extra.n) < 2
}

// unionRule returns the rule of one clause whose conditions are those of
// a and b, which must be on the same columns and equal but on one, where
// it holds the union of the two; false when they are not so or the union
// cannot be stated.
func unionRule(a, b *profile.Rule) (profile.Rule, bool) {
	if len(a.Clauses) != 1 || len(b.Clauses) != 1 {
		return profile.Rule{}, false
	}
	ca, cb := a.Clauses[0].Conds, b.Clauses[0].Conds
	if len(ca) != len(cb) {
		return profile.Rule{}, false
	}
	diff := -1
	for j := range ca {
		k := slices.IndexFunc(cb, func(c profile.Cond) bool { return c.Column == ca[j].Column })
		if k < 0 {
			return profile.Rule{}, false
		}
		if ca[j].String() != cb[k].String() {
			if diff >= 0 {
				return profile.Rule{}, false
			}
			diff = j
		}
	}
	if diff < 0 {
		return profile.Rule{}, false
	}
	k := slices.IndexFunc(cb, func(c profile.Cond) bool { return c.Column == ca[diff].Column })
	u, keep, ok := unionCond(&ca[diff], &cb[k])
	if !ok {
		return profile.Rule{}, false
	}
	conds := slices.Clone(ca)
	if keep {
		conds[diff] = u
	} else {
		conds = slices.Delete(conds, diff, diff+1)
	}
	if len(conds) == 0 {
		return profile.Rule{}, false
	}
	return profile.Rule{Clauses: []profile.Clause{{Conds: conds}}}, true
}

// unionCond returns the condition met by the values meeting a or b (on
// one column); keep is false when the union is no condition at all.
func unionCond(a, b *profile.Cond) (u profile.Cond, keep, ok bool) {
	u = *a
	u.Missing = a.Missing || b.Missing
	switch {
	case a.Op == profile.OpIn && b.Op == profile.OpIn && !a.Negate && !b.Negate:
		u.Levels = sortedUnion(a.Levels, b.Levels)
		return u, true, true
	case a.Op == profile.OpIn && b.Op == profile.OpIn && a.Negate && b.Negate:
		u.Levels = nil
		for _, lv := range a.Levels {
			if slices.Contains(b.Levels, lv) {
				u.Levels = append(u.Levels, lv)
			}
		}
		return u, len(u.Levels) > 0, true
	case a.Op == profile.OpIn && b.Op == profile.OpIn:
		// "in S" or "not in T": not in T minus S.
		in, out := a, b
		if a.Negate {
			in, out = b, a
		}
		u = *out
		u.Missing = a.Missing || b.Missing
		u.Levels = nil
		for _, lv := range out.Levels {
			if !slices.Contains(in.Levels, lv) {
				u.Levels = append(u.Levels, lv)
			}
		}
		return u, len(u.Levels) > 0, true
	case a.Op == profile.OpRange && b.Op == profile.OpRange && a.Integer == b.Integer && a.Date == b.Date:
		if a.Lo == nil || b.Lo == nil {
			u.Lo = nil
		} else {
			lo := math.Min(*a.Lo, *b.Lo)
			u.Lo = &lo
		}
		if a.Hi == nil || b.Hi == nil {
			u.Hi = nil
		} else {
			hi := math.Max(*a.Hi, *b.Hi)
			u.Hi = &hi
		}
		return u, u.Lo != nil || u.Hi != nil, true
	case a.Op == profile.OpIs && b.Op == profile.OpIs:
		return u, false, a.Negate != b.Negate
	case a.Op == profile.OpHasAny && b.Op == profile.OpHasAny && !a.Negate && !b.Negate:
		u.Tags = sortedUnion(a.Tags, b.Tags)
		return u, true, true
	case a.Op == profile.OpHasAll && b.Op == profile.OpHasAll && !a.Negate && !b.Negate:
		u.Tags = nil
		for _, tag := range a.Tags {
			if slices.Contains(b.Tags, tag) {
				u.Tags = append(u.Tags, tag)
			}
		}
		return u, len(u.Tags) > 0, true
	}
	return u, false, false
}

// covers reports whether every account rule b matches, rule a matches:
// each condition of a is implied by one of b on the same column.
func covers(a, b *profile.Rule) bool {
	if a.Empty() || b.Empty() {
		return false
	}
	for _, ca := range a.Clauses[0].Conds {
		implied := false
		for _, cb := range b.Clauses[0].Conds {
			if ca.Column == cb.Column && implies(&cb, &ca) {
				implied = true
				break
			}
		}
		if !implied {
			return false
		}
	}
	return true
}

// implies reports whether every value meeting b meets a (b and a on the
// same column).
func implies(b, a *profile.Cond) bool {
	if b.Missing && !a.Missing {
		return false
	}
	switch {
	case a.Op == profile.OpIn && b.Op == profile.OpIn && !a.Negate && !b.Negate:
		for _, lv := range b.Levels {
			if !slices.Contains(a.Levels, lv) {
				return false
			}
		}
		return true
	case a.Op == profile.OpRange && b.Op == profile.OpRange:
		lo := func(c *profile.Cond) float64 {
			if c.Lo == nil {
				return math.Inf(-1)
			}
			return *c.Lo
		}
		hi := func(c *profile.Cond) float64 {
			if c.Hi == nil {
				return math.Inf(1)
			}
			return *c.Hi
		}
		return lo(b) >= lo(a) && hi(b) <= hi(a)
	case a.Op == profile.OpIs && b.Op == profile.OpIs:
		return a.Negate == b.Negate
	case a.Op == profile.OpHasAny && b.Op == profile.OpHasAny && !a.Negate && !b.Negate:
		for _, tag := range b.Tags {
			if !slices.Contains(a.Tags, tag) {
				return false
			}
		}
		return true
	case a.Op == profile.OpHasAll && b.Op == profile.OpHasAll && !a.Negate && !b.Negate:
		for _, tag := range a.Tags {
			if !slices.Contains(b.Tags, tag) {
				return false
			}
		}
		return true
	}
	return a.String() == b.String()
}

// warning says what a segment's won accounts do worse than most: churn,
// LTV, or the label's rate when the segment was found for won deals.
func warning(e, base profile.Evidence, target string) string {
	var parts []string
	if e.HasChurn && base.HasChurn && e.Won >= 10 && e.ChurnRateInterval.Lo > base.ChurnRate {
		parts = append(parts, fmt.Sprintf("once won they churn %s of the time (%s overall)", profile.FormatPercent(e.ChurnRate), profile.FormatPercent(base.ChurnRate)))
	}
	if e.HasLTV && base.HasLTV && e.Won >= 10 && e.MedianLTV < 0.8*base.MedianLTV {
		parts = append(parts, fmt.Sprintf("their median LTV is %s (%s overall)", profile.FormatNumber(e.MedianLTV), profile.FormatNumber(base.MedianLTV)))
	}
	if target != TargetWon && e.Closed > 0 && e.PositiveRateInterval.Hi < base.PositiveRate {
		parts = append(parts, fmt.Sprintf("they win, but only %s become %s (%s overall)", profile.FormatPercent(e.PositiveRate), targetWord(target), profile.FormatPercent(base.PositiveRate)))
	}
	return joinAnd(parts)
}

func targetWord(target string) string {
	switch target {
	case TargetRetained:
		return "retained customers"
	}
	return "ideal customers"
}

// centroid is the mean encoded row of members (of matched when there
// are none).
func centroid(r *trainRun, members, matched []int) []float64 {
	rows := members
	if len(rows) == 0 {
		rows = matched
	}
	c := make([]float64, r.p.Encoder.Width)
	for _, i := range rows {
		for j, v := range r.all.RawRowView(i) {
			c[j] += v
		}
	}
	for j := range c {
		c[j] /= float64(max(1, len(rows)))
	}
	return c
}

// nameSegments gives each segment its ID, name and summary: the previous model's
// ID and name when the segment holds mostly the same accounts as one of
// its segments, the next free ID and a name from its rule otherwise.
func (r *trainRun) nameSegments(segs []profile.Segment, cfg SegmentConfig) {
	ids := matchPrevious(segs, cfg.Previous, r.t, cfg.MatchJaccard)
	next := 1
	for _, ps := range cfg.Previous {
		if n, err := strconv.Atoi(strings.TrimPrefix(ps.ID, "seg-")); err == nil && n >= next {
			next = n + 1
		}
	}
	for k := range segs {
		s := &segs[k]
		if m := ids[k]; m.prev >= 0 {
			s.ID, s.Name, s.PreviousJaccard = cfg.Previous[m.prev].ID, cfg.Previous[m.prev].Name, m.jaccard
		} else {
			s.ID = fmt.Sprintf("seg-%d", next)
			next++
			s.Name = ruleName(&s.Rule, k+1)
		}
		_, newest := r.splitWords()
		s.Summary = segmentSummary(s, r.p.Baseline, r.lab.def.Target, newest)
	}
}

// prevMatch is the previous segment a segment matched, -1 for none.
type prevMatch struct {
	prev    int
	jaccard float64
}

// matchPrevious matches segs to prev one to one by the Jaccard index of
// the accounts of t each holds (first match wins, as served), greedily
// from the largest index, keeping pairs at or above minJ.
func matchPrevious(segs, prev []profile.Segment, t *datasets.Table, minJ float64) []prevMatch {
	out := make([]prevMatch, len(segs))
	for k := range out {
		out[k].prev = -1
	}
	if len(prev) == 0 {
		return out
	}
	cur, old := membership(segs, t), membership(prev, t)
	inter := make([][]float64, len(segs))
	size, oldSize := make([]float64, len(segs)), make([]float64, len(prev))
	for k := range inter {
		inter[k] = make([]float64, len(prev))
	}
	for i := range cur {
		if cur[i] >= 0 {
			size[cur[i]]++
		}
		if old[i] >= 0 {
			oldSize[old[i]]++
		}
		if cur[i] >= 0 && old[i] >= 0 {
			inter[cur[i]][old[i]]++
		}
	}
	type pair struct {
		k, o int
		j    float64
	}
	var pairs []pair
	for k := range segs {
		for o := range prev {
			if u := size[k] + oldSize[o] - inter[k][o]; u > 0 {
				if j := inter[k][o] / u; j >= minJ {
					pairs = append(pairs, pair{k, o, j})
				}
			}
		}
	}
	sort.SliceStable(pairs, func(a, b int) bool { return pairs[a].j > pairs[b].j })
	usedOld := make([]bool, len(prev))
	for _, p := range pairs {
		if out[p.k].prev < 0 && !usedOld[p.o] {
			out[p.k] = prevMatch{p.o, p.j}
			usedOld[p.o] = true
		}
	}
	return out
}

// membership returns the segment of segs each row of t falls in (the
// first whose rule it matches), -1 for none.
func membership(segs []profile.Segment, t *datasets.Table) []int {
	out := make([]int, t.Rows())
	for i := range out {
		out[i] = profile.SegmentOf(segs, t, i)
	}
	return out
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

// ruleName names a segment from its rule's first clause: levels first,
// then ranges, tags and exclusions ("FinTech/SaaS, 50–500 employees, on
// hubspot/segment, not APAC").
func ruleName(r *profile.Rule, k int) string {
	if r.Empty() {
		return fmt.Sprintf("Segment %d", k)
	}
	var levels, ranges, tags, nots []string
	for _, c := range r.Clauses[0].Conds {
		switch {
		case c.Op == profile.OpIn && !c.Negate:
			levels = append(levels, levelName(c.Column, c.Levels))
		case c.Op == profile.OpIn:
			nots = append(nots, "not "+levelName(c.Column, c.Levels))
		case c.Op == profile.OpHas && !c.Negate:
			tags = append(tags, "on "+c.Tag)
		case c.Op == profile.OpHas:
			nots = append(nots, "without "+c.Tag)
		case c.Op == profile.OpHasAny && !c.Negate:
			tags = append(tags, "on "+strings.Join(c.Tags, "/"))
		case c.Op == profile.OpHasAll && !c.Negate:
			tags = append(tags, "on "+strings.Join(c.Tags, "+"))
		case c.Op == profile.OpHasAny || c.Op == profile.OpHasAll:
			nots = append(nots, "without "+strings.Join(c.Tags, "/"))
		case c.Op == profile.OpIs && !c.Negate:
			levels = append(levels, c.Column)
		case c.Op == profile.OpIs:
			nots = append(nots, "no "+c.Column)
		case c.Op == profile.OpRange:
			lo, loOp, hi, _ := c.Bounds()
			switch {
			case c.Lo != nil && c.Hi != nil && loOp == "<=" && lo == hi:
				ranges = append(ranges, lo+" "+c.Column)
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

// levelName names a set of levels in a segment's name: the levels alone
// when they say what they are ("FinTech/SaaS"), with the column when they
// are words such as Yes, No or a code of three letters or less that read
// only with it ("OnlineSecurity No").
func levelName(column string, levels []string) string {
	set := strings.Join(levels, "/")
	for _, lv := range levels {
		switch strings.ToLower(lv) {
		case "yes", "no", "true", "false", "none", "other", "unknown":
			return column + " " + set
		}
		if len(lv) <= 3 && len(levels) == 1 {
			return column + " " + set
		}
	}
	return set
}

// segmentSummary says in one paragraph who the segment is, how it does
// against the baseline, with intervals, and how sure the holdout makes
// it.
func segmentSummary(s *profile.Segment, base profile.Evidence, target, newest string) string {
	e := s.Evidence
	var b strings.Builder
	fmt.Fprintf(&b, "Accounts where %s. %d closed accounts match; they win %s of their deals (95%% interval %s–%s), %s the base rate of %s",
		s.RuleText, e.Closed, profile.FormatPercent(e.WinRate), profile.FormatPercent(e.WinRateInterval.Lo), profile.FormatPercent(e.WinRateInterval.Hi),
		profile.FormatTimes(e.WinLift), profile.FormatPercent(base.WinRate))
	if target != TargetWon {
		fmt.Fprintf(&b, "; %s become %s (%s–%s; %s overall)", profile.FormatPercent(e.PositiveRate), targetWord(target),
			profile.FormatPercent(e.PositiveRateInterval.Lo), profile.FormatPercent(e.PositiveRateInterval.Hi), profile.FormatPercent(base.PositiveRate))
	}
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
	switch s.Confidence {
	case profile.ConfidenceHigh:
		fmt.Fprintf(&b, " Confidence high: on the %d %s deals it matches, %s turned positive (%s–%s), %s the holdout's base rate.",
			s.HoldoutAccounts, newest, profile.FormatPercent(s.HoldoutRate), profile.FormatPercent(s.HoldoutRateInterval.Lo), profile.FormatPercent(s.HoldoutRateInterval.Hi), profile.FormatTimes(s.HoldoutLift))
	case profile.ConfidenceModerate:
		fmt.Fprintf(&b, " Confidence moderate: only %d of the %s deals match, %s of them positive (%s–%s), %s the holdout's base rate; more deals will tell.",
			s.HoldoutAccounts, newest, profile.FormatPercent(s.HoldoutRate), profile.FormatPercent(s.HoldoutRateInterval.Lo), profile.FormatPercent(s.HoldoutRateInterval.Hi), profile.FormatTimes(s.HoldoutLift))
	case profile.ConfidenceLow:
		fmt.Fprintf(&b, " Confidence low: the training deals support it, but the %s deals are too few to confirm it (%d of them match, %d positive); treat it as a lead to check, not a finding.",
			newest, s.HoldoutAccounts, s.HoldoutPositives)
	}
	if s.Warning != "" {
		fmt.Fprintf(&b, " Beware: %s.", s.Warning)
	}
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
