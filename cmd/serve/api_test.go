package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/watch"
)

// liveServe runs run() with the given extra flags until the test ends and
// returns its base URL.
func liveServe(t *testing.T, model string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var logs safeBuffer
	go func() {
		done <- run(ctx, append([]string{"--model", model, "--addr", "127.0.0.1:0", "--drain-delay", "0", "--allow-unauthenticated"}, extra...), &logs, ready)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(25 * time.Second):
			t.Error("serve did not stop")
		}
	})
	select {
	case addr := <-ready:
		return "http://" + addr
	case err := <-done:
		t.Fatalf("run ended early: %v\n%s", err, logs.String())
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}
	return ""
}

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// call sends a request and decodes a JSON answer into out (when not nil).
func call(t *testing.T, method, url, key, body string, out any) int {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, url, b, err)
		}
	}
	return resp.StatusCode
}

// seedTimeout is the request deadline of the servers seedTraffic feeds:
// POST /v1/outcomes re-scores each recorded account for the drift watcher
// before it answers, about a second for one of seedTraffic's batches of 500
// under the race detector alone, too close to the 2 s default when make
// test runs every package at once.
const seedTimeout = "30s"

// seedTraffic scores drifted accounts and records outcomes from a table
// with an emerging segment, through the API. Start the server with
// --request-timeout seedTimeout.
func seedTraffic(t *testing.T, base string, p *profile.Profile) {
	t.Helper()
	for _, acc := range driftedAccounts(t, p.Schema, 300) {
		b, _ := json.Marshal(acc)
		if code := call(t, http.MethodPost, base+"/v1/score", "", string(b), nil); code != http.StatusOK {
			t.Fatalf("POST /v1/score = %d", code)
		}
	}
	tab, _ := synth.Generate(synth.Config{Rows: 1500, Seed: 5, Emerging: true,
		EmergingFrom: time.Date(2023, 10, 1, 0, 0, 0, 0, time.UTC)})
	outs, err := p.Schema.TableOutcomes(tab)
	if err != nil {
		t.Fatal(err)
	}
	sort.SliceStable(outs, func(a, b int) bool { return outs[a].CloseDate.Before(outs[b].CloseDate) })
	for start := 0; start < len(outs); start += 500 {
		batch := outs[start:min(start+500, len(outs))]
		var res struct {
			Stored int `json:"stored"`
		}
		b, _ := json.Marshal(map[string]any{"outcomes": outcomeJSON(batch)})
		if code := call(t, http.MethodPost, base+"/v1/outcomes", "", string(b), &res); code != http.StatusCreated || res.Stored != len(batch) {
			t.Fatalf("POST /v1/outcomes = %d, stored %d; want 201, %d", code, res.Stored, len(batch))
		}
	}
}

// outcomeJSON renders outcomes in the request shape of POST /v1/outcomes.
func outcomeJSON(outs []icp.Outcome) []map[string]any {
	out := make([]map[string]any, len(outs))
	for i, o := range outs {
		m := map[string]any{"account_id": o.AccountID, "account": o.Account,
			"outcome":    map[bool]string{true: "won", false: "lost"}[o.Won],
			"close_date": o.CloseDate.Format(time.DateOnly)}
		if o.Churned != nil {
			m["churned"] = *o.Churned
		}
		if o.LTVUSD != nil {
			m["ltv_usd"] = *o.LTVUSD
		}
		if o.CycleDays != nil {
			m["sales_cycle_days"] = *o.CycleDays
		}
		out[i] = m
	}
	return out
}

// waitAlerts polls GET /v1/alerts until at least one alert is open.
func waitAlerts(t *testing.T, base string) []icp.Alert {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var body struct {
			Alerts []icp.Alert `json:"alerts"`
		}
		if code := call(t, http.MethodGet, base+"/v1/alerts?status=open", "", "", &body); code != http.StatusOK {
			t.Fatalf("GET /v1/alerts = %d", code)
		}
		if len(body.Alerts) > 0 {
			return body.Alerts
		}
		if time.Now().After(deadline) {
			t.Fatal("no alert was raised")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestOutcomesDriftAlertsAPI(t *testing.T) {
	modelPath := trainModel(t)
	p, err := profile.ReadFile(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("hook-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var hookMu sync.Mutex
	hookIDs := map[string]int{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get(watch.SignatureHeader) != watch.Sign([]byte("hook-secret"), b) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		hookMu.Lock()
		hookIDs[r.Header.Get(watch.AlertIDHeader)]++
		hookMu.Unlock()
	}))
	defer hook.Close()
	base := liveServe(t, modelPath, "--db", filepath.Join(dir, "icp.db"), "--drift-interval", "1s",
		"--webhook-url", hook.URL, "--webhook-secret-file", secretFile, "--max-batch", "600", "--request-timeout", seedTimeout)

	one := `{"account_id":"A-1","account":{"industry":"SaaS","employees":120},"outcome":"won","churned":null,"close_date":"2026-03-01","ltv_usd":1200.5,"sales_cycle_days":41}`
	var res struct {
		Stored   int  `json:"stored"`
		Replayed bool `json:"replayed"`
	}
	tests := []struct {
		name, key, body string
		want            int
		wantStored      int
		wantReplayed    bool
	}{
		{"one outcome", "k-1", one, http.StatusCreated, 1, false},
		{"replay", "k-1", one, http.StatusOK, 1, true},
		{"key reused with another body", "k-1", strings.Replace(one, "A-1", "A-2", 1), http.StatusConflict, 0, false},
		{"array", "", `[` + one + `,` + strings.Replace(one, `"won"`, `"lost"`, 1) + `]`, http.StatusCreated, 2, false},
		{"wrapped", "", `{"outcomes":[` + one + `]}`, http.StatusCreated, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res.Stored, res.Replayed = 0, false
			code := call(t, http.MethodPost, base+"/v1/outcomes", tt.key, tt.body, &res)
			if code != tt.want || code < 300 && (res.Stored != tt.wantStored || res.Replayed != tt.wantReplayed) {
				t.Errorf("POST /v1/outcomes = %d %+v, want %d stored %d replayed %v", code, res, tt.want, tt.wantStored, tt.wantReplayed)
			}
		})
	}
	var bad struct {
		Fields []icp.FieldError `json:"fields"`
	}
	badBatch := `[` + one + `,{"account_id":"B","outcome":"maybe","close_date":"yesterday","ltv_usd":-1,"colour":"red"}]`
	if code := call(t, http.MethodPost, base+"/v1/outcomes", "", badBatch, &bad); code != http.StatusBadRequest {
		t.Errorf("POST bad batch = %d, want 400", code)
	}
	var fields []string
	for _, f := range bad.Fields {
		fields = append(fields, f.Field)
	}
	want := []string{"outcomes[1].close_date", "outcomes[1].colour", "outcomes[1].ltv_usd", "outcomes[1].outcome"}
	if strings.Join(fields, ",") != strings.Join(want, ",") {
		t.Errorf("bad batch fields = %v, want %v", fields, want)
	}

	seedTraffic(t, base, p)
	alerts := waitAlerts(t, base)
	var rep struct {
		ModelVersion string          `json:"model_version"`
		Report       json.RawMessage `json:"report"`
	}
	if code := call(t, http.MethodGet, base+"/v1/drift", "", "", &rep); code != http.StatusOK || rep.ModelVersion != p.Version || !bytes.Contains(rep.Report, []byte(`"features"`)) {
		t.Errorf("GET /v1/drift = %d, version %q, report %.80s", code, rep.ModelVersion, rep.Report)
	}
	var got icp.Alert
	id := alerts[0].ID
	if code := call(t, http.MethodPost, base+"/v1/alerts/"+id+"/acknowledge", "", `{"by":"cro"}`, &got); code != http.StatusOK || got.Status != icp.AlertAcknowledged || got.UpdatedBy != "cro" {
		t.Errorf("acknowledge = %d %+v, want 200 acknowledged by cro", code, got)
	}
	if code := call(t, http.MethodPost, base+"/v1/alerts/"+id+"/resolve", "", "", &got); code != http.StatusOK || got.Status != icp.AlertResolved {
		t.Errorf("resolve = %d %+v, want 200 resolved", code, got)
	}
	if code := call(t, http.MethodPost, base+"/v1/alerts/"+id+"/acknowledge", "", "", nil); code != http.StatusBadRequest {
		t.Errorf("acknowledge a resolved alert = %d, want 400", code)
	}
	if code := call(t, http.MethodPost, base+"/v1/alerts/nope/acknowledge", "", "", nil); code != http.StatusNotFound {
		t.Errorf("acknowledge an unknown alert = %d, want 404", code)
	}
	if code := call(t, http.MethodGet, base+"/v1/alerts?status=bogus", "", "", nil); code != http.StatusBadRequest {
		t.Errorf("GET /v1/alerts?status=bogus = %d, want 400", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		hookMu.Lock()
		n := hookIDs[id]
		hookMu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook never received alert %s", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := call(t, http.MethodGet, base+"/readyz", "", "", nil); code != http.StatusOK {
		t.Errorf("GET /readyz = %d, want 200", code)
	}
}

func TestNoStoreAnswers503(t *testing.T) {
	base := liveServe(t, trainModel(t))
	for _, tt := range []struct{ method, path string }{
		{http.MethodPost, "/v1/outcomes"},
		{http.MethodGet, "/v1/drift"},
		{http.MethodGet, "/v1/alerts"},
		{http.MethodPost, "/v1/alerts/x/acknowledge"},
	} {
		body := ""
		if tt.method == http.MethodPost {
			body = `{}`
		}
		if code := call(t, tt.method, base+tt.path, "", body, nil); code != http.StatusServiceUnavailable {
			t.Errorf("%s %s without --db = %d, want 503", tt.method, tt.path, code)
		}
	}
	if code := call(t, http.MethodGet, base+"/dashboard", "", "", nil); code != http.StatusOK {
		t.Errorf("GET /dashboard without --db = %d, want 200", code)
	}
}
