package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
)

func TestRun(t *testing.T) {
	tab, _ := synth.Generate(synth.Config{Rows: 2000, Seed: 3})
	path := filepath.Join(t.TempDir(), "a.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := datasets.WriteCSV(f, tab); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var out, errb bytes.Buffer
	if err := run([]string{"--data", path, "--models", "logistic,gbm", "--single", "20"}, &out, &errb); err != nil {
		t.Fatalf("run: %v\n%s", err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d result lines, want 2:\n%s", len(lines), out.String())
	}
	for k, want := range []string{"logistic", "gbm"} {
		var r result
		if err := json.Unmarshal([]byte(lines[k]), &r); err != nil {
			t.Fatal(err)
		}
		if r.Model != want || r.NTest != 400 || r.AUC < 0.6 || r.FitS <= 0 || r.SingleP50 <= 0 || r.SingleP99 < r.SingleP50 || r.BatchUSPerRow <= 0 {
			t.Errorf("result %d = %+v", k, r)
		}
	}
	// The classifier alone by default, as the reference; --value adds the
	// value model where the table has a value (the generator's ltv_usd).
	for _, tt := range []struct {
		give []string
		want bool
	}{{nil, false}, {[]string{"--value"}, true}} {
		out.Reset()
		args := append([]string{"--data", path, "--models", "logistic", "--single", "5"}, tt.give...)
		if err := run(args, &out, &errb); err != nil {
			t.Fatalf("run %v: %v", tt.give, err)
		}
		var r result
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.ValueModel != tt.want {
			t.Errorf("run %v: value_model = %v, want %v", tt.give, r.ValueModel, tt.want)
		}
	}
	if err := run([]string{"--data", path, "--models", "forest"}, &out, &errb); err == nil || !strings.Contains(err.Error(), `unknown model kind "forest"`) {
		t.Errorf("run with an unknown kind: %v", err)
	}
}
