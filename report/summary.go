package report

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"

	"github.com/icpengine/icp/profile"
)

// The summary is the report's first screen: what a reader who stops there
// needs, each figure taken from the ICP document that GET /v1/icp serves
// (Document), so that the page and the API cannot disagree.

// card is one segment of the summary.
type card struct {
	id, name, rule string
	// rate is the headline rate (rateName: the win, conversion or
	// retention rate) with its interval, its lift over base, the rate of
	// all closed accounts.
	rateName   string
	rate       float64
	iv         profile.Interval
	lift, base float64
	// ideal is set for the ideal label: idealRate, with idealIV, is the
	// share of the segment's accounts that became ideal customers and
	// idealShare its share of all of them.
	ideal                 bool
	idealRate, idealShare float64
	idealIV               profile.Interval
	// share is the segment's share of all positives of the headline rate
	// (shareName: "share of all wins").
	shareName string
	share     float64
	// ltv and baseLTV are the median LTV of won accounts in the segment
	// and overall, when the table has one.
	hasLTV       bool
	ltv, baseLTV float64
	confidence   string
	warning      string
	// trend says what changed since the previous model, trendKind is
	// "new", "up", "down" or "same"; both empty without one.
	trend, trendKind string
}

// cards returns the summary's cards of doc's segments, with the trend
// since the previous model when ch is not nil.
func cards(doc *ICPDocument, w words, ch *Changes) []card {
	var out []card
	for _, s := range doc.Segments {
		e, b := s.Evidence, doc.Baseline
		c := card{id: s.ID, name: s.Name, rule: plainRule(s.Rule), rateName: w.rate, shareName: w.share,
			confidence: s.Confidence, warning: s.Warning}
		if w.retained {
			c.rate, c.iv, c.lift, c.base, c.share = e.PositiveRate, e.PositiveRateInterval, e.Lift, b.PositiveRate, e.ShareOfPositives
		} else {
			c.rate, c.iv, c.lift, c.base, c.share = e.WinRate, e.WinRateInterval, e.WinLift, b.WinRate, e.ShareOfWins
		}
		if w.ideal {
			c.ideal, c.idealRate, c.idealIV, c.idealShare = true, e.PositiveRate, e.PositiveRateInterval, e.ShareOfPositives
		}
		if e.HasLTV {
			c.hasLTV, c.ltv, c.baseLTV = true, e.MedianLTV, b.MedianLTV
		}
		if ch != nil {
			c.trend, c.trendKind = segmentTrend(ch, s, w)
		}
		out = append(out, c)
	}
	return out
}

// segmentTrend says how a segment moved since the previous model: new, or
// its headline rate then and now.
func segmentTrend(ch *Changes, s ICPSegment, w words) (text, kind string) {
	for _, sc := range ch.Segments {
		if sc.Current != s.ID+": "+s.Name {
			continue
		}
		if sc.Change != "kept" {
			return "new since model " + ch.PreviousVersion, "new"
		}
		now, was := sc.WinRate, sc.OldWinRate
		if w.retained {
			now, was = sc.PositiveRate, sc.OldPositiveRate
		}
		kind = "same"
		if d := math.Round(1000*(now-was)) / 10; d > 0 {
			kind = "up"
		} else if d < 0 {
			kind = "down"
		}
		text = fmt.Sprintf("%s points since model %s (was %s)", signedPoints(now-was), ch.PreviousVersion, pct(was))
		if kind == "same" {
			text = fmt.Sprintf("%s unchanged since model %s", w.rate, ch.PreviousVersion)
		}
		if sc.OldRule != sc.Rule {
			text += "; its rule changed"
		}
		return text, kind
	}
	return "", ""
}

// plainRule says a rule in words: "industry FinTech or SaaS, employees 56
// to 400 (or unknown), country US".
func plainRule(r profile.Rule) string {
	if r.Empty() {
		return "no rule"
	}
	var clauses []string
	for _, c := range r.Clauses {
		var conds []string
		for k := range c.Conds {
			conds = append(conds, plainCond(&c.Conds[k]))
		}
		if len(conds) == 0 {
			conds = []string{"any account"}
		}
		clauses = append(clauses, strings.Join(conds, ", "))
	}
	if len(clauses) == 1 {
		return clauses[0]
	}
	return "either " + strings.Join(clauses, "; or ")
}

// plainCond says one condition in words.
func plainCond(c *profile.Cond) string {
	col := strings.ReplaceAll(c.Column, "_", " ")
	var s string
	switch c.Op {
	case profile.OpIn:
		if c.Negate {
			s = col + " not " + orList(c.Levels, "or")
		} else {
			s = col + " " + orList(c.Levels, "or")
		}
	case profile.OpHas:
		s = col + " includes " + c.Tag
		if c.Negate {
			s = col + " lacks " + c.Tag
		}
	case profile.OpHasAny:
		s = col + " includes " + orList(c.Tags, "or")
		if c.Negate {
			s = col + " includes none of " + orList(c.Tags, "and")
		}
	case profile.OpHasAll:
		s = col + " includes " + orList(c.Tags, "and")
		if c.Negate {
			s = col + " lacks one of " + orList(c.Tags, "and")
		}
	case profile.OpIs:
		s = col + ": yes"
		if c.Negate {
			s = col + ": no"
		}
	case profile.OpRange:
		lo, loOp, hi, _ := c.Bounds()
		above := "above"
		if loOp == "<=" {
			above = "at least"
		}
		if c.Date {
			above = map[string]string{"above": "after", "at least": "from"}[above]
		}
		switch {
		case c.Lo != nil && c.Hi != nil && loOp == "<=" && lo == hi:
			s = col + " " + lo
		case c.Lo != nil && c.Hi != nil && loOp == "<=":
			s = col + " " + lo + " to " + hi
		case c.Lo != nil && c.Hi != nil:
			s = col + " " + above + " " + lo + ", up to " + hi
		case c.Lo != nil:
			s = col + " " + above + " " + lo
		case c.Hi != nil:
			s = col + " up to " + hi
		default:
			s = col + " known"
		}
	default:
		s = c.String()
	}
	if c.Missing {
		s += " (or unknown)"
	}
	return s
}

// orList joins items as "A, B or C".
func orList(items []string, conj string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + conj + " " + items[len(items)-1]
}

// antiLine is one anti-ICP rule of the summary: who, and how its deals
// ended.
type antiLine struct {
	id, rule, plain string
	// bad is the share of the rule's closed rows with the bad outcome
	// (lost, not converted, churned), of closed rows.
	bad    float64
	closed int
	what   string
}

func antiLines(doc *ICPDocument, w words) []antiLine {
	var out []antiLine
	for _, r := range doc.AntiICP.Rules {
		l := antiLine{id: r.ID, rule: r.RuleText, plain: plainRule(r.Rule), bad: r.LossRate, closed: r.Evidence.Closed}
		switch {
		case w.retained:
			l.bad, l.what = 1-r.GoodRate, "customers churned"
		case w.unit == "leads":
			l.what = "leads not converted"
		default:
			l.what = "deals lost"
		}
		out = append(out, l)
	}
	return out
}

// tierBars are the tier results the summary charts: one row per tier of
// the holdout (tied tiers merged), or the shares of accounts per tier
// without a holdout.
type tierBars struct {
	title         string
	groups, names []string
	values        [][]float64
	// head and rows are the Markdown table of the same figures.
	head []string
	rows [][]string
}

func summaryTiers(doc *ICPDocument, p icpReport, w words) tierBars {
	groups := untied(doc.Tiers, doc.TierBacktest)
	if len(groups) == 0 {
		shares, actual := p.tierShares()
		t := tierBars{title: "Share of training accounts per tier (no holdout)", names: []string{"share of accounts"}, values: [][]float64{nil}}
		if actual {
			t.title = "Share of accounts per tier (no holdout)"
		}
		for k, name := range []string{"tier1", "tier2", "tier3", "non_fit"} {
			t.groups = append(t.groups, name)
			t.values[0] = append(t.values[0], shares[k])
			t.rows = append(t.rows, []string{name, pct(shares[k])})
		}
		t.head = []string{"tier", "share of accounts"}
		return t
	}
	rows := 0
	for _, g := range groups {
		rows += g.Evidence.Closed
	}
	_, newest := splitWords(p.Profile)
	t := tierBars{title: fmt.Sprintf("Tiers on the %d %s %s", rows, newest, w.unit)}
	type metric struct {
		name string
		of   func(profile.Evidence) float64
	}
	var ms []metric
	switch {
	case w.retained:
		ms = []metric{{w.rate, func(e profile.Evidence) float64 { return rateOf(e, e.PositiveRate) }}, {w.share, func(e profile.Evidence) float64 { return e.ShareOfPositives }}}
	case w.ideal:
		ms = []metric{{w.rate, func(e profile.Evidence) float64 { return rateOf(e, e.WinRate) }}, {"ideal rate", func(e profile.Evidence) float64 { return rateOf(e, e.PositiveRate) }},
			{w.share, func(e profile.Evidence) float64 { return e.ShareOfWins }}}
	default:
		ms = []metric{{w.rate, func(e profile.Evidence) float64 { return rateOf(e, e.WinRate) }}, {w.share, func(e profile.Evidence) float64 { return e.ShareOfWins }}}
	}
	t.head = []string{"tier", w.unit}
	t.values = make([][]float64, len(ms))
	for k, m := range ms {
		t.names = append(t.names, m.name)
		t.head = append(t.head, m.name)
		for _, g := range groups {
			t.values[k] = append(t.values[k], m.of(g.Evidence))
		}
	}
	for i, g := range groups {
		t.groups = append(t.groups, g.Name)
		row := []string{g.Name, fmt.Sprint(g.Evidence.Closed)}
		for k := range ms {
			row = append(row, pct(t.values[k][i]))
		}
		t.rows = append(t.rows, row)
	}
	return t
}

// rateOf is a group's rate, NaN (shown "–") when the group holds no
// closed row and the rate is not known.
func rateOf(e profile.Evidence, rate float64) float64 {
	if e.Closed == 0 {
		return math.NaN()
	}
	return rate
}

// changeLines says what changed since the previous model in a few lines.
func changeLines(ch *Changes) []string {
	var seg []string
	for _, s := range ch.Segments {
		switch s.Change {
		case "appeared":
			seg = append(seg, s.Current+" is new")
		case "vanished":
			seg = append(seg, s.Previous+" is gone")
		}
	}
	kept := 0
	for _, s := range ch.Segments {
		if s.Change == "kept" {
			kept++
		}
	}
	var lines []string
	switch {
	case len(ch.Segments) == 0:
		lines = append(lines, "Neither model has segments.")
	case len(seg) == 0:
		lines = append(lines, fmt.Sprintf("The same %d segments (each kept the previous one's ID or most of its accounts).", kept))
	default:
		line := strings.Join(seg, "; ")
		if kept > 0 {
			line += fmt.Sprintf("; %d kept", kept)
		}
		lines = append(lines, capitalize(line)+".")
	}
	pt, t := ch.PreviousTiers, ch.Tiers
	if pt.Tier1 != t.Tier1 || pt.Tier2 != t.Tier2 || pt.Tier3 != t.Tier3 {
		lines = append(lines, fmt.Sprintf("Tier thresholds moved: tier1 %s → %s, tier2 %s → %s, tier3 %s → %s.",
			fmt3(pt.Tier1), fmt3(t.Tier1), fmt3(pt.Tier2), fmt3(t.Tier2), fmt3(pt.Tier3), fmt3(t.Tier3)))
	} else {
		lines = append(lines, "Tier thresholds unchanged.")
	}
	lines = append(lines, fmt.Sprintf("%d of %d accounts (%s) changed tier.", ch.Moved, ch.Rows, pct(float64(ch.Moved)/float64(max(1, ch.Rows)))))
	return lines
}

// valueLine says in one sentence what the value model adds, "" without a
// value outcome.
func valueLine(doc *ICPDocument, p icpReport) string {
	v := doc.Value
	if v == nil {
		return ""
	}
	if !v.Served || v.Backtest == nil {
		if v.Reason == "" {
			return ""
		}
		return fmt.Sprintf("No value model serves (%s): scores carry no expected value.", v.Reason)
	}
	b := v.Backtest
	_, newest := splitWords(p.Profile)
	return fmt.Sprintf("Value: ranked by expected value, tier 1 (the top %s of the %d %s deals) holds %s of their won `%s`; ranked by probability alone, %s.",
		pct(b.Tier1Share), b.Rows, newest, pct(b.ByValue), v.Column, pct(b.ByProbability))
}

// intro is the report's opening sentence: the data, the holdout and how
// well the score ranks it.
func (p icpReport) intro() string {
	data, v := p.Data, p.Validation
	w := wordsFor(p.Profile)
	intro := fmt.Sprintf("Learned from %d accounts in `%s` (%d with a closed outcome", data.Rows, data.Source, data.Labeled)
	if data.From != "" {
		intro += fmt.Sprintf(", closed %s to %s", data.From, data.To)
	}
	intro += ")."
	if byDate(p.Profile) {
		intro += fmt.Sprintf(" On the %d newest closed %s (closed %s to %s), which it did not see in training,", v.Holdout.Rows, w.unit, v.From, v.To)
	} else {
		intro += fmt.Sprintf(" On %d closed %s held out at random (the table has no close dates to order them by), which it did not see in training,", v.Holdout.Rows, w.unit)
	}
	intro += fmt.Sprintf(" it ranks with ROC AUC %s, and the top-scored tenth of them hold %s× the base rate of %s.",
		fmt3(v.Holdout.ROCAUC), fmt2(v.Holdout.LiftTopDecile), targetNoun(p.Label.Target))
	return intro
}

// summarySection writes the summary in both forms: cards and a chart in
// the HTML page, a compact table in the Markdown.
func (p icpReport) summarySection(d *document, o Options) {
	doc := Document(p.Profile)
	w := wordsFor(p.Profile)
	cs := cards(doc, w, o.Changes)
	anti := antiLines(doc, w)
	tiers := summaryTiers(doc, p, w)
	var changes []string
	if o.Changes != nil {
		changes = changeLines(o.Changes)
	}
	noSegments := ""
	if len(cs) == 0 {
		noSegments = fmt.Sprintf("**No reliable segments**: %s. The score still ranks accounts (the tiers below); no readable group of accounts turns %s clearly more often than the rest.",
			doc.Reason, positiveWord(p.Label.Target))
	}
	warn := aucWarning(p.Profile)
	value := valueLine(doc, p)
	d.raw(p.summaryMarkdown(w, cs, anti, tiers, changes, noSegments, warn, value, o.Changes),
		p.summaryHTML(w, cs, anti, tiers, changes, noSegments, warn, value, o.Changes))
}

func (p icpReport) summaryMarkdown(w words, cs []card, anti []antiLine, tiers tierBars, changes []string, noSegments, warn, value string, ch *Changes) string {
	d := &document{}
	d.h2("Summary")
	d.para("%s", p.intro())
	if warn != "" {
		d.para("**Warning:** %s", warn)
	}
	if noSegments != "" {
		d.para("%s", noSegments)
	} else {
		head := []string{"segment", "who", w.rate + " (95% interval)", w.share}
		var ideal, ltv bool
		for _, c := range cs {
			ideal, ltv = ideal || c.ideal, ltv || c.hasLTV
		}
		if ideal {
			head = append(head, "ideal (95% interval)")
		}
		if ltv {
			head = append(head, "median LTV of "+w.won)
		}
		head = append(head, "confidence")
		if ch != nil {
			head = append(head, "since model "+ch.PreviousVersion)
		}
		var rows [][]string
		for _, c := range cs {
			row := []string{"**" + c.name + "** (" + c.id + ")", c.rule, rateWithInterval(c.rate, c.iv) + ", " + times(c.lift), pct(c.share)}
			if ideal {
				row = append(row, rateWithInterval(c.idealRate, c.idealIV))
			}
			if ltv {
				row = append(row, optNum(c.ltv, c.hasLTV)+" ("+optNum(c.baseLTV, c.hasLTV)+" overall)")
			}
			row = append(row, dash(c.confidence))
			if ch != nil {
				row = append(row, dash(c.trend))
			}
			rows = append(rows, row)
		}
		all := "all closed " + w.unit
		if w.retained {
			all = "all " + w.unit
		}
		d.para("Who to pursue, %s against %s for %s:", w.rate, pct(p.summaryBase(w)), all)
		d.table(head, rows)
		var beware []string
		for _, c := range cs {
			if c.warning != "" {
				beware = append(beware, fmt.Sprintf("%s: %s.", c.id, c.warning))
			}
		}
		if len(beware) > 0 {
			d.para("Beware:")
			d.list(beware)
		}
	}
	if len(anti) > 0 {
		var items []string
		for _, a := range anti {
			items = append(items, fmt.Sprintf("%s: `%s` — %s of %d %s.", a.id, a.rule, pct(a.bad), a.closed, a.what))
		}
		d.para("Not worth pursuing (the anti-ICP):")
		d.list(items)
	} else if p.AntiICP.Definition != "" {
		d.para("Not worth pursuing: no group of accounts does clearly worse than the rest.")
	}
	d.para("%s:", tiers.title)
	d.table(tiers.head, tiers.rows)
	if value != "" {
		d.para("%s", value)
	}
	if ch != nil {
		d.para("What changed since model `%s`:", ch.PreviousVersion)
		d.list(changes)
	}
	var b strings.Builder
	if err := d.markdown(&b); err != nil {
		return "" // a strings.Builder does not fail
	}
	return b.String()
}

// summaryBase is the headline rate of all closed accounts.
func (p icpReport) summaryBase(w words) float64 {
	if w.retained {
		return p.Baseline.PositiveRate
	}
	return p.Baseline.WinRate
}

// summaryCSS styles the summary's cards and layout.
const summaryCSS = `.summary .lede{font-size:15px;margin:.3em 0 .8em}.summary h2{margin-top:.6em}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:12px;margin:.6em 0 1em}
.card{border:1px solid #d8dde6;border-radius:8px;padding:10px 14px;background:#fbfcfe;max-width:520px}
.card h3{margin:0;font-size:15px;line-height:1.3}.card .id{color:#6b7280;font-weight:400;font-size:12px;white-space:nowrap}
.card .rule{color:#4b5563;font-size:13px;margin:4px 0 6px;line-height:1.35}
.card .big{font-size:26px;font-weight:700;color:#2563eb;line-height:1.1}.card .big small{font-size:13px;font-weight:400;color:#4b5563}
.card ul{list-style:none;margin:4px 0 0;padding:0;font-size:13px;line-height:1.45}.card .warn{color:#b45309}
.trend-up{color:#15803d}.trend-down{color:#b91c1c}.trend-new{color:#7c3aed}
.split{display:grid;grid-template-columns:minmax(0,1fr) 480px;gap:24px;align-items:start}
.split h3{margin:.2em 0 .3em;font-size:15px}.split ul{margin:0 0 .8em;padding-left:1.1em;font-size:13px}
.summary .value{font-size:13px;margin:0}.summary figure{margin:.2em 0 .6em}.warnbox{border-left:4px solid #b45309;background:#fff7ed;padding:6px 10px}.more{color:#4b5563;font-size:13px}
@media (max-width:900px){.split{grid-template-columns:1fr}}`

// summaryHTML writes the summary as cards, one line per anti-ICP rule, the
// tier chart with its values and what changed. Every card carries its
// figures, unrounded, in data attributes.
func (p icpReport) summaryHTML(w words, cs []card, anti []antiLine, tiers tierBars, changes []string, noSegments, warn, value string, ch *Changes) string {
	var b strings.Builder
	b.WriteString(`<section id="summary" class="summary">` + "\n")
	b.WriteString(`<p class="lede">` + inline(p.intro()) + "</p>\n")
	if warn != "" {
		b.WriteString(`<p class="warnbox"><strong>Warning:</strong> ` + inline(warn) + "</p>\n")
	}
	if noSegments != "" {
		b.WriteString(`<p class="nosegments">` + inline(noSegments) + "</p>\n")
	} else {
		fmt.Fprintf(&b, `<h2>Who to pursue</h2>`+"\n"+`<div class="cards" data-rate-name="%s" data-base-rate="%s">`+"\n", attr(w.rate), num64(p.summaryBase(w)))
		for _, c := range cs {
			fmt.Fprintf(&b, `<article class="card" data-segment="%s" data-rate="%s" data-rate-lo="%s" data-rate-hi="%s" data-lift="%s" data-share="%s"`,
				attr(c.id), num64(c.rate), num64(c.iv.Lo), num64(c.iv.Hi), num64(c.lift), num64(c.share))
			if c.ideal {
				fmt.Fprintf(&b, ` data-ideal-rate="%s" data-ideal-lo="%s" data-ideal-hi="%s" data-ideal-share="%s"`,
					num64(c.idealRate), num64(c.idealIV.Lo), num64(c.idealIV.Hi), num64(c.idealShare))
			}
			if c.hasLTV {
				fmt.Fprintf(&b, ` data-median-ltv="%s"`, num64(c.ltv))
			}
			b.WriteString(">\n")
			fmt.Fprintf(&b, `<h3>%s <span class="id">%s</span></h3>`+"\n", html.EscapeString(c.name), html.EscapeString(c.id))
			fmt.Fprintf(&b, `<p class="rule">%s</p>`+"\n", html.EscapeString(capitalize(c.rule)))
			iv := ""
			if c.iv != (profile.Interval{}) {
				iv = fmt.Sprintf("95%% interval %s–%s · ", strings.TrimSuffix(pct(c.iv.Lo), "%"), pct(c.iv.Hi))
			}
			fmt.Fprintf(&b, `<div class="big"><span class="rate">%s</span> <small>%s</small></div>`+"\n", pct(c.rate), html.EscapeString(w.rate))
			b.WriteString("<ul>\n")
			fmt.Fprintf(&b, `<li class="iv">%s%s the %s of %s</li>`+"\n", iv, times(c.lift), html.EscapeString(w.rate), pct(c.base))
			fmt.Fprintf(&b, `<li>holds <strong class="share">%s</strong> of all %s</li>`+"\n", pct(c.share), html.EscapeString(strings.TrimPrefix(w.share, "share of all ")))
			if c.ideal {
				fmt.Fprintf(&b, `<li>ideal customers: <span class="ideal">%s</span>, %s of all ideal</li>`+"\n", rateWithInterval(c.idealRate, c.idealIV), pct(c.idealShare))
			}
			if c.hasLTV {
				fmt.Fprintf(&b, `<li>median LTV of %s: <span class="ltv">%s</span> (%s overall)</li>`+"\n", html.EscapeString(w.won), num(c.ltv), num(c.baseLTV))
			}
			if c.confidence != "" {
				fmt.Fprintf(&b, `<li>confidence on the holdout: %s</li>`+"\n", html.EscapeString(c.confidence))
			}
			if c.trend != "" {
				fmt.Fprintf(&b, `<li class="trend trend-%s">%s</li>`+"\n", c.trendKind, html.EscapeString(c.trend))
			}
			if c.warning != "" {
				fmt.Fprintf(&b, `<li class="warn">Beware: %s.</li>`+"\n", html.EscapeString(c.warning))
			}
			b.WriteString("</ul>\n</article>\n")
		}
		b.WriteString("</div>\n")
	}
	b.WriteString(`<div class="split">` + "\n<div>\n")
	if len(anti) > 0 {
		b.WriteString("<h3>Not worth pursuing</h3>\n<ul class=\"anti\">\n")
		for _, a := range anti {
			fmt.Fprintf(&b, `<li data-rule="%s" data-bad="%s"><strong>%s</strong> %s — %s of %d %s</li>`+"\n",
				attr(a.id), num64(a.bad), html.EscapeString(a.id), html.EscapeString(capitalize(a.plain)), pct(a.bad), a.closed, html.EscapeString(a.what))
		}
		b.WriteString("</ul>\n")
	} else if p.AntiICP.Definition != "" {
		b.WriteString(`<h3>Not worth pursuing</h3>` + "\n" + `<p class="anti-none">No group of accounts does clearly worse than the rest.</p>` + "\n")
	}
	if ch != nil {
		fmt.Fprintf(&b, "<h3>What changed since model %s</h3>\n<ul class=\"changes\">\n", html.EscapeString(ch.PreviousVersion))
		for _, l := range changes {
			b.WriteString("<li>" + inline(l) + "</li>\n")
		}
		b.WriteString("</ul>\n")
	}
	b.WriteString(`<p class="more">The detail follows: each segment's evidence and how the segments were found, the anti-ICP, the tiers and their backtest, validation, what drives the score and the model card.</p>` + "\n")
	b.WriteString("</div>\n")
	b.WriteString("<div>\n")
	b.WriteString(`<figure class="chart bars" id="summary-tiers">` + hbarChart(tiers.title, tiers.groups, tiers.names, []string{colorA, colorC, colorB}, tiers.values, pct) + "</figure>\n")
	if value != "" {
		b.WriteString(`<p class="value">` + inline(value) + "</p>\n")
	}
	b.WriteString("</div>\n</div>\n</section>\n")
	return b.String()
}

// attr escapes an attribute value.
func attr(s string) string { return html.EscapeString(s) }

// num64 writes a figure exactly, as JSON does.
func num64(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// untied returns the tier groups of a backtest without the tiers whose
// threshold equals the one above (they hold no deal), the upper one named
// for both.
func untied(t profile.Tiers, groups []profile.GroupResult) []profile.GroupResult {
	ths := map[string]float64{"tier1": t.Tier1, "tier2": t.Tier2, "tier3": t.Tier3}
	var out []profile.GroupResult
	prev, hasPrev := 0.0, false
	for _, g := range groups {
		th, ok := ths[g.Name]
		if ok && hasPrev && th == prev && g.Evidence.Closed == 0 && len(out) > 0 {
			out[len(out)-1].Name += " (" + g.Name + " empty)"
			continue
		}
		prev, hasPrev = th, ok
		out = append(out, g)
	}
	return out
}
