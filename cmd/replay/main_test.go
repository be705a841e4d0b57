package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/internal/cli"
	"github.com/icpengine/icp/train"
)

// fakeServe answers the two routes replay posts to, as serve does when
// keys are required: 401 without the key, and the counts otherwise. It
// records the keys it was sent.
type fakeServe struct {
	key  string
	mu   sync.Mutex
	seen []string
}

func (f *fakeServe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.seen = append(f.seen, r.URL.Path+" "+r.Header.Get("Authorization"))
	f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+f.key {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"unauthenticated"}`))
		return
	}
	switch r.URL.Path {
	case "/v1/score/batch":
		var accs []map[string]any
		if err := json.NewDecoder(r.Body).Decode(&accs); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(map[string]int{"count": len(accs)})
	case "/v1/outcomes":
		var body struct {
			Outcomes []map[string]any `json:"outcomes"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"stored": len(body.Outcomes), "replayed": false})
	default:
		http.NotFound(w, r)
	}
}

// replayFiles writes a model and a file of 300 closed deals.
func replayFiles(t *testing.T) (model, data string) {
	t.Helper()
	dir := t.TempDir()
	tab, _ := synth.Generate(synth.Config{Rows: 800, Seed: 3})
	s := features.Infer(tab, features.InferConfig{})
	p, err := train.Train(s.Clean(tab), s, train.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	model = filepath.Join(dir, "model.json")
	if err := p.WriteFile(model); err != nil {
		t.Fatal(err)
	}
	rows := make([]int, 300)
	for i := range rows {
		rows[i] = i
	}
	var csv bytes.Buffer
	if err := datasets.WriteCSV(&csv, tab.Take(rows)); err != nil {
		t.Fatal(err)
	}
	data = filepath.Join(dir, "stream.csv")
	if err := os.WriteFile(data, csv.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return model, data
}

// TestAPIKey sends the key of --api-key, or else of ICP_API_KEY, on every
// request; without one, a server that requires keys gets an error saying
// how to give it.
func TestAPIKey(t *testing.T) {
	model, data := replayFiles(t)
	tests := []struct {
		name       string
		flag, env  string
		wantKey    string // the key every request carries; "" for a failure
		wantStatus int
		wantErr    string
	}{
		{"flag", "icp_flag", "", "icp_flag", 0, ""},
		{"environment", "", "icp_env", "icp_env", 0, ""},
		{"flag wins", "icp_flag", "icp_env", "icp_flag", 0, ""},
		{"none", "", "", "", 1, "serve requires an API key: pass --api-key or set ICP_API_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeServe{key: tt.wantKey}
			if fake.key == "" {
				fake.key = "icp_other"
			}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			args := []string{"--model", model, "--data", data, "--url", srv.URL + "/", "--batch", "100"}
			if tt.flag != "" {
				args = append(args, "--api-key", tt.flag)
			}
			env := func(k string) (string, bool) {
				if k == "ICP_API_KEY" && tt.env != "" {
					return tt.env, true
				}
				return "", false
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), args, env, &stdout, &stderr)
			if got := cli.Exit("replay", err, &stderr); got != tt.wantStatus {
				t.Fatalf("status %d (%v), want %d", got, err, tt.wantStatus)
			}
			if tt.wantErr != "" {
				if !strings.Contains(stderr.String(), tt.wantErr) {
					t.Errorf("stderr %q lacks %q", stderr.String(), tt.wantErr)
				}
				return
			}
			if !strings.Contains(stdout.String(), "scored 300 accounts") || !strings.Contains(stdout.String(), "posted 300 outcomes") {
				t.Errorf("stdout %q, want 300 accounts scored and 300 outcomes posted", stdout.String())
			}
			if len(fake.seen) != 6 {
				t.Errorf("the server saw %d requests, want 6 (3 batches, each scored and posted)", len(fake.seen))
			}
			for _, s := range fake.seen {
				if !strings.HasSuffix(s, " Bearer "+tt.wantKey) {
					t.Errorf("request %q, want the key %s", s, tt.wantKey)
				}
			}
		})
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		give []string
		want int
	}{
		{[]string{"--help"}, cli.ExitOK},
		{[]string{"--version"}, cli.ExitOK},
		{nil, cli.ExitUsage},
		{[]string{"--model", "m.json", "--data", "d.csv", "--batch", "0"}, cli.ExitUsage},
		{[]string{"--model", "m.json", "--data", "d.csv", "extra"}, cli.ExitUsage},
		{[]string{"--model", filepath.Join(t.TempDir(), "m.json"), "--data", "d.csv"}, cli.ExitFailure},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tt.give, nil, &stdout, &stderr)
		if got := cli.Exit("replay", err, &stderr); got != tt.want {
			t.Errorf("replay %q: status %d (%v), want %d", tt.give, got, err, tt.want)
		}
	}
}
