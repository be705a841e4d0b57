package report

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/train"
)

var screenshot = flag.String("screenshot", "", "write the first screen of the report of TestReportSummaryInBrowser to this PNG file (default: the test's temporary directory)")

// noticeEnv names the directory where a skipped suite leaves a notice;
// make test prints the notices after the tests.
const noticeEnv = "ICP_TEST_NOTICES"

// The first screen the summary must fit in: a laptop's browser window.
const screenW, screenH = 1280, 900

// chromium returns the path of a Chromium binary, or skips the test with a
// notice make test prints last.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	msg := "no chromium on PATH; skipped the report's browser tests (install it with: apt-get install -y chromium)"
	if dir := os.Getenv(noticeEnv); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "report-browser.txt"), []byte("report: "+msg+"\n"), 0o644); err != nil {
			t.Logf("write notice: %v", err)
		}
	}
	t.Skip("NOTICE: " + msg)
	return ""
}

// firstScreen is a script that measures the report as a reader sees it:
// where the summary's parts end, and, in every chart (a figure of class
// chart), each pair of texts whose boxes intersect by more than half a
// pixel both ways, and each text over a bar (a rectangle with a title).
// It also counts each chart's bars and value labels (class val).
const firstScreen = `(() => {
  const bottom = (sel) => { const el = document.querySelector(sel); return el ? el.getBoundingClientRect().bottom : -1; };
  const out = {summaryTop: -1, cards: [], chart: bottom("#summary-tiers"), anti: bottom("#summary ul.anti"),
    changes: bottom("#summary ul.changes"), noSegments: bottom("#summary .nosegments"), charts: [], overlaps: []};
  const s = document.querySelector("#summary");
  if (s) out.summaryTop = s.getBoundingClientRect().top;
  for (const c of document.querySelectorAll("#summary article.card")) {
    out.cards.push({id: c.dataset.segment, bottom: c.getBoundingClientRect().bottom, right: c.getBoundingClientRect().right});
  }
  for (const chart of document.querySelectorAll("figure.chart")) {
    const texts = [...chart.querySelectorAll("text")];
    const c = {title: chart.querySelector("svg").getAttribute("aria-label"), bars: chart.querySelectorAll("rect title").length,
      values: chart.querySelectorAll(".val").length};
    out.charts.push(c);
    const bs = texts.map((el) => ({el, r: el.getBoundingClientRect()})).filter((b) => b.r.width > 0 && b.r.height > 0);
    const rects = [...chart.querySelectorAll("rect")].filter((el) => el.querySelector("title")).map((el) => ({el, r: el.getBoundingClientRect()})).filter((b) => b.r.width > 0);
    const hit = (a, b) => Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left) > 0.5 &&
      Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top) > 0.5;
    for (let i = 0; i < bs.length; i++) {
      for (let j = i + 1; j < bs.length; j++) {
        if (hit(bs[i], bs[j])) out.overlaps.push(c.title + ": " + bs[i].el.textContent + " / " + bs[j].el.textContent);
      }
      for (const r of rects) {
        if (hit(bs[i], r)) out.overlaps.push(c.title + ": " + bs[i].el.textContent + " / a bar");
      }
    }
  }
  return out;
})()`

// screen is what firstScreen measures.
type screen struct {
	SummaryTop float64 `json:"summaryTop"`
	Cards      []struct {
		ID     string  `json:"id"`
		Bottom float64 `json:"bottom"`
		Right  float64 `json:"right"`
	} `json:"cards"`
	Chart      float64 `json:"chart"`
	Anti       float64 `json:"anti"`
	Changes    float64 `json:"changes"`
	NoSegments float64 `json:"noSegments"`
	Charts     []struct {
		Title  string `json:"title"`
		Bars   int    `json:"bars"`
		Values int    `json:"values"`
	} `json:"charts"`
	Overlaps []string `json:"overlaps"`
}

// openReport starts headless Chromium with a window of the first screen's
// size and returns a tab's context, closed when the test ends.
func openReport(t *testing.T, bin string) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
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
		chromedp.WindowSize(screenW, screenH),
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(screenW, screenH)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// TestReportSummaryInBrowser opens HTML reports at 1280×900 in headless
// Chromium: the summary (every segment card, the anti-ICP lines, the tier
// chart and what changed) is on the first screen, and in every chart of
// the report no text overlaps another or a bar, every chart shows values
// and every bar its own. It writes the
// first screen of the first report to -screenshot (the README's picture).
func TestReportSummaryInBrowser(t *testing.T) {
	bin := chromium(t)
	won, tab := trained(t, 5000, 42, train.TargetWon)
	prev, _ := trained(t, 5000, 7, train.TargetWon)
	changes, err := Compare(won, prev, tab)
	if err != nil {
		t.Fatal(err)
	}
	ideal, _ := trained(t, 1500, 5, train.TargetIdeal)
	none := copyProfile(won)
	none.Segments, none.SegmentSearch.Reliable, none.SegmentSearch.Reason = nil, false, "no rule holds up on the holdout"
	tests := []struct {
		name string
		give *profile.Profile
		opts Options
	}{
		{"won, with changes", won, Options{Changes: changes}},
		{"ideal", ideal, Options{}},
		{"no segments", none, Options{}},
	}
	b := openReport(t, bin)
	dir := t.TempDir()
	for k, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var page bytes.Buffer
			if err := WriteHTML(&page, tt.give, tt.opts); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, fmt.Sprintf("report-%d.html", k))
			if err := os.WriteFile(path, page.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Do(b, chromedp.Navigate("file://"+path), chromedp.WaitReady(chromedp.CSS("#summary"))); err != nil {
				t.Fatalf("open the report: %v", err)
			}
			got, err := chromedp.Run(b, chromedp.Evaluate[screen](firstScreen))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("measured: %+v", got)
			if got.SummaryTop < 0 || got.SummaryTop > 120 {
				t.Errorf("the summary starts at %.0f px, want it right under the title", got.SummaryTop)
			}
			if len(got.Cards) != len(tt.give.Segments) {
				t.Errorf("the summary shows %d cards, want one per segment (%d)", len(got.Cards), len(tt.give.Segments))
			}
			for _, c := range got.Cards {
				if c.Bottom > screenH || c.Right > screenW {
					t.Errorf("card %s ends at (%.0f, %.0f), outside the first %d×%d screen", c.ID, c.Right, c.Bottom, screenW, screenH)
				}
			}
			parts := map[string]float64{"tier chart": got.Chart}
			if len(tt.give.AntiICP.Rules) > 0 {
				parts["anti-ICP"] = got.Anti
			}
			if tt.opts.Changes != nil {
				parts["what changed"] = got.Changes
			}
			if len(tt.give.Segments) == 0 {
				parts["no segments"] = got.NoSegments
			}
			for name, bottom := range parts {
				if bottom < 0 || bottom > screenH {
					t.Errorf("the summary's %s ends at %.0f px, want it on the first %d px", name, bottom, screenH)
				}
			}
			if len(got.Charts) < 6 {
				t.Errorf("measured %d charts, want the summary's, the tiers', calibration, gains, lift and scores", len(got.Charts))
			}
			for _, c := range got.Charts {
				if c.Values == 0 {
					t.Errorf("chart %q shows no value", c.Title)
				}
				if c.Bars > 0 && c.Values != c.Bars {
					t.Errorf("chart %q: %d bars show %d values, want one each", c.Title, c.Bars, c.Values)
				}
			}
			if len(got.Overlaps) > 0 {
				t.Errorf("chart labels overlap: %q", got.Overlaps)
			}
			if k > 0 {
				return
			}
			png, err := chromedp.Run(b, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			out := *screenshot
			if out == "" {
				out = filepath.Join(t.TempDir(), "report.png")
			}
			if err := os.WriteFile(out, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s (%d bytes)", out, len(png))
		})
	}
}

// cardAttrs finds the data attributes of each summary card of an HTML
// report.
var (
	cardTag  = regexp.MustCompile(`<article class="card" ([^>]*)>`)
	dataAttr = regexp.MustCompile(`data-([a-z-]+)="([^"]*)"`)
)

// TestSummaryCardsMatchDocument checks that each card states the figures
// of the ICP document (GET /v1/icp) exactly, in its data attributes and
// in its text, for each outcome's words.
func TestSummaryCardsMatchDocument(t *testing.T) {
	won, _ := trained(t, 5000, 42, train.TargetWon)
	ideal, _ := trained(t, 1500, 5, train.TargetIdeal)
	for _, p := range []*profile.Profile{won, ideal} {
		t.Run(p.Label.Target, func(t *testing.T) {
			var page bytes.Buffer
			if err := WriteHTML(&page, p, Options{}); err != nil {
				t.Fatal(err)
			}
			doc := Document(p)
			tags := cardTag.FindAllStringSubmatch(page.String(), -1)
			if len(tags) != len(doc.Segments) {
				t.Fatalf("%d cards, want %d", len(tags), len(doc.Segments))
			}
			for k, tag := range tags {
				attrs := map[string]float64{}
				var id string
				for _, m := range dataAttr.FindAllStringSubmatch(tag[1], -1) {
					if m[1] == "segment" {
						id = m[2]
						continue
					}
					v, err := strconv.ParseFloat(m[2], 64)
					if err != nil {
						t.Fatalf("card %d: data-%s=%q: %v", k, m[1], m[2], err)
					}
					attrs[m[1]] = v
				}
				s := doc.Segments[k]
				e := s.Evidence
				want := map[string]float64{"rate": e.WinRate, "rate-lo": e.WinRateInterval.Lo, "rate-hi": e.WinRateInterval.Hi,
					"lift": e.WinLift, "share": e.ShareOfWins}
				if p.Label.Target == train.TargetIdeal {
					want["ideal-rate"], want["ideal-lo"], want["ideal-hi"], want["ideal-share"] = e.PositiveRate, e.PositiveRateInterval.Lo, e.PositiveRateInterval.Hi, e.ShareOfPositives
				}
				if e.HasLTV {
					want["median-ltv"] = e.MedianLTV
				}
				if id != s.ID {
					t.Errorf("card %d is %q, want %q", k, id, s.ID)
				}
				for name, v := range want {
					if got, ok := attrs[name]; !ok || got != v {
						t.Errorf("%s: data-%s = %v (present %v), want %v", s.ID, name, got, ok, v)
					}
				}
				if !strings.Contains(page.String(), fmt.Sprintf(`<span class="rate">%s</span>`, profile.FormatPercent(e.WinRate))) {
					t.Errorf("%s: the card does not show its win rate %s", s.ID, profile.FormatPercent(e.WinRate))
				}
			}
		})
	}
}

// churnProfile trains on a small generated churn table without close
// dates: its report speaks of customers retained, held out at random.
func churnProfile(t *testing.T) *profile.Profile {
	t.Helper()
	var b strings.Builder
	b.WriteString("customerID,contract,tenure,Churn\n")
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 600 {
		contract, p := "Month-to-month", 0.45
		if rng.IntN(3) == 0 {
			contract, p = "Two year", 0.05
		}
		churn := "No"
		if rng.Float64() < p {
			churn = "Yes"
		}
		fmt.Fprintf(&b, "C-%04d,%s,%d,%s\n", i, contract, rng.IntN(70), churn)
	}
	tab, err := datasets.Read(strings.NewReader(b.String()), "telco.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := features.Infer(tab, features.InferConfig{})
	p, err := train.Train(s.Clean(tab), s, train.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSummaryWording checks the summary says what each case is: a churn
// table in customers retained, a random split as held out, no segments
// plainly, a value model that serves or why none does.
func TestSummaryWording(t *testing.T) {
	won, _ := trained(t, 5000, 42, train.TargetWon)
	none := copyProfile(won)
	none.Segments, none.SegmentSearch.Reason = nil, "no rule holds up on the holdout"
	random := copyProfile(won)
	random.Validation.From, random.Validation.To = "", ""
	noValue := copyProfile(won)
	noValue.Value = &profile.Value{Column: "ltv_usd", Reason: "fewer than 50 won deals with a value"}
	withoutValue := copyProfile(won)
	withoutValue.Value = nil
	tests := []struct {
		name      string
		give      *profile.Profile
		want, bad []string
	}{
		{"won", won, []string{"| segment | who | win rate (95% interval) | share of all wins |", "Tiers on the 1000 newest deals", "Value: ranked by expected value", "— 96.7% of 793 deals lost."}, []string{"retention"}},
		{"churn", churnProfile(t), []string{"retention rate (95% interval)", "share of all retained", "held-out customers", "for all customers:"}, []string{"newest", "win rate", "deals"}},
		{"random split", random, []string{"Tiers on the 1000 held-out deals", "held out at random"}, []string{"newest"}},
		{"no segments", none, []string{"**No reliable segments**: no rule holds up on the holdout."}, []string{"| segment | who |"}},
		{"value model left out", noValue, []string{"No value model serves (fewer than 50 won deals with a value)"}, []string{"Value: ranked"}},
		{"no value outcome", withoutValue, nil, []string{"Value: ranked", "No value model serves"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := markdown(t, tt.give)
			summary, _, _ := strings.Cut(md, "## Ideal customer segments")
			for _, w := range tt.want {
				if !strings.Contains(summary, w) {
					t.Errorf("summary lacks %q:\n%s", w, summary)
				}
			}
			for _, b := range tt.bad {
				if strings.Contains(summary, b) {
					t.Errorf("summary says %q:\n%s", b, summary)
				}
			}
		})
	}
}

func TestPlainCond(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		give profile.Cond
		want string
	}{
		{profile.Cond{Column: "industry", Op: profile.OpIn, Levels: []string{"FinTech", "SaaS"}}, "industry FinTech or SaaS"},
		{profile.Cond{Column: "country", Op: profile.OpIn, Levels: []string{"AU", "BR", "IN"}, Negate: true, Missing: true}, "country not AU, BR or IN (or unknown)"},
		{profile.Cond{Column: "employees", Op: profile.OpRange, Lo: f(49.5), Hi: f(500), Integer: true}, "employees 50 to 500"},
		{profile.Cond{Column: "employees", Op: profile.OpRange, Lo: f(199), Integer: true}, "employees at least 200"},
		{profile.Cond{Column: "annual_revenue_usd", Op: profile.OpRange, Hi: f(1.6e6)}, "annual revenue usd up to 1.6M"},
		{profile.Cond{Column: "score", Op: profile.OpRange, Lo: f(0.35)}, "score above 0.35"},
		{profile.Cond{Column: "tech_stack", Op: profile.OpHasAll, Tags: []string{"shopify", "stripe"}}, "tech stack includes shopify and stripe"},
		{profile.Cond{Column: "tech_stack", Op: profile.OpHasAny, Tags: []string{"hubspot", "segment"}, Negate: true}, "tech stack includes none of hubspot and segment"},
		{profile.Cond{Column: "is_partner", Op: profile.OpIs, Negate: true}, "is partner: no"},
	}
	for _, tt := range tests {
		if got := plainCond(&tt.give); got != tt.want {
			t.Errorf("plainCond(%s) = %q, want %q", tt.give.String(), got, tt.want)
		}
	}
}
