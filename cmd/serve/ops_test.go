package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/auth"
	"github.com/icpengine/icp/store"
)

// newKeyStore makes a SQLite store in a temporary directory holding one key
// per scope list given, and returns its path and the keys.
func newKeyStore(t *testing.T, scopes ...[]icp.Scope) (string, []string) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "icp.db")
	st, err := store.Open(t.Context(), db, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var keys []string
	for _, sc := range scopes {
		key, rec, err := auth.Generate("test", sc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateAPIKey(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	return db, keys
}

func TestRunRefusesWithoutAuthentication(t *testing.T) {
	model := trainModel(t)
	emptyDB, _ := newKeyStore(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no db", nil, "--allow-unauthenticated"},
		{"db without keys", []string{"--db", emptyDB}, "holds no active API key"},
		{"negative rate", []string{"--allow-unauthenticated", "--rate-limit", "-1"}, "--rate-limit"},
		{"negative score batch", []string{"--allow-unauthenticated", "--max-score-batch", "-1"}, "--max-score-batch"},
		{"negative stream cap", []string{"--allow-unauthenticated", "--max-stream-bytes", "-1"}, "--max-stream-bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--model", model, "--addr", "127.0.0.1:0"}, tt.args...)
			err := run(context.Background(), args, io.Discard, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%v) = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}

func TestRunWithKeys(t *testing.T) {
	model := trainModel(t)
	db, keys := newKeyStore(t, []icp.Scope{icp.ScopeScore}, []icp.Scope{icp.ScopeRead})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--model", model, "--addr", "127.0.0.1:0", "--log-format", "json", "--db", db,
			"--rate-limit", "0.1", "--rate-burst", "2", "--request-timeout", "1s", "--write-timeout", "5s"}, &logs, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run ended early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	body := `{"account_id":"A-1","industry":"SaaS","employees":120}`
	call := func(key string) (int, http.Header) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/score", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	if code, _ := call(""); code != http.StatusUnauthorized {
		t.Errorf("score without a key = %d, want 401", code)
	}
	if code, _ := call(keys[1]); code != http.StatusForbidden {
		t.Errorf("score with a read key = %d, want 403", code)
	}
	// A burst of 2, then the bucket is empty for about 10 s at 0.1 request/s.
	for i := range 2 {
		if code, _ := call(keys[0]); code != http.StatusOK {
			t.Errorf("score %d with a score key = %d, want 200", i, code)
		}
	}
	if code, h := call(keys[0]); code != http.StatusTooManyRequests || (h.Get("Retry-After") != "10" && h.Get("Retry-After") != "9") {
		t.Errorf("score over the rate = %d (Retry-After %q), want 429 with Retry-After 9 or 10", code, h.Get("Retry-After"))
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`icp_http_requests_total{code="200",method="POST",model_version="m-`,
		`icp_http_rejections_total{reason="rate_limited"} 1`,
		`icp_model_reloads_total{result="success"} 1`,
		`go_goroutines`, `process_cpu_seconds_total`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run after cancel = %v", err)
	}
	for _, k := range keys {
		if strings.Contains(logs.String(), k) {
			t.Errorf("logs hold an API key:\n%s", logs.String())
		}
	}
	if !strings.Contains(logs.String(), `"key_id":"key_`) {
		t.Errorf("access logs lack the key id:\n%s", logs.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a logger's concurrent writes.
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
