package report

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	chartW, chartH             = 480.0, 300.0
	chartLeft, chartRight      = 56.0, 16.0
	chartTop, chartBottom      = 30.0, 44.0
	chartPlotW, chartPlotH     = chartW - chartLeft - chartRight, chartH - chartTop - chartBottom
	colorA, colorB, colorMuted = "#2563eb", "#dc2626", "#9ca3af"
	colorC                     = "#0d9488"
)

// series is one line of a line chart.
type series struct {
	name, color string
	dashed      bool
	pts         [][2]float64
}

// svgOpen starts a chart with its title and accessible label.
func svgOpen(b *strings.Builder, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="%s">`,
		chartW, chartH, chartW, chartH, html.EscapeString(title))
	fmt.Fprintf(b, `<text x="%g" y="18" style="font-weight:600;font-size:13px">%s</text>`, chartLeft, html.EscapeString(title))
}

// axes draws the frame, ticks and labels of a plot over [0, xMax] x [0, yMax].
func axes(b *strings.Builder, xLabel, yLabel string, xMax, yMax float64, xFmt, yFmt func(float64) string) {
	fmt.Fprintf(b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="#888"/>`, chartLeft, chartTop, chartPlotW, chartPlotH)
	for k := 0; k <= 4; k++ {
		f := float64(k) / 4
		x := chartLeft + f*chartPlotW
		y := chartTop + chartPlotH - f*chartPlotH
		fmt.Fprintf(b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#e5e7eb"/>`, chartLeft, y, chartLeft+chartPlotW, y)
		fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="middle">%s</text>`, x, chartTop+chartPlotH+14, xFmt(f*xMax))
		fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="end">%s</text>`, chartLeft-4, y+4, yFmt(f*yMax))
	}
	fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="middle">%s</text>`, chartLeft+chartPlotW/2, chartH-8, html.EscapeString(xLabel))
	fmt.Fprintf(b, `<text x="14" y="%g" text-anchor="middle" transform="rotate(-90 14 %g)">%s</text>`, chartTop+chartPlotH/2, chartTop+chartPlotH/2, html.EscapeString(yLabel))
}

func px(x, xMax float64) float64 { return chartLeft + x/xMax*chartPlotW }
func py(y, yMax float64) float64 { return chartTop + chartPlotH - y/yMax*chartPlotH }

// lineChart draws series over [0, xMax] x [0, yMax] with a legend.
func lineChart(title, xLabel, yLabel string, xMax, yMax float64, xFmt, yFmt func(float64) string, ss []series) string {
	var b strings.Builder
	svgOpen(&b, title)
	axes(&b, xLabel, yLabel, xMax, yMax, xFmt, yFmt)
	for k, s := range ss {
		var pts []string
		for _, p := range s.pts {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(math.Min(p[0], xMax), xMax), py(math.Min(p[1], yMax), yMax)))
		}
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="5,4"`
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`, s.color, dash, strings.Join(pts, " "))
		for _, p := range s.pts {
			if !s.dashed {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>`, px(math.Min(p[0], xMax), xMax), py(math.Min(p[1], yMax), yMax), s.color)
			}
		}
		ly := chartTop + 14 + 14*float64(k)
		fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="%s" stroke-width="2"%s/><text x="%g" y="%g">%s</text>`,
			chartLeft+8, ly-4, chartLeft+26, ly-4, s.color, dash, chartLeft+30, ly, html.EscapeString(s.name))
	}
	b.WriteString("</svg>")
	return b.String()
}

// barChart draws groups of bars (one bar per series in each group).
func barChart(title, yLabel string, groups []string, names, colors []string, values [][]float64, yFmt func(float64) string) string {
	yMax := 0.0
	for _, vs := range values {
		for _, v := range vs {
			yMax = math.Max(yMax, v)
		}
	}
	if yMax <= 0 {
		yMax = 1
	}
	yMax *= 1.1
	var b strings.Builder
	svgOpen(&b, title)
	fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="#888"/>`, chartLeft, chartTop, chartPlotW, chartPlotH)
	for k := 0; k <= 4; k++ {
		y := chartTop + chartPlotH - float64(k)/4*chartPlotH
		fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#e5e7eb"/>`, chartLeft, y, chartLeft+chartPlotW, y)
		fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="end">%s</text>`, chartLeft-4, y+4, yFmt(float64(k)/4*yMax))
	}
	fmt.Fprintf(&b, `<text x="14" y="%g" text-anchor="middle" transform="rotate(-90 14 %g)">%s</text>`, chartTop+chartPlotH/2, chartTop+chartPlotH/2, html.EscapeString(yLabel))
	gw := chartPlotW / float64(max(1, len(groups)))
	bw := gw * 0.8 / float64(max(1, len(names)))
	for g, name := range groups {
		x0 := chartLeft + float64(g)*gw + gw*0.1
		for s := range names {
			v := values[s][g]
			h := v / yMax * chartPlotH
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`,
				x0+float64(s)*bw, chartTop+chartPlotH-h, bw, h, colors[s], html.EscapeString(name), html.EscapeString(names[s]), yFmt(v))
		}
		if len(groups) <= 12 || g%2 == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%g" text-anchor="middle">%s</text>`, x0+gw*0.4, chartTop+chartPlotH+14, html.EscapeString(name))
		}
	}
	for s, n := range names {
		ly := chartTop + 14 + 14*float64(s)
		fmt.Fprintf(&b, `<rect x="%g" y="%g" width="12" height="8" fill="%s"/><text x="%g" y="%g">%s</text>`, chartLeft+chartPlotW-120, ly-8, colors[s], chartLeft+chartPlotW-104, ly, html.EscapeString(n))
	}
	b.WriteString("</svg>")
	return b.String()
}

func pctTick(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) }
func numTick(v float64) string { return strings.TrimSuffix(fmt.Sprintf("%.1f", v), ".0") }

// Horizontal bar chart geometry: text is 12px, whose characters are
// counted at charW wide (a generous mean for system-ui, so that a label
// never runs into the bar or value beside it).
const (
	hbarW, hbarBar, hbarGap, charW = 480.0, 15.0, 3.0, 7.2
)

// hbarChart draws one row per group with one horizontal bar per series,
// each labelled with its value just past its end; the labels' column is
// kept free of bars, so no label overlaps a bar or another label. Names
// are the series' legend, values[s][g] the value of series s in group g.
func hbarChart(title string, groups, names, colors []string, values [][]float64, vFmt func(float64) string) string {
	textW := func(s string) float64 { return float64(len([]rune(s))) * charW }
	left, valW, top := 0.0, 0.0, 28.0
	for _, g := range groups {
		left = math.Max(left, textW(g))
	}
	left += 12
	vMax := 0.0
	for _, vs := range values {
		for _, v := range vs {
			vMax = math.Max(vMax, v)
			valW = math.Max(valW, textW(vFmt(v)))
		}
	}
	if vMax <= 0 {
		vMax = 1
	}
	if len(names) > 1 {
		top += 20
	}
	barMax := hbarW - left - valW - 12
	band := float64(len(names))*(hbarBar+hbarGap) - hbarGap + 12
	h := top + float64(len(groups))*band + 4
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="%s" style="font-size:12px">`,
		hbarW, h, hbarW, h, html.EscapeString(title))
	fmt.Fprintf(&b, `<text class="lbl" x="0" y="16" style="font-weight:600;font-size:13px">%s</text>`, html.EscapeString(title))
	if len(names) > 1 {
		x := 0.0
		for s, n := range names {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%g" width="12" height="10" fill="%s"/><text class="lbl" x="%.1f" y="%g" style="font-size:12px">%s</text>`,
				x, top-17, colors[s%len(colors)], x+16, top-8, html.EscapeString(n))
			x += 16 + textW(n) + 18
		}
	}
	for g, name := range groups {
		y0 := top + float64(g)*band
		fmt.Fprintf(&b, `<text class="lbl" x="%.1f" y="%.1f" text-anchor="end" style="font-size:12px">%s</text>`,
			left-8, y0+(band-12)/2+4, html.EscapeString(name))
		for s := range names {
			v := values[s][g]
			y := y0 + float64(s)*(hbarBar+hbarGap)
			wd := v / vMax * barMax
			if !(wd > 0) { // zero, negative or NaN
				wd = 0
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%g" fill="%s"><title>%s %s: %s</title></rect>`,
				left, y, wd, hbarBar, colors[s%len(colors)], html.EscapeString(name), html.EscapeString(names[s]), vFmt(v))
			fmt.Fprintf(&b, `<text class="val" x="%.1f" y="%.1f" style="font-size:12px">%s</text>`, left+wd+4, y+hbarBar-3.5, vFmt(v))
		}
	}
	b.WriteString("</svg>")
	return b.String()
}
