package dashboard

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/icpengine/icp"
)

var update = flag.Bool("update", false, "update golden files")

// at is the fixed time of the test pages.
var at = time.Date(2026, 12, 7, 11, 49, 0, 0, time.UTC)

// trendOf returns a trend of the given values, a minute apart.
func trendOf(label, unit string, warning, critical float64, values ...float64) *icp.AlertTrend {
	t := &icp.AlertTrend{Label: label, Unit: unit, Warning: warning, Critical: critical}
	for i, v := range values {
		t.Points = append(t.Points, icp.TrendPoint{Time: at.Add(time.Duration(i-len(values)+1) * time.Minute), Value: v})
	}
	return t
}

// testPage is a page with an alert of each status and a drift report.
func testPage() Page {
	return Page{
		Now: at, ReportAt: at, Viewer: "vp-sales", SignedIn: true, CanReview: true, CSRFToken: "csrf-token-1", Nonce: "nonce-1",
		ICP: &ICPSummary{ModelVersion: "m-0123456789ab",
			Segments: []SegmentSummary{{ID: "seg-1", Name: "FinTech/SaaS, 50+ employees", Share: 0.328, Lift: 2.2, Traits: []string{"industry in {FinTech, SaaS} and employees >= 50"}}},
			Tiers:    []TierSummary{{Tier: icp.Tier1, MinScore: 0.32}, {Tier: icp.Tier2, MinScore: 0.15}, {Tier: icp.Tier3, MinScore: 0.066}, {Tier: icp.NonFit}}},
		Alerts: []icp.Alert{
			{ID: "a-ack", GroupKey: "score_drift:score", Kind: "score_drift", Severity: icp.SeverityCritical, Status: icp.AlertAcknowledged,
				Title: "Incoming accounts score higher than in training", Subject: "Fit score", Summary: "The median fit score is 0.15.",
				Action: "Look at the feature alerts first.", UpdatedBy: "vp-sales", FirstSeen: at.Add(-time.Hour), LastSeen: at, Count: 4},
			{ID: "a-warn", GroupKey: "feature_drift:industry", Kind: "feature_drift", Severity: icp.SeverityWarning, Status: icp.AlertOpen,
				Title: "Industry: more Logistics accounts", Subject: "Industry",
				Summary: "Logistics accounts make up 14% of the last 1,000 scored accounts (95% interval 12–16%), against 4.1% in the training data.",
				Action:  "Ask marketing whether targeting or lead sources changed.",
				Measure: &icp.AlertMeasure{Label: "share of Logistics accounts", Unit: "share", Value: 0.14, Low: 0.12, High: 0.163, Baseline: 0.041},
				Trend:   trendOf("shift size (PSI)", "", 0.1, 0.25, 0.04, 0.09, 0.155),
				Details: map[string]any{"test": "cohens_w", "p_value": 4.2e-32, "psi": 0.155, "group_key": "feature_drift:industry",
					"account_ids": []any{"A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9", "A10", "A11", "A12", "A13", "A14"}},
				FirstSeen: at.Add(-2 * time.Minute), LastSeen: at, Count: 3},
			{ID: "a-crit", GroupKey: "icp_drift:winners_outside", Kind: "icp_drift", Severity: icp.SeverityCritical, Status: icp.AlertOpen,
				Title: "More wins are coming from outside the ICP <script>alert(1)</script>", Subject: "Won deals outside the ICP",
				Summary: "87 of the last 200 won deals (44%) came from Tier 3 or non-fit accounts.", Action: "Review the ICP with sales.",
				Measure:   &icp.AlertMeasure{Label: "share of won deals outside the ICP", Unit: "share", Value: 0.435, Low: 0.368, High: 0.504, Baseline: 0.355},
				Trend:     trendOf("share of recent won deals", "share", 0, 0, 0.36, 0.41, 0.435),
				FirstSeen: at.Add(-3 * time.Minute), LastSeen: at, Count: 3},
			{ID: "a-old", GroupKey: "feature_drift:country", Kind: "feature_drift", Severity: icp.SeverityWarning, Status: icp.AlertResolved,
				Summary: "An alert stored before alerts had titles.", UpdatedBy: "auto-resolve", Resolution: "clear for 1h",
				FirstSeen: at.Add(-48 * time.Hour), LastSeen: at.Add(-30 * time.Hour), UpdatedAt: at.Add(-29 * time.Hour), Count: 9},
		},
		Channels: &ChannelSummary{Column: "Lead Source", Since: at.Add(-90 * 24 * time.Hour), Outcomes: 412, Won: 97, HasValue: true,
			ICPDefinition: "a deal whose account matches a segment's rule and no anti-ICP rule",
			Rows: []ChannelRow{
				{Channel: "Partner Referral", Deals: 120, Won: 44, WinRate: 0.367, WinLow: 0.285, WinHigh: 0.456, ShareOfWinners: 0.454, WinnersICP: 0.682, WinnersAnti: 0, Value: 2.41e6},
				{Channel: "Paid <Search>", Deals: 180, Won: 21, WinRate: 0.117, WinLow: 0.078, WinHigh: 0.172, ShareOfWinners: 0.216, WinnersICP: 0.19, WinnersAnti: 0.286, Value: 180e3},
				{Channel: "(none)", Deals: 12, Won: 0, WinRate: 0, WinLow: 0, WinHigh: 0.243},
			},
			ICP:  []string{"Partner Referral brings ICP accounts: 45.0% of its 120 deals against 21.0% of all deals, 2.1×."},
			Anti: []string{"Paid <Search> brings anti-ICP accounts: 30.0% of its 180 deals against 12.0% of all deals, 2.5×."}},
		Report: &icp.WatchReport{
			DriftResult: icp.DriftResult{Time: at, Window: 1000,
				Features: []icp.FeatureDrift{{Feature: "industry", Test: "cohens_w", Statistic: 0.502, PValue: 4.2e-32, PSI: 0.155, Status: "drift", Detail: "Cohen's w 0.502"}},
				ICP:      &icp.ICPDrift{Winners: 200, WinnersOutside: 87, ObservedShare: 0.435, ExpectedShare: 0.355, Status: "drift", Detail: "binomial p=0.012"}},
			EmergingStatus: "watch", EmergingDetail: "1 uncovered group",
			Emerging: []icp.EmergingSegment{{Description: "52 of the last 200 wins are snowflake, Logistics", Traits: []string{"industry = Logistics"}, AccountIDs: []string{"ACC-1", "ACC-2"}}},
			TierKPIs: []icp.TierKPI{{Tier: icp.Tier1, Deals: 110, Won: 54, WinRate: 0.491}, {Tier: icp.NonFit, Deals: 581, Won: 54, WinRate: 0.093}},
			Signals: []icp.WatchSignal{
				{Key: "feature_drift:industry", Kind: "feature_drift", Feature: "industry", Subject: "Industry", Status: "drift", Severity: icp.SeverityWarning, Value: 0.155, Metric: "psi"},
				{Key: "feature_drift:tech_stack has salesforce", Kind: "feature_drift", Feature: "tech_stack has salesforce", Subject: "Tech stack: salesforce", Status: "stable", Value: 0.0002, Metric: "psi"},
				{Key: "feature_drift:annual_revenue_usd", Kind: "feature_drift", Feature: "annual_revenue_usd", Subject: "Annual revenue (USD)", Status: "drift", Severity: icp.SeverityCritical, Value: 0.943, Metric: "psi"},
				{Key: "feature_drift:region", Kind: "feature_drift", Feature: "region", Subject: "Region", Status: "insufficient_data", Metric: "psi"},
				{Key: "icp_drift:winners_outside", Kind: "icp_drift", Subject: "Won deals outside the ICP", Status: "drift", Severity: icp.SeverityCritical, Value: 0.435, Metric: "share"},
			},
		},
	}
}

func render(t *testing.T, p Page) string {
	t.Helper()
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.Page(&buf, p); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestPageGolden(t *testing.T) {
	got := []byte(render(t, testPage()))
	golden := filepath.Join("testdata", "page.golden.html")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./server/dashboard -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("page differs from %s (run go test ./server/dashboard -update and review the diff)", golden)
	}
}

// cards returns the alert cards of a page in order, by id.
func cards(page string) []string {
	var ids []string
	for _, m := range regexp.MustCompile(`<article class="alert [^"]*" data-id="([^"]+)">`).FindAllStringSubmatch(page, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func TestPageAlerts(t *testing.T) {
	page := render(t, testPage())
	// Open first, most severe first; acknowledged after; resolved last,
	// in their fold.
	if got, want := strings.Join(cards(page), " "), "a-crit a-warn a-ack a-old"; got != want {
		t.Errorf("alert cards in the order %q, want %q", got, want)
	}
	if i, j := strings.Index(page, `<details class="resolved">`), strings.Index(page, `data-id="a-old"`); i < 0 || j < i {
		t.Error("the resolved alert is not in the resolved fold")
	}
	for _, want := range []string{
		"<b>2 open alerts</b>: 1 critical, 1 warning; 1 acknowledged.",
		"<h3>Industry: more Logistics accounts</h3>",
		"Logistics accounts make up 14% of the last 1,000 scored accounts",
		"<b>What to do:</b> Ask marketing whether targeting or lead sources changed.",
		// The measure, with its interval and baseline.
		`<span class="val big">14%</span>`, "95% interval 12–16%", "baseline 4.1%",
		// The trend's figures beside its chart, and its reference levels.
		"<b class=\"val\">0.155</b> now, 0.04 on 7 Dec 11:47 UTC", "warning from 0.1", "critical from 0.25",
		// A share trend reads as percentages.
		"<b class=\"val\">44%</b> now, 36%",
		// The statistics sit in the technical fold, lists cut.
		"<dt>p value</dt><dd>4.2e-32</dd>", "<dt>group key</dt><dd>feature_drift:industry</dd>", "A12, … and 2 more",
		// An alert stored before titles reads its summary as the headline.
		"<h3>An alert stored before alerts had titles.</h3>",
		"acknowledged by vp-sales", "resolved by auto-resolve · clear for 1h",
		`<meta name="csrf-token" content="csrf-token-1">`, `<script nonce="nonce-1">`, "Signed in as vp-sales",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>alert(1)") || !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("an alert's title is not escaped")
	}
	// The trend chart has one point per value, the last one marked.
	if n := strings.Count(page, `<circle r="2.5"`) + strings.Count(page, `<circle class="last"`); n != 6 {
		t.Errorf("trend charts have %d points, want 6", n)
	}
	// Buttons: acknowledge on open alerts, resolve on all but resolved.
	if a, r := strings.Count(page, `data-action="acknowledge"`), strings.Count(page, `data-action="resolve"`); a != 2 || r != 3 {
		t.Errorf("%d acknowledge and %d resolve buttons, want 2 and 3", a, r)
	}
	viewer := testPage()
	viewer.CanReview, viewer.SignedIn, viewer.CSRFToken = false, false, ""
	page = render(t, viewer)
	if strings.Contains(page, `data-action="`) || strings.Contains(page, "Sign out") || strings.Contains(page, `<meta name="csrf-token"`) {
		t.Error("a page for a viewer who cannot review shows buttons, sign-out or a CSRF token")
	}
}

func TestPageSignals(t *testing.T) {
	page := render(t, testPage())
	// The table shows each signal's severity as the watcher graded it,
	// most severe first, and folds the calm ones.
	notable := page[strings.Index(page, `<table id="signals">`):]
	notable = notable[:strings.Index(notable, "</table>")]
	rows := regexp.MustCompile(`<td title="[^"]*">([^<]+)</td><td><span class="badge ([^"]+)">([^<]+)</span>`).FindAllStringSubmatch(notable, -1)
	var got []string
	for _, r := range rows {
		got = append(got, r[1]+"="+r[3])
	}
	if want := "Annual revenue (USD)=critical Won deals outside the ICP=critical Industry=warning"; strings.Join(got, " ") != want {
		t.Errorf("signals table reads %q, want %q", strings.Join(got, " "), want)
	}
	for _, want := range []string{"2 stable or without enough data yet", "too little data"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The ICP drift section shows the severity of its alert, not the
	// test's own status.
	if !strings.Contains(page, `<span class="badge sev-critical">critical</span> 87 of the last 200 won deals`) {
		t.Error("the ICP drift section does not show its signal's severity")
	}
	if !strings.Contains(page, "Everything watched: 3 of 5 drifting") {
		t.Error("the section title does not count the drifting signals")
	}
	// Each bar's label and value are separate elements of the grid: a
	// small PSI no longer runs into its label ("salesforce0.000").
	if !regexp.MustCompile(`<span class="lbl" title="tech_stack has salesforce">Tech stack: salesforce</span><svg [^\n]*</svg><span class="val">&lt;0.001</span>`).MatchString(page) {
		t.Error("the PSI chart's salesforce row is not a label, a bar and a value")
	}
	if !strings.Contains(page, `<span class="val">49% of 110 deals</span>`) || !strings.Contains(page, `<span class="val">44%</span>`) {
		t.Error("the tier or ICP chart lacks its values")
	}
}

// TestPageChannels checks the section of recent outcomes by channel: shown
// with its rows, escaped, when the model has a channel column; its error
// when they could not be read; left out otherwise.
func TestPageChannels(t *testing.T) {
	page := render(t, testPage())
	for _, want := range []string{`<section id="channels">`, "by <b>Lead Source</b>", "<td>Partner Referral</td>", "Paid &lt;Search&gt;",
		"68%", "Partner Referral brings ICP accounts", "<th>value won</th>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<Search>") {
		t.Error("a channel name is not escaped")
	}
	p := testPage()
	p.Channels, p.ChannelsErr = nil, "could not read the outcomes"
	if page := render(t, p); !strings.Contains(page, `<section id="channels">`) || !strings.Contains(page, "could not read the outcomes") {
		t.Error("the channel section does not say why it is empty")
	}
	p.ChannelsErr = ""
	if page := render(t, p); strings.Contains(page, `id="channels"`) {
		t.Error("the channel section shows without a channel column")
	}
}

func TestPageWithoutData(t *testing.T) {
	page := render(t, Page{Now: at, ReportErr: "no drift report yet", AlertsErr: "no store configured", Nonce: "n"})
	for _, want := range []string{"no drift report yet", "no store configured", "no model summary"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	page = render(t, Page{Now: at, Nonce: "n", Report: &icp.WatchReport{}})
	if !strings.Contains(page, "No open alert: nothing has drifted") || !strings.Contains(page, "Nothing has moved beyond noise") {
		t.Error("an empty report does not say that nothing drifted")
	}
}

func TestSignInPage(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.SignIn(&buf, SignIn{Nonce: "abc"}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{`<style nonce="abc">`, `<script nonce="abc">`, `<input id="key" name="key" type="password"`, `fetch("/dashboard/login"`, "--scopes dashboard"} {
		if !strings.Contains(page, want) {
			t.Errorf("sign-in page lacks %q", want)
		}
	}
}

func TestFormatValue(t *testing.T) {
	tests := []struct {
		give float64
		unit string
		want string
	}{
		{0.14, "share", "14%"},
		{0.041, "share", "4.1%"},
		{0.0004, "share", "<0.1%"},
		{0, "share", "0%"},
		{1, "share", "100%"},
		{0.155, "", "0.155"},
		{0.1, "", "0.1"},
		{0.0850, "", "0.085"},
		{1.0367, "", "1.04"},
		{12.34, "", "12.3"},
		{186, "", "186"},
		{1456, "", "1,456"},
		{-1456, "", "-1,456"},
		{24000, "", "24k"},
		{301.6e6, "", "302M"},
		{2.9e9, "", "2.9B"},
		{0.0002, "", "0.0002"},
		{0, "", "0"},
	}
	for _, tt := range tests {
		if got := formatValue(tt.give, tt.unit); got != tt.want {
			t.Errorf("formatValue(%v, %q) = %q, want %q", tt.give, tt.unit, got, tt.want)
		}
	}
	for _, tt := range []struct {
		give float64
		want string
	}{{0.943, "0.943"}, {0.0818, "0.082"}, {0.0002, "<0.001"}, {0, "<0.001"}, {1.0367, "1.037"}, {12.3, "12.3"}} {
		if got := formatPSI(tt.give); got != tt.want {
			t.Errorf("formatPSI(%v) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestSparkline(t *testing.T) {
	s := newSparkline(*trendOf("psi", "", 0.1, 0.25, 0.02, 0.3, 0.15))
	if len(s.Dots) != 3 || !s.Dots[2].Last || s.Dots[0].Last {
		t.Fatalf("dots = %+v, want 3 with the last marked", s.Dots)
	}
	for _, d := range s.Dots {
		if d.X < pad || d.X > chartW-pad || d.Y < pad || d.Y > sparkH-pad {
			t.Errorf("dot %+v outside the chart's padded area", d)
		}
	}
	// Higher values are drawn higher (smaller y), and the levels are in
	// order between them.
	if !(s.Dots[1].Y < s.Critical && s.Critical < s.Dots[2].Y && s.Dots[2].Y < s.Warning && s.Warning < s.Dots[0].Y) {
		t.Errorf("y of 0.3 %v, critical %v, 0.15 %v, warning %v, 0.02 %v: want increasing", s.Dots[1].Y, s.Critical, s.Dots[2].Y, s.Warning, s.Dots[0].Y)
	}
	if s.Dots[0].X != pad || s.Dots[2].X != chartW-pad {
		t.Errorf("the trend spans x %v to %v, want %v to %v", s.Dots[0].X, s.Dots[2].X, pad, chartW-pad)
	}
	flat := newSparkline(*trendOf("share", "share", 0, 0, 0.4))
	if len(flat.Dots) != 1 || flat.Warning != 0 || flat.Critical != 0 || flat.Dots[0].Title != "7 Dec 11:49 UTC: 40%" {
		t.Errorf("one-point trend = %+v", flat)
	}
}

func TestIntervalChart(t *testing.T) {
	c := newIntervalChart(icp.AlertMeasure{Unit: "share", Value: 0.435, Low: 0.368, High: 0.504, Baseline: 0.355})
	if !(pad <= c.Low && c.Base < c.Low && c.Low < c.Value && c.Value < c.Low+c.Width && c.Low+c.Width <= chartW-pad) {
		t.Errorf("interval chart %+v: want baseline < low < value < high within the chart", c)
	}
	// A measure whose interval is a point still draws it.
	c = newIntervalChart(icp.AlertMeasure{Value: 3, Low: 3, High: 3, Baseline: 3})
	if c.Width < 2 {
		t.Errorf("point interval width %v, want at least 2", c.Width)
	}
}

func TestBarWidth(t *testing.T) {
	tests := []struct {
		v, scale, want float64
	}{
		{0.5, 1, 50},
		{2, 1, 100},
		{0.0001, 1, minBar},
		{0, 1, 0},
		{-1, 1, 0},
		{1, 0, 0},
	}
	for _, tt := range tests {
		if got := width(tt.v, tt.scale); got != tt.want {
			t.Errorf("width(%v, %v) = %v, want %v", tt.v, tt.scale, got, tt.want)
		}
	}
}
