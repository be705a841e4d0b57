package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/watch"
)

// TestSeverityAgreesAcrossSurfaces drifts traffic into a served model and
// checks that every feature shows one severity: in its alert, in the
// signals of GET /v1/drift (the dashboard's data) and in icp_drift_status of
// /metrics; and that a Slack webhook receives the alerts as Slack messages.
func TestSeverityAgreesAcrossSurfaces(t *testing.T) {
	modelPath := trainModel(t)
	p, err := profile.ReadFile(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		bodies []map[string]any
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil || r.Header.Get(watch.SignatureHeader) != "" {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		mu.Lock()
		bodies = append(bodies, m)
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	defer hook.Close()
	base := liveServe(t, modelPath, "--db", filepath.Join(t.TempDir(), "icp.db"), "--drift-interval", "1s",
		"--webhook-url", hook.URL, "--webhook-format", "slack", "--dashboard-url", "https://icp.example.com/dashboard",
		"--request-timeout", seedTimeout)
	seedTraffic(t, base, p)
	waitAlerts(t, base)
	time.Sleep(1500 * time.Millisecond) // one more evaluation of the same window

	var rep struct {
		Report struct {
			Signals []icp.WatchSignal `json:"signals"`
		} `json:"report"`
	}
	if code := call(t, http.MethodGet, base+"/v1/drift", "", "", &rep); code != http.StatusOK || len(rep.Report.Signals) == 0 {
		t.Fatalf("GET /v1/drift = %d with %d signals, want 200 with signals", code, len(rep.Report.Signals))
	}
	var alerts struct {
		Alerts []icp.Alert `json:"alerts"`
	}
	if code := call(t, http.MethodGet, base+"/v1/alerts?status=open", "", "", &alerts); code != http.StatusOK {
		t.Fatalf("GET /v1/alerts = %d", code)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	status := map[string]float64{}
	for _, m := range regexp.MustCompile(`(?m)^icp_drift_status\{feature="([^"]*)"\} (\S+)$`).FindAllStringSubmatch(string(metrics), -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		status[m[1]] = v
	}
	rank := map[icp.Severity]float64{"": 0, icp.SeverityInfo: 1, icp.SeverityWarning: 2, icp.SeverityCritical: 3}
	signals := map[string]icp.WatchSignal{}
	var featureSignals int
	for _, s := range rep.Report.Signals {
		signals[s.Key] = s
		if s.Feature == "" || s.Kind == watch.KindICPDrift {
			continue
		}
		featureSignals++
		if got, ok := status[s.Feature]; !ok || got != rank[s.Severity] {
			t.Errorf("icp_drift_status{feature=%q} = %v (present %v), want %v (%q) as in the report", s.Feature, got, ok, rank[s.Severity], s.Severity)
		}
	}
	if featureSignals == 0 || len(status) != featureSignals {
		t.Errorf("/metrics has %d drift statuses for %d feature signals, want one each", len(status), featureSignals)
	}
	compared := 0
	for _, a := range alerts.Alerts {
		if s, ok := signals[a.GroupKey]; ok && s.Severity == "" {
			// The condition cleared after the alert was raised (on the
			// outcomes recorded so far while the traffic was still being
			// seeded): an alert stays open, at the severity it was raised
			// with, until it has been clear for --alert-resolve-after.
			continue
		}
		compared++
		if s, ok := signals[a.GroupKey]; !ok || s.Severity != a.Severity {
			t.Errorf("alert %s is %s, its signal %+v; want the same severity", a.GroupKey, a.Severity, s)
		}
		if a.Title == "" || a.Action == "" {
			t.Errorf("alert %s has title %q and action %q, want both", a.GroupKey, a.Title, a.Action)
		}
	}
	if compared == 0 {
		t.Errorf("none of the %d open alerts has a signal still raised to compare severities with", len(alerts.Alerts))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(bodies)
		mu.Unlock()
		if n >= len(alerts.Alerts) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Slack webhook received %d messages, want one per alert (%d)", n, len(alerts.Alerts))
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, b := range bodies {
		text, _ := b["text"].(string)
		blocks, _ := b["blocks"].([]any)
		raw, _ := json.Marshal(b)
		if text == "" || len(blocks) == 0 || !strings.Contains(string(raw), "https://icp.example.com/dashboard") {
			t.Errorf("Slack message %s, want text, blocks and the dashboard link", raw)
		}
	}
}

// TestWebhookFormatFlags refuses an unknown format and a secret for a
// format that takes none.
func TestWebhookFormatFlags(t *testing.T) {
	model := trainModel(t)
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown format", []string{"--webhook-format", "email"}, `--webhook-format "email"`},
		{"secret for slack", []string{"--webhook-format", "slack", "--webhook-secret-file", filepath.Join(dir, "s")}, "signs the generic format only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--model", model, "--addr", "127.0.0.1:0", "--allow-unauthenticated",
				"--db", filepath.Join(dir, tt.name+".db"), "--webhook-url", "http://127.0.0.1:1"}, tt.args...)
			err := run(t.Context(), args, io.Discard, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%v) = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}
