package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/icpengine/icp/train"
)

// TestHTMLReportOffline checks that the HTML report is self-contained: no
// script, stylesheet, image or font is fetched from anywhere.
func TestHTMLReportOffline(t *testing.T) {
	p, _ := trained(t, 1500, 5, train.TargetIdeal)
	var b bytes.Buffer
	if err := WriteHTML(&b, p, Options{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"http://", "https://", "<script", "<link", "<img", "@import"} {
		if bad == "http://" {
			// The SVG namespace is the one URL allowed.
			page = strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, "")
		}
		if strings.Contains(page, bad) {
			t.Errorf("HTML report holds %q", bad)
		}
	}
	if n := strings.Count(page, "<svg"); n < 4 {
		t.Errorf("HTML report has %d charts, want at least 4", n)
	}
}

// TestHTMLReportChromium opens the HTML report in headless Chromium and
// checks that it loads without console errors or exceptions and shows its
// charts. It is skipped, with a notice, when no Chromium is installed.
func TestHTMLReportChromium(t *testing.T) {
	var bin string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if path, err := exec.LookPath(name); err == nil {
			bin = path
			break
		}
	}
	if bin == "" {
		t.Skip("NOTICE: no chromium on PATH; the HTML report is not checked in a browser (apt-get install -y chromium)")
	}
	p, _ := trained(t, 1500, 5, train.TargetIdeal)
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	if err := WriteHTML(&b, p, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(dir, "chrome-profile")),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	var mu sync.Mutex
	var problems []string
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				problems = append(problems, "console error")
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError {
				problems = append(problems, "log error: "+e.Entry.Text)
			}
		}
	})
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	for _, cmd := range []cdp.Command[cdp.Empty, cdp.Empty]{runtime.Enable, log.Enable} {
		if _, err := chromedp.Call(ctx, cmd, cdp.Empty{}); err != nil {
			t.Fatalf("chromium: %s: %v", cmd.Method, err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+path), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		t.Fatalf("chromium: open the report: %v", err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	charts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg").length`))
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	tables, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table").length`))
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("the report page logged errors: %v", problems)
	}
	if !strings.HasPrefix(title, "Ideal Customer Profile") {
		t.Errorf("title = %q, want it to start with %q", title, "Ideal Customer Profile")
	}
	if charts < 4 || tables < 5 {
		t.Errorf("the page shows %d charts and %d tables, want at least 4 and 5", charts, tables)
	}
}
