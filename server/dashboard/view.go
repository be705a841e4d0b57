package dashboard

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/icpengine/icp"
)

// view is what the page template reads: the Page and what is worked out
// from it.
type view struct {
	Page
	// Active are the open and acknowledged alerts, open first, then by
	// severity and recency; Resolved the others, most recent first.
	Active   []alertView
	Resolved []alertView
	// Open counts the open alerts, Critical and Warning those of each
	// severity among them, and Acknowledged the acknowledged ones.
	Open, Critical, Warning, Acknowledged int
	// Notable are the signals of the report with a severity, most severe
	// first; Calm the stable ones and those without enough data.
	Notable, Calm []signalView
	// Drifting counts the signals with a warning or critical.
	Drifting  int
	TierChart *barChart
	ICPChart  *barChart
	PSIChart  *barChart
	// ICPBadge and EmergingBadge grade the ICP drift and emerging-segment
	// sections as their signals are graded.
	ICPBadge, EmergingBadge badge
}

// badge is a severity, or a status in words, and the class that styles
// it.
type badge struct {
	Text, Class string
}

// signalBadge grades a signal: its severity when the watcher gave one,
// else its status in words.
func signalBadge(s icp.WatchSignal) badge {
	if s.Severity != "" {
		return badge{Text: string(s.Severity), Class: "sev-" + string(s.Severity)}
	}
	return badge{Text: statusWords(s.Status), Class: "st-" + s.Status}
}

// sectionBadge grades a section by the most severe of the signals that
// match, or by status when none does.
func sectionBadge(sigs []icp.WatchSignal, match func(icp.WatchSignal) bool, status string) badge {
	var worst *icp.WatchSignal
	for i, s := range sigs {
		if match(s) && (worst == nil || signalRank(s) > signalRank(*worst)) {
			worst = &sigs[i]
		}
	}
	if worst == nil {
		return badge{Text: statusWords(status), Class: "st-" + status}
	}
	return signalBadge(*worst)
}

func newView(p Page) view {
	v := view{Page: p}
	for _, a := range p.Alerts {
		av := newAlertView(a, p.CanReview)
		if a.Status == icp.AlertResolved {
			v.Resolved = append(v.Resolved, av)
			continue
		}
		v.Active = append(v.Active, av)
		if a.Status == icp.AlertAcknowledged {
			v.Acknowledged++
		}
		if a.Status == icp.AlertOpen {
			v.Open++
			switch a.Severity {
			case icp.SeverityCritical:
				v.Critical++
			case icp.SeverityWarning:
				v.Warning++
			}
		}
	}
	slices.SortStableFunc(v.Active, func(a, b alertView) int {
		return cmp.Or(
			cmp.Compare(statusRank(a.Status), statusRank(b.Status)),
			cmp.Compare(severityRank(b.Severity), severityRank(a.Severity)),
			b.LastSeen.Compare(a.LastSeen))
	})
	slices.SortStableFunc(v.Resolved, func(a, b alertView) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	if r := p.Report; r != nil {
		var all []signalView
		all, v.Drifting = signals(r.Signals)
		for _, sv := range all {
			if sv.Calm {
				v.Calm = append(v.Calm, sv)
			} else {
				v.Notable = append(v.Notable, sv)
			}
		}
		v.TierChart = tierChart(r.TierKPIs)
		v.ICPChart = icpChart(r.ICP)
		v.PSIChart = psiChart(r.Signals)
		if r.ICP != nil {
			v.ICPBadge = sectionBadge(r.Signals, func(s icp.WatchSignal) bool { return s.Key == "icp_drift:winners_outside" }, r.ICP.Status)
		}
		v.EmergingBadge = sectionBadge(r.Signals, func(s icp.WatchSignal) bool { return s.Kind == "emerging_segment" }, r.EmergingStatus)
	}
	return v
}

func statusRank(s icp.AlertStatus) int {
	if s == icp.AlertOpen {
		return 0
	}
	return 1
}

func severityRank(s icp.Severity) int {
	switch s {
	case icp.SeverityCritical:
		return 3
	case icp.SeverityWarning:
		return 2
	case icp.SeverityInfo:
		return 1
	}
	return 0
}

// alertView is one alert as the page shows it.
type alertView struct {
	icp.Alert
	// Headline is the title, or the summary for an alert stored before
	// alerts had titles.
	Headline string
	// Lead is the summary when it is not the headline.
	Lead    string
	Measure *measureView
	Trend   *trendView
	// Details are the technical statistics, sorted by name.
	Details            []detail
	CanAck, CanResolve bool
}

func newAlertView(a icp.Alert, canReview bool) alertView {
	v := alertView{Alert: a, Headline: a.Title, Lead: a.Summary}
	if v.Headline == "" {
		v.Headline, v.Lead = a.Summary, ""
	}
	if m := a.Measure; m != nil {
		v.Measure = newMeasureView(*m)
	}
	if t := a.Trend; t != nil && len(t.Points) > 0 {
		v.Trend = newTrendView(*t)
	}
	v.Details = details(a)
	v.CanAck = canReview && a.Status == icp.AlertOpen
	v.CanResolve = canReview && a.Status != icp.AlertResolved
	return v
}

// detail is one technical statistic of an alert.
type detail struct {
	Name, Value string
}

// details lists the alert's identifiers and its Details map, sorted by
// name, each value in a short form (long lists are cut).
func details(a icp.Alert) []detail {
	out := []detail{{"alert id", a.ID}, {"group key", a.GroupKey}, {"kind", a.Kind}}
	names := make([]string, 0, len(a.Details))
	for k := range a.Details {
		if k != "group_key" && k != "kind" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		out = append(out, detail{Name: strings.ReplaceAll(k, "_", " "), Value: detailValue(a.Details[k])})
	}
	return out
}

// maxListed is how many items of a list in an alert's details are shown.
const maxListed = 12

func detailValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "none"
	case string:
		return v
	case float64:
		return statistic(v)
	case bool:
		return fmt.Sprint(v)
	case []any:
		parts := make([]string, 0, min(len(v), maxListed)+1)
		for i, x := range v {
			if i == maxListed {
				parts = append(parts, fmt.Sprintf("… and %d more", len(v)-maxListed))
				break
			}
			parts = append(parts, detailValue(x))
		}
		return strings.Join(parts, ", ")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// statistic formats a technical statistic: four significant digits, in
// exponent form when tiny (p-values).
func statistic(v float64) string {
	if v != 0 && math.Abs(v) < 1e-3 {
		return fmt.Sprintf("%.2g", v)
	}
	return fmt.Sprintf("%.4g", v)
}

// measureView is an alert's headline figure with its interval and
// baseline, and the chart that places them.
type measureView struct {
	Label    string
	Value    string
	Interval string
	Baseline string
	Chart    intervalChart
}

func newMeasureView(m icp.AlertMeasure) *measureView {
	f := func(x float64) string { return formatValue(x, m.Unit) }
	v := &measureView{Label: m.Label, Value: f(m.Value), Baseline: f(m.Baseline)}
	if m.Low != m.High {
		v.Interval = f(m.Low) + "–" + f(m.High)
	}
	v.Chart = newIntervalChart(m)
	return v
}

// trendView is an alert's trend: its chart and the figures written
// beside it.
type trendView struct {
	Label     string
	Latest    string
	First     string
	Points    int
	Since     time.Time
	Warning   string
	Critical  string
	Chart     sparkline
	LastLevel string
}

func newTrendView(t icp.AlertTrend) *trendView {
	f := func(x float64) string { return formatValue(x, t.Unit) }
	pts := t.Points
	v := &trendView{Label: t.Label, Latest: f(pts[len(pts)-1].Value), First: f(pts[0].Value), Points: len(pts),
		Since: pts[0].Time, Chart: newSparkline(t)}
	if t.Warning > 0 {
		v.Warning = f(t.Warning)
	}
	if t.Critical > 0 {
		v.Critical = f(t.Critical)
	}
	switch last := pts[len(pts)-1].Value; {
	case t.Critical > 0 && last >= t.Critical:
		v.LastLevel = "critical"
	case t.Warning > 0 && last >= t.Warning:
		v.LastLevel = "warning"
	}
	return v
}

// signalView is one watched quantity of the drift report.
type signalView struct {
	Subject string
	Kind    string
	// Badge is the severity when the watcher gave one, else the status in
	// words; Class styles it.
	Badge, Class string
	Metric       string
	Value        string
	// Calm is true for a signal that is stable or lacks data.
	Calm bool
}

// signals lists the report's signals, most severe first, and counts
// those with a warning or critical.
func signals(in []icp.WatchSignal) ([]signalView, int) {
	sorted := slices.Clone(in)
	slices.SortStableFunc(sorted, func(a, b icp.WatchSignal) int {
		return cmp.Or(cmp.Compare(signalRank(b), signalRank(a)), cmp.Compare(b.Value, a.Value))
	})
	out := make([]signalView, 0, len(sorted))
	drifting := 0
	for _, s := range sorted {
		if s.Severity == icp.SeverityWarning || s.Severity == icp.SeverityCritical {
			drifting++
		}
		b := signalBadge(s)
		metric, unit := metricWords(s.Metric)
		value := formatValue(s.Value, unit)
		if s.Metric == "psi" {
			value = formatPSI(s.Value)
		}
		out = append(out, signalView{Subject: cmp.Or(s.Subject, s.Feature, s.Key), Kind: kindWords(s.Kind),
			Badge: b.Text, Class: b.Class, Metric: metric, Value: value, Calm: signalRank(s) <= 1})
	}
	return out, drifting
}

func signalRank(s icp.WatchSignal) int {
	if r := severityRank(s.Severity); r > 0 {
		return r + 1
	}
	if s.Status == "insufficient_data" {
		return 0
	}
	return 1
}

// statusWords names a drift status for a reader.
func statusWords(status string) string {
	switch status {
	case "insufficient_data":
		return "too little data"
	case "":
		return "not measured"
	}
	return status
}

// metricWords names a signal's metric and gives its unit.
func metricWords(metric string) (words, unit string) {
	switch metric {
	case "psi":
		return "PSI", ""
	case "share":
		return "of won deals", "share"
	case "missing":
		return "without a value", "share"
	}
	return metric, ""
}

// kindWords names an alert kind for a reader.
func kindWords(kind string) string {
	switch kind {
	case "feature_drift":
		return "incoming accounts"
	case "score_drift":
		return "fit scores"
	case "tier_mix_drift":
		return "tier mix"
	case "icp_drift":
		return "won deals"
	case "emerging_segment":
		return "new group of wins"
	}
	return strings.ReplaceAll(kind, "_", " ")
}

// formatValue writes a figure for a reader: a share as a percentage, a
// number with three significant digits (thousands grouped, then k, M, B).
func formatValue(v float64, unit string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	if unit == "share" {
		switch p := 100 * v; {
		case p == 0:
			return "0%"
		case math.Abs(p) < 0.1:
			return "<0.1%"
		case math.Abs(p) < 10:
			return fmt.Sprintf("%.1f%%", p)
		default:
			return fmt.Sprintf("%.0f%%", p)
		}
	}
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a < 1e-3:
		return fmt.Sprintf("%.1g", v)
	case a < 1000:
		return sig3(v)
	case a < 1e4:
		return group(int64(math.Round(v)))
	case a < 1e6:
		return sig3(v/1e3) + "k"
	case a < 1e9:
		return sig3(v/1e6) + "M"
	default:
		return sig3(v/1e9) + "B"
	}
}

// sig3 writes v, at least 0.001 in magnitude, with three significant
// digits and no exponent.
func sig3(v float64) string {
	decimals := max(0, 2-int(math.Floor(math.Log10(math.Abs(v)))))
	s := fmt.Sprintf("%.*f", decimals, v)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// formatPSI writes a population stability index with three decimals,
// the precision its bands (0.1, 0.25) are read at.
func formatPSI(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "n/a"
	case v < 0.0005:
		return "<0.001"
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

// group writes n with a comma between thousands.
func group(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
