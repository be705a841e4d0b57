package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/profile"
)

// badInput is one hostile or broken request.
type badInput struct {
	method, path, ct string
	body             []byte
	header           map[string]string
}

// badInputs builds the corpus of TestBadInputsNever5xx: every route, with
// broken bodies, wrong types and values, wrong media types, bad query
// parameters and paths, oversized and deeply nested bodies, and forged
// artifacts.
func badInputs(t *testing.T, modelPath string) []badInput {
	t.Helper()
	art, err := os.ReadFile(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.ReadFile(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	var in []badInput
	add := func(method, path, ct string, body []byte) {
		in = append(in, badInput{method: method, path: path, ct: ct, body: body})
	}
	const js = "application/json"
	// Bodies no JSON route takes.
	generic := []string{
		"", " ", "{", "[", "}", "null", "true", "0", `"x"`, "[]", `{"a":1,"a":2}`, "\xff\xfe{}", "\x00",
		"{} trailing", `{"x":NaN}`, `{"x":Infinity}`, `{"x":1e400}`, `{"x":-1e400}`, `{"x":0x10}`, `{'x':1}`,
		`{"x":"\ud800"}`, "\ufeff{}", strings.Repeat("[", 100_000), strings.Repeat(`{"a":`, 50_000) + "1" + strings.Repeat("}", 50_000),
		`{"x":` + strings.Repeat("9", 100_000) + `}`, `{"x":"` + strings.Repeat("a", 2<<20) + `"}`,
		`{"account_id":{"$gt":""}}`, `{"__proto__":{"admin":true}}`,
	}
	posts := []string{"/v1/score", "/v1/score/batch", "/v1/outcomes", "/v1/alerts/1/acknowledge", "/v1/alerts/1/resolve",
		"/v1/admin/models", "/v1/admin/models/promote", "/v1/admin/models/rollback", "/v1/admin/models/shadow"}
	for _, path := range posts {
		for _, b := range generic {
			add(http.MethodPost, path, js, []byte(b))
		}
		for _, ct := range []string{"", "text/plain", "application/json; charset=latin1", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/json; q=1; q=2"} {
			add(http.MethodPost, path, ct, []byte(`{}`))
		}
	}
	// Wrong types and values in an account, at /v1/score and inside an
	// outcome and a batch.
	valid := map[string]string{"account_id": `"B-1"`, "industry": `"SaaS"`, "employees": "120", "tech_stack": `["aws"]`}
	wrong := []struct{ field, raw string }{
		{"employees", `"abc"`}, {"employees", "-5"}, {"employees", `"NaN"`}, {"employees", `"1e400"`}, {"employees", "true"},
		{"employees", "[]"}, {"employees", "{}"}, {"employees", `"Infinity"`}, {"employees", "1e308"},
		{"industry", "5"}, {"industry", "[]"}, {"industry", "{}"}, {"industry", `"` + strings.Repeat("x", 1<<16) + `"`},
		{"tech_stack", "5"}, {"tech_stack", "[1,2]"}, {"tech_stack", "[[]]"}, {"tech_stack", "{}"},
		{"account_id", "123"}, {"account_id", "{}"}, {"unknown_field", "1"}, {"", "1"}, {"employees\x00", "1"},
	}
	for _, w := range wrong {
		fields := []string{}
		for k, v := range valid {
			if k != w.field {
				fields = append(fields, fmt.Sprintf("%q:%s", k, v))
			}
		}
		sort.Strings(fields)
		acc := "{" + strings.Join(append(fields, fmt.Sprintf("%q:%s", w.field, w.raw)), ",") + "}"
		add(http.MethodPost, "/v1/score", js, []byte(acc))
		add(http.MethodPost, "/v1/score/batch", js, []byte("["+acc+"]"))
		add(http.MethodPost, "/v1/score/batch", "application/x-ndjson", []byte(acc+"\n"))
		add(http.MethodPost, "/v1/outcomes", js, []byte(`{"account_id":"O-1","account":`+acc+`,"outcome":"won","close_date":"2026-03-01"}`))
	}
	// Outcome fields.
	outcome := func(field, raw string) string {
		o := map[string]string{"account_id": `"O-1"`, "account": `{"industry":"SaaS"}`, "outcome": `"won"`, "close_date": `"2026-03-01"`}
		o[field] = raw
		var parts []string
		for k, v := range o {
			parts = append(parts, fmt.Sprintf("%q:%s", k, v))
		}
		sort.Strings(parts)
		return "{" + strings.Join(parts, ",") + "}"
	}
	for _, w := range []struct{ field, raw string }{
		{"outcome", `"maybe"`}, {"outcome", "1"}, {"close_date", `"0001-01-01"`}, {"close_date", `"2026-13-45"`},
		{"close_date", `""`}, {"close_date", "20260301"}, {"close_date", `"9999-12-31T25:00:00Z"`}, {"ltv_usd", "-1"},
		{"ltv_usd", `"NaN"`}, {"ltv_usd", "1e400"}, {"sales_cycle_days", `"x"`}, {"churned", `"yes"`}, {"account_id", `""`},
		{"account_id", "null"}, {"account", "[]"}, {"account", `"x"`}, {"recorded_at", `"yesterday"`},
	} {
		add(http.MethodPost, "/v1/outcomes", js, []byte(outcome(w.field, w.raw)))
	}
	add(http.MethodPost, "/v1/outcomes", js, []byte(`{"outcomes":5}`))
	add(http.MethodPost, "/v1/outcomes", js, []byte(`{"outcomes":[]}`))
	add(http.MethodPost, "/v1/outcomes", js, []byte("["+strings.Repeat(outcome("outcome", `"won"`)+",", 2000)+outcome("outcome", `"won"`)+"]"))
	in = append(in, badInput{method: http.MethodPost, path: "/v1/outcomes", ct: js, body: []byte(outcome("outcome", `"won"`)),
		header: map[string]string{"Idempotency-Key": strings.Repeat("k", 10_000)}})
	// Batch streams and their options.
	for _, b := range []struct{ ct, body string }{
		{"text/csv", "account_id,employees\nB-1,\"unbalanced\n"}, {"text/csv", ""}, {"text/csv", "account_id\n"},
		{"text/csv", strings.Repeat("c,", 20_000) + "c\n" + strings.Repeat("1,", 20_000) + "1\n"},
		{"text/csv", "account_id,account_id\nB-1,B-2\n"}, {"text/csv; header=absent", "B-1\n"},
		{"application/x-ndjson", "{\n}\n{]\n"}, {"application/x-ndjson", strings.Repeat("x", 2<<20) + "\n"},
		{"application/x-ndjson", "\xff\n"}, {"application/jsonl", "[1,2]\n"},
		{js, "[" + strings.Repeat(`{"account_id":"B"},`, 1500) + `{}]`},
	} {
		add(http.MethodPost, "/v1/score/batch", b.ct, []byte(b.body))
	}
	for _, q := range []string{"attributions=maybe", "unknown=bogus", "attributions=", "unknown=ignore&unknown=reject", "%zz"} {
		add(http.MethodPost, "/v1/score/batch?"+q, js, []byte(`[{"account_id":"B-1"}]`))
		add(http.MethodPost, "/v1/score?"+q, js, []byte(`{"account_id":"B-1"}`))
	}
	// Reads with bad parameters and paths.
	for _, path := range []string{"/v1/alerts?status=bogus", "/v1/alerts?limit=-1", "/v1/alerts?limit=abc", "/v1/alerts?limit=1e9",
		"/v1/admin/models/history?limit=0", "/v1/admin/models/history?limit=abc", "/v1/admin/models/history?limit=100000",
		"/v1/drift?x=%zz", "/dashboard?%", "/v1/icp?format=xml", "/v1/alerts/../admin/models", "/v1//score", "/v1/score/",
		"/nowhere", "/v1/alerts/" + strings.Repeat("9", 500) + "/acknowledge", "/v1/alerts/%00/resolve"} {
		add(http.MethodGet, path, "", nil)
	}
	for _, path := range []string{"/v1/alerts/-1/acknowledge", "/v1/alerts/abc/resolve", "/v1/alerts/99999999999999999999/acknowledge"} {
		add(http.MethodPost, path, js, []byte(`{"by":5}`))
		add(http.MethodPost, path, js, []byte(`{"by":"`+strings.Repeat("x", 10_000)+`"}`))
	}
	for _, m := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions, "PROPFIND"} {
		add(m, "/v1/score", js, []byte(`{}`))
		add(m, "/v1/outcomes", js, []byte(`{}`))
	}
	add(http.MethodGet, "/v1/score", "", nil)
	for _, path := range posts {
		add(http.MethodHead, path, "", nil)
	}
	// Reads that carry a body they do not take.
	for _, path := range []string{"/v1/drift", "/v1/alerts", "/dashboard", "/v1/icp", "/v1/admin/models", "/v1/admin/models/history"} {
		for _, b := range []string{"{", "\xff", strings.Repeat("x", 2<<20)} {
			add(http.MethodGet, path, js, []byte(b))
		}
	}
	// Registry changes that name nothing, or wrongly.
	for _, b := range []string{`{"model":5}`, `{"model":""}`, `{"model":"sha256:zz"}`, `{"model":"m-nope"}`, `{"model":"12"}`,
		`{"model":"m-x","reason":5}`, `{"model":"m-x","reason":"` + strings.Repeat("r", 1000) + `"}`, `{"model":"m-x","extra":1}`} {
		add(http.MethodPost, "/v1/admin/models/promote", js, []byte(b))
		add(http.MethodPost, "/v1/admin/models/shadow", js, []byte(b))
	}
	add(http.MethodPost, "/v1/admin/models/rollback", js, []byte(`{"model":"m-x"}`))
	add(http.MethodDelete, "/v1/admin/models/shadow", js, []byte(`{"reason":[]}`))
	// Artifacts: cut, edited, of another format, forged.
	for _, b := range [][]byte{art[:len(art)/2], bytes.Replace(art, []byte(`"format_version": 1`), []byte(`"format_version": 2`), 1),
		bytes.Replace(art, []byte(`"tier1": 0.`), []byte(`"tier1": 1.`), 1), bytes.Replace(art, []byte(`"checksum": "sha256:`), []byte(`"checksum": "sha256:0`), 1),
		[]byte(`{"format":"icp-model","format_version":1,"checksum":"x","profile":{}}`), []byte(`{"format":"icp-model","format_version":1e400}`)} {
		add(http.MethodPost, "/v1/admin/models", js, b)
	}
	forge := func(edit func(q *profile.Profile)) []byte {
		q := *p
		edit(&q)
		var b bytes.Buffer
		if err := q.Encode(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	add(http.MethodPost, "/v1/admin/models", js, forge(func(q *profile.Profile) { q.Tiers.Tier1, q.Tiers.Tier2, q.Tiers.Tier3 = 3, 2, 1.5 }))
	add(http.MethodPost, "/v1/admin/models", js, forge(func(q *profile.Profile) { q.ScoreQuantiles = []float64{0.5} }))
	add(http.MethodPost, "/v1/admin/models", js, forge(func(q *profile.Profile) { q.Version = "" }))
	add(http.MethodPost, "/v1/admin/models", js, forge(func(q *profile.Profile) { q.Segments = nil; q.Encoder.Width++ }))
	return in
}

// TestBadInputsNever5xx sends every request of badInputs to a running
// serve with a store, with a key holding every scope, and counts the
// answers by status: none may be a 5xx, and the process must keep
// serving. It prints the count, the figure the README quotes.
func TestBadInputsNever5xx(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model and serves it; skipped with -short")
	}
	model := trainModel(t)
	db := filepath.Join(t.TempDir(), "icp.db")
	key := addKeys(t, db, icp.Scopes())[0]
	base := liveServeKeys(t, model, "--db", db, "--drift-interval", "1h")
	inputs := badInputs(t, model)
	byStatus := map[int]int{}
	for _, in := range inputs {
		req, err := http.NewRequest(in.method, base+in.path, bytes.NewReader(in.body))
		if err != nil {
			// An unparsable URL is the client's own failure: nothing is sent.
			continue
		}
		if in.ct != "" {
			req.Header.Set("Content-Type", in.ct)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		for k, v := range in.header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("%s %s (%s, %d bytes %.60q): %v", in.method, in.path, in.ct, len(in.body), in.body, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		byStatus[resp.StatusCode]++
		if resp.StatusCode >= 500 {
			t.Errorf("%s %s (%s, %d bytes %.60q) = %d %.300s", in.method, in.path, in.ct, len(in.body), in.body, resp.StatusCode, body)
		}
	}
	fives := 0
	for code, n := range byStatus {
		if code >= 500 {
			fives += n
		}
	}
	t.Logf("%d bad inputs, %d answered 5xx; by status: %v", len(inputs), fives, byStatus)
	if len(inputs) < 500 {
		t.Errorf("only %d bad inputs, want at least 500", len(inputs))
	}
	if code, b := do(t, http.MethodPost, base+"/v1/score", key, `{"account_id":"OK-1","industry":"SaaS","employees":120}`); code != http.StatusOK {
		t.Fatalf("a good request after the bad ones = %d %s", code, b)
	}
}

// liveServeKeys is liveServe with API keys checked (no
// --allow-unauthenticated): extra must name a store holding keys.
func liveServeKeys(t *testing.T, model string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var logs safeBuffer
	go func() {
		done <- run(ctx, append([]string{"--model", model, "--addr", "127.0.0.1:0", "--drain-delay", "0"}, extra...), &logs, ready)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
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
