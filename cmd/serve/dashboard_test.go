package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/store"
)

var screenshot = flag.String("screenshot", "", "write the dashboard screenshot of TestDashboardInBrowser to this PNG file (default: the test's temporary directory)")

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

func TestDashboardInBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		fmt.Printf("notice: %s not found; skipping the dashboard browser test (install it with: apt-get install -y chromium)\n", chromiumPath)
		t.Skipf("%s not installed", chromiumPath)
	}
	modelPath := trainModel(t)
	p, err := profile.ReadFile(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "icp.db")
	base := liveServe(t, modelPath, "--db", dbPath, "--drift-interval", "500ms", "--request-timeout", seedTimeout)
	seedTraffic(t, base, p)
	alerts := waitAlerts(t, base)
	// One more evaluation, so the report holds all the seeded traffic.
	time.Sleep(1200 * time.Millisecond)
	target := alerts[0]

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
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
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	row := fmt.Sprintf(`tr.alert[data-id=%q]`, target.ID)
	if err := chromedp.Do(bctx,
		chromedp.EmulateViewport(1360, 1000),
		chromedp.Navigate(base+"/dashboard"),
		chromedp.WaitVisible(row),
	); err != nil {
		t.Fatalf("load dashboard: %v", err)
	}
	text, err := chromedp.Run(bctx, chromedp.Text(row))
	if err != nil {
		t.Fatal(err)
	}
	// The summary's numbers move with each evaluation; the group key and
	// the kind's wording do not.
	if !strings.Contains(text, target.GroupKey) || !strings.Contains(text, target.Summary[:min(12, len(target.Summary))]) || !strings.Contains(text, "open") {
		t.Errorf("alert row reads %q, want its group key %s, its summary and status open", text, target.GroupKey)
	}
	page, err := chromedp.Run(bctx, chromedp.Text("main"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Current ICP", "Tier KPIs", "ICP drift", "Emerging segments", "Feature drift", "employees"} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if err := chromedp.Do(bctx,
		chromedp.Click(row+` button.ack`),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector('%s .status').textContent === "acknowledged"`, strings.ReplaceAll(row, `"`, `\"`)),
			chromedp.WithPollingTimeout(10*time.Second)),
	); err != nil {
		t.Fatalf("acknowledge in the page: %v", err)
	}
	st, err := store.Open(context.Background(), dbPath, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.Alert(context.Background(), target.ID)
	if err != nil || got.Status != icp.AlertAcknowledged || got.UpdatedBy != "dashboard" {
		t.Errorf("stored alert after the click = %+v, %v; want acknowledged by dashboard", got, err)
	}
	// A reload shows the new state from the server.
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/dashboard"), chromedp.WaitVisible(row)); err != nil {
		t.Fatal(err)
	}
	text, err = chromedp.Run(bctx, chromedp.Text(row))
	if err != nil || !strings.Contains(text, "acknowledged") {
		t.Errorf("reloaded alert row reads %q, %v; want acknowledged", text, err)
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
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
	resp, err := http.Get(base + "/dashboard")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("dashboard Content-Security-Policy = %q, want default-src 'none'", csp)
	}
}
