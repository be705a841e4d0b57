package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"sort"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/icpengine/icp"
)

// ICPSummary is the served model in brief, for the dashboard.
type ICPSummary struct {
	ModelVersion string           `json:"model_version"`
	Segments     []SegmentSummary `json:"segments"`
	// Tiers lists the tiers best first with their lowest score.
	Tiers []TierSummary `json:"tiers"`
}

// SegmentSummary is one ICP segment.
type SegmentSummary struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Share  float64  `json:"share"`
	Lift   float64  `json:"lift"`
	Traits []string `json:"traits"`
}

// TierSummary is one tier's threshold.
type TierSummary struct {
	Tier     icp.Tier `json:"tier"`
	MinScore float64  `json:"min_score"`
}

// dashboardData feeds the template.
type dashboardData struct {
	Now       time.Time
	ICP       *ICPSummary
	Report    *icp.WatchReport
	ReportAt  time.Time
	ReportErr string
	Alerts    []icp.Alert
	AlertsErr string
	Drifted   int
}

// handleDashboard renders the leadership dashboard: the ICP in brief, tier
// KPIs, feature drift, ICP drift, emerging segments and the alerts with
// acknowledge and resolve buttons. It is one self-contained HTML page:
// inline CSS, inline SVG charts and a small inline script that posts to the
// JSON API (so the API's Content-Type rule stays as it is); nothing is
// loaded from elsewhere, which the Content-Security-Policy enforces.
func (s *Server) handleDashboard(c *gin.Context) error {
	ctx := c.Request.Context()
	d := dashboardData{Now: s.now().UTC()}
	if s.ops.ICP != nil {
		d.ICP = s.ops.ICP()
	}
	if s.ops.Drift == nil {
		d.ReportErr = "no store configured"
	} else if r, err := s.ops.Drift.LatestDriftReport(ctx); err == nil {
		var v icp.WatchReport
		if err := json.Unmarshal(r.Body, &v); err != nil {
			return fmt.Errorf("dashboard: decode drift report: %w", err)
		}
		d.Report, d.ReportAt = &v, r.At
		sort.SliceStable(v.Features, func(a, b int) bool { return rank(v.Features[a].Status) > rank(v.Features[b].Status) })
		for _, f := range v.Features {
			if f.Status == "drift" {
				d.Drifted++
			}
		}
	} else if errors.Is(err, icp.ErrNotFound) {
		d.ReportErr = "no drift report yet: the first evaluation has not run"
	} else {
		return fmt.Errorf("dashboard: %w", err)
	}
	if s.ops.Alerts == nil {
		d.AlertsErr = "no store configured"
	} else {
		alerts, err := s.ops.Alerts.Alerts(ctx, "", 100)
		if err != nil {
			return fmt.Errorf("dashboard: %w", err)
		}
		d.Alerts = alerts
	}
	var buf bytes.Buffer
	if err := dashboardTmpl.Execute(&buf, d); err != nil {
		return fmt.Errorf("dashboard: render: %w", err)
	}
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src data:; form-action 'none'; frame-ancestors 'none'")
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
	return nil
}

func rank(status string) int {
	switch status {
	case "drift":
		return 3
	case "watch":
		return 2
	case "stable":
		return 1
	}
	return 0
}

// bar is one bar of an inline SVG chart.
type bar struct {
	Label string
	Value float64
	Text  string
	Class string
}

// svgBars draws a horizontal bar chart scaled to the largest value (or
// max when larger).
func svgBars(bars []bar, maxVal float64) template.HTML {
	const rowH, labelW, barW = 22, 130, 260
	for _, b := range bars {
		maxVal = math.Max(maxVal, b.Value)
	}
	if maxVal <= 0 {
		maxVal = 1
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `<svg class="chart" role="img" width="%d" height="%d" viewBox="0 0 %d %d">`,
		labelW+barW+70, rowH*len(bars)+4, labelW+barW+70, rowH*len(bars)+4)
	for i, b := range bars {
		y := i*rowH + 2
		w := math.Max(1, barW*b.Value/maxVal)
		fmt.Fprintf(&buf, `<text x="0" y="%d" class="lbl">%s</text>`, y+15, template.HTMLEscapeString(b.Label))
		fmt.Fprintf(&buf, `<rect x="%d" y="%d" width="%.1f" height="16" class="%s"></rect>`, labelW, y+2, w, template.HTMLEscapeString(b.Class))
		fmt.Fprintf(&buf, `<text x="%.1f" y="%d" class="val">%s</text>`, float64(labelW)+w+6, y+15, template.HTMLEscapeString(b.Text))
	}
	buf.WriteString(`</svg>`)
	return template.HTML(buf.String())
}

var dashboardTmpl = template.Must(template.New("dashboard").Funcs(template.FuncMap{
	"pct":  func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) },
	"num":  func(v float64) string { return fmt.Sprintf("%.3g", v) },
	"when": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"tierBars": func(v *icp.WatchReport) template.HTML {
		bars := make([]bar, 0, len(v.TierKPIs))
		for _, k := range v.TierKPIs {
			bars = append(bars, bar{Label: string(k.Tier), Value: k.WinRate,
				Text: fmt.Sprintf("%.0f%% of %d", 100*k.WinRate, k.Deals), Class: "b-" + string(k.Tier)})
		}
		return svgBars(bars, 1)
	},
	"psiBars": func(v *icp.WatchReport) template.HTML {
		bars := make([]bar, 0, len(v.Features))
		for _, f := range v.Features {
			bars = append(bars, bar{Label: f.Feature, Value: f.PSI, Text: fmt.Sprintf("%.3f", f.PSI), Class: "s-" + f.Status})
		}
		return svgBars(bars, 0.25)
	},
	"icpBars": func(v *icp.WatchReport) template.HTML {
		return svgBars([]bar{
			{Label: "expected (holdout)", Value: v.ICP.ExpectedShare, Text: fmt.Sprintf("%.0f%%", 100*v.ICP.ExpectedShare), Class: "s-stable"},
			{Label: "recent winners", Value: v.ICP.ObservedShare, Text: fmt.Sprintf("%.0f%%", 100*v.ICP.ObservedShare), Class: "s-" + v.ICP.Status},
		}, 1)
	},
}).Parse(dashboardHTML))

const dashboardHTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ICP dashboard</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
header{background:#1d2330;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}header p{margin:2px 0 0;color:#b9c0cf}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:16px;padding:16px 24px}
section{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:12px 16px}
section.wide{grid-column:1/-1}h2{font-size:16px;margin:0 0 8px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eceef2;vertical-align:top}
th{font-weight:600;color:#5a6275;font-size:12px;text-transform:uppercase}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:12px;font-weight:600}
.st-drift,.sev-critical{background:#fde2e1;color:#a4161a}.st-watch,.sev-warning{background:#fff1d6;color:#8a5a00}
.st-stable,.st-resolved{background:#e2f5e6;color:#1b6b2f}.st-insufficient_data,.sev-info,.st-acknowledged{background:#e8ebf1;color:#3d4659}
.st-open{background:#fde2e1;color:#a4161a}
.chart .lbl,.chart .val{font-size:12px;fill:#1d2330}.chart rect{fill:#6b7a99}
.chart .s-drift{fill:#d1495b}.chart .s-watch{fill:#edae49}.chart .s-stable{fill:#66a182}.chart .s-insufficient_data{fill:#b8bfcc}
.chart .b-tier1{fill:#2e6f95}.chart .b-tier2{fill:#4f8fb5}.chart .b-tier3{fill:#8db7d2}.chart .b-non_fit{fill:#c4cfdb}
button{font:inherit;padding:3px 10px;border-radius:4px;border:1px solid #9aa3b5;background:#fff;cursor:pointer}
button.ack{border-color:#2e6f95;color:#2e6f95}.muted{color:#6b7385}.ev{font-size:12px;color:#5a6275;word-break:break-word}
</style></head>
<body>
<header><h1>Ideal Customer Profile: drift and alerts</h1>
<p>{{with .ICP}}model {{.ModelVersion}} · {{end}}{{if .Report}}report of {{when .ReportAt}} · {{end}}page made {{when .Now}}</p></header>
<main>
<section id="alerts" class="wide"><h2>Alerts</h2>
{{if .AlertsErr}}<p class="muted">{{.AlertsErr}}</p>{{else}}
<table><tr><th>severity</th><th>status</th><th>alert</th><th>seen</th><th></th></tr>
{{range .Alerts}}<tr class="alert" data-id="{{.ID}}">
<td><span class="badge sev-{{.Severity}}">{{.Severity}}</span></td>
<td><span class="badge st-{{.Status}} status">{{.Status}}</span>{{if .UpdatedBy}}<div class="ev">by {{.UpdatedBy}}</div>{{end}}</td>
<td><b>{{.Summary}}</b><div class="ev">{{.GroupKey}} · id {{.ID}}</div></td>
<td class="ev">{{.Count}}× · first {{when .FirstSeen}} · last {{when .LastSeen}}</td>
<td>{{if eq (print .Status) "open"}}<button class="ack" data-action="acknowledge" data-id="{{.ID}}">Acknowledge</button> {{end}}{{if ne (print .Status) "resolved"}}<button class="resolve" data-action="resolve" data-id="{{.ID}}">Resolve</button>{{end}}</td>
</tr>{{else}}<tr><td colspan="5" class="muted">no alerts</td></tr>{{end}}
</table>{{end}}
</section>
<section id="icp"><h2>Current ICP</h2>
{{with .ICP}}
<table><tr><th>segment</th><th>share of ideal</th><th>lift</th></tr>
{{range .Segments}}<tr><td><b>{{.Name}}</b><div class="ev">{{range $i, $t := .Traits}}{{if $i}} · {{end}}{{$t}}{{end}}</div></td><td>{{pct .Share}}</td><td>{{printf "%.1f" .Lift}}×</td></tr>
{{else}}<tr><td colspan="3" class="muted">no segments learned</td></tr>{{end}}
</table>
<p>{{range $i, $t := .Tiers}}{{if $i}} · {{end}}<b>{{$t.Tier}}</b> ≥ {{num $t.MinScore}}{{end}}</p>
{{else}}<p class="muted">no model summary</p>{{end}}
</section>

<section id="kpis"><h2>Tier KPIs (recorded outcomes, win rate)</h2>
{{if .Report}}{{tierBars .Report}}
<p>Performance on recorded outcomes: <span class="status {{.Report.Performance.Status}}">{{.Report.Performance.Status}}</span> {{.Report.Performance.Detail}}</p>
<p class="muted">{{.Report.Stats.Outcomes}} outcomes observed, {{.Report.Stats.Sampled}} scored accounts sampled, {{.Report.Stats.Dropped}} dropped</p>
{{else}}<p class="muted">{{.ReportErr}}</p>{{end}}
</section>

<section id="icp-drift"><h2>ICP drift: winners outside the ICP</h2>
{{if and .Report .Report.ICP}}{{with .Report.ICP}}
<p><span class="badge st-{{.Status}}">{{.Status}}</span> {{.Detail}}</p>
{{end}}{{icpBars .Report}}
{{with .Report.ICP.Scores}}<p>Winners' scores vs training winners: <span class="badge st-{{.Status}}">{{.Status}}</span> <span class="ev">{{.Detail}}</span></p>{{end}}
{{else if .Report}}<p class="muted">no winners observed yet</p>{{else}}<p class="muted">{{.ReportErr}}</p>{{end}}
</section>

<section id="emerging"><h2>Emerging segments</h2>
{{if .Report}}<p><span class="badge st-{{.Report.EmergingStatus}}">{{.Report.EmergingStatus}}</span> {{.Report.EmergingDetail}}</p>
{{range .Report.Emerging}}<p><b>{{.Description}}</b><br><span class="ev">{{range $i, $t := .Traits}}{{if $i}} · {{end}}{{$t}}{{end}}</span><br><span class="ev">accounts: {{range $i, $a := .AccountIDs}}{{if $i}}, {{end}}{{$a}}{{end}}</span></p>{{end}}
{{else}}<p class="muted">{{.ReportErr}}</p>{{end}}
</section>

<section id="features" class="wide"><h2>Feature drift{{if .Report}} ({{.Drifted}} of {{len .Report.Features}} drifted, window {{.Report.Window}}){{end}}</h2>
{{if .Report}}
<table><tr><th>feature</th><th>status</th><th>test</th><th>statistic</th><th>PSI</th><th>detail</th></tr>
{{range .Report.Features}}<tr><td>{{.Feature}}</td><td><span class="badge st-{{.Status}}">{{.Status}}</span></td><td>{{.Test}}</td><td>{{num .Statistic}}</td><td>{{printf "%.3f" .PSI}}</td><td class="ev">{{.Detail}}</td></tr>{{end}}
</table>
<h2 style="margin-top:12px">PSI by feature</h2>{{psiBars .Report}}
{{else}}<p class="muted">{{.ReportErr}}</p>{{end}}
</section>

</main>
<script>
document.addEventListener("click", function (ev) {
  var b = ev.target.closest("button[data-action]");
  if (!b) return;
  var who = window.localStorage ? (localStorage.getItem("icp-reviewer") || "dashboard") : "dashboard";
  b.disabled = true;
  fetch("/v1/alerts/" + encodeURIComponent(b.dataset.id) + "/" + b.dataset.action, {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({by: who})
  }).then(function (r) {
    if (!r.ok) throw new Error("HTTP " + r.status);
    return r.json();
  }).then(function (a) {
    var row = b.closest("tr");
    var st = row.querySelector(".status");
    st.textContent = a.status;
    st.className = "badge st-" + a.status + " status";
    row.querySelectorAll("button").forEach(function (x) {
      if (x.dataset.action === "acknowledge" || a.status === "resolved") x.remove();
    });
  }).catch(function (e) { b.disabled = false; b.title = String(e); });
});
</script>
</body></html>
`
