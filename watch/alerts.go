package watch

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/drift"
	"github.com/icpengine/icp/model"
)

// The alert kinds the watcher raises. An alert's group key is its kind, a
// colon and what it is about: "feature_drift:<feature>",
// "score_drift:score", "tier_mix_drift:tier_mix",
// "icp_drift:winners_outside", "icp_drift:winner_scores" and
// "emerging_segment:<traits>".
const (
	KindFeatureDrift    = "feature_drift"
	KindScoreDrift      = "score_drift"
	KindTierMixDrift    = "tier_mix_drift"
	KindICPDrift        = "icp_drift"
	KindEmergingSegment = "emerging_segment"
)

// The sizes at which a drifting signal becomes critical (see grade), and
// the PSI band that reads "moderate".
const (
	psiModerate = drift.PSIWatch
	psiLarge    = drift.PSIAlert
	// outsideLarge is how many more won deals (as a share) fall outside
	// the ICP than on the validation deals.
	outsideLarge = 0.10
	// emergingLarge is the share of recent won deals in a new segment.
	emergingLarge = 0.20
	// maxAccountIDs bounds the account ids an alert's details list.
	maxAccountIDs = 50
)

// The metrics of icp.WatchSignal.Value.
const (
	// MetricPSI is the population stability index of a distribution.
	MetricPSI = "psi"
	// MetricShare is a share of the recent won deals.
	MetricShare = "share"
	// MetricMissing is the share of scored accounts without a value.
	MetricMissing = "missing"
)

// The data-feed test of numeric features (see missingShift).
const (
	// missingMinRise is the least rise of the missing share that alerts.
	missingMinRise = 0.05
	// missingLarge is the rise that makes the alert critical.
	missingLarge = 0.20
)

// grade is the one severity rule. Every alert and every signal of a report
// (so the dashboard and icp_drift_status in /metrics as well) take their
// severity from it:
//
//   - none while a signal is stable or has too little data to be tested;
//   - info while it is in the watch zone, a warning sign short of drift
//     that never raises an alert;
//   - warning when it drifts: its test rules out sampling noise;
//   - critical when it drifts and its size reaches large: a PSI above 0.25
//     for a distribution (a feature, the score, the tier mix, the winners'
//     scores), twenty points more accounts without a value of a numeric
//     feature, ten points more won deals outside the ICP than on the
//     validation deals, or a new segment holding a fifth of the recent won
//     deals.
//
// A p-value never makes an alert critical: over thousands of accounts a
// tiny shift is certain and still small.
func grade(status string, size, large float64) icp.Severity {
	switch status {
	case drift.StatusWatch:
		return icp.SeverityInfo
	case drift.StatusDrift:
		if size >= large {
			return icp.SeverityCritical
		}
		return icp.SeverityWarning
	}
	return ""
}

// sample is one scored account of the window, as the alerts describe it.
type sample struct {
	at    time.Time
	score float64
	tier  icp.Tier
}

// evalContext is what the alerts of one evaluation are written from.
type evalContext struct {
	now time.Time
	ref *drift.Reference
	// window returns the monitor's current feature values.
	window func() drift.Window
	// recent are the scored accounts of the window and winners the recent
	// won deals, oldest first.
	recent  []sample
	winners []winner
	alpha   float64
}

// emergingVerdict is an emerging segment with its status: drift when it
// is alerted on, watch when listed, insufficient without a baseline.
type emergingVerdict struct {
	e      icp.EmergingSegment
	status string
}

// compose turns a report into its signals and the alerts of the drifting
// ones. minWindow is the fewest rows a feature test needs.
func compose(rep *icp.WatchReport, em []emergingVerdict, ec *evalContext, minWindow int) ([]icp.WatchSignal, []icp.Alert) {
	var (
		sigs   []icp.WatchSignal
		alerts []icp.Alert
	)
	add := func(s icp.WatchSignal, build func(icp.WatchSignal) icp.Alert) {
		sigs = append(sigs, s)
		if s.Status == drift.StatusDrift {
			alerts = append(alerts, build(s))
		}
	}
	for _, f := range rep.Features {
		s := psiSignal(KindFeatureDrift, f, readable(f.Feature))
		if p, ok := missingShift(f, minWindow); ok {
			rise := f.MissingRate - f.RefMissingRate
			s.Status, s.Severity, s.Value, s.Metric = drift.StatusDrift, grade(drift.StatusDrift, rise, missingLarge), f.MissingRate, MetricMissing
			f.Detail = fmt.Sprintf("missing %.1f%% against %.1f%% in the reference, binomial p=%.2g against corrected alpha %.2g; %s",
				100*f.MissingRate, 100*f.RefMissingRate, p, f.CorrectedAlpha, f.Detail)
		}
		add(s, func(s icp.WatchSignal) icp.Alert { return featureAlert(f, s, ec) })
	}
	if f := rep.Score; f != nil {
		add(psiSignal(KindScoreDrift, *f, "Fit score"), func(s icp.WatchSignal) icp.Alert { return scoreAlert(*f, s, ec) })
	}
	if f := rep.TierMix; f != nil {
		add(psiSignal(KindTierMixDrift, *f, "Tier mix"), func(s icp.WatchSignal) icp.Alert { return tierMixAlert(*f, s, ec) })
	}
	if r := rep.ICP; r != nil {
		s := icp.WatchSignal{Key: KindICPDrift + ":winners_outside", Kind: KindICPDrift, Subject: "Won deals outside the ICP",
			Status: r.Status, Value: r.ObservedShare, Metric: MetricShare}
		s.Severity = grade(s.Status, r.ObservedShare-r.ExpectedShare, outsideLarge)
		add(s, func(s icp.WatchSignal) icp.Alert { return outsideAlert(*r, s, ec) })
		if f := r.Scores; f != nil {
			s := psiSignal(KindICPDrift, *f, "Scores of won deals")
			s.Key = KindICPDrift + ":winner_scores"
			add(s, func(s icp.WatchSignal) icp.Alert { return winnerScoresAlert(*f, s, ec) })
		}
	}
	cols := columns(ec.ref)
	for _, v := range em {
		v.e.Name = readableColumns(v.e.Name, cols)
		v.e.Traits = append([]string(nil), v.e.Traits...)
		for i, t := range v.e.Traits {
			v.e.Traits[i] = readableColumns(t, cols)
		}
		s := icp.WatchSignal{Key: KindEmergingSegment + ":" + v.e.Key, Kind: KindEmergingSegment, Subject: segmentName(v.e),
			Status: v.status, Value: v.e.Observed, Metric: MetricShare}
		s.Severity = grade(s.Status, v.e.Observed, emergingLarge)
		add(s, func(s icp.WatchSignal) icp.Alert { return emergingAlert(v.e, s, ec) })
	}
	return sigs, alerts
}

// missingShift tests whether a numeric feature arrives without a value
// more often than in the reference, which its drift test (on the values
// present) cannot see: the one-sided exact binomial test of the missing
// count against the reference's missing share, at the feature's corrected
// alpha, for a rise of at least five points, over at least minWindow rows.
// A reference without missing values is taken to have half a missing
// value, so that one missing value is not a certainty.
func missingShift(f icp.FeatureDrift, minWindow int) (p float64, ok bool) {
	if f.Kind != "numeric" || f.Window < minWindow || f.MissingRate-f.RefMissingRate < missingMinRise {
		return 1, false
	}
	base := math.Max(f.RefMissingRate, 0.5/float64(max(f.RefN, 1)))
	k := int(math.Round(f.MissingRate * float64(f.Window)))
	p = drift.BinomialTestGreater(k, f.Window, math.Min(base, 1))
	alpha := f.CorrectedAlpha
	if alpha <= 0 {
		alpha = 0.05
	}
	return p, p < alpha
}

// psiSignal is the signal of a drift result, sized by its PSI.
func psiSignal(kind string, f icp.FeatureDrift, subject string) icp.WatchSignal {
	key := kind + ":" + f.Feature
	return icp.WatchSignal{Key: key, Kind: kind, Feature: f.Feature, Subject: subject, Status: f.Status,
		Severity: grade(f.Status, f.PSI, psiLarge), Value: f.PSI, Metric: MetricPSI}
}

// newAlert fills the fields every alert shares.
func newAlert(s icp.WatchSignal, title, summary, action string, m *icp.AlertMeasure, details map[string]any, now time.Time) icp.Alert {
	details["group_key"] = s.Key
	return icp.Alert{
		GroupKey: s.Key, Kind: s.Kind, Severity: s.Severity, Status: icp.AlertOpen,
		Title: title, Subject: s.Subject, Summary: summary, Action: action, Measure: m, Details: details,
		FirstSeen: now, LastSeen: now, UpdatedAt: now, Count: 1,
	}
}

// resultDetails are the technical statistics of a drift result.
func resultDetails(f icp.FeatureDrift) map[string]any {
	d := map[string]any{
		"feature": f.Feature, "kind": f.Kind, "test": f.Test, "status": f.Status,
		"statistic": f.Statistic, "p_value": f.PValue, "threshold": f.Threshold,
		"corrected_alpha": f.CorrectedAlpha, "tests": f.Tests,
		"psi": f.PSI, "psi_band": f.PSIBand,
		"window": f.Window, "n": f.N, "ref_n": f.RefN,
		"missing_rate": f.MissingRate, "ref_missing_rate": f.RefMissingRate,
		"detail": f.Detail,
	}
	if f.DF > 0 {
		d["df"] = f.DF
	}
	if f.JSDistance > 0 {
		d["js_distance"] = f.JSDistance
	}
	if f.NoiseFloor > 0 {
		d["noise_floor"] = f.NoiseFloor
	}
	return d
}

// The recommended actions.
const (
	actionPopulation = "Ask marketing whether targeting or lead sources changed. Then watch the win rate per tier: " +
		"if these accounts win as often as before, nothing needs to change; if they win less, review the ICP with sales, " +
		"and retrain on recent outcomes (train --outcomes-db) once the shift has lasted a few weeks."
	actionMissing = "Check the data feed: a CRM field that was renamed, emptied or dropped from the sync usually does this, " +
		"and the model then scores these accounts without it. Fix the feed before acting on their scores and tiers."
	actionNewValues = "Check the data feed for renamed or re-spelled values: the model treats values it never saw as unknown. " +
		"If they are genuinely new markets, retrain on recent outcomes (train --outcomes-db) so that the model learns them."
)

// featureAlert describes a drifting feature by the change a reader can
// check: the level whose share moved most for a categorical feature (or
// the missing values, or values the model never saw), the median for a
// numeric one.
func featureAlert(f icp.FeatureDrift, s icp.WatchSignal, ec *evalContext) icp.Alert {
	d := resultDetails(f)
	w := ec.window()
	if cur, ok := w.Categorical[f.Feature]; ok {
		if ref := findCategorical(ec.ref, f.Feature); ref != nil {
			return categoricalAlert(f, s, ref, cur, d, ec)
		}
	}
	if cur, ok := w.Numeric[f.Feature]; ok {
		if ref := findNumeric(ec.ref, f.Feature); ref != nil && (len(ref.Quantiles) == 101 || s.Metric == MetricMissing) {
			return numericAlert(f, s, ref, cur, d, ec)
		}
	}
	summary := sentence(fmt.Sprintf("%s of the last %s scored accounts differs from the training data: %s shift.",
		s.Subject, thousands(f.Window), sizeWord(f.PSI)), scoredSpanOf(ec.recent))
	return newAlert(s, s.Subject+" has shifted", summary, actionPopulation, nil, d, ec.now)
}

func findCategorical(ref *drift.Reference, name string) *drift.CategoricalRef {
	if ref == nil {
		return nil
	}
	for i := range ref.Categorical {
		if ref.Categorical[i].Name == name {
			return &ref.Categorical[i]
		}
	}
	return nil
}

func findNumeric(ref *drift.Reference, name string) *drift.NumericRef {
	if ref == nil {
		return nil
	}
	for i := range ref.Numeric {
		if ref.Numeric[i].Name == name {
			return &ref.Numeric[i]
		}
	}
	return nil
}

// categoricalAlert: the cell whose share moved most, among the reference
// levels, the missing values and the values the reference never saw.
func categoricalAlert(f icp.FeatureDrift, s icp.WatchSignal, ref *drift.CategoricalRef, cur []string, d map[string]any, ec *evalContext) icp.Alert {
	n := len(cur)
	index := make(map[string]int, len(ref.Levels))
	for i, l := range ref.Levels {
		index[l] = i
	}
	k := len(ref.Levels)
	counts := make([]int, k+2) // levels, missing, new
	unseen := map[string]int{}
	for _, v := range cur {
		switch i, ok := index[v]; {
		case v == "":
			counts[k]++
		case ok:
			counts[i]++
		default:
			counts[k+1]++
			unseen[v]++
		}
	}
	refShare := func(i int) float64 {
		switch {
		case i < k:
			return ref.Props[i] * (1 - ref.MissingRate)
		case i == k:
			return ref.MissingRate
		}
		return 0
	}
	top, move := 0, -1.0
	for i := range counts {
		if m := math.Abs(float64(counts[i])/float64(max(n, 1)) - refShare(i)); m > move {
			top, move = i, m
		}
	}
	p := float64(counts[top]) / float64(max(n, 1))
	lo, hi := model.Wilson(counts[top], n)
	base := refShare(top)
	span := scoredSpanOf(ec.recent)
	interval := fmt.Sprintf("95%% interval %s", pctRange(lo, hi))
	m := &icp.AlertMeasure{Unit: "share", Value: p, Low: lo, High: hi, Baseline: base}
	switch {
	case top == k:
		m.Label = "share of accounts without " + lower(s.Subject)
		d["cell"] = drift.MissingLevel
		summary := sentence(fmt.Sprintf("%s of the last %s scored accounts arrive without %s (%s), against %s in the training data.",
			pct(p), thousands(n), lower(s.Subject), interval, pct(base)), span)
		return newAlert(s, "More accounts arrive without "+lower(s.Subject), summary, actionMissing, m, d, ec.now)
	case top == k+1:
		vals := make([]string, 0, len(unseen))
		for v := range unseen {
			vals = append(vals, v)
		}
		sort.Slice(vals, func(a, b int) bool {
			if unseen[vals[a]] != unseen[vals[b]] {
				return unseen[vals[a]] > unseen[vals[b]]
			}
			return vals[a] < vals[b]
		})
		m.Label = "share of accounts with a new " + lower(s.Subject)
		d["cell"], d["new_values"] = drift.NewLevel, vals[:min(len(vals), 10)]
		summary := sentence(fmt.Sprintf("%s of the last %s scored accounts (%s) have a value of %s the training data never had, most often %s.",
			pct(p), thousands(n), interval, lower(s.Subject), quoteList(vals, 3)), span)
		return newAlert(s, s.Subject+" has values the model never saw", summary, actionNewValues, m, d, ec.now)
	}
	level := ref.Levels[top]
	d["cell"] = level
	up := p > base
	title, what, in := "", "", lower(s.Subject)
	switch col, tag, isTag := strings.Cut(f.Feature, " has "); {
	case isTag && (level == "true" || level == "false"):
		// A tag feature: speak of the accounts with the tag.
		if level == "false" {
			up = !up
			p, lo, hi, base = 1-p, 1-hi, 1-lo, 1-base
			m.Value, m.Low, m.High, m.Baseline = p, lo, hi, base
			interval = fmt.Sprintf("95%% interval %s", pctRange(lo, hi))
		}
		title = fmt.Sprintf("%s accounts with %s in their %s", moreFewer(up), tag, lower(readable(col)))
		what = fmt.Sprintf("Accounts with %s in their %s", tag, lower(readable(col)))
		in = lower(readable(col))
		m.Label = "share of accounts with " + tag
	case level == "true" || level == "false":
		if level == "false" {
			up = !up
			p, lo, hi, base = 1-p, 1-hi, 1-lo, 1-base
			m.Value, m.Low, m.High, m.Baseline = p, lo, hi, base
			interval = fmt.Sprintf("95%% interval %s", pctRange(lo, hi))
		}
		title = fmt.Sprintf("%s accounts with %s", moreFewer(up), lower(s.Subject))
		what = "Accounts with " + lower(s.Subject)
		m.Label = "share of accounts with " + lower(s.Subject)
	default:
		title = fmt.Sprintf("%s: %s %s accounts", s.Subject, lower(moreFewer(up)), level)
		what = level + " accounts"
		m.Label = fmt.Sprintf("share of %s accounts", level)
	}
	summary := sentence(fmt.Sprintf("%s make up %s of the last %s scored accounts (%s), against %s in the training data: %s shift in %s.",
		what, pct(p), thousands(n), interval, pct(base), sizeWord(f.PSI), in), span)
	return newAlert(s, title, summary, actionPopulation, m, d, ec.now)
}

// numericAlert: more missing values, or the median and middle half.
func numericAlert(f icp.FeatureDrift, s icp.WatchSignal, ref *drift.NumericRef, cur []float64, d map[string]any, ec *evalContext) icp.Alert {
	x := finiteSorted(cur)
	n := len(cur)
	span := scoredSpanOf(ec.recent)
	missing := n - len(x)
	if share := float64(missing) / float64(max(n, 1)); s.Metric == MetricMissing {
		lo, hi := model.Wilson(missing, n)
		d["cell"] = drift.MissingLevel
		m := &icp.AlertMeasure{Label: "share of accounts without " + lower(s.Subject), Unit: "share", Value: share, Low: lo, High: hi, Baseline: ref.MissingRate}
		summary := sentence(fmt.Sprintf("%s of the last %s scored accounts arrive without %s (95%% interval %s), against %s in the training data.",
			pct(share), thousands(n), lower(s.Subject), pctRange(lo, hi), pct(ref.MissingRate)), span)
		return newAlert(s, "More accounts arrive without "+lower(s.Subject), summary, actionMissing, m, d, ec.now)
	}
	med, lo, hi := medianInterval(x)
	refMed := ref.Quantiles[50]
	m := &icp.AlertMeasure{Label: "median " + lower(s.Subject), Value: med, Low: lo, High: hi, Baseline: refMed}
	title := s.Subject + " is up among scored accounts"
	switch {
	case refMed >= lo && refMed <= hi:
		title = "The spread of " + lower(s.Subject) + " has changed"
	case med < refMed:
		title = s.Subject + " is down among scored accounts"
	}
	q1, q3 := quantile(x, 0.25), quantile(x, 0.75)
	summary := sentence(fmt.Sprintf("The median %s of the last %s scored accounts is %s (95%% interval %s–%s), against %s in the training data; "+
		"the middle half spans %s–%s (training %s–%s): %s shift.",
		lower(s.Subject), thousands(len(x)), number(med), number(lo), number(hi), number(refMed),
		number(q1), number(q3), number(ref.Quantiles[25]), number(ref.Quantiles[75]), sizeWord(f.PSI)), span)
	return newAlert(s, title, summary, actionPopulation, m, d, ec.now)
}

// scoreAlert: the median fit score of the window against training.
func scoreAlert(f icp.FeatureDrift, s icp.WatchSignal, ec *evalContext) icp.Alert {
	scores := make([]float64, 0, len(ec.recent))
	for _, r := range ec.recent {
		if r.tier != "" {
			scores = append(scores, r.score)
		}
	}
	d := resultDetails(f)
	var m *icp.AlertMeasure
	title, what := "Incoming accounts score differently than in training", ""
	if ec.ref != nil && ec.ref.Score != nil && len(ec.ref.Score.Quantiles) == 101 && len(scores) > 0 {
		x := finiteSorted(scores)
		med, lo, hi := medianInterval(x)
		refMed := ec.ref.Score.Quantiles[50]
		m = &icp.AlertMeasure{Label: "median fit score", Value: med, Low: lo, High: hi, Baseline: refMed}
		switch {
		case refMed < lo:
			title = "Incoming accounts score higher than in training"
		case refMed > hi:
			title = "Incoming accounts score lower than in training"
		}
		q := ec.ref.Score.Quantiles
		what = fmt.Sprintf("The median fit score of the last %s scored accounts is %.2f (95%% interval %.2f–%.2f), against %.2f in the training data; "+
			"the middle half spans %.2f–%.2f (training %.2f–%.2f): %s shift.",
			thousands(len(x)), med, lo, hi, refMed, quantile(x, 0.25), quantile(x, 0.75), q[25], q[75], sizeWord(f.PSI))
	} else {
		what = fmt.Sprintf("The fit scores of the last %s scored accounts differ from the training data: %s shift.", thousands(f.Window), sizeWord(f.PSI))
	}
	action := "Look at the feature alerts first: a data-feed problem (missing or renamed fields) moves every score. " +
		"If the data is sound, the mix of incoming accounts has changed: review targeting with marketing, " +
		"and retrain on recent outcomes if the win rate stops falling from tier to tier."
	return newAlert(s, title, sentence(what, scoredSpanOf(ec.recent)), action, m, d, ec.now)
}

// tierMixAlert: the tier whose share moved most, then the whole mix.
func tierMixAlert(f icp.FeatureDrift, s icp.WatchSignal, ec *evalContext) icp.Alert {
	counts := map[icp.Tier]int{}
	n := 0
	for _, r := range ec.recent {
		if r.tier != "" {
			counts[r.tier]++
			n++
		}
	}
	d := resultDetails(f)
	var refShares map[icp.Tier]float64
	if ec.ref != nil {
		refShares = ec.ref.Tiers
	}
	top, move := icp.Tier1, -1.0
	var now, then []string
	for _, t := range icp.Tiers() {
		p := float64(counts[t]) / float64(max(n, 1))
		if mv := math.Abs(p - refShares[t]); mv > move {
			top, move = t, mv
		}
		now = append(now, fmt.Sprintf("%s %s", t.Title(), pct(p)))
		then = append(then, pct(refShares[t]))
	}
	p := float64(counts[top]) / float64(max(n, 1))
	lo, hi := model.Wilson(counts[top], n)
	base := refShares[top]
	m := &icp.AlertMeasure{Label: "share of accounts in " + top.Title(), Unit: "share", Value: p, Low: lo, High: hi, Baseline: base}
	var title string
	switch {
	case top == icp.NonFit && p > base:
		title = "More incoming accounts are non-fit"
	case top == icp.NonFit:
		title = "Fewer incoming accounts are non-fit"
	case p > base:
		title = "More incoming accounts reach " + top.Title()
	default:
		title = "Fewer incoming accounts reach " + top.Title()
	}
	d["tier"] = string(top)
	summary := sentence(fmt.Sprintf("%s holds %s of the last %s scored accounts (95%% interval %s), against %s in the training data: %s shift in the tier mix. "+
		"All tiers now: %s (training %s).", top.Title(), pct(p), thousands(n), pctRange(lo, hi), pct(base), sizeWord(f.PSI),
		strings.Join(now, ", "), strings.Join(then, ", ")), scoredSpanOf(ec.recent))
	action := fmt.Sprintf("Tell sales operations: plans that expect %s of accounts in %s no longer hold. "+
		"The feature alerts show which accounts changed; if the shift lasts, retrain or re-cut the tiers (train --tier-shares).",
		pct(base), top.Title())
	return newAlert(s, title, summary, action, m, d, ec.now)
}

// outsideAlert: more won deals fall in tier 3 or non-fit than on the
// validation deals.
func outsideAlert(r icp.ICPDrift, s icp.WatchSignal, ec *evalContext) icp.Alert {
	lo, hi := model.Wilson(r.WinnersOutside, r.Winners)
	m := &icp.AlertMeasure{Label: "share of won deals outside the ICP", Unit: "share", Value: r.ObservedShare,
		Low: lo, High: hi, Baseline: r.ExpectedShare}
	d := map[string]any{
		"winners": r.Winners, "winners_outside": r.WinnersOutside,
		"observed_share": r.ObservedShare, "expected_share": r.ExpectedShare,
		"p_value": r.PValue, "alpha": r.Alpha, "detail": r.Detail,
	}
	summary := sentence(fmt.Sprintf("%s of the last %s won deals (%s, 95%% interval %s) came from accounts the model rates Tier 3 or non-fit, "+
		"against %s of the won deals it was validated on.", thousands(r.WinnersOutside), thousands(r.Winners), pct(r.ObservedShare),
		pctRange(lo, hi), pct(r.ExpectedShare)), winnersSpan(ec.winners))
	action := "Review the ICP with sales: find what the recent wins outside it have in common (see the emerging-segment alerts), " +
		"then retrain on recent outcomes (train --outcomes-db) so that the tiers follow where deals are won."
	return newAlert(s, "More wins are coming from outside the ICP", summary, action, m, d, ec.now)
}

// winnerScoresAlert: the median score of recent won deals against the won
// deals of training.
func winnerScoresAlert(f icp.FeatureDrift, s icp.WatchSignal, ec *evalContext) icp.Alert {
	d := resultDetails(f)
	scores := make([]float64, 0, len(ec.winners))
	for _, w := range ec.winners {
		scores = append(scores, w.score)
	}
	title := "Recent wins score differently than past wins"
	action := "Retrain on recent outcomes (train --outcomes-db): the model no longer ranks the accounts that win the way it did. " +
		"Until then, treat the tiers with care and review the ICP with sales."
	var (
		m    *icp.AlertMeasure
		what string
	)
	if ref := ec.ref; ref != nil && ref.WinnerScores != nil && len(ref.WinnerScores.Quantiles) == 101 && len(scores) > 0 {
		x := finiteSorted(scores)
		med, lo, hi := medianInterval(x)
		refMed := ref.WinnerScores.Quantiles[50]
		m = &icp.AlertMeasure{Label: "median fit score of won deals", Value: med, Low: lo, High: hi, Baseline: refMed}
		switch {
		case refMed > hi:
			title = "Recent wins score lower than past wins"
		case refMed < lo:
			title = "Recent wins score higher than past wins"
			action = "Review the ICP with sales: wins now concentrate in the top tiers, so check that good accounts scored lower " +
				"are not being dropped from the pipeline; retrain on recent outcomes if the tier mix shifts too."
		}
		what = fmt.Sprintf("The median fit score of the last %s won deals is %.2f (95%% interval %.2f–%.2f), against %.2f for the won deals the model learned from: %s shift.",
			thousands(len(x)), med, lo, hi, refMed, sizeWord(f.PSI))
	} else {
		what = fmt.Sprintf("The fit scores of the last %s won deals differ from those of the won deals the model learned from: %s shift.",
			thousands(f.Window), sizeWord(f.PSI))
	}
	return newAlert(s, title, sentence(what, winnersSpan(ec.winners)), action, m, d, ec.now)
}

// segmentName is the readable name of an emerging segment.
func segmentName(e icp.EmergingSegment) string {
	switch {
	case e.Name != "":
		return e.Name
	case len(e.Traits) > 0:
		return strings.Join(e.Traits[:min(len(e.Traits), 3)], ", ")
	}
	return e.Key
}

// emergingAlert: a group of recent won deals no segment covers, grown
// against the earlier won deals.
func emergingAlert(e icp.EmergingSegment, s icp.WatchSignal, ec *evalContext) icp.Alert {
	k := int(math.Round(e.Observed * float64(e.Winners)))
	lo, hi := model.Wilson(k, e.Winners)
	m := &icp.AlertMeasure{Label: "share of recent won deals in the segment", Unit: "share", Value: e.Observed,
		Low: lo, High: hi, Baseline: e.Expected}
	ids := e.AccountIDs
	if len(ids) > maxAccountIDs {
		ids = ids[:maxAccountIDs]
	}
	d := map[string]any{
		"key": e.Key, "description": e.Description,
		"count": e.Count, "winners": e.Winners, "outside": e.Outside,
		"traits": e.Traits, "account_ids": ids, "account_ids_total": len(e.AccountIDs),
		"observed_share": e.Observed, "expected_share": e.Expected, "baseline_winners": e.Baseline,
		"p_value": e.PValue, "alpha": ec.alpha,
	}
	traits := segmentName(e)
	if len(e.Traits) > 0 {
		traits = strings.Join(e.Traits, "; ")
	}
	summary := sentence(fmt.Sprintf("%s of the last %s won deals (%s, 95%% interval %s) are accounts like these, which no ICP segment covers: %s. "+
		"They were %s of the earlier won deals.", thousands(k), thousands(e.Winners), pct(e.Observed), pctRange(lo, hi), traits,
		pct(e.Expected)), winnersSpan(ec.winners))
	action := "Review the ICP with sales: check that these are customers you want (deal size, retention). If so, retrain on recent outcomes " +
		"(train --outcomes-db) so that the model finds and tiers them, and brief sales and marketing on the new segment."
	short := segmentName(e)
	if parts := strings.Split(short, ", "); len(parts) > 3 {
		short = strings.Join(parts[:3], ", ") + "…"
	}
	return newAlert(s, "A new kind of customer is winning: "+short, summary, action, m, d, ec.now)
}

// scoredSpanOf says when the window's accounts were scored.
func scoredSpanOf(recent []sample) string {
	var from, to time.Time
	for _, r := range recent {
		if r.at.IsZero() {
			continue
		}
		if from.IsZero() || r.at.Before(from) {
			from = r.at
		}
		if r.at.After(to) {
			to = r.at
		}
	}
	return scoredSpan(from, to)
}

// winnersSpan says when the recent won deals closed.
func winnersSpan(ws []winner) string {
	var from, to time.Time
	for _, w := range ws {
		if w.closed.IsZero() {
			continue
		}
		if from.IsZero() || w.closed.Before(from) {
			from = w.closed
		}
		if w.closed.After(to) {
			to = w.closed
		}
	}
	return closedSpan(from, to)
}

func moreFewer(up bool) string {
	if up {
		return "More"
	}
	return "Fewer"
}

// lower lower-cases the first letter unless the first word is an acronym.
func lower(s string) string {
	first, _, _ := strings.Cut(s, " ")
	if len(first) > 1 && first == strings.ToUpper(first) {
		return s
	}
	r := []rune(s)
	if len(r) > 0 {
		r[0] = []rune(strings.ToLower(string(r[0])))[0]
	}
	return string(r)
}
