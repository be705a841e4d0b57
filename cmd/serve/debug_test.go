package main

import (
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"
)

func TestServeDebugRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "localhost:0", "nonsense"} {
		if _, stop, err := serveDebug(addr, slog.New(slog.DiscardHandler)); err == nil {
			stop()
			t.Errorf("serveDebug(%q) error = nil, want a refusal", addr)
		}
	}
}

func TestServeDebugServesProfiles(t *testing.T) {
	addr, stop, err := serveDebug("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("serveDebug(127.0.0.1:0) error = %v", err)
	}
	defer stop()
	client := &http.Client{Timeout: 5 * time.Second}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/cmdline"} {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s = %d with %d bytes, want 200 with a body", path, resp.StatusCode, len(body))
		}
	}
}
