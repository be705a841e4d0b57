package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/icpengine/icp"
)

func TestMain(m *testing.M) {
	if os.Getenv(loadgenEnv) != "" {
		os.Exit(loadgenMain())
	}
	// As main does: gin's process-wide mode, without its debug route dump.
	gin.SetMode(gin.ReleaseMode)
	os.Exit(m.Run())
}

// trainModel writes the artifact of a model trained on generated data.
func trainModel(t *testing.T) string {
	t.Helper()
	return writeModel(t, 1)
}

func TestRunServesAndShutsDown(t *testing.T) {
	model := trainModel(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	var logs bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--model", model, "--addr", "127.0.0.1:0", "--log-format", "json", "--drain-delay", "0", "--allow-unauthenticated"}, &logs, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run ended early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	body := `{"account_id":"A-1","industry":"SaaS","employees":120,"tech_stack":"hubspot;aws","region":"NA"}`
	resp, err := http.Post("http://"+addr+"/v1/score", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var s icp.Score
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &s) != nil {
		t.Fatalf("POST /v1/score = %d %s, want 200 with a score", resp.StatusCode, b)
	}
	if s.AccountID != "A-1" || s.Score <= 0 || s.Score >= 1 || s.Tier == "" || len(s.Attributions) == 0 {
		t.Errorf("score = %+v", s)
	}
	resp, err = http.Get("http://" + addr + "/v1/icp")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		ModelVersion string            `json:"model_version"`
		Segments     []json.RawMessage `json:"segments"`
		Tiers        map[string]any    `json:"tiers"`
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &doc) != nil || doc.ModelVersion != s.ModelVersion || doc.Segments == nil || doc.Tiers == nil {
		t.Errorf("GET /v1/icp = %d %.200s, want 200 with the ICP of model %s", resp.StatusCode, b, s.ModelVersion)
	}
	resp, err = http.Get("http://" + addr + "/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("GET /readyz = %v, %v; want 200", resp, err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after cancel = %v, want nil", err)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("server did not shut down")
	}
	raw, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Checksum string `json:"checksum"`
	}
	if err := json.Unmarshal(raw, &env); err != nil || env.Checksum == "" {
		t.Fatalf("artifact checksum: %v", err)
	}
	if !strings.Contains(logs.String(), `"checksum":"`+env.Checksum+`"`) {
		t.Errorf("start log lacks the artifact's checksum %s:\n%s", env.Checksum, logs.String())
	}
	if !strings.Contains(logs.String(), `"route":"/v1/score"`) || !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Errorf("logs lack the access line or the stop line:\n%s", logs.String())
	}
}

func TestRunRefusesBadModel(t *testing.T) {
	good, err := os.ReadFile(trainModel(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		give []byte // nil: no file
		want string
	}{
		{"missing", nil, "no such file"},
		{"garbage", []byte("not a model"), "not JSON"},
		{"truncated", good[:len(good)/3], "not JSON"},
		{"tampered", bytes.Replace(good, []byte(`"tier1": 0.`), []byte(`"tier1": 0.9`), 1), "checksum mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "model.json")
			if tt.give != nil {
				if err := os.WriteFile(path, tt.give, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var logs bytes.Buffer
			err := run(context.Background(), []string{"--model", path, "--addr", "127.0.0.1:0"}, &logs, nil)
			if err == nil || !strings.Contains(err.Error(), "refusing to start") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run error = %v, want a refusal containing %q", err, tt.want)
			}
		})
	}
}
