package train

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model"
	"github.com/icpengine/icp/profile"
)

var (
	recoveryLarge  = flag.Bool("recovery.large", false, "measure segment recovery on 100,000-row tables too")
	recoveryModels = flag.Bool("recovery.models", false, "fit every candidate model, as train does (segments do not depend on it; only the time does)")
)

// recipeCond is one condition of a true recipe: a condition on any of
// cols (a region stated by its countries is the same condition), or on
// the tags of a tag column. A recipe "has all of {A, B}" is two
// conditions, one per tag; "has any of {A, B}" is one.
type recipeCond struct {
	cols []string
	tags []string
	any  bool
}

// recipes are the true ICP recipes of each dialect, as datasets/synth's
// package documentation states them, condition by condition.
var recipes = map[string]map[string][]recipeCond{
	synth.DialectDefault: {
		synth.SegmentSaaSMidmarket: {{cols: []string{"industry"}}, {cols: []string{"employees"}},
			{cols: []string{"tech_stack"}, tags: []string{"hubspot", "segment"}, any: true}, {cols: []string{"region", "country"}}},
		synth.SegmentEcomScale: {{cols: []string{"industry"}}, {cols: []string{"employees"}},
			{cols: []string{"tech_stack"}, tags: []string{"shopify"}}, {cols: []string{"tech_stack"}, tags: []string{"stripe"}}},
		synth.SegmentHealthEnterprise: {{cols: []string{"industry"}}, {cols: []string{"employees"}},
			{cols: []string{"tech_stack"}, tags: []string{"salesforce"}}, {cols: []string{"funding_stage"}}, {cols: []string{"region", "country"}}},
	},
	synth.DialectSalesforce: {
		"sf_health_public": {{cols: []string{"Industry"}}, {cols: []string{"Ownership"}}, {cols: []string{"Annual Revenue"}},
			{cols: []string{"Tech Stack"}, tags: []string{"aws"}}, {cols: []string{"Tech Stack"}, tags: []string{"snowflake"}}},
		"sf_finserv_midmarket": {{cols: []string{"Industry"}}, {cols: []string{"Employees"}},
			{cols: []string{"Tech Stack"}, tags: []string{"salesforce", "hubspot"}, any: true}, {cols: []string{"Billing Country"}}},
	},
	synth.DialectHubSpot: {
		"hs_retail_public": {{cols: []string{"Industry"}}, {cols: []string{"Is Public"}},
			{cols: []string{"Technologies"}, tags: []string{"shopify"}}, {cols: []string{"Technologies"}, tags: []string{"google_analytics"}},
			{cols: []string{"Annual Revenue"}}},
		"hs_software_smb": {{cols: []string{"Industry"}}, {cols: []string{"Number of Employees"}},
			{cols: []string{"Technologies"}, tags: []string{"stripe", "segment"}, any: true}, {cols: []string{"Original Source"}}},
	},
	synth.DialectLeads: {
		"ld_reference_form": {{cols: []string{"Lead Origin"}}, {cols: []string{"Lead Source"}},
			{cols: []string{"Course Interests"}, tags: []string{"mba", "data science"}, any: true}},
		"ld_working_pro": {{cols: []string{"What is your current occupation"}}, {cols: []string{"Total Time Spent on Website"}}},
	},
	synth.DialectSubscription: {
		"sub_sso_enterprise": {{cols: []string{"has_sso"}}, {cols: []string{"plan"}}, {cols: []string{"industry"}},
			{cols: []string{"integrations"}, tags: []string{"slack"}}, {cols: []string{"integrations"}, tags: []string{"jira"}}},
		"sub_annual_crm": {{cols: []string{"billing_cycle"}}, {cols: []string{"seats"}},
			{cols: []string{"integrations"}, tags: []string{"salesforce", "hubspot"}, any: true}, {cols: []string{"plan"}}},
	},
	synth.DialectTwoTable: {
		"tt_tech_growth": {{cols: []string{"Industry"}}, {cols: []string{"Annual Revenue"}},
			{cols: []string{"Tech Stack"}, tags: []string{"aws"}}, {cols: []string{"Tech Stack"}, tags: []string{"jira"}}},
		"tt_industrial_public": {{cols: []string{"Industry"}}, {cols: []string{"Employees"}},
			{cols: []string{"Tech Stack"}, tags: []string{"sap", "snowflake"}, any: true}, {cols: []string{"Ownership"}}},
	},
	synth.DialectChannels: {
		synth.SegCHSelfServe: {{cols: []string{"Industry"}}, {cols: []string{"Employees"}},
			{cols: []string{"Tech Stack"}, tags: []string{"stripe"}}},
		synth.SegCHEnterprise: {{cols: []string{"Industry"}}, {cols: []string{"Employees"}},
			{cols: []string{"Tech Stack"}, tags: []string{"salesforce"}}},
	},
}

// antiDisjuncts are, per dialect, the columns of the anti-ICP recipe's
// one-condition alternatives that no ICP recipe names: an account matching
// the anti-ICP belongs to no segment, so a rule excluding it ("Do Not
// Email is false") states the truth, and such a condition is not counted
// as extra.
var antiDisjuncts = map[string][]string{
	synth.DialectLeads: {"Do Not Email"},
}

// exportTable generates a dialect's export, writes its sheets as CSV and
// reads them back as a user's file would be read, and returns the
// account table with each account's truth. The twotable dialect's deals
// are rolled up into its accounts: an account is won when any deal closed
// won, lost when it has closed deals and none won, open otherwise, and
// closed on its last closed deal's date.
func exportTable(tb testing.TB, dialect string, rows int, seed uint64) (*datasets.Table, []synth.AccountTruth) {
	tb.Helper()
	e, err := synth.GenerateExport(dialect, synth.Config{Rows: rows, Seed: seed})
	if err != nil {
		tb.Fatal(err)
	}
	sheet := e.Sheets[0]
	if dialect == synth.DialectTwoTable {
		sheet = rollUpDeals(e.Sheets[0], e.Sheets[1])
	}
	var b bytes.Buffer
	if err := sheet.WriteCSV(&b); err != nil {
		tb.Fatal(err)
	}
	t, err := datasets.Read(&b, dialect+".csv", nil)
	if err != nil {
		tb.Fatal(err)
	}
	return t, e.Truth
}

// rollUpDeals adds to the accounts sheet a Stage and a Close Date from
// its deals.
func rollUpDeals(accounts, deals synth.Sheet) synth.Sheet {
	col := func(s synth.Sheet, name string) int { return slices.Index(s.Header, name) }
	key, stage, closed := col(deals, "AccountId"), col(deals, "Stage"), col(deals, "Close Date")
	type roll struct {
		won, lost bool
		last      string
	}
	by := map[string]*roll{}
	for _, d := range deals.Rows {
		r := by[d[key]]
		if r == nil {
			r = &roll{}
			by[d[key]] = r
		}
		switch d[stage] {
		case "Closed Won":
			r.won = true
		case "Closed Lost":
			r.lost = true
		default:
			continue
		}
		r.last = max(r.last, d[closed])
	}
	out := synth.Sheet{Name: accounts.Name, Header: append(slices.Clone(accounts.Header), "Stage", "Close Date")}
	id := col(accounts, "Account ID")
	for _, a := range accounts.Rows {
		st, day := "", ""
		if r := by[a[id]]; r != nil {
			switch {
			case r.won:
				st, day = "Closed Won", r.last
			case r.lost:
				st, day = "Closed Lost", r.last
			}
		}
		out.Rows = append(out.Rows, append(slices.Clone(a), st, day))
	}
	return out
}

// recoveryCase is one measurement of segment recovery.
type recoveryCase struct {
	dialect string
	rows    int
	target  string
}

func (c recoveryCase) String() string {
	return fmt.Sprintf("%s/%dk/%s", c.dialect, c.rows/1000, c.target)
}

// segmentMatch is how well a true segment is recovered: its best-matching
// served segment (the largest min(precision, recall) over won accounts),
// and how many of the recipe's conditions that segment's rule states and
// how many it adds.
type segmentMatch struct {
	truth, served     string
	precision, recall float64
	stated, of, extra int
	rule              string
}

// recovery is what a recoveryCase measured.
type recovery struct {
	ari                float64
	won                int
	segments           []segmentMatch
	antiP, antiR       float64
	trainTime          time.Duration
	served             int
	antiRules          []string
	servedRules        []string
	dropped            []string
	trainRows, evalRow int
}

// measureRecovery trains on the oldest 80% of the closed deals of a
// generated export (by close date; a seeded random 80% without a date),
// with open deals, and measures on the newest 20%: the adjusted Rand index
// between the true and the served segment over won accounts of the true
// ICP segments, each true segment's best-match precision and recall over
// won accounts and the recipe conditions its rule states, and the
// anti-ICP's precision and recall over all closed accounts.
func measureRecovery(tb testing.TB, c recoveryCase) recovery {
	tb.Helper()
	tab, truth := exportTable(tb, c.dialect, c.rows, 42)
	s, err := features.InferWith(tab, features.InferConfig{}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tab = s.Clean(tab)
	lab, err := makeLabels(tab, s, LabelConfig{Target: TargetWon})
	if err != nil {
		tb.Fatal(err)
	}
	closed, days := orderByClose(tab, s, lab)
	if days == nil {
		rng := rand.New(rand.NewPCG(42, 7))
		rng.Shuffle(len(closed), func(a, b int) { closed[a], closed[b] = closed[b], closed[a] })
	}
	nEval := len(closed) / 5
	evalRows := slices.Clone(closed[len(closed)-nEval:])
	inEval := make([]bool, tab.Rows())
	for _, i := range evalRows {
		inEval[i] = true
	}
	var trainRows []int
	for i := range tab.Rows() {
		if !inEval[i] {
			trainRows = append(trainRows, i)
		}
	}
	sort.Ints(evalRows)
	trainTab, evalTab := tab.Take(trainRows), tab.Take(evalRows)
	trainTab.Source = c.dialect + ".csv"
	began := time.Now()
	mc := ModelConfig{Kinds: []string{profile.KindLogistic}}
	if *recoveryModels {
		mc = ModelConfig{}
	}
	p, err := Train(trainTab, s, Config{Seed: 1, Label: LabelConfig{Target: c.target}, Models: mc})
	if err != nil {
		tb.Fatalf("%s: Train: %v", c, err)
	}
	res := recovery{trainTime: time.Since(began), served: len(p.Segments), trainRows: len(trainRows), evalRow: len(evalRows)}
	for _, sg := range p.Segments {
		res.servedRules = append(res.servedRules, sg.ID+" "+sg.RuleText)
	}
	for _, a := range p.AntiICP.Rules {
		res.antiRules = append(res.antiRules, a.RuleText)
	}
	res.dropped = append(p.SegmentSearch.Dropped, p.SegmentSearch.Pruned...)
	evalLab, err := makeLabels(evalTab, s, LabelConfig{Target: TargetWon})
	if err != nil {
		tb.Fatal(err)
	}
	evalTruth := make([]synth.AccountTruth, len(evalRows))
	for j, i := range evalRows {
		evalTruth[j] = truth[i]
	}
	won := func(j int) bool { return evalLab.y[j] == 1 }

	// ARI over won accounts of the true segments.
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range recipes[c.dialect] {
			if !yield(k) {
				return
			}
		}
	})
	index := map[string]int{}
	for k, n := range names {
		index[n] = k
	}
	served := make([]int, evalTab.Rows())
	for j := range served {
		served[j] = profile.SegmentOf(p.Segments, evalTab, j)
	}
	var trueLab, gotLab []int
	for j, tr := range evalTruth {
		if k, ok := index[tr.Segment]; ok && won(j) {
			trueLab = append(trueLab, k)
			gotLab = append(gotLab, served[j])
		}
	}
	res.won = len(trueLab)
	res.ari = model.AdjustedRandIndex(trueLab, gotLab)

	for _, name := range names {
		m := segmentMatch{truth: name, served: "none", of: recipeSize(recipes[c.dialect][name])}
		for k := range p.Segments {
			var hit, tp, members int
			for j, tr := range evalTruth {
				if !won(j) {
					continue
				}
				in, got := tr.Segment == name, served[j] == k
				if in {
					members++
				}
				if got {
					hit++
					if in {
						tp++
					}
				}
			}
			prec, rec := float64(tp)/float64(max(hit, 1)), float64(tp)/float64(max(members, 1))
			if min(prec, rec) > min(m.precision, m.recall) {
				m.precision, m.recall, m.served = prec, rec, p.Segments[k].ID
				m.stated, m.extra = recipeCoverage(recipes[c.dialect][name], antiDisjuncts[c.dialect], &p.Segments[k].Rule)
				m.rule = p.Segments[k].RuleText
			}
		}
		res.segments = append(res.segments, m)
	}

	var hit, tp, anti int
	for j, tr := range evalTruth {
		got := false
		for k := range p.AntiICP.Rules {
			if p.AntiICP.Rules[k].Rule.Match(evalTab, j) {
				got = true
				break
			}
		}
		if tr.AntiICP {
			anti++
		}
		if got {
			hit++
			if tr.AntiICP {
				tp++
			}
		}
	}
	res.antiP, res.antiR = float64(tp)/float64(max(hit, 1)), float64(tp)/float64(max(anti, 1))
	return res
}

// recipeSize counts a recipe's conditions.
func recipeSize(rc []recipeCond) int { return len(rc) }

// recipeCoverage counts the conditions of the recipe that the rule's
// first clause states (a condition on the same column, naming the same
// tags for a tag condition) and the conditions it adds (on other columns
// or tags, but for the columns of anti-ICP alternatives it excludes).
func recipeCoverage(rc []recipeCond, anti []string, r *profile.Rule) (stated, extra int) {
	if r.Empty() {
		return 0, 0
	}
	conds := r.Clauses[0].Conds
	used := make([]bool, len(conds))
	for _, want := range rc {
		for k := range conds {
			c := &conds[k]
			if !slices.Contains(want.cols, c.Column) {
				continue
			}
			if len(want.tags) == 0 {
				if c.Op == profile.OpHas || c.Op == profile.OpHasAny || c.Op == profile.OpHasAll {
					continue
				}
			} else if !statesTags(c, want) {
				continue
			}
			used[k] = true
			stated++
			break
		}
	}
	// A condition is extra when no recipe condition is on its column (or,
	// for tags, its tags).
	for k := range conds {
		c := &conds[k]
		if used[k] {
			continue
		}
		onRecipe := false
		for _, want := range rc {
			if slices.Contains(want.cols, c.Column) && (len(want.tags) == 0) == !isTagCond(c) {
				onRecipe = onRecipe || len(want.tags) == 0 || statesTags(c, want)
			}
		}
		if !onRecipe && !slices.Contains(anti, c.Column) {
			extra++
		}
	}
	return stated, extra
}

func isTagCond(c *profile.Cond) bool {
	return c.Op == profile.OpHas || c.Op == profile.OpHasAny || c.Op == profile.OpHasAll
}

// statesTags reports whether c states the tag condition want: "has any
// of" the same set, or for one tag of a "has all of", a positive
// condition naming that tag.
func statesTags(c *profile.Cond, want recipeCond) bool {
	if c.Negate {
		return false
	}
	var got []string
	switch c.Op {
	case profile.OpHas:
		got = []string{c.Tag}
	case profile.OpHasAny, profile.OpHasAll:
		got = c.Tags
	default:
		return false
	}
	for k := range got {
		got[k] = features.TagKey(got[k])
	}
	if want.any {
		if c.Op == profile.OpHasAll && len(got) > 1 {
			return false
		}
		for _, t := range want.tags {
			if !slices.Contains(got, t) {
				return false
			}
		}
		return len(got) == len(want.tags)
	}
	if c.Op == profile.OpHasAny && len(got) > 1 {
		return false
	}
	return slices.Contains(got, want.tags[0])
}

// recoveryCases lists the tables measured: the generator's at 20k rows
// (and 100k with -recovery.large) with both labels, and each dialect.
func recoveryCases() []recoveryCase {
	sizes := []int{20_000}
	if *recoveryLarge {
		sizes = append(sizes, 100_000)
	}
	var cases []recoveryCase
	for _, n := range sizes {
		for _, d := range synth.Dialects() {
			targets := []string{TargetWon, TargetIdeal}
			cases = append(cases, recoveryCase{d, n, targets[0]})
			if d == synth.DialectDefault || d == synth.DialectSalesforce || d == synth.DialectHubSpot {
				cases = append(cases, recoveryCase{d, n, targets[1]})
			}
		}
	}
	return cases
}

func (r recovery) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ARI %.3f over %d won ICP accounts; anti-ICP precision %.2f recall %.2f; %d segments; train %.1fs\n",
		r.ari, r.won, r.antiP, r.antiR, r.served, r.trainTime.Seconds())
	for _, m := range r.segments {
		fmt.Fprintf(&b, "  %-22s -> %-6s P %.2f R %.2f, states %d of %d, %d extra: %s\n", m.truth, m.served, m.precision, m.recall, m.stated, m.of, m.extra, m.rule)
	}
	for _, s := range r.servedRules {
		fmt.Fprintf(&b, "  served %s\n", s)
	}
	for _, s := range r.antiRules {
		fmt.Fprintf(&b, "  anti   %s\n", s)
	}
	for _, s := range r.dropped {
		fmt.Fprintf(&b, "  not kept: %s\n", s)
	}
	return b.String()
}

var recoveryCache sync.Map

func cachedRecovery(tb testing.TB, c recoveryCase) recovery {
	if r, ok := recoveryCache.Load(c); ok {
		return r.(recovery)
	}
	r := measureRecovery(tb, c)
	recoveryCache.Store(c, r)
	return r
}

// TestSegmentRecoveryAll measures segment recovery on the generator's table
// and every dialect, both labels, and checks the targets: ARI at least
// 0.9 (0.8 at 20,000 rows, where a field many exports leave empty, such
// as the channels dialect's tech stack, cannot yet be shown to behave
// like the matching values, so accounts missing it stay out), every true segment matched with precision and recall at least
// 0.85, each rule stating at least 80% of its recipe's conditions with at
// most one extra, and the anti-ICP at precision and recall 0.85. At
// 20,000 rows a rule must state 60% of its recipe: there some recipe
// conditions set apart a few dozen training accounts only (the
// healthcare recipe's Salesforce, the HubSpot retail recipe's second
// tag), too few to show significantly; at 100,000 rows
// (-recovery.large) they do.
func TestSegmentRecoveryAll(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("trains on nine 20,000-row tables: a measurement, run without -short and -race")
	}
	for _, c := range recoveryCases() {
		t.Run(c.String(), func(t *testing.T) {
			r := cachedRecovery(t, c)
			t.Logf("%s: %s", c, r)
			if r.won < 100 {
				t.Errorf("ARI measured over %d won accounts of the true segments, want at least 100", r.won)
			}
			minARI, minStated := 0.9, 0.8
			if c.rows < 100_000 {
				minARI, minStated = 0.8, 0.6
			}
			if r.ari < minARI {
				t.Errorf("ARI = %.3f, want >= %.1f", r.ari, minARI)
			}
			for _, m := range r.segments {
				if m.precision < 0.85 || m.recall < 0.85 {
					t.Errorf("%s: best match %s precision %.2f recall %.2f, want both >= 0.85", m.truth, m.served, m.precision, m.recall)
				}
				if float64(m.stated) < minStated*float64(m.of) || m.extra > 1 {
					t.Errorf("%s: rule %q states %d of %d recipe conditions with %d extra, want >= %.0f%% and at most 1", m.truth, m.rule, m.stated, m.of, m.extra, 100*minStated)
				}
			}
			if r.antiP < 0.85 || r.antiR < 0.85 {
				t.Errorf("anti-ICP precision %.2f recall %.2f, want both >= 0.85", r.antiP, r.antiR)
			}
		})
	}
}

// BenchmarkSegmentRecovery reports the recovery figures of each case as
// metrics (ARI, the worst best-match precision and recall, the anti-ICP's)
// beside the training time.
func BenchmarkSegmentRecovery(b *testing.B) {
	for _, c := range recoveryCases() {
		b.Run(c.String(), func(b *testing.B) {
			b.ReportAllocs()
			var r recovery
			for b.Loop() {
				r = measureRecovery(b, c)
			}
			worstP, worstR := 1.0, 1.0
			for _, m := range r.segments {
				worstP, worstR = math.Min(worstP, m.precision), math.Min(worstR, m.recall)
			}
			b.ReportMetric(r.ari, "ARI")
			b.ReportMetric(worstP, "min-precision")
			b.ReportMetric(worstR, "min-recall")
			b.ReportMetric(r.antiP, "anti-precision")
			b.ReportMetric(r.antiR, "anti-recall")
		})
	}
}

// stability is how the segments of two trainings on overlapping windows
// match: for each segment of the later one that kept an ID of the
// earlier one, the Jaccard index of the accounts of the whole table each
// holds, and whether the name was kept too.
type stability struct {
	earlier, later []string
	pairs          []stablePair
}

type stablePair struct {
	id       string
	jaccard  float64
	sameName bool
}

// measureStability trains on the oldest 80% of a generated export's
// closed deals, then on the newest 80% with the first model's segments as
// the previous ones (train --previous), and matches the segments.
func measureStability(tb testing.TB, dialect string, rows int, target string) stability {
	tb.Helper()
	tab, _ := exportTable(tb, dialect, rows, 42)
	s, err := features.InferWith(tab, features.InferConfig{}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tab = s.Clean(tab)
	lab, err := makeLabels(tab, s, LabelConfig{Target: TargetWon})
	if err != nil {
		tb.Fatal(err)
	}
	closed, days := orderByClose(tab, s, lab)
	if days == nil {
		tb.Skipf("%s has no close date to order windows by", dialect)
	}
	n := len(closed) * 4 / 5
	window := func(rows []int) *datasets.Table {
		w := tab.Take(slices.Sorted(slices.Values(rows)))
		w.Source = dialect + ".csv"
		return w
	}
	cfg := Config{Seed: 1, Label: LabelConfig{Target: target}, Models: ModelConfig{Kinds: []string{profile.KindLogistic}}}
	first, err := Train(window(closed[:n]), s, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Segments.Previous = first.Segments
	second, err := Train(window(closed[len(closed)-n:]), s, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	var st stability
	for _, sg := range first.Segments {
		st.earlier = append(st.earlier, sg.ID+" "+sg.RuleText)
	}
	for _, sg := range second.Segments {
		st.later = append(st.later, sg.ID+" "+sg.RuleText)
	}
	a, b := membership(first.Segments, tab), membership(second.Segments, tab)
	for k, sg := range second.Segments {
		o := slices.IndexFunc(first.Segments, func(x profile.Segment) bool { return x.ID == sg.ID })
		if o < 0 {
			continue
		}
		var in, un float64
		for i := range a {
			x, y := a[i] == o, b[i] == k
			if x && y {
				in++
			}
			if x || y {
				un++
			}
		}
		st.pairs = append(st.pairs, stablePair{id: sg.ID, jaccard: in / math.Max(1, un), sameName: sg.Name == first.Segments[o].Name})
	}
	return st
}

// TestSegmentsStableAcrossWindows trains on the first and the last 80% of
// the closed deals of the generator's table and of each dialect with
// close dates: the truth does not change between the windows, so every
// segment of the earlier model must be matched by one of the later (same
// ID and name) holding the same accounts (Jaccard index at least 0.8).
func TestSegmentsStableAcrossWindows(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("trains twice on each of four 20,000-row tables: a measurement, run without -short and -race")
	}
	for _, d := range synth.Dialects() {
		if d == synth.DialectLeads {
			continue // no close date: no windows
		}
		t.Run(d, func(t *testing.T) {
			st := measureStability(t, d, 20_000, TargetWon)
			t.Logf("earlier %v\nlater %v\npairs %+v", st.earlier, st.later, st.pairs)
			if len(st.pairs) != len(st.earlier) {
				t.Errorf("%d of the earlier model's %d segments kept their ID in the later one", len(st.pairs), len(st.earlier))
			}
			for _, pr := range st.pairs {
				if pr.jaccard < 0.8 || !pr.sameName {
					t.Errorf("segment %s: Jaccard %.3f, same name %v; want >= 0.8 and the same name", pr.id, pr.jaccard, pr.sameName)
				}
			}
		})
	}
}
