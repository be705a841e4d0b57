package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpengine/icp"
)

func TestRequestDeadline(t *testing.T) {
	tests := []struct {
		name   string
		scorer scorerFunc
	}{
		{"scorer honours its context", func(ctx context.Context, _ icp.Account) (icp.Score, error) {
			<-ctx.Done()
			return icp.Score{}, ctx.Err()
		}},
		{"scorer ignores its context", func(context.Context, icp.Account) (icp.Score, error) {
			time.Sleep(3 * time.Second)
			return icp.Score{ModelVersion: "late"}, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const limit = 50 * time.Millisecond
			s, logs := newTestServer(t, Config{Scorer: tt.scorer, RequestTimeout: limit})
			start := time.Now()
			rec := serve(s.Handler(), post(`{"employees":3}`))
			took := time.Since(start)
			if rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("status = %d, want 503; body %s", rec.Code, rec.Body)
			}
			if got := decodeError(t, rec); got.Error != "timeout" {
				t.Errorf("body = %+v, want error timeout", got)
			}
			if rec.Header().Get("Retry-After") == "" {
				t.Error("no Retry-After on a timeout")
			}
			// Well below the ignoring scorer's 3 s, with room for a slow machine.
			if took > 2*time.Second {
				t.Errorf("answer took %v, want about the deadline %v", took, limit)
			}
			if line := findLog(t, logs.String(), "request deadline exceeded"); line["level"] != "WARN" {
				t.Errorf("deadline log = %v, want a warning", line)
			}
		})
	}
}

// TestRequestDeadlineOverHTTP checks, on a real connection, that an
// overrunning scorer never leaves the client hanging.
func TestRequestDeadlineOverHTTP(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	s, _ := newTestServer(t, Config{RequestTimeout: 100 * time.Millisecond,
		Scorer: scorerFunc(func(context.Context, icp.Account) (icp.Score, error) {
			<-release // stuck until the test ends
			return icp.Score{}, nil
		})})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Post(ts.URL+"/v1/score", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatalf("POST with a stuck scorer: %v, want a 503", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"error":"timeout"`) {
		t.Errorf("POST = %d %s, want 503 timeout", resp.StatusCode, body)
	}
}

func TestMaxInFlight(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	s, _ := newTestServer(t, Config{MaxInFlight: 1, RequestTimeout: -1,
		Scorer: scorerFunc(func(ctx context.Context, acc icp.Account) (icp.Score, error) {
			entered <- struct{}{}
			<-release
			return echoScorer(ctx, acc)
		})})
	var wg sync.WaitGroup
	wg.Add(1)
	var first *httptest.ResponseRecorder
	go func() {
		defer wg.Done()
		first = serve(s.Handler(), post(`{}`))
	}()
	<-entered
	rec := serve(s.Handler(), post(`{}`))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("second request = %d (Retry-After %q), want 503 with Retry-After 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	if got := decodeError(t, rec); got.Error != "overloaded" {
		t.Errorf("body = %+v, want overloaded", got)
	}
	// Probes and metrics are never shed.
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/openapi.json"} {
		if rec := serve(s.Handler(), request{method: http.MethodGet, path: path}); rec.Code != http.StatusOK {
			t.Errorf("GET %s under load = %d, want 200", path, rec.Code)
		}
	}
	close(release)
	wg.Wait()
	if first.Code != http.StatusOK {
		t.Errorf("first request = %d, want 200", first.Code)
	}
	// The slot is free again.
	go func() { <-entered }()
	if rec := serve(s.Handler(), post(`{}`)); rec.Code != http.StatusOK {
		t.Errorf("request after the first finished = %d, want 200", rec.Code)
	}
}

// principalKeys accepts any key and names its principal after it, with
// every scope.
type principalKeys struct{}

func (principalKeys) VerifyKey(_ context.Context, key string) (icp.Principal, error) {
	return icp.Principal{KeyID: key, Scopes: icp.Scopes()}, nil
}

func TestRateLimit(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	advance := func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(d)
	}
	s, _ := newTestServer(t, Config{Keys: principalKeys{}, RateLimit: 2, RateBurst: 3, Now: clock})
	call := func(key string) *httptest.ResponseRecorder {
		r := post(`{}`)
		r.header = map[string]string{"Authorization": "Bearer " + key}
		return serve(s.Handler(), r)
	}
	for i := range 3 {
		if rec := call("a"); rec.Code != http.StatusOK {
			t.Fatalf("request %d within the burst = %d, want 200", i, rec.Code)
		}
	}
	rec := call("a")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("request over the burst = %d (Retry-After %q), want 429 with Retry-After 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	if got := decodeError(t, rec); got.Error != "rate limited" {
		t.Errorf("body = %+v, want rate limited", got)
	}
	// Another key has its own bucket.
	if rec := call("b"); rec.Code != http.StatusOK {
		t.Errorf("other key = %d, want 200", rec.Code)
	}
	// A refused request takes no token: after 0.5 s one token is back.
	advance(500 * time.Millisecond)
	if rec := call("a"); rec.Code != http.StatusOK {
		t.Errorf("after 0.5 s at 2/s = %d, want 200", rec.Code)
	}
	if rec := call("a"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("second after 0.5 s = %d, want 429", rec.Code)
	}
	// Public routes are not limited.
	for range 5 {
		if rec := serve(s.Handler(), request{method: http.MethodGet, path: "/healthz"}); rec.Code != http.StatusOK {
			t.Fatalf("GET /healthz = %d, want 200", rec.Code)
		}
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	tests := []struct {
		give time.Duration
		want string
	}{
		{0, "1"},
		{time.Millisecond, "1"},
		{time.Second, "1"},
		{1001 * time.Millisecond, "2"},
		{90 * time.Second, "90"},
	}
	for _, tt := range tests {
		if got := retryAfterSeconds(tt.give); got != tt.want {
			t.Errorf("retryAfterSeconds(%v) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

// TestBodyCapCountsWholeBody checks that the size cap applies to the whole
// body: a small valid object followed by enough trailing bytes is refused
// with 413, announced or chunked, and below the cap the trailing bytes are a
// 400.
func TestBodyCapCountsWholeBody(t *testing.T) {
	const limit = 1024
	s, _ := newTestServer(t, Config{MaxBodyBytes: limit})
	obj := `{"employees":3}`
	tests := []struct {
		name    string
		body    string
		chunked bool
		want    int
	}{
		{"object then spaces over the cap", obj + strings.Repeat(" ", limit), false, http.StatusRequestEntityTooLarge},
		{"object then spaces over the cap, chunked", obj + strings.Repeat(" ", limit), true, http.StatusRequestEntityTooLarge},
		{"object then garbage over the cap, chunked", obj + strings.Repeat("x", limit), true, http.StatusRequestEntityTooLarge},
		{"object then garbage under the cap", obj + "xyz", false, http.StatusBadRequest},
		{"exactly the cap", obj + strings.Repeat(" ", limit-len(obj)), false, http.StatusOK},
		{"one byte over the cap", obj + strings.Repeat(" ", limit-len(obj)+1), true, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tt.body)
			if tt.chunked {
				body = chunkedReader{strings.NewReader(tt.body)}
			}
			rec := serve(s.Handler(), request{method: http.MethodPost, path: "/v1/score", ct: "application/json", body: body})
			if rec.Code != tt.want {
				t.Errorf("status = %d, want %d; body %s", rec.Code, tt.want, rec.Body)
			}
		})
	}
}
