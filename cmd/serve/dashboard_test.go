package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/auth"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/store"
)

var screenshot = flag.String("screenshot", "", "write the dashboard screenshot of TestDashboardInBrowser to this PNG file (default: the test's temporary directory)")

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// noticeEnv names the directory where a skipped suite leaves a notice;
// make test prints the notices after the tests, where they stay visible.
const noticeEnv = "ICP_TEST_NOTICES"

// needChromium skips the test, with a notice make test prints last, when
// Chromium is not installed.
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return
	}
	msg := fmt.Sprintf("%s not found; skipped the dashboard browser tests (install it with: apt-get install -y chromium)", chromiumPath)
	if dir := os.Getenv(noticeEnv); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "dashboard-browser.txt"), []byte("cmd/serve: "+msg+"\n"), 0o644); err != nil {
			t.Logf("write notice: %v", err)
		}
	}
	t.Skip(msg)
}

// newBrowser starts headless Chromium with the flags the sandbox needs and
// returns a tab's context, closed when the test ends.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1360, 1000),
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1360, 1000)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// createKey stores a new API key in the store at db and returns it.
func createKey(t *testing.T, db, name string, scopes ...icp.Scope) string {
	t.Helper()
	st, err := store.Open(t.Context(), db, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key, rec, err := auth.Generate(name, scopes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateAPIKey(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	return key
}

// chartOverlaps is a script that measures the text of every chart on the
// page (the elements of class lbl and val inside an element of class
// chart): the box of an HTML element's text (a Range over its contents, so
// text that overflows its element counts) or of an SVG text element. It
// returns how many charts and boxes it measured, how many bar rows lack a
// value, and every pair of boxes in one chart that intersect by more than
// half a pixel both ways (an element inside another is not a pair).
const chartOverlaps = `(() => {
  const box = (el) => {
    if (el instanceof SVGElement) return el.getBoundingClientRect();
    const r = document.createRange();
    r.selectNodeContents(el);
    return r.getBoundingClientRect();
  };
  const out = {charts: 0, boxes: 0, bars: 0, missingValues: 0, overlaps: []};
  for (const chart of document.querySelectorAll(".chart")) {
    out.charts++;
    const bs = [...chart.querySelectorAll(".lbl, .val")].map((el) => ({el, r: box(el)}))
      .filter((b) => b.r.width > 0 && b.r.height > 0);
    out.boxes += bs.length;
    for (let i = 0; i < bs.length; i++) {
      for (let j = i + 1; j < bs.length; j++) {
        const a = bs[i], b = bs[j];
        if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
        const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
        const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
        if (w > 0.5 && h > 0.5) out.overlaps.push(a.el.textContent.trim() + " / " + b.el.textContent.trim());
      }
    }
    if (chart.classList.contains("bars")) {
      const rows = chart.querySelectorAll("svg").length;
      const vals = [...chart.querySelectorAll(".val")].filter((v) => v.textContent.trim() !== "").length;
      out.bars += rows;
      out.missingValues += Math.max(0, rows - vals);
    }
  }
  return out;
})()`

// overlapReport is the result of chartOverlaps.
type overlapReport struct {
	Charts        int      `json:"charts"`
	Boxes         int      `json:"boxes"`
	Bars          int      `json:"bars"`
	MissingValues int      `json:"missingValues"`
	Overlaps      []string `json:"overlaps"`
}

// TestDashboardInBrowser signs in to the dashboard in headless Chromium
// with a dashboard key, reads the alerts, measures the charts' labels,
// acknowledges an alert, follows a link from another site, signs out and
// is refused afterwards.
func TestDashboardInBrowser(t *testing.T) {
	needChromium(t)
	modelPath := trainModel(t)
	p, err := profile.ReadFile(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "icp.db")
	key := createKey(t, dbPath, "vp-sales", icp.ScopeDashboard)
	var alerts []icp.Alert
	t.Run("seed", func(t *testing.T) {
		// Drifted traffic through a server without authentication, which
		// stops when this subtest ends; the alerts and the drift report
		// stay in the store.
		base := liveServe(t, modelPath, "--db", dbPath, "--drift-interval", "500ms", "--request-timeout", seedTimeout)
		seedTraffic(t, base, p)
		alerts = waitAlerts(t, base)
		time.Sleep(1200 * time.Millisecond) // one more evaluation, with all the traffic
	})
	if len(alerts) < 2 {
		t.Fatalf("seeding raised %d alerts, want at least 2", len(alerts))
	}
	target, other := alerts[0], alerts[1]
	// The same store behind a server that checks keys, and whose watcher
	// does not evaluate again during the test.
	base := liveServe(t, modelPath, "--allow-unauthenticated=false", "--db", dbPath, "--drift-interval", "1h")

	b := newBrowser(t)
	card := fmt.Sprintf(`article.alert[data-id=%q]`, target.ID)

	// A browser without a session is sent to the sign-in page.
	if err := chromedp.Do(b, chromedp.Navigate(base+"/dashboard"), chromedp.WaitVisible("#signin-box")); err != nil {
		t.Fatalf("open the dashboard without a session: %v", err)
	}
	if loc, err := chromedp.Run(b, chromedp.Location()); err != nil || !strings.HasSuffix(loc, "/dashboard/login") {
		t.Errorf("location without a session = %q, %v; want the sign-in page", loc, err)
	}
	// A wrong key is refused in the page.
	if err := chromedp.Do(b,
		chromedp.SendKeys("#key", "icp_AbCd1234_"+strings.Repeat("x", 32)),
		chromedp.Click(`#signin button[type=submit]`),
		chromedp.Poll[chromedp.Void](`document.getElementById("error").textContent !== ""`, chromedp.WithPollingTimeout(10*time.Second)),
	); err != nil {
		t.Fatalf("sign in with a wrong key: %v", err)
	}
	if msg, _ := chromedp.Run(b, chromedp.Text("#error")); !strings.Contains(msg, "invalid API key") {
		t.Errorf("sign-in error with a wrong key = %q, want invalid API key", msg)
	}

	// Sign in, and see the alerts written for leadership.
	if err := chromedp.Do(b,
		chromedp.Evaluate[chromedp.Void](`document.getElementById("key").value = ""`),
		chromedp.SendKeys("#key", key),
		chromedp.Click(`#signin button[type=submit]`),
		chromedp.WaitVisible(card),
	); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	if who, err := chromedp.Run(b, chromedp.Text("#viewer")); err != nil || !strings.Contains(who, "vp-sales") {
		t.Errorf("header reads %q, %v; want signed in as vp-sales", who, err)
	}
	text, err := chromedp.Run(b, chromedp.Text(card))
	if err != nil {
		t.Fatal(err)
	}
	// The summary's numbers move with each evaluation; the title, the
	// summary's first words and the action do not.
	for _, want := range []string{target.Title, target.Summary[:min(12, len(target.Summary))], "What to do", target.Action[:min(20, len(target.Action))], "open", "Acknowledge"} {
		if !strings.Contains(text, want) {
			t.Errorf("alert card reads %q, want %q in it", text, want)
		}
	}
	if strings.Contains(text, target.GroupKey) {
		t.Errorf("alert card shows the group key %s outside its technical details", target.GroupKey)
	}
	if stored := storedAlert(t, dbPath, target.ID); stored.Trend != nil {
		n, err := chromedp.Run(b, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll('%s svg.spark circle').length`, card)))
		if err != nil || n != len(stored.Trend.Points) {
			t.Errorf("trend chart of the alert has %d points, %v; want the %d of its trend", n, err, len(stored.Trend.Points))
		}
	} else {
		t.Errorf("alert %s has no trend", target.ID)
	}
	page, err := chromedp.Run(b, chromedp.Text("main"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Current ICP", "Tier KPIs", "ICP drift", "Emerging segments", "Everything watched", "Employees"} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}

	// No chart label overlaps a value or another label, and every bar
	// shows its value.
	rep, err := chromedp.Run(b, chromedp.Evaluate[overlapReport](chartOverlaps))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("charts measured: %+v", rep)
	if rep.Charts < 5 || rep.Bars < 10 || rep.Boxes < 2*rep.Bars {
		t.Errorf("measured %d charts, %d bars, %d text boxes; want the tier, ICP and PSI charts and the alerts' charts", rep.Charts, rep.Bars, rep.Boxes)
	}
	if len(rep.Overlaps) > 0 {
		t.Errorf("chart labels overlap: %q", rep.Overlaps)
	}
	if rep.MissingValues > 0 {
		t.Errorf("%d bars show no value", rep.MissingValues)
	}

	// Acknowledge in the page: the store records it under the key's name.
	if err := chromedp.Do(b,
		chromedp.Click(card+` button[data-action=acknowledge]`),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).textContent === "acknowledged"`, card+" .status"),
			chromedp.WithPollingTimeout(10*time.Second)),
	); err != nil {
		t.Fatalf("acknowledge in the page: %v", err)
	}
	if got := storedAlert(t, dbPath, target.ID); got.Status != icp.AlertAcknowledged || got.UpdatedBy != "vp-sales" {
		t.Errorf("stored alert after the click = %s by %q; want acknowledged by vp-sales", got.Status, got.UpdatedBy)
	}
	// A reload shows the new state from the server.
	if err := chromedp.Do(b, chromedp.Navigate(base+"/dashboard"), chromedp.WaitVisible(card)); err != nil {
		t.Fatal(err)
	}
	if text, err := chromedp.Run(b, chromedp.Text(card)); err != nil || !strings.Contains(text, "acknowledged by vp-sales") {
		t.Errorf("reloaded alert card reads %q, %v; want acknowledged by vp-sales", text, err)
	}
	png, err := chromedp.Run(b, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	out := *screenshot
	if out == "" {
		out = filepath.Join(t.TempDir(), "dashboard.png")
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", out, len(png))
	csrf, err := chromedp.Run(b, chromedp.Evaluate[string](`document.querySelector('meta[name="csrf-token"]').content`))
	if err != nil || csrf == "" {
		t.Fatalf("CSRF token in the page = %q, %v", csrf, err)
	}

	// A link from another site (a Slack message) opens the dashboard: the
	// SameSite=Strict cookie is not sent with it, and the sign-in page
	// goes back once, from the same site, with the cookie.
	u, _ := url.Parse(base)
	link := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!DOCTYPE html><a id="go" href="%s/dashboard">open the dashboard</a>`, base)
	}))
	defer link.Close()
	lu, _ := url.Parse(link.URL)
	elsewhere := "http://localhost:" + lu.Port() + "/"
	if u.Hostname() == "localhost" {
		t.Fatalf("the server listens on %s; the link page needs another site", base)
	}
	if err := chromedp.Do(b, chromedp.Navigate(elsewhere), chromedp.Click("#go"), chromedp.WaitVisible(card)); err != nil {
		t.Errorf("follow a link to the dashboard from another site: %v", err)
	}

	// Sign out: back to the sign-in page, and refused afterwards.
	if err := chromedp.Do(b, chromedp.Click("#signout"), chromedp.WaitVisible("#signin-box")); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	if err := chromedp.Do(b, chromedp.Navigate(base+"/dashboard"), chromedp.WaitVisible("#signin-box")); err != nil {
		t.Fatalf("open the dashboard after signing out: %v", err)
	}
	if loc, err := chromedp.Run(b, chromedp.Location()); err != nil || !strings.HasSuffix(loc, "/dashboard/login") {
		t.Errorf("location after signing out = %q, %v; want the sign-in page", loc, err)
	}
	// The page's own post, with the token it had, is refused too.
	post := fmt.Sprintf(`fetch("/dashboard/alerts/%s/acknowledge", {method: "POST", credentials: "same-origin",
		headers: {"Content-Type": "application/json", "X-CSRF-Token": %q}, body: "{}"}).then((r) => r.status)`, other.ID, csrf)
	status, err := chromedp.Run(b, chromedp.Evaluate[int](post, chromedp.EvalAwaitPromise))
	if err != nil || status != http.StatusUnauthorized {
		t.Errorf("acknowledge after signing out = %d, %v; want 401", status, err)
	}
	if got := storedAlert(t, dbPath, other.ID); got.Status != other.Status {
		t.Errorf("alert %s is %s after a refused acknowledge, want %s", other.ID, got.Status, other.Status)
	}

	// API clients keep their Bearer keys, and the page its policy.
	req, _ := http.NewRequest(http.MethodGet, base+"/dashboard", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); resp.StatusCode != http.StatusOK || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'nonce-") {
		t.Errorf("GET /dashboard with a Bearer key = %d, Content-Security-Policy %q; want 200, default-src 'none' and a script nonce", resp.StatusCode, csp)
	}
}

// storedAlert reads an alert from the store at db.
func storedAlert(t *testing.T, db, id string) icp.Alert {
	t.Helper()
	st, err := store.Open(t.Context(), db, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := st.Alert(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestChartOverlapsFindsOverlaps checks that the measurement of
// TestDashboardInBrowser fails on the layout it replaced: SVG text at
// fixed offsets, where a long label ran into its value
// ("salesforce0.000"), and on HTML text that overflows into a value.
func TestChartOverlapsFindsOverlaps(t *testing.T) {
	needChromium(t)
	b := newBrowser(t)
	page := `<!DOCTYPE html><body>
<svg class="chart" width="400" height="30"><text class="lbl" x="0" y="15">tech_stack has salesforce</text><text class="val" x="60" y="15">0.000</text></svg>
<div class="chart" style="display:grid;grid-template-columns:40px 40px"><span class="lbl" style="white-space:nowrap">a label far too long</span><span class="val">0.25</span></div>
<div class="chart bars"><span class="lbl">fine</span><svg width="10" height="10"></svg><span class="val">1</span><span class="lbl">no value</span><svg width="10" height="10"></svg><span class="val"></span></div>
</body>`
	if err := chromedp.Do(b, chromedp.Navigate("data:text/html,"+url.PathEscape(page))); err != nil {
		t.Fatal(err)
	}
	rep, err := chromedp.Run(b, chromedp.Evaluate[overlapReport](chartOverlaps))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Overlaps) != 2 || rep.MissingValues != 1 {
		t.Errorf("chartOverlaps on overlapping fixtures = %+v, want 2 overlaps and 1 bar without a value", rep)
	}
}

// TestSessionFlags checks that --session-ttl and --trust-forwarded-proto
// reach the session cookie, and that a negative TTL is refused.
func TestSessionFlags(t *testing.T) {
	model := trainModel(t)
	err := run(t.Context(), []string{"--model", model, "--addr", "127.0.0.1:0", "--allow-unauthenticated", "--session-ttl", "-1h"}, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "--session-ttl") {
		t.Errorf("run with --session-ttl -1h = %v, want an error naming the flag", err)
	}
	db := filepath.Join(t.TempDir(), "icp.db")
	key := createKey(t, db, "vp-sales", icp.ScopeDashboard)
	base := liveServe(t, model, "--allow-unauthenticated=false", "--db", db, "--session-ttl", "90m", "--trust-forwarded-proto")
	for _, tt := range []struct {
		proto      string
		wantSecure bool
	}{{"", false}, {"https", true}, {"http", false}} {
		req, _ := http.NewRequest(http.MethodPost, base+"/dashboard/login", strings.NewReader(`{"key":"`+key+`"}`))
		req.Header.Set("Content-Type", "application/json")
		if tt.proto != "" {
			req.Header.Set("X-Forwarded-Proto", tt.proto)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cookies := resp.Cookies()
		if resp.StatusCode != http.StatusOK || len(cookies) != 1 {
			t.Fatalf("sign in with X-Forwarded-Proto %q = %d with cookies %v, want 200 and one cookie", tt.proto, resp.StatusCode, cookies)
		}
		if c := cookies[0]; c.MaxAge != 90*60 || c.Secure != tt.wantSecure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
			t.Errorf("cookie with X-Forwarded-Proto %q = %+v, want Max-Age 5400, Secure %v, HttpOnly, SameSite=Strict", tt.proto, c, tt.wantSecure)
		}
	}
}
