package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/icpengine/icp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestMain(m *testing.M) {
	// Tests may touch gin's process-global mode; the package never does.
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// scorerFunc is a fake Scorer.
type scorerFunc func(ctx context.Context, acc icp.Account) (icp.Score, error)

func (f scorerFunc) Score(ctx context.Context, acc icp.Account) (icp.Score, error) {
	return f(ctx, acc)
}

// echoScorer scores every account 0.8 and attributes 0.1 to each field it
// received, in name order, echoing the value, so tests can see that fields
// pass through the decoder unchanged.
func echoScorer(_ context.Context, acc icp.Account) (icp.Score, error) {
	id, _ := acc["account_id"].(string)
	sc := icp.Score{
		AccountID:        id,
		ModelVersion:     "test-v1",
		Score:            0.8,
		Percentile:       92.5,
		Tier:             icp.Tier1,
		Segment:          &icp.SegmentRef{ID: "seg-1", Name: "Mid-market SaaS", Rule: "employees in [50, 500)", Distance: 0.25},
		Margin:           1.3862943611198906,
		BaseValue:        -0.5,
		AttributionScale: "log_odds",
	}
	keys := make([]string, 0, len(acc))
	for k := range acc {
		if k != "account_id" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		sc.Attributions = append(sc.Attributions, icp.Attribution{Feature: k, Value: acc[k], Contribution: 0.1})
	}
	return sc, nil
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// newTestServer builds a Server whose logs go, as JSON lines, to the
// returned buffer. A nil scorer means echoScorer.
func newTestServer(t testing.TB, cfg Config) (*Server, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	if cfg.Scorer == nil {
		cfg.Scorer = scorerFunc(echoScorer)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if cfg.Keys == nil {
		// Authentication has its own tests (auth_test.go).
		cfg.AllowUnauthenticated = true
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v) error = %v", cfg, err)
	}
	return s, logs
}

// request describes one test request.
type request struct {
	method string
	path   string
	ct     string // Content-Type; "" sends none
	body   io.Reader
	header map[string]string
}

// post is a JSON POST of body to /v1/score.
func post(body string) request {
	return request{method: http.MethodPost, path: "/v1/score", ct: "application/json", body: strings.NewReader(body)}
}

func serve(h http.Handler, r request) *httptest.ResponseRecorder {
	req := httptest.NewRequest(r.method, r.path, r.body)
	if r.ct != "" {
		req.Header.Set("Content-Type", r.ct)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// errorResponse is the decoded body of an error response.
type errorResponse struct {
	Error     string           `json:"error"`
	Detail    string           `json:"detail"`
	Offset    *int64           `json:"offset"`
	Fields    []icp.FieldError `json:"fields"`
	Limit     int64            `json:"limit"`
	RequestID string           `json:"request_id"`
}

// decodeError checks that rec holds a JSON error body carrying the
// response's request id, and returns it.
func decodeError(t *testing.T, rec *httptest.ResponseRecorder) errorResponse {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != jsonContentType {
		t.Errorf("Content-Type = %q, want %q", ct, jsonContentType)
	}
	var got errorResponse
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode error body %q: %v", rec.Body.String(), err)
	}
	if got.Error == "" {
		t.Errorf("error body %s has no error", rec.Body.String())
	}
	if id := rec.Header().Get(requestIDHeader); got.RequestID == "" || got.RequestID != id {
		t.Errorf("error body request_id = %q, want the X-Request-ID header %q", got.RequestID, id)
	}
	return got
}

func TestScore(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	body := `{"account_id":"acc-42","employees":120,"industry":"software","arr":2.5e6,` +
		`"public":false,"tech_stack":["go","postgres","gin"],"ltv_usd":null}`
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON;Charset=UTF-8"} {
		t.Run(ct, func(t *testing.T) {
			r := post(body)
			r.ct = ct
			rec := serve(s.Handler(), r)
			if rec.Code != http.StatusOK {
				t.Fatalf("POST /v1/score status = %d, want %d; body %s", rec.Code, http.StatusOK, rec.Body)
			}
			if got := rec.Header().Get("Content-Type"); got != jsonContentType {
				t.Errorf("Content-Type = %q, want %q", got, jsonContentType)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, rec.Body.Bytes(), "", "  "); err != nil {
				t.Fatalf("indent response %q: %v", rec.Body, err)
			}
			pretty.WriteByte('\n')
			checkGolden(t, "score_response.golden.json", pretty.Bytes())
		})
	}
}

// checkGolden compares got with testdata/name, rewriting it under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("write golden file: %v", err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("response differs from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestScoreFieldsPassThrough(t *testing.T) {
	var got icp.Account
	s, _ := newTestServer(t, Config{Scorer: scorerFunc(func(_ context.Context, acc icp.Account) (icp.Score, error) {
		got = acc
		return icp.Score{Tier: icp.Tier2}, nil
	})})
	rec := serve(s.Handler(), post(`{"account_id":"a","n":-0.5e-3,"ok":true,"t":["x"],"z":null}`))
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, http.StatusOK, rec.Body)
	}
	want := icp.Account{"account_id": "a", "n": json.Number("-0.5e-3"), "ok": true, "t": []any{"x"}, "z": nil}
	if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
		t.Errorf("Scorer got %#v, want %#v", got, want)
	}
}

func TestScoreBadInput(t *testing.T) {
	tests := []struct {
		name       string
		give       request
		wantStatus int
		wantError  string
		// wantDetail is a substring of the detail; wantFields the field errors.
		wantDetail string
		wantOffset int64
		wantFields []icp.FieldError
	}{
		{name: "malformed JSON", give: post(`{"employees":}`), wantStatus: 400, wantError: "malformed request body",
			wantDetail: "at offset 13", wantOffset: 13},
		{name: "empty body", give: post(``), wantStatus: 400, wantError: "malformed request body",
			wantDetail: "empty body, want a JSON object"},
		{name: "array instead of object", give: post(`[{"employees":1}]`), wantStatus: 400, wantError: "malformed request body",
			wantDetail: "want a JSON object, got an array"},
		{name: "trailing garbage", give: post(`{"employees":1} trailing`), wantStatus: 400, wantError: "malformed request body",
			wantDetail: "unexpected data after the JSON object at offset 16", wantOffset: 16},
		{name: "NaN literal", give: post(`{"employees":NaN}`), wantStatus: 400, wantError: "malformed request body",
			wantDetail: "invalid character 'N'", wantOffset: 13},
		{name: "invalid UTF-8", give: post("{\"name\":\"caf\xe9\"}"), wantStatus: 400, wantError: "malformed request body",
			wantDetail: "not valid UTF-8", wantOffset: 12},
		{name: "duplicate keys", give: post(`{"employees":1,"employees":2}`), wantStatus: 400, wantError: "invalid input",
			wantFields: []icp.FieldError{{Field: "employees", Message: "duplicate key"}}},
		{name: "nested object", give: post(`{"hq":{"city":"Oslo"}}`), wantStatus: 400, wantError: "invalid input",
			wantFields: []icp.FieldError{{Field: "hq", Message: msgNested}}},
		{name: "array of numbers", give: post(`{"tech_stack":[1,2]}`), wantStatus: 400, wantError: "invalid input",
			wantFields: []icp.FieldError{{Field: "tech_stack[0]", Message: msgTag}, {Field: "tech_stack[1]", Message: msgTag}}},
		{name: "number overflows float64", give: post(`{"employees":1e400}`), wantStatus: 400, wantError: "invalid input",
			wantFields: []icp.FieldError{{Field: "employees", Message: "must be a finite number"}}},
		{name: "wrong content type", give: request{method: "POST", path: "/v1/score", ct: "text/plain", body: strings.NewReader(`{}`)},
			wantStatus: 415, wantError: "unsupported media type", wantDetail: "want application/json"},
		{name: "missing content type", give: request{method: "POST", path: "/v1/score", body: strings.NewReader(`{}`)},
			wantStatus: 415, wantError: "unsupported media type", wantDetail: "missing Content-Type"},
		{name: "non UTF-8 charset", give: request{method: "POST", path: "/v1/score", ct: "application/json; charset=latin1", body: strings.NewReader(`{}`)},
			wantStatus: 415, wantError: "unsupported media type"},
		{name: "form content type", give: request{method: "POST", path: "/v1/score", ct: "application/x-www-form-urlencoded", body: strings.NewReader(`a=1`)},
			wantStatus: 415, wantError: "unsupported media type"},
	}
	s, _ := newTestServer(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(s.Handler(), tt.give)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			got := decodeError(t, rec)
			if got.Error != tt.wantError {
				t.Errorf("error = %q, want %q", got.Error, tt.wantError)
			}
			if !strings.Contains(got.Detail, tt.wantDetail) {
				t.Errorf("detail = %q, want it to contain %q", got.Detail, tt.wantDetail)
			}
			if tt.wantOffset != 0 && (got.Offset == nil || *got.Offset != tt.wantOffset) {
				t.Errorf("offset = %v, want %d", got.Offset, tt.wantOffset)
			}
			if !slices.Equal(got.Fields, tt.wantFields) {
				t.Errorf("fields = %v, want %v", got.Fields, tt.wantFields)
			}
		})
	}
}

// chunkedReader hides its length so that the request has no Content-Length
// and only the MaxBytesReader can catch an oversize body.
type chunkedReader struct{ r io.Reader }

func (c chunkedReader) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestScoreBodyTooLarge(t *testing.T) {
	const limit = 64
	s, _ := newTestServer(t, Config{MaxBodyBytes: limit})
	big := `{"name":"` + strings.Repeat("x", 2*limit) + `"}`
	tests := []struct {
		name string
		give io.Reader
	}{
		{"announced length", strings.NewReader(big)},
		{"unknown length", chunkedReader{strings.NewReader(big)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(s.Handler(), request{method: "POST", path: "/v1/score", ct: "application/json", body: tt.give})
			if rec.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, http.StatusRequestEntityTooLarge, rec.Body)
			}
			got := decodeError(t, rec)
			if got.Error != "request body too large" || got.Limit != limit {
				t.Errorf("body = %+v, want error %q and limit %d", got, "request body too large", limit)
			}
		})
	}
	// A body exactly at the limit is accepted.
	exact := `{"name":"` + strings.Repeat("x", limit-12) + `"}`
	if rec := serve(s.Handler(), post(exact)); rec.Code != http.StatusOK {
		t.Errorf("POST of %d bytes with limit %d: status = %d, want %d", len(exact), limit, rec.Code, http.StatusOK)
	}
}

func TestScoreScorerErrors(t *testing.T) {
	verr := &icp.ValidationError{}
	verr.Add("employees", "must be a finite number")
	verr.Add("industry", "unknown field")
	tests := []struct {
		name       string
		give       error
		wantStatus int
		wantBody   errorResponse
		wantLog    string // a substring of the logs; "" checks nothing
	}{
		{"validation error", fmt.Errorf("encode: %w", verr), 400,
			errorResponse{Error: "invalid input", Fields: verr.Fields}, ""},
		{"plain invalid", fmt.Errorf("account: %w", icp.ErrInvalid), 400,
			errorResponse{Error: "invalid input", Detail: "score: account: invalid input"}, ""},
		{"unavailable", fmt.Errorf("no model loaded: %w", icp.ErrUnavailable), 503,
			errorResponse{Error: "unavailable"}, "no model loaded"},
		{"not found", icp.ErrNotFound, 404, errorResponse{Error: "not found"}, ""},
		{"conflict", icp.ErrConflict, 409, errorResponse{Error: "conflict"}, ""},
		{"internal", errors.New("db password is hunter2"), 500,
			errorResponse{Error: "internal error"}, "db password is hunter2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, logs := newTestServer(t, Config{Scorer: scorerFunc(func(context.Context, icp.Account) (icp.Score, error) {
				return icp.Score{}, tt.give
			})})
			rec := serve(s.Handler(), post(`{"employees":1}`))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			got := decodeError(t, rec)
			tt.wantBody.RequestID = got.RequestID
			if fmt.Sprint(got) != fmt.Sprint(tt.wantBody) {
				t.Errorf("body = %+v, want %+v", got, tt.wantBody)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("logs = %s, want them to contain %q", logs, tt.wantLog)
			}
		})
	}
}

func TestScoreNonFiniteResult(t *testing.T) {
	tests := []struct {
		name string
		give icp.Score
	}{
		{"NaN score", icp.Score{Score: math.NaN()}},
		{"infinite margin", icp.Score{Margin: math.Inf(1)}},
		{"NaN contribution", icp.Score{Attributions: []icp.Attribution{{Feature: "employees", Contribution: math.NaN()}}}},
		{"NaN value", icp.Score{Attributions: []icp.Attribution{{Feature: "employees", Value: math.NaN()}}}},
		{"NaN segment distance", icp.Score{Segment: &icp.SegmentRef{Distance: math.NaN()}}},
		{"unencodable value", icp.Score{Attributions: []icp.Attribution{{Feature: "f", Value: make(chan int)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, logs := newTestServer(t, Config{Scorer: scorerFunc(func(context.Context, icp.Account) (icp.Score, error) {
				return tt.give, nil
			})})
			rec := serve(s.Handler(), post(`{}`))
			if rec.Code != http.StatusInternalServerError {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, http.StatusInternalServerError, rec.Body)
			}
			if got := decodeError(t, rec); got.Error != "internal error" || got.Detail != "" {
				t.Errorf("body = %+v, want the generic internal error", got)
			}
			if !strings.Contains(logs.String(), `"msg":"internal error"`) {
				t.Errorf("logs = %s, want an internal error line", logs)
			}
		})
	}
}

func TestScorePanic(t *testing.T) {
	calls := 0
	s, logs := newTestServer(t, Config{Scorer: scorerFunc(func(ctx context.Context, acc icp.Account) (icp.Score, error) {
		calls++
		if calls == 1 {
			panic("secret internal state")
		}
		return echoScorer(ctx, acc)
	})})
	r := post(`{}`)
	r.header = map[string]string{requestIDHeader: "panic-req-1"}
	rec := serve(s.Handler(), r)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, http.StatusInternalServerError, rec.Body)
	}
	want := `{"error":"internal error","request_id":"panic-req-1"}`
	if got := rec.Body.String(); got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
	line := findLog(t, logs.String(), "internal error")
	if line["request_id"] != "panic-req-1" {
		t.Errorf("panic log request_id = %v, want %q", line["request_id"], "panic-req-1")
	}
	group, _ := line["err"].(map[string]any)
	if group["panic"] != "secret internal state" || !strings.Contains(fmt.Sprint(group["stack"]), "goroutine") {
		t.Errorf("panic log err = %v, want the panic value and a stack", line["err"])
	}
	access := findLog(t, logs.String(), "request")
	if access["status"] != float64(500) || access["panic"] != true {
		t.Errorf("access log = %v, want status 500 and panic true", access)
	}
	// The server keeps serving.
	if rec := serve(s.Handler(), post(`{}`)); rec.Code != http.StatusOK {
		t.Errorf("request after the panic: status = %d, want %d", rec.Code, http.StatusOK)
	}
}

func TestPanicAbortHandler(t *testing.T) {
	s, _ := newTestServer(t, Config{Scorer: scorerFunc(func(context.Context, icp.Account) (icp.Score, error) {
		panic(http.ErrAbortHandler)
	})})
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recover() = %v, want http.ErrAbortHandler re-panicked for net/http", p)
		}
	}()
	serve(s.Handler(), post(`{}`))
}

// findLog returns the first JSON log line with the given message.
func findLog(t *testing.T, logs, msg string) map[string]any {
	t.Helper()
	for line := range strings.Lines(logs) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if m["msg"] == msg {
			return m
		}
	}
	t.Fatalf("logs hold no %q line:\n%s", msg, logs)
	return nil
}

func TestRequestID(t *testing.T) {
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	tests := []struct {
		name string
		give string // incoming X-Request-ID; "" sends none
		want string // "" expects a generated id
	}{
		{"kept", "req-1.A_b", "req-1.A_b"},
		{"longest kept", strings.Repeat("a", 128), strings.Repeat("a", 128)},
		{"missing", "", ""},
		{"too long", strings.Repeat("a", 129), ""},
		{"bad characters", "abc def", ""},
		{"header injection", "a\r\nSet-Cookie: x", ""},
		{"non ASCII", "ïd", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen string
			s, _ := newTestServer(t, Config{Scorer: scorerFunc(func(ctx context.Context, acc icp.Account) (icp.Score, error) {
				seen = requestIDFrom(ctx)
				return echoScorer(ctx, acc)
			})})
			r := post(`{}`)
			if tt.give != "" {
				r.header = map[string]string{requestIDHeader: tt.give}
			}
			rec := serve(s.Handler(), r)
			got := rec.Header().Get(requestIDHeader)
			if tt.want != "" && got != tt.want {
				t.Errorf("X-Request-ID = %q, want %q", got, tt.want)
			}
			if tt.want == "" && !generated.MatchString(got) {
				t.Errorf("X-Request-ID = %q, want 32 generated hex digits", got)
			}
			if seen != got {
				t.Errorf("Scorer saw request id %q, want %q", seen, got)
			}
		})
	}
	s, _ := newTestServer(t, Config{})
	a := serve(s.Handler(), request{method: "GET", path: "/healthz"}).Header().Get(requestIDHeader)
	b := serve(s.Handler(), request{method: "GET", path: "/healthz"}).Header().Get(requestIDHeader)
	if a == b {
		t.Errorf("two generated request ids are both %q, want them to differ", a)
	}
}

func TestProbes(t *testing.T) {
	var readyErr error
	s, _ := newTestServer(t, Config{Ready: func(context.Context) error { return readyErr }})
	check := func(path string, wantStatus int, wantBody string) {
		t.Helper()
		rec := serve(s.Handler(), request{method: "GET", path: path})
		got := rec.Body.String()
		// The request id is random; blank it before comparing.
		got = regexp.MustCompile(`"request_id":"[0-9a-f]{32}"`).ReplaceAllString(got, `"request_id":"ID"`)
		if rec.Code != wantStatus || got != wantBody {
			t.Errorf("GET %s = %d %s, want %d %s", path, rec.Code, got, wantStatus, wantBody)
		}
	}
	check("/healthz", 200, `{"status":"ok"}`)
	check("/livez", 200, `{"status":"ok"}`)
	check("/readyz", 200, `{"status":"ok"}`)

	readyErr = errors.New("model not loaded")
	check("/readyz", 503, `{"error":"not ready","detail":"model not loaded","request_id":"ID"}`)
	check("/healthz", 200, `{"status":"ok"}`)

	readyErr = nil
	check("/readyz", 200, `{"status":"ok"}`)
	s.Drain()
	check("/readyz", 503, `{"error":"not ready","detail":"draining","request_id":"ID"}`)
	check("/livez", 200, `{"status":"ok"}`)
	// Draining stops new routing, not the requests still arriving.
	if rec := serve(s.Handler(), post(`{}`)); rec.Code != http.StatusOK {
		t.Errorf("POST /v1/score while draining: status = %d, want %d", rec.Code, http.StatusOK)
	}
}

func TestRouting(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	tests := []struct {
		name       string
		give       request
		wantStatus int
		wantError  string
		wantAllow  string
	}{
		{"unknown path", request{method: "GET", path: "/v1/nope"}, 404, "not found", ""},
		{"unknown POST path", request{method: "POST", path: "/v1/nope", ct: "text/plain"}, 404, "not found", ""},
		{"trailing slash", request{method: "GET", path: "/healthz/"}, 404, "not found", ""},
		{"wrong method", request{method: "GET", path: "/v1/score"}, 405, "method not allowed", "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(s.Handler(), tt.give)
			if rec.Code != tt.wantStatus {
				t.Fatalf("%s %s status = %d, want %d", tt.give.method, tt.give.path, rec.Code, tt.wantStatus)
			}
			if got := decodeError(t, rec); got.Error != tt.wantError {
				t.Errorf("error = %q, want %q", got.Error, tt.wantError)
			}
			if got := rec.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
		})
	}
}

func TestAccessLog(t *testing.T) {
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := func() time.Time {
		clock = clock.Add(1500 * time.Microsecond)
		return clock
	}
	s, logs := newTestServer(t, Config{Now: now})
	r := post(`{"employees":3}`)
	r.header = map[string]string{requestIDHeader: "log-req-7"}
	rec := serve(s.Handler(), r)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want %d", rec.Code, http.StatusOK)
	}
	got := findLog(t, logs.String(), "request")
	want := map[string]any{
		"level":      "INFO",
		"method":     "POST",
		"route":      "/v1/score",
		"status":     float64(200),
		"duration":   float64(1500 * time.Microsecond),
		"bytes":      float64(rec.Body.Len()),
		"request_id": "log-req-7",
		"remote":     "192.0.2.1:1234",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("access log %s = %v, want %v (line %v)", k, got[k], v, got)
		}
	}
}

func TestAccessLogRoutePattern(t *testing.T) {
	s, logs := newTestServer(t, Config{})
	serve(s.Handler(), request{method: "GET", path: "/no/such/path?x=1"})
	got := findLog(t, logs.String(), "request")
	if got["route"] != "" || got["status"] != float64(404) {
		t.Errorf("access log = %v, want an empty route and status 404", got)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		give Config
	}{
		{"nil scorer", Config{}},
		{"negative body cap", Config{Scorer: scorerFunc(echoScorer), MaxBodyBytes: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.give); err == nil {
				t.Errorf("New(%+v) error = nil, want an error", tt.give)
			}
		})
	}
}

func TestConcurrentRequests(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			body := fmt.Sprintf(`{"account_id":"acc-%d","employees":%d}`, i, i)
			rec := serve(s.Handler(), post(body))
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), fmt.Sprintf(`"account_id":"acc-%d"`, i)) {
				t.Errorf("request %d = %d %s, want 200 echoing its account id", i, rec.Code, rec.Body)
			}
		})
	}
	wg.Wait()
}

func BenchmarkScoreHandler(b *testing.B) {
	sc := icp.Score{
		AccountID: "acc-1", ModelVersion: "bench-v1", Score: 0.73, Percentile: 88.1, Tier: icp.Tier2,
		Segment: &icp.SegmentRef{ID: "seg-2", Name: "Fintech mid-market", Distance: 0.4},
		Margin:  0.99, BaseValue: -0.4, AttributionScale: "log_odds",
	}
	features := []string{"employees", "arr_usd", "industry", "region", "funding_stage", "tech_stack",
		"web_visits_30d", "trial_users", "support_tickets", "nps", "seats", "contract_months", "public"}
	for i, f := range features {
		sc.Attributions = append(sc.Attributions, icp.Attribution{Feature: f, Value: json.Number("12"), Contribution: 0.01 * float64(i)})
	}
	s, err := New(Config{Scorer: scorerFunc(func(context.Context, icp.Account) (icp.Score, error) { return sc, nil }), AllowUnauthenticated: true})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"account_id":"acc-1","employees":250,"arr_usd":1.2e6,"industry":"fintech","region":"emea",` +
		`"funding_stage":"series_b","tech_stack":["go","postgres","kafka"],"web_visits_30d":340,"trial_users":12,` +
		`"support_tickets":3,"nps":41,"seats":80,"contract_months":12,"public":false}`)
	h := s.Handler()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	defer reportCPU(b, cpuTime(b))
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/score", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status = %d, want %d", rec.Code, http.StatusOK)
		}
	}
}

// One answer names every bad field: the decoder's shape errors and the
// scorer's own, which sees the fields that passed the decoder.
func TestScoreMergesFieldErrors(t *testing.T) {
	scorer := scorerFunc(func(_ context.Context, acc icp.Account) (icp.Score, error) {
		if _, ok := acc["tags"]; ok {
			return icp.Score{}, errors.New("a field with a shape error reached the scorer")
		}
		verr := &icp.ValidationError{}
		if _, ok := acc["industy"]; ok {
			verr.Add("industy", "unknown field")
		}
		return icp.Score{}, verr.Err()
	})
	s, _ := newTestServer(t, Config{Scorer: scorer})
	rec := serve(s.Handler(), post(`{"tags":["a",1],"industy":"SaaS","employees":3}`))
	var got errorResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, f := range got.Fields {
		fields = append(fields, f.Field)
	}
	if rec.Code != http.StatusBadRequest || strings.Join(fields, ",") != "tags[1],industy" {
		t.Errorf("POST = %d with fields %v, want 400 with tags[1],industy", rec.Code, fields)
	}

	// A scorer that is unavailable wins over field errors: the client must
	// retry, not fix its body.
	s, _ = newTestServer(t, Config{Scorer: scorerFunc(func(context.Context, icp.Account) (icp.Score, error) {
		return icp.Score{}, icp.ErrUnavailable
	})})
	if rec := serve(s.Handler(), post(`{"tags":[1]}`)); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("POST to an unavailable scorer = %d, want 503", rec.Code)
	}
}
