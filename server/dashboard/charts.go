package dashboard

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/icpengine/icp"
)

// barChart is a horizontal bar chart laid out as an HTML grid: a label
// column, the bars and a value column. The browser places the text, so
// labels and values cannot overlap.
type barChart struct {
	// Label says what the chart shows, for screen readers.
	Label string
	Rows  []barRow
	// Marks are reference levels drawn across every track.
	Marks []mark
	// Note explains the marks or the scale.
	Note string
}

// barRow is one bar. Width is its length in percent of the track.
type barRow struct {
	Label, Title, Value, Class string
	Width                      float64
}

// mark is a reference level at X percent of the track.
type mark struct {
	X     float64
	Class string
}

// minBar is the shortest bar drawn for a value above zero, in percent of
// the track, so that a small value still shows.
const minBar = 0.6

// width returns v's bar length on a track that ends at scale.
func width(v, scale float64) float64 {
	if !(v > 0) || !(scale > 0) {
		return 0
	}
	return math.Max(minBar, math.Min(100, 100*v/scale))
}

// tierChart draws the win rate of each tier on the recorded outcomes.
func tierChart(kpis []icp.TierKPI) *barChart {
	if len(kpis) == 0 {
		return nil
	}
	scale := 0.1
	for _, k := range kpis {
		scale = math.Max(scale, k.WinRate)
	}
	c := &barChart{Label: "Win rate of each tier on the recorded outcomes"}
	for _, k := range kpis {
		c.Rows = append(c.Rows, barRow{Label: k.Tier.Title(), Title: string(k.Tier),
			Value: fmt.Sprintf("%s of %s deals", formatValue(k.WinRate, "share"), group(int64(k.Deals))),
			Class: "b-" + string(k.Tier), Width: width(k.WinRate, scale)})
	}
	return c
}

// icpChart draws the share of won deals outside the ICP, expected and
// recent.
func icpChart(d *icp.ICPDrift) *barChart {
	if d == nil {
		return nil
	}
	scale := math.Max(0.1, math.Max(d.ExpectedShare, d.ObservedShare))
	return &barChart{Label: "Share of won deals in Tier 3 or non-fit", Rows: []barRow{
		{Label: "Validation deals", Title: "expected: the won deals of the validation period", Value: formatValue(d.ExpectedShare, "share"),
			Class: "st-stable", Width: width(d.ExpectedShare, scale)},
		{Label: fmt.Sprintf("Last %d wins", d.Winners), Title: "the most recent won deals", Value: formatValue(d.ObservedShare, "share"),
			Class: "st-" + d.Status, Width: width(d.ObservedShare, scale)},
	}}
}

// The PSI bands: above psiModerate a shift reads moderate, above psiLarge
// large.
const (
	psiModerate = 0.1
	psiLarge    = 0.25
)

// psiChart draws the shift size of every feature, largest first.
func psiChart(sigs []icp.WatchSignal) *barChart {
	var rows []icp.WatchSignal
	for _, s := range sigs {
		if s.Metric == "psi" && s.Kind == "feature_drift" {
			rows = append(rows, s)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	slices.SortStableFunc(rows, func(a, b icp.WatchSignal) int {
		return cmp.Or(cmp.Compare(b.Value, a.Value), strings.Compare(a.Subject, b.Subject))
	})
	scale := 0.3
	for _, s := range rows {
		scale = math.Max(scale, s.Value*1.05)
	}
	c := &barChart{Label: "Shift size (PSI) of each feature", Marks: []mark{
		{X: 100 * psiModerate / scale, Class: "m-warning"}, {X: 100 * psiLarge / scale, Class: "m-critical"},
	}, Note: "Dashed lines: a shift above 0.1 is moderate, above 0.25 large. The colour is the signal's severity."}
	for _, s := range rows {
		class := "st-" + s.Status
		if s.Severity != "" {
			class = "sev-" + string(s.Severity)
		}
		c.Rows = append(c.Rows, barRow{Label: cmp.Or(s.Subject, s.Feature), Title: s.Feature,
			Value: formatPSI(s.Value), Class: class, Width: width(s.Value, scale)})
	}
	return c
}

// The size of the small SVG charts, in CSS pixels.
const (
	chartW   = 240
	sparkH   = 56
	pad      = 5
	intervH  = 22
	dotR     = 3
	tickHalf = 7
)

// intervalChart places a measure's value, its 95% interval and its
// baseline on one axis. The figures are written beside it.
type intervalChart struct {
	W, H float64
	// Low and Width place the interval, Value and Base the value and the
	// baseline, on the x axis; Mid is the axis's y.
	Low, Width, Value, Base float64
	Mid                     float64
}

func newIntervalChart(m icp.AlertMeasure) intervalChart {
	lo := math.Min(0, math.Min(m.Low, math.Min(m.Value, m.Baseline)))
	hi := math.Max(m.High, math.Max(m.Value, m.Baseline))
	if m.Unit == "share" {
		hi = math.Min(1, hi*1.1)
	} else {
		hi += 0.1 * (hi - lo)
	}
	if !(hi > lo) {
		hi = lo + 1
	}
	x := func(v float64) float64 {
		return round1(pad + (chartW-2*pad)*(v-lo)/(hi-lo))
	}
	low := x(m.Low)
	return intervalChart{W: chartW, H: intervH, Low: low, Width: math.Max(2, x(math.Max(m.High, m.Low))-low), Value: x(m.Value),
		Base: x(m.Baseline), Mid: intervH / 2}
}

// sparkline is a trend as a line, with its reference levels.
type sparkline struct {
	W, H float64
	// Line is the polyline's points attribute.
	Line string
	Dots []dot
	// Warning and Critical are the y of the reference levels, 0 when
	// the trend has none.
	Warning, Critical float64
}

// dot is one point of a sparkline, with its value as a tooltip.
type dot struct {
	X, Y  float64
	Title string
	Last  bool
}

func newSparkline(t icp.AlertTrend) sparkline {
	lo, hi := 0.0, math.Max(t.Warning, t.Critical)
	for _, p := range t.Points {
		lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
	}
	hi += 0.12 * (hi - lo)
	if !(hi > lo) {
		hi = lo + 1
	}
	y := func(v float64) float64 { return round1(sparkH - pad - (sparkH-2*pad)*(v-lo)/(hi-lo)) }
	s := sparkline{W: chartW, H: sparkH}
	n := len(t.Points)
	var line strings.Builder
	for i, p := range t.Points {
		x := float64(chartW) / 2
		if n > 1 {
			x = round1(pad + float64(chartW-2*pad)*float64(i)/float64(n-1))
		}
		d := dot{X: x, Y: y(p.Value), Last: i == n-1,
			Title: p.Time.UTC().Format("2 Jan 15:04 UTC") + ": " + formatValue(p.Value, t.Unit)}
		s.Dots = append(s.Dots, d)
		if i > 0 {
			line.WriteByte(' ')
		}
		fmt.Fprintf(&line, "%g,%g", d.X, d.Y)
	}
	s.Line = line.String()
	if t.Warning > 0 {
		s.Warning = y(t.Warning)
	}
	if t.Critical > 0 {
		s.Critical = y(t.Critical)
	}
	return s
}

func round1(v float64) float64 { return math.Round(10*v) / 10 }
