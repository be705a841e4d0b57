package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/report"
)

var (
	summaryCard = regexp.MustCompile(`(?s)<article class="card" ([^>]*)>(.*?)</article>`)
	summaryAnti = regexp.MustCompile(`<li data-rule="([^"]*)" data-bad="([^"]*)">`)
	dataAttr    = regexp.MustCompile(`data-([a-z-]+)="([^"]*)"`)
	shownRate   = regexp.MustCompile(`<span class="rate">([^<]*)</span>`)
	shownShare  = regexp.MustCompile(`<strong class="share">([^<]*)</strong>`)
)

// TestReportSummaryMatchesAPI serves a trained model, fetches GET /v1/icp
// and checks that the summary of the HTML report of the same model states
// the same figures: each card's rate, its 95% interval, its lift and its
// share of the wins (exactly, in the card's data attributes, and as the
// card shows them), each tier's rate on the holdout in the tier chart,
// and each anti-ICP line's loss rate.
func TestReportSummaryMatchesAPI(t *testing.T) {
	model := trainModel(t)
	p, err := profile.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	base := liveServe(t, model)
	resp, err := http.Get(base + "/v1/icp")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/icp = %d, %v: %.200s", resp.StatusCode, err, body)
	}
	var doc report.ICPDocument
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("decode /v1/icp: %v", err)
	}
	if doc.ModelVersion != p.Version {
		t.Fatalf("/v1/icp serves model %s, want %s", doc.ModelVersion, p.Version)
	}
	if len(doc.Segments) == 0 {
		t.Fatalf("the model has no segments (%s); the test needs some", doc.Reason)
	}

	var page bytes.Buffer
	if err := report.WriteHTML(&page, p, report.Options{}); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	summary, _, ok := strings.Cut(html, "</section>")
	if !ok || !strings.Contains(summary, `<section id="summary"`) {
		t.Fatal("the HTML report has no summary section")
	}
	cards := summaryCard.FindAllStringSubmatch(summary, -1)
	if len(cards) != len(doc.Segments) {
		t.Fatalf("the summary shows %d cards, /v1/icp %d segments", len(cards), len(doc.Segments))
	}
	retained := doc.Label.Target == profile.TargetRetained
	for k, c := range cards {
		s := doc.Segments[k]
		e := s.Evidence
		attrs := map[string]string{}
		for _, m := range dataAttr.FindAllStringSubmatch(c[1], -1) {
			attrs[m[1]] = m[2]
		}
		if attrs["segment"] != s.ID {
			t.Errorf("card %d is segment %q, /v1/icp has %q", k, attrs["segment"], s.ID)
		}
		// The headline is the win rate, the retention rate for a churn
		// table (whose rows are all won).
		rate, iv, lift, share := e.WinRate, e.WinRateInterval, e.WinLift, e.ShareOfWins
		if retained {
			rate, iv, lift, share = e.PositiveRate, e.PositiveRateInterval, e.Lift, e.ShareOfPositives
		}
		want := map[string]float64{"rate": rate, "rate-lo": iv.Lo, "rate-hi": iv.Hi, "lift": lift, "share": share}
		for name, w := range want {
			got, err := strconv.ParseFloat(attrs[name], 64)
			if err != nil || got != w {
				t.Errorf("%s: card data-%s = %q, /v1/icp %v", s.ID, name, attrs[name], w)
			}
		}
		if m := shownRate.FindStringSubmatch(c[2]); m == nil || m[1] != profile.FormatPercent(rate) {
			t.Errorf("%s: the card shows the rate %v, /v1/icp %s", s.ID, m, profile.FormatPercent(rate))
		}
		if m := shownShare.FindStringSubmatch(c[2]); m == nil || m[1] != profile.FormatPercent(share) {
			t.Errorf("%s: the card shows the share %v, /v1/icp %s", s.ID, m, profile.FormatPercent(share))
		}
		ivText := strings.TrimSuffix(profile.FormatPercent(iv.Lo), "%") + "–" + profile.FormatPercent(iv.Hi)
		if !strings.Contains(c[2], "95% interval "+ivText) {
			t.Errorf("%s: the card does not show the interval %s of /v1/icp", s.ID, ivText)
		}
	}
	// The tier chart's bars: each tier's rate on the holdout.
	rateName := regexp.MustCompile(`data-rate-name="([^"]*)"`).FindStringSubmatch(summary)
	if rateName == nil {
		t.Fatal("the summary's cards do not name their rate")
	}
	for _, g := range doc.TierBacktest {
		if g.Evidence.Closed == 0 {
			continue
		}
		rate := g.Evidence.WinRate
		if retained {
			rate = g.Evidence.PositiveRate
		}
		bar := regexp.MustCompile(`<title>` + regexp.QuoteMeta(g.Name) + `( \([^)]*\))? ` + regexp.QuoteMeta(rateName[1]) + `: ` + regexp.QuoteMeta(profile.FormatPercent(rate)) + `</title>`)
		if !bar.MatchString(summary) {
			t.Errorf("the summary's tier chart has no bar %s %s %s, as /v1/icp has", g.Name, rateName[1], profile.FormatPercent(rate))
		}
	}
	anti := summaryAnti.FindAllStringSubmatch(summary, -1)
	if len(anti) != len(doc.AntiICP.Rules) {
		t.Fatalf("the summary lists %d anti-ICP rules, /v1/icp %d", len(anti), len(doc.AntiICP.Rules))
	}
	for k, a := range anti {
		r := doc.AntiICP.Rules[k]
		w := r.LossRate
		if retained {
			w = 1 - r.GoodRate
		}
		if got, err := strconv.ParseFloat(a[2], 64); a[1] != r.ID || err != nil || got != w {
			t.Errorf("anti-ICP line %d = %s %s, /v1/icp %s %v", k, a[1], a[2], r.ID, w)
		}
	}
}
