package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCeiling(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--addr", "127.0.0.1:0"}, io.Discard, ready) }()
	addr := <-ready
	tests := []struct {
		name string
		body string
		want int
	}{
		{"object", `{"account_id":"a","employees":3}`, http.StatusOK},
		{"malformed", `{"account_id":`, http.StatusBadRequest},
		{"too large", `{"a":"` + strings.Repeat("x", 1<<20) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post("http://"+addr+"/v1/score", "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("POST = %d %s, want %d", resp.StatusCode, b, tt.want)
			}
			if tt.want == http.StatusOK && string(b) != constantScore {
				t.Errorf("body = %s, want %s", b, constantScore)
			}
		})
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after cancel = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ceiling did not stop")
	}
}
