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
		fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="middle">%s</text>`, x, chartTop+chartPlotH+19, xFmt(f*xMax))
		fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="end">%s</text>`, chartLeft-4, y+4, yFmt(f*yMax))
	}
	fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="middle">%s</text>`, chartLeft+chartPlotW/2, chartH-8, html.EscapeString(xLabel))
	fmt.Fprintf(b, `<text x="14" y="%g" text-anchor="middle" transform="rotate(-90 14 %g)">%s</text>`, chartTop+chartPlotH/2, chartTop+chartPlotH/2, html.EscapeString(yLabel))
}

func px(x, xMax float64) float64 { return chartLeft + x/xMax*chartPlotW }
func py(y, yMax float64) float64 { return chartTop + chartPlotH - y/yMax*chartPlotH }

// Line chart labels: 11px text (the report's CSS), whose characters are
// counted at lineCharW wide and whose box is lineTextH high, generously,
// so that the boxes the browser draws fall inside the ones counted here.
const lineCharW, lineTextH = 6.8, 15.0

// box is a rectangle in SVG user units.
type box struct{ x0, y0, x1, y1 float64 }

func (a box) hits(b box) bool {
	return math.Min(a.x1, b.x1) > math.Max(a.x0, b.x0) && math.Min(a.y1, b.y1) > math.Max(a.y0, b.y0)
}

// textBox returns the box of text s written at (x, baseline y) with the
// given anchor.
func textBox(s string, x, y float64, anchor string) box {
	w := float64(len([]rune(s))) * lineCharW
	x0 := x - w/2
	switch anchor {
	case "start":
		x0 = x
	case "end":
		x0 = x - w
	}
	return box{x0, y - lineTextH + 4, x0 + w, y + 4}
}

// keyPoints returns the points of s worth a value label: all of them
// when there are few, else those on the tenths of xMax (deciles of a
// gains curve). The origin, where nothing is measured yet, is left out.
func keyPoints(pts [][2]float64, xMax float64) [][2]float64 {
	var out [][2]float64
	for _, p := range pts {
		if p[0] <= 0 {
			continue
		}
		if t := p[0] / xMax * 10; len(pts) > 12 && math.Abs(t-math.Round(t)) > 1e-6 {
			continue
		}
		out = append(out, p)
	}
	return out
}

// lineChart draws series over [0, xMax] x [0, yMax] with a legend. Each
// point of a solid series carries its values as a tooltip, and its key
// points (keyPoints) show their value above or below them wherever that
// label overlaps no other text; dashed series are references, unlabelled.
func lineChart(title, xLabel, yLabel string, xMax, yMax float64, xFmt, yFmt func(float64) string, ss []series) string {
	var b strings.Builder
	svgOpen(&b, title)
	axes(&b, xLabel, yLabel, xMax, yMax, xFmt, yFmt)
	var taken []box
	for k, s := range ss {
		ly := chartTop + 14 + 14*float64(k)
		taken = append(taken, box{chartLeft + 8, ly - lineTextH + 4, chartLeft + 30 + float64(len([]rune(s.name)))*lineCharW, ly + 4})
	}
	var labels strings.Builder
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
		if !s.dashed {
			for _, p := range s.pts {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"><title>%s: %s, %s</title></circle>`,
					px(math.Min(p[0], xMax), xMax), py(math.Min(p[1], yMax), yMax), s.color, html.EscapeString(s.name), xFmt(p[0]), yFmt(p[1]))
			}
			for _, p := range keyPoints(s.pts, xMax) {
				x, y, v := px(math.Min(p[0], xMax), xMax), py(math.Min(p[1], yMax), yMax), yFmt(p[1])
				anchor := "middle"
				if w := float64(len([]rune(v))) * lineCharW; x+w/2 > chartW-2 {
					anchor = "end"
				} else if x-w/2 < chartLeft+2 {
					anchor = "start"
				}
				for _, ty := range []float64{y - 7, y + 15} {
					bx := textBox(v, x, ty, anchor)
					if bx.y0 < chartTop+1 || bx.y1 > chartTop+chartPlotH-1 || collides(bx, taken) {
						continue
					}
					taken = append(taken, bx)
					fmt.Fprintf(&labels, `<text class="val" x="%.1f" y="%.1f" text-anchor="%s" style="fill:%s;paint-order:stroke;stroke:#fff;stroke-width:3px">%s</text>`,
						x, ty, anchor, s.color, v)
					break
				}
			}
		}
		ly := chartTop + 14 + 14*float64(k)
		fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="%s" stroke-width="2"%s/><text class="lbl" x="%g" y="%g">%s</text>`,
			chartLeft+8, ly-4, chartLeft+26, ly-4, s.color, dash, chartLeft+30, ly, html.EscapeString(s.name))
	}
	b.WriteString(labels.String())
	b.WriteString("</svg>")
	return b.String()
}

// collides reports whether a overlaps any of bs.
func collides(a box, bs []box) bool {
	for _, b := range bs {
		if a.hits(b) {
			return true
		}
	}
	return false
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
