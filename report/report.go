package report

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/profile"
)

// Options adds to the report. The zero value is ready to use.
type Options struct {
	// Changes, when not nil, adds a "what changed since the previous
	// model" section (see Compare).
	Changes *Changes
}

// WriteMarkdown writes the ICP report of p as Markdown: a summary (the
// segments in one table, the anti-ICP one line each, the tiers' results,
// what changed), then who the ideal customers are (segments with their
// rules and evidence), the anti-ICP, the tiers and their backtest, the
// data and label, validation and the model card.
func WriteMarkdown(w io.Writer, p *profile.Profile, o Options) error {
	return icpReport{p}.document(o, false).markdown(w)
}

// WriteHTML writes the report as one self-contained HTML page with inline
// SVG charts (gains and lift, calibration, score distribution by outcome,
// tier results); it loads nothing from the network. Its first screen is
// the summary: a card per segment, each carrying its figures exactly in
// data attributes (data-rate, data-rate-lo, data-rate-hi, data-lift,
// data-share), the anti-ICP one line each, the tier chart with its values
// and what changed.
func WriteHTML(w io.Writer, p *profile.Profile, o Options) error {
	return icpReport{p}.document(o, true).html(w, "Ideal Customer Profile — model "+p.Version)
}

// icpReport is the profile a report describes; its sections are its
// methods.
type icpReport struct{ *profile.Profile }

// document builds the report; charts only go into the HTML form.
func (p icpReport) document(o Options, charts bool) *document {
	d := &document{}
	v := p.Validation
	d.h1("Ideal Customer Profile — model %s", p.Version)
	w := wordsFor(p.Profile)
	p.summarySection(d, o)
	p.leakageSection(d)
	p.segmentSection(d)
	p.antiSection(d)
	p.tierSection(d, charts)
	p.backtestSection(d, charts)
	p.valueSection(d, charts)
	p.channelSection(d)
	if o.Changes != nil {
		o.Changes.section(d)
	}
	p.dataSection(d)

	d.h2("Validation")
	split := "Split: " + v.Split
	if v.From != "" {
		split += fmt.Sprintf(" (closed %s to %s)", v.From, v.To)
	}
	d.para("%s. Every candidate model was fitted on the training split, calibrated on its own cross-fitted margins of that split, and scored on the holdout; the one with the least calibrated log loss on the holdout was then refitted on all closed %s, calibrated the same way, and serves.", split, w.unit)
	var rows [][]string
	for _, c := range v.Candidates {
		sel := ""
		if c.Selected {
			sel = "**selected**"
		}
		name := c.Kind
		if c.Rounds > 0 {
			name = fmt.Sprintf("%s (%d trees)", c.Kind, c.Rounds)
		}
		rows = append(rows, []string{name, c.Calibration, fmt3(c.Holdout.ROCAUC), fmt3(c.Holdout.PRAUC), fmt3(c.Holdout.LogLoss),
			fmt3(c.Calibrated.LogLoss), fmt3(c.Calibrated.Brier), fmt2(c.Holdout.LiftTopDecile), sel})
	}
	d.table([]string{"model", "calibration", "holdout ROC AUC", "PR AUC", "log loss", "calibrated log loss", "Brier", "lift, top decile", ""}, rows)
	d.para("The selected model on its training split: ROC AUC %s, log loss %s (holdout: %s, %s).",
		fmt3(v.Train.ROCAUC), fmt3(v.Train.LogLoss), fmt3(v.Holdout.ROCAUC), fmt3(v.Holdout.LogLoss))
	d.h3("Calibration on the holdout")
	d.para("Calibration: %s, chosen among none, Platt scaling and isotonic regression by cross-fitted log loss and fitted on out-of-fold margins: the closed %s are cut into five folds in split order, and each fold is scored by a model fitted without it with the same number of trees (the served model's calibration comes from folds of all closed %s, so it describes the served model's own margins). The holdout's calibrated scores, binned by decile:",
		p.Model.Calibration.Method, w.unit, w.unit)
	rows = nil
	var pts [][2]float64
	for _, r := range v.Reliability {
		rows = append(rows, []string{fmt3(r.Lo) + "–" + fmt3(r.Hi), fmt.Sprint(r.N), pct(r.Predicted), pct(r.Observed)})
		pts = append(pts, [2]float64{r.Predicted, r.Observed})
	}
	d.table([]string{"scores", "accounts", "predicted", "observed"}, rows)
	if charts && len(pts) > 0 {
		top := 0.0
		for _, p := range pts {
			top = math.Max(top, math.Max(p[0], p[1]))
		}
		top = math.Min(1, math.Ceil(top*10+0.5)/10)
		d.chart(lineChart("Calibration (reliability) on the holdout", "predicted", "observed", top, top, pctTick, pctTick,
			[]series{{name: "perfect calibration", color: colorMuted, dashed: true, pts: [][2]float64{{0, 0}, {top, top}}},
				{name: "model", color: colorA, pts: pts}}))
	}

	d.h2("What drives the score")
	d.para("Mean absolute contribution of each column to the margin (log-odds), over %d training accounts, largest first:", p.Importance.Rows)
	rows = nil
	for _, c := range p.Importance.Columns {
		rows = append(rows, []string{"`" + c.Column + "`", fmt.Sprintf("%.3f", c.MeanAbs)})
	}
	d.table([]string{"column", "mean absolute contribution"}, rows)
	p.modelCard(d)
	return d
}

// segmentItem is a segment in the report's opening list: its rule, its
// evidence with the interval of its rate, how sure the holdout makes it
// and what it does worse than most.
func segmentItem(s profile.Segment, target string) string {
	e := s.Evidence
	item := fmt.Sprintf("**%s** (%s): `%s` — %d closed accounts, %s of them %s, %s the base rate",
		s.Name, s.ID, s.RuleText, s.Accounts, rateWithInterval(s.PositiveRate, e.PositiveRateInterval), target, times(s.Lift))
	if s.Confidence != "" {
		item += fmt.Sprintf("; confidence %s (holdout: %s of %d, %s the base rate)", s.Confidence,
			rateWithInterval(s.HoldoutRate, s.HoldoutRateInterval), s.HoldoutAccounts, times(s.HoldoutLift))
	}
	item += "."
	if s.Warning != "" {
		item += " Beware: " + s.Warning + "."
	}
	return item
}

// rateWithInterval writes a rate with its 95% interval, "41.5% (38.2–44.9%)";
// the rate alone when the interval is unknown (an older artifact).
func rateWithInterval(v float64, iv profile.Interval) string {
	if iv == (profile.Interval{}) {
		return pct(v)
	}
	return fmt.Sprintf("%s (%s–%s)", pct(v), strings.TrimSuffix(pct(iv.Lo), "%"), pct(iv.Hi))
}

func (p icpReport) segmentSection(d *document) {
	d.h2("Ideal customer segments")
	ss := p.SegmentSearch
	rules := ss.Method == profile.MethodRules
	switch {
	case len(p.Segments) == 0:
		d.para("**No reliable segments.** %s. The score still ranks accounts; it is the segments, readable groups that win clearly more often than the rest, that the data do not support.", capitalize(ss.Reason))
	case rules:
		d.para("Each segment is a group of accounts, stated by a rule on the raw column values, that turn %s clearly more often than the rest. An account belongs to the first segment whose rule it matches; the evidence counts the closed accounts each segment holds so, against all %d closed accounts, with 95%% (Wilson) intervals.",
			positiveWord(p.Label.Target), p.Baseline.Closed)
	default:
		d.para("Each segment is a cluster of %s described by a rule learned by a shallow decision tree on the raw column values. An account belongs to the first segment whose rule it matches; the evidence counts every closed account matching the rule, against all %d closed accounts.",
			targetNoun(p.Label.Target), p.Baseline.Closed)
	}
	if len(p.Segments) > 0 {
		noun := "segments"
		if len(p.Segments) == 1 {
			noun = "segment"
		}
		d.para("It found %d %s of %s:", len(p.Segments), noun, targetNoun(p.Label.Target))
		var items []string
		for _, s := range p.Segments {
			items = append(items, segmentItem(s, p.Label.Target))
		}
		d.list(items)
	}
	for _, s := range p.Segments {
		d.h3("%s: %s", s.ID, s.Name)
		d.para("%s", s.Summary)
		d.para("**Rule:** `%s`", s.RuleText)
		if rules {
			found := s.Outcomes
			if found == "" {
				found = p.Label.Target
			}
			d.para("Found by the search for %s. The rule holds %d of the %s of the training deals (%s) and %s of the training accounts it holds are positive.",
				found, s.Size, targetNoun(p.Label.Target), pct(s.Recall), pct(s.Precision))
			if s.HoldoutAccounts > 0 {
				d.para("On the holdout, which the search did not see, %d closed accounts match: %s turned positive against %s overall, %s (z = %.1f); confidence %s.",
					s.HoldoutAccounts, rateWithInterval(s.HoldoutRate, s.HoldoutRateInterval), pct(s.HoldoutBaseRate), times(s.HoldoutLift), s.HoldoutZ, dash(s.Confidence))
			}
			if s.PreviousJaccard > 0 {
				d.para("It keeps the ID of the previous model's segment whose accounts it shares (Jaccard index %s).", fmt3(s.PreviousJaccard))
			}
		} else {
			d.para("The rule matches %s of the cluster's %d %s (recall) and %s of the %s it matches belong to the cluster (precision).",
				pct(s.Recall), s.Size, targetNoun(p.Label.Target), pct(s.Precision), targetNoun(p.Label.Target))
		}
		d.table([]string{"evidence", "segment", "all closed accounts", "lift"}, evidenceRows(s.Evidence, p.Baseline))
		if len(s.Traits) > 0 {
			var rows [][]string
			for _, t := range s.Traits {
				date := p.isDate(t.Column)
				rows = append(rows, []string{t.Text, traitValue(t, t.Segment, date, 1), traitValue(t, t.Base, date, daysPerYear)})
			}
			d.para("Profile of the segment's positive accounts:")
			d.table([]string{"trait", "in segment", "all accounts"}, rows)
		}
	}
	d.h3("How the segments were found")
	if rules {
		found := "the label"
		if len(ss.Outcomes) > 0 {
			found = strings.Join(ss.Outcomes, " and then ")
		}
		searched := fmt.Sprintf("%d closed training accounts", ss.Rows)
		if ss.Sampled > 0 {
			searched = fmt.Sprintf("a seeded sample of %d of the %d closed training accounts", ss.Sampled, ss.Rows)
		}
		older, newest := splitWords(p.Profile)
		d.para("Subgroup discovery on %s (the %s deals), for %s, over the columns %s. A beam search grows rules one condition at a time — a set of levels, a two-sided range cut where the outcome changes, a tag list that has any, all or none of a set of tags — each condition kept only when the accounts it removes do significantly worse than those it keeps; the best rule is refined condition by condition, its cut points set between observed values, and a missing value goes with a condition only where accounts missing it turned out like those meeting it. The search then runs again on the accounts no rule holds yet. A rule becomes a segment when it holds up on the %s deals (the holdout); a condition that does not change the holdout's rate is pruned, and a rule that an earlier one covers is merged into it.",
			searched, older, found, codeList(ss.Columns), newest)
	} else {
		space := "each column's contribution to the score (attributions, log-odds)"
		if ss.Space == profile.SpaceFeatures {
			space = "the encoded features, each column scaled to equal weight"
		}
		d.para("k-means++ clustered the %d %s on %s, using the columns %s. For each number of clusters k, the silhouette measures separation and the stability is the mean adjusted Rand index between the clustering and its refits on bootstrap resamples; only stable ks are described. A cluster becomes a segment when its rule's accounts turn positive clearly more often than the base rate; the k whose segments tell the most about the label (mutual information) wins.",
			ss.Positives, targetNoun(p.Label.Target), space, codeList(ss.Columns))
	}
	if len(ss.Ks) > 0 {
		var rows [][]string
		for _, k := range ss.Ks {
			mark := ""
			if k.K == ss.K {
				mark = "**chosen**"
			}
			rows = append(rows, []string{fmt.Sprint(k.K), fmt3(k.Silhouette), fmt3(k.Stability), fmt.Sprint(k.Segments), pct(k.Coverage), fmt.Sprintf("%.4f", k.Gain), mark})
		}
		d.table([]string{"k", "silhouette", "stability (ARI)", "segments", "positives covered", "information (nats)", ""}, rows)
	}
	if len(ss.Pruned) > 0 {
		d.para("Conditions pruned because the holdout showed they change nothing:")
		d.list(ss.Pruned)
	}
	if len(ss.Dropped) > 0 {
		if rules {
			d.para("Candidate rules not kept as segments:")
		} else {
			d.para("Clusters not kept as segments:")
		}
		d.list(ss.Dropped)
	}
}

func positiveWord(target string) string {
	switch target {
	case profile.TargetWon:
		return "into won deals"
	case profile.TargetRetained:
		return "into customers who stay"
	}
	return "into ideal customers"
}

// evidenceRows compares a group's evidence with the baseline.
func evidenceRows(e, b profile.Evidence) [][]string {
	rows := [][]string{
		{"closed accounts", fmt.Sprint(e.Closed), fmt.Sprint(b.Closed), ""},
		{"won deals", fmt.Sprint(e.Won), fmt.Sprint(b.Won), ""},
		{"win rate", rateWithInterval(e.WinRate, e.WinRateInterval), pct(b.WinRate), times(e.WinLift)},
		{"positive rate", rateWithInterval(e.PositiveRate, e.PositiveRateInterval), pct(b.PositiveRate), times(e.Lift)},
	}
	if e.HasLTV || b.HasLTV {
		rows = append(rows, []string{"median LTV of won", optNum(e.MedianLTV, e.HasLTV), optNum(b.MedianLTV, b.HasLTV), times(e.LTVLift)})
	}
	if e.HasChurn || b.HasChurn {
		churn := optPct(e.ChurnRate, e.HasChurn)
		if e.HasChurn {
			churn = rateWithInterval(e.ChurnRate, e.ChurnRateInterval)
		}
		rows = append(rows, []string{"churn rate of won", churn, optPct(b.ChurnRate, b.HasChurn), times(e.ChurnLift)})
	}
	if e.HasCycle || b.HasCycle {
		rows = append(rows, []string{"median sales cycle of won (days)", optNum(e.MedianCycleDays, e.HasCycle), optNum(b.MedianCycleDays, b.HasCycle), times(e.CycleRatio)})
	}
	rows = append(rows, []string{"share of all won deals", pct(e.ShareOfWins), "100.0%", ""})
	return rows
}

func optNum(v float64, ok bool) string {
	if !ok {
		return "–"
	}
	return num(v)
}

func optPct(v float64, ok bool) string {
	if !ok {
		return "–"
	}
	return pct(v)
}

func codeList(cols []string) string {
	parts := make([]string, len(cols))
	for k, c := range cols {
		parts[k] = "`" + c + "`"
	}
	return strings.Join(parts, ", ")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (p icpReport) antiSection(d *document) {
	a := p.AntiICP
	d.h2("Anti-ICP: who not to pursue")
	if a.Definition == "" {
		d.para("Not learned: no closed accounts.")
		return
	}
	d.para("A good outcome is %s; %s of closed accounts have one. The segments' rule search, turned around, looks for the largest groups of accounts whose odds of a good outcome stay far below the base odds (lost deals, churned and low-LTV customers); each such rule that holds up on the holdout is a disqualifier. Scoring returns `anti_icp` with the rule an account matches.",
		a.Definition, pct(a.BaseGoodRate))
	if len(a.Rules) == 0 {
		d.para("No group of accounts does clearly worse than the rest.")
		return
	}
	var rows [][]string
	for _, r := range a.Rules {
		e := r.Evidence
		loss := pct(r.LossRate)
		if iv := e.WinRateInterval; iv != (profile.Interval{}) {
			loss = rateWithInterval(r.LossRate, profile.Interval{Lo: 1 - iv.Hi, Hi: 1 - iv.Lo})
		}
		rows = append(rows, []string{r.ID, "`" + r.RuleText + "`", fmt.Sprint(e.Closed), loss, rateWithInterval(r.GoodRate, r.GoodRateInterval),
			optPct(e.ChurnRate, e.HasChurn && e.Won > 0), optNum(e.MedianCycleDays, e.HasCycle && e.Won > 0), dash(r.Confidence)})
	}
	d.table([]string{"id", "rule", "closed accounts", "loss rate", "good outcomes", "churn of won", "median cycle of won (days)", "confidence"}, rows)
	var items []string
	for _, r := range a.Rules {
		items = append(items, r.Summary)
	}
	d.list(items)
}

func (p icpReport) tierSection(d *document, charts bool) {
	t, bt := p.Tiers, p.Backtest
	w := wordsFor(p.Profile)
	d.h2("Tiers")
	method := t.Method
	if method == "" {
		method = "shares"
	}
	on, head, th := "the calibrated score", "score at least", fmt3
	if t.By == profile.TierByValue {
		on, head, th = "the expected value", "expected value at least", num
	}
	d.para("Thresholds on %s, set by %s: %s.", on, method, t.Target)
	names := [3]string{"tier1", "tier2", "tier3"}
	ths := [3]float64{t.Tier1, t.Tier2, t.Tier3}
	shares, actual := p.tierShares()
	rows := [][]string{}
	var tied []string
	for k := 0; k < 3; k++ {
		name, share := names[k], shares[k]
		for k+1 < 3 && ths[k+1] == ths[k] {
			// A tier whose threshold equals the one above it is empty:
			// every account at or above the threshold is in the upper tier.
			tied = append(tied, fmt.Sprintf("%s and %s share the threshold %s", names[k], names[k+1], th(ths[k])))
			k++
			share += shares[k]
			name += " (" + names[k] + " empty)"
		}
		rows = append(rows, []string{name, th(ths[k]), pct(share)})
	}
	rows = append(rows, []string{"non_fit", "below " + th(t.Tier3), pct(shares[3])})
	shareHead := "share of training accounts"
	if actual {
		shareHead = "share of accounts"
	}
	d.table([]string{"tier", head, shareHead}, rows)
	if len(tied) > 0 {
		d.para("%s: many accounts have that very %s, so the lower tier of each pair holds no account and is shown merged into the upper one, here and in the backtest.", capitalize(strings.Join(tied, "; ")), strings.TrimPrefix(on, "the "))
	}
	if len(bt.Tiers) == 0 {
		return
	}
	if byDate(p.Profile) {
		d.para("On the %d holdout %s (the newest), scored by the model fitted on the older ones:", bt.Rows, w.unit)
	} else {
		d.para("On the %d holdout %s (drawn at random), scored by the model fitted on the other closed %s:", bt.Rows, w.unit, w.unit)
	}
	groups := p.untiedTiers()
	d.table(w.groupHead("tier"), w.groupRows(groups))
	rate := w.rate
	if w.ideal {
		rate = "rate of ideal customers"
	}
	if bt.WinRateFalls {
		d.para("The %s falls from tier to tier on the holdout, as it should.", rate)
	} else {
		d.para("**Warning:** the %s does not fall from tier to tier on the holdout; the tiers do not order accounts reliably on held-out %s. Review the thresholds (`--tier-shares`, `--tier-lift`, `--tier1-capacity`) or the data.", rate, w.unit)
	}
	if charts {
		var names []string
		win := make([]float64, len(groups))
		share := make([]float64, len(groups))
		for k, g := range groups {
			names = append(names, g.Name)
			win[k], share[k] = g.Evidence.PositiveRate, g.Evidence.ShareOfPositives
		}
		pos := w.rate
		if w.ideal {
			pos = "ideal rate"
		}
		d.chart(hbarChart("Tier results on the holdout", names, []string{pos, "share of all " + targetNoun(p.Label.Target)}, []string{colorA, colorB}, [][]float64{win, share}, pct))
	}
}

// tierShares returns the shares of tiers 1, 2, 3 and non-fit: the shares
// of all accounts each tier holds (from the drift reference, actual set),
// or the shares the thresholds aimed at.
func (p icpReport) tierShares() (shares [4]float64, actual bool) {
	if p.Drift != nil && len(p.Drift.Tiers) > 0 {
		for k, tr := range icp.Tiers() {
			shares[k] = p.Drift.Tiers[tr]
		}
		return shares, true
	}
	t := p.Tiers
	return [4]float64{t.Shares[0], t.Shares[1], t.Shares[2], math.Max(0, 1-t.Shares[0]-t.Shares[1]-t.Shares[2])}, false
}

// untiedTiers returns the backtest's tier groups without the tiers whose
// threshold equals the one above (they hold no deal), the upper one named
// for both.
func (p icpReport) untiedTiers() []profile.GroupResult {
	return untied(p.Tiers, p.Backtest.Tiers)
}

func (p icpReport) backtestSection(d *document, charts bool) {
	bt := p.Backtest
	d.h2("Backtest on the holdout")
	if bt.Rows == 0 {
		d.para("No holdout.")
		return
	}
	w := wordsFor(p.Profile)
	if byDate(p.Profile) {
		d.para("The %d newest closed %s (%s to %s) were scored by the model fitted on the older ones, with its own cross-fitted calibration, and placed by the final tiers and rules.", bt.Rows, w.unit, p.Validation.From, p.Validation.To)
	} else {
		d.para("The %d closed %s held out at random were scored by the model fitted on the others, with its own cross-fitted calibration, and placed by the final tiers and rules.", bt.Rows, w.unit)
	}
	d.h3("By segment")
	d.table(w.groupHead("segment"), w.groupRows(append(append([]profile.GroupResult(nil), bt.Segments...), bt.AntiICP)))
	if len(bt.Gains) > 0 {
		d.h3("Gains")
		var rows [][]string
		var gains, lift [][2]float64
		for _, g := range bt.Gains {
			if g.Share == 0 {
				gains = append(gains, [2]float64{0, 0})
				continue
			}
			gains = append(gains, [2]float64{g.Share, g.Captured})
			lift = append(lift, [2]float64{g.Share, g.Lift})
			if math.Mod(math.Round(g.Share*100), 10) == 0 {
				rows = append(rows, []string{pct(g.Share), pct(g.Captured), fmt2(g.Lift)})
			}
		}
		d.table([]string{"top deals by score", "positives captured", "lift"}, rows)
		if charts {
			d.chart(lineChart("Gains on the holdout", "share of deals, top score first", "share of positives captured", 1, 1, pctTick, pctTick,
				[]series{{name: "random", color: colorMuted, dashed: true, pts: [][2]float64{{0, 0}, {1, 1}}}, {name: "model", color: colorA, pts: gains}}))
			top := 1.0
			for _, l := range lift {
				top = math.Max(top, l[1])
			}
			d.chart(lineChart("Lift on the holdout", "share of deals, top score first", "lift over the base rate", 1, math.Ceil(top), pctTick, numTick,
				[]series{{name: "random", color: colorMuted, dashed: true, pts: [][2]float64{{0, 1}, {1, 1}}}, {name: "model", color: colorA, pts: lift}}))
		}
	}
	if h := bt.Histogram; charts && len(h.Positive) > 0 && len(h.Positive) == len(h.Negative) {
		// The bins are merged by twos (tenths of the score for the usual
		// 20) so that each bar of the chart has room for its value.
		n := (len(h.Positive) + 1) / 2
		var groups []string
		pos := make([]float64, n)
		neg := make([]float64, n)
		var np, nn float64
		for k := range h.Positive {
			np += float64(h.Positive[k])
			nn += float64(h.Negative[k])
		}
		for k := range h.Positive {
			pos[k/2] += float64(h.Positive[k]) / math.Max(1, np)
			neg[k/2] += float64(h.Negative[k]) / math.Max(1, nn)
		}
		width := 1 / float64(len(h.Positive))
		for k := range n {
			groups = append(groups, fmt.Sprintf("%.2f–%.2f", float64(2*k)*width, math.Min(1, float64(2*k+2)*width)))
		}
		d.chart(hbarChart("Score distribution by outcome on the holdout", groups, []string{"share of positives", "share of negatives"}, []string{colorA, colorB}, [][]float64{pos, neg}, pct))
	}
	if len(bt.Recent) > 0 {
		d.h3("Recent deals")
		lost := "lost"
		if w.retained {
			lost = "churned"
		}
		if byDate(p.Profile) {
			d.para("The last %d %s and %s %s of the holdout, newest first, with how the model placed them:", len(bt.Recent), w.won, lost, w.unit)
		} else {
			d.para("%d %s and %s %s of the holdout (up to 20 of each), with how the model placed them:", len(bt.Recent), w.won, lost, w.unit)
		}
		var rows [][]string
		for _, r := range bt.Recent {
			res := lost
			if r.Won {
				res = w.won
			}
			rows = append(rows, []string{r.AccountID, r.CloseDate, res, fmt3(r.Score), string(r.Tier), dash(r.Segment), dash(r.AntiICP)})
		}
		d.table([]string{"account", "closed", "outcome", "score", "tier", "segment", "anti-ICP"}, rows)
	}
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func (p icpReport) dataSection(d *document) {
	data := p.Data
	d.h2("Data and label")
	rows := [][]string{
		{"source", "`" + data.Source + "`"},
		{"data hash", "`" + p.DataHash + "`"},
		{"rows", fmt.Sprint(data.Rows)},
		{"labeled (closed)", fmt.Sprint(data.Labeled)},
		{"open (scored, not trained on)", fmt.Sprint(p.Label.Open)},
		{"positives / negatives", fmt.Sprintf("%d / %d (%s positive)", p.Label.Positives, p.Label.Negatives,
			pct(float64(p.Label.Positives)/float64(max(1, p.Label.Positives+p.Label.Negatives))))},
	}
	if data.From != "" {
		rows = append(rows, []string{"close dates", data.From + " to " + data.To})
	}
	rows = append(rows, []string{"encoded features", fmt.Sprint(data.Features)}, []string{"seed", fmt.Sprint(p.Seed)})
	d.table([]string{"", ""}, rows)
	d.para("**Label (%s):** %s.", p.Label.Target, p.Label.Definition)
	if len(p.Label.Values) > 0 {
		var parts []string
		for _, lv := range p.Label.Values {
			val := lv.Value
			if val == "" {
				val = "(empty)"
			}
			parts = append(parts, fmt.Sprintf("`%s` %d (%s)", val, lv.Count, lv.Meaning))
		}
		d.para("Values of `%s`: %s.", p.Label.WonColumn, strings.Join(parts, ", "))
	}
	d.h3("Columns")
	rows = nil
	for _, c := range p.Schema.Columns {
		rows = append(rows, []string{"`" + c.Name + "`", string(c.Role), c.Kind, c.Reason})
	}
	d.table([]string{"column", "role", "kind", "why"}, rows)
}

func (p icpReport) modelCard(d *document) {
	v := p.Validation
	d.h2("Model card")
	window := "no close dates"
	if p.Data.From != "" {
		window = p.Data.From + " to " + p.Data.To
	}
	var kind string
	for _, c := range v.Candidates {
		if c.Selected {
			kind = c.Kind
			if c.Rounds > 0 {
				kind += fmt.Sprintf(" (%d trees)", c.Rounds)
			}
		}
	}
	d.table([]string{"", ""}, [][]string{
		{"model", fmt.Sprintf("%s, calibration %s, version `%s`", kind, p.Model.Calibration.Method, p.Version)},
		{"training window", window},
		{"rows", fmt.Sprintf("%d accounts, %d closed, %d open", p.Data.Rows, p.Data.Labeled, p.Label.Open)},
		{"label", p.Label.Definition},
		{"holdout", fmt.Sprintf("%d deals, %s", v.Holdout.Rows, v.Split)},
		{"holdout metrics", fmt.Sprintf("ROC AUC %s, PR AUC %s, calibrated log loss %s, Brier %s, top-decile lift %s",
			fmt3(v.Holdout.ROCAUC), fmt3(v.Holdout.PRAUC), fmt3(v.Calibrated.LogLoss), fmt3(v.Calibrated.Brier), fmt2(v.Holdout.LiftTopDecile))},
		{"segments", segmentsCard(p.Profile)},
		{"anti-ICP rules", fmt.Sprint(len(p.AntiICP.Rules))},
	})
	d.h3("Limitations")
	d.list([]string{
		"The model learns from past closed deals: it reflects who sales chose to pursue, not the whole market.",
		"Churn and LTV of recent customers are still unfolding, so recent wins may be labeled ideal too early.",
		"Segment rules state groups that won more often in the past; an account matching a rule is like the segment's accounts, not certain to win. Membership at serving time follows the rules, and a condition \"(or missing)\" lets an account without that field match.",
		"Lifts and rates are measured on the training data, the backtest on the holdout only; the intervals say how wide the uncertainty is, and small segments have wide ones.",
		"Correlation, not cause: a column that marks a segment may stand in for something the data do not hold.",
	})
}

// segmentsCard is the model card's line on segments.
func segmentsCard(p *profile.Profile) string {
	if p.SegmentSearch.Method == profile.MethodRules {
		return fmt.Sprintf("%d (subgroup discovery)", len(p.Segments))
	}
	return fmt.Sprintf("%d (k = %d)", len(p.Segments), p.SegmentSearch.K)
}

func targetNoun(target string) string {
	switch target {
	case profile.TargetWon:
		return "won accounts"
	case profile.TargetRetained:
		return "retained customers"
	}
	return "ideal customers"
}

// daysPerYear converts the encoder's date unit (years since 1970) to days.
const daysPerYear = 365.25

// traitValue formats a trait's value: a share, or a median, as a date for
// a date column. A trait's segment median is in the column's own unit
// (days for a date) and its base median is the encoder's (years for a
// date), so dayScale converts it: 1 or daysPerYear.
func traitValue(t profile.Trait, v float64, date bool, dayScale float64) string {
	switch {
	case t.Measure != "median":
		return pct(v)
	case date:
		return "median " + profile.FormatDay(v*dayScale)
	}
	return "median " + num(v)
}

// isDate reports whether the named column is a date feature.
func (p icpReport) isDate(column string) bool {
	c := p.Schema.Column(column)
	return c != nil && c.Role == "date"
}

// pct, times and num are the profile's formats under the short names the
// tables read best with.
func pct(v float64) string   { return profile.FormatPercent(v) }
func times(v float64) string { return profile.FormatTimes(v) }
func num(v float64) string   { return profile.FormatNumber(v) }

func fmt2(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}

func fmt3(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.3f", v)
}

// WriteSummary prints a few lines about p for the trainer's console: rows,
// label balance, validation metrics, segments and tier thresholds.
func WriteSummary(w io.Writer, p *profile.Profile) {
	l, v := p.Label, p.Validation
	if leaks := leakageLines(p); len(leaks) > 0 {
		fmt.Fprintf(w, "left out as leakage (known only after the outcome; the schema file can put one back):\n")
		for _, l := range leaks {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	fmt.Fprintf(w, "model %s: %d rows, %d closed (%d positive, %d negative), %d open\n",
		p.Version, p.Data.Rows, p.Data.Labeled, l.Positives, l.Negatives, l.Open)
	fmt.Fprintf(w, "label: %s\n", l.Definition)
	fmt.Fprintf(w, "validation: %s\n", v.Split)
	if warn := aucWarning(p); warn != "" {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	for _, c := range v.Candidates {
		mark := " "
		if c.Selected {
			mark = "*"
		}
		fmt.Fprintf(w, " %s %-8s ROC AUC %s, PR AUC %s, log loss %s (calibrated, %s: %s), Brier %s, top-decile lift %s\n",
			mark, c.Kind, fmt3(c.Holdout.ROCAUC), fmt3(c.Holdout.PRAUC), fmt3(c.Holdout.LogLoss), c.Calibration,
			fmt3(c.Calibrated.LogLoss), fmt3(c.Calibrated.Brier), fmt2(c.Holdout.LiftTopDecile))
	}
	if len(p.Segments) == 0 {
		fmt.Fprintf(w, "segments: no reliable segments: %s\n", p.SegmentSearch.Reason)
	} else {
		fmt.Fprintf(w, "segments: %d\n", len(p.Segments))
	}
	for _, s := range p.Segments {
		conf := ""
		if s.Confidence != "" {
			conf = ", confidence " + s.Confidence
		}
		fmt.Fprintf(w, "  %s %s: %d %s, %s×%s\n    %s\n", s.ID, s.Name, s.Size, targetNoun(p.Label.Target), fmt2(s.Lift), conf, s.RuleText)
		if s.Warning != "" {
			fmt.Fprintf(w, "    beware: %s\n", s.Warning)
		}
	}
	fmt.Fprintf(w, "anti-ICP rules: %d\n", len(p.AntiICP.Rules))
	for _, r := range p.AntiICP.Rules {
		lost := ""
		if r.Evidence.Won < r.Evidence.Closed || p.Baseline.Won < p.Baseline.Closed {
			lost = ", " + pct(r.LossRate) + " lost"
		}
		fmt.Fprintf(w, "  %s %s: %d closed%s, %s good outcomes\n", r.ID, r.RuleText, r.Evidence.Closed, lost, pct(r.GoodRate))
	}
	on, th := "", fmt3
	if p.Tiers.By == profile.TierByValue {
		on, th = " (on the expected value)", num
	}
	fmt.Fprintf(w, "tiers%s: tier1 >= %s, tier2 >= %s, tier3 >= %s\n", on, th(p.Tiers.Tier1), th(p.Tiers.Tier2), th(p.Tiers.Tier3))
	writeValueSummary(w, p)
	writeChannelSummary(w, p)
}
