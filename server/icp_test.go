package server

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/icpengine/icp"
)

// icpFunc adapts a function to ICPSource.
type icpFunc func(ctx context.Context) (json.RawMessage, error)

func (f icpFunc) ICP(ctx context.Context) (json.RawMessage, error) { return f(ctx) }

func TestICPRoute(t *testing.T) {
	doc := json.RawMessage(`{"model_version": "test-v1", "segments": [{"id": "seg-1", "rule_text": "industry = SaaS"}]}`)
	tests := []struct {
		name     string
		give     ICPSource
		wantCode int
	}{
		{"served", icpFunc(func(context.Context) (json.RawMessage, error) { return doc, nil }), http.StatusOK},
		{"no source", nil, http.StatusServiceUnavailable},
		{"unavailable", icpFunc(func(context.Context) (json.RawMessage, error) { return nil, icp.ErrUnavailable }), http.StatusServiceUnavailable},
		{"not JSON", icpFunc(func(context.Context) (json.RawMessage, error) { return json.RawMessage(`{`), nil }), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestServer(t, Config{ICP: tt.give})
			rec := serve(s.Handler(), request{method: http.MethodGet, path: "/v1/icp"})
			if rec.Code != tt.wantCode {
				t.Fatalf("GET /v1/icp = %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if tt.wantCode != http.StatusOK {
				return
			}
			var got map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got["model_version"] != "test-v1" {
				t.Errorf("GET /v1/icp model_version = %v, want test-v1", got["model_version"])
			}
		})
	}
}
