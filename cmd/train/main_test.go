package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/profile"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRun(t *testing.T) {
	tab, _ := synth.Generate(synth.Config{Rows: 1500, Seed: 4})
	var csv bytes.Buffer
	if err := datasets.WriteCSV(&csv, tab); err != nil {
		t.Fatal(err)
	}
	data := writeFile(t, "accounts.csv", csv.String())
	out := filepath.Join(t.TempDir(), "models", "q4")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"--data", data, "--out", out, "--seed", "3"}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"tech_stack", "tags", "validation: time-ordered", "ROC AUC", "segments:", "tiers: tier1 >=", "model.json"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	p, err := profile.ReadFile(filepath.Join(out, "model.json"))
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	if p.Seed != 3 || p.Data.Rows != 1500 {
		t.Errorf("artifact seed %d, rows %d; want 3, 1500", p.Seed, p.Data.Rows)
	}
	report, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil || !bytes.HasPrefix(report, []byte("# Ideal Customer Profile")) {
		t.Errorf("report.md: %v, starts %.40q", err, report)
	}
}

func TestRunBadInput(t *testing.T) {
	tests := []struct {
		name string
		args func(t *testing.T) []string
		want string
	}{
		{"no flags", func(t *testing.T) []string { return nil }, "--data and --out are required"},
		{"missing file", func(t *testing.T) []string {
			return []string{"--data", filepath.Join(t.TempDir(), "nope.csv"), "--out", t.TempDir()}
		}, "nope.csv"},
		{"empty file", func(t *testing.T) []string {
			return []string{"--data", writeFile(t, "empty.csv", ""), "--out", t.TempDir()}
		}, "empty.csv"},
		{"ragged row", func(t *testing.T) []string {
			return []string{"--data", writeFile(t, "ragged.csv", "industry,outcome\nSaaS,won\nRetail,lost,extra\n"), "--out", t.TempDir()}
		}, "ragged.csv: line 3"},
		{"no outcome column", func(t *testing.T) []string {
			return []string{"--data", writeFile(t, "noout.csv", "industry,employees\nSaaS,3\nRetail,4\n"), "--out", t.TempDir()}
		}, "no outcome column"},
		{"bad override", func(t *testing.T) []string {
			return []string{"--data", writeFile(t, "a.csv", "industry,outcome\nSaaS,won\nRetail,lost\n"),
				"--schema", writeFile(t, "o.json", `{"columns": {"nope": {"role": "excluded"}}}`), "--out", t.TempDir()}
		}, `column "nope": not in the table`},
		{"bad label", func(t *testing.T) []string {
			return []string{"--data", writeFile(t, "a.csv", "industry,outcome\nSaaS,won\nRetail,lost\n"), "--label", "best", "--out", t.TempDir()}
		}, `unknown target "best"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args(t), &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestRunRealExport trains on the committed CRM export (one row per
// account, joined by scripts/crm_accounts.py) with no schema override.
func TestRunRealExport(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"--data", filepath.Join("..", "..", "datasets", "crm_accounts.csv"), "--out", out, "--quiet"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	p, err := profile.ReadFile(filepath.Join(out, "model.json"))
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	if p.Data.Rows != 85 || p.Label.WonColumn != "outcome" || p.Schema.Column("sector").Role != "categorical" {
		t.Errorf("rows %d, won column %q, sector role %q; want 85, outcome, categorical", p.Data.Rows, p.Label.WonColumn, p.Schema.Column("sector").Role)
	}
	report, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"No reliable segments", "## Tiers", "## Model card", "`sector`"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Errorf("report.html: %v", err)
	}
}

// TestRunPreviousAndTiers retrains with lift tiers against a previous
// model and checks the report's comparison section.
func TestRunPreviousAndTiers(t *testing.T) {
	tab, _ := synth.Generate(synth.Config{Rows: 1500, Seed: 4})
	var csv bytes.Buffer
	if err := datasets.WriteCSV(&csv, tab); err != nil {
		t.Fatal(err)
	}
	data := writeFile(t, "accounts.csv", csv.String())
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	old := filepath.Join(dir, "q3")
	if err := run(context.Background(), []string{"--data", data, "--out", old, "--quiet"}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	cur := filepath.Join(dir, "q4")
	args := []string{"--data", data, "--out", cur, "--quiet", "--tier-lift", "2,1,0.5", "--previous", filepath.Join(old, "model.json")}
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	p, err := profile.ReadFile(filepath.Join(cur, "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Tiers.Method != "lift" {
		t.Errorf("tier method = %q, want lift", p.Tiers.Method)
	}
	report, err := os.ReadFile(filepath.Join(cur, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(report), "## What changed since the previous model") {
		t.Error("report.md lacks the comparison with the previous model")
	}
	tests := []struct {
		name string
		give []string
		want string
	}{
		{"two tier methods", []string{"--tier-lift", "2,1,0.5", "--tier1-capacity", "50"}, "exclusive"},
		{"bad triple", []string{"--tier-shares", "0.1,0.2"}, "three comma-separated numbers"},
		{"missing previous", []string{"--previous", filepath.Join(dir, "nope.json")}, "--previous"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), append([]string{"--data", data, "--out", t.TempDir(), "--quiet"}, tt.give...), &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%v) = %v, want an error containing %q", tt.give, err, tt.want)
			}
		})
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	pr := &progress{w: &b, after: 20 * time.Millisecond, every: 30 * time.Millisecond}
	ctx := context.Background()
	if err := pr.step(ctx, "quick", func() (string, error) { return "", nil }); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); !strings.HasPrefix(got, "train: quick in 0.0s\n") {
		t.Fatalf("step(quick) printed %q, want only its duration", got)
	}
	b.Reset()
	if err := pr.step(ctx, "slow", func() (string, error) { time.Sleep(80 * time.Millisecond); return "slept", nil }); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "train: slow: ") || !strings.HasSuffix(lines[0], " so far") ||
		!strings.HasPrefix(lines[len(lines)-1], "train: slept in 0.") {
		t.Fatalf("step(slow) printed %q, want progress lines and the duration", b.String())
	}
	b.Reset()
	status := func() string { return "50% of 1.0 MB read" }
	if err := pr.stepStatus(ctx, "read a.csv", status, func() (string, error) { time.Sleep(50 * time.Millisecond); return "", nil }); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); !strings.HasPrefix(got, "train: read a.csv: 0s so far, 50% of 1.0 MB read\n") {
		t.Fatalf("stepStatus printed %q, want the status on its progress line", got)
	}
	b.Reset()
	if err := pr.step(ctx, "failing", func() (string, error) { return "", errors.New("boom") }); err == nil || b.Len() != 0 {
		t.Fatalf("step(failing) = %v and printed %q; want its error and nothing", err, b.String())
	}
}

// TestWriteOutputs writes the outputs of a run: all of them, or, when one
// fails or the run is interrupted, none, with no temporary file left and
// an earlier model in place.
func TestWriteOutputs(t *testing.T) {
	fail := errors.New("disk full")
	ok := func(text string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, text); return err }
	}
	tests := []struct {
		name     string
		existing bool // the directory holds an earlier model.json
		failAt   int  // the file whose writer fails, -1 for none
		cancelAt int  // the file after which the context is canceled, -1 for none
		wantErr  error
	}{
		{"all written", false, -1, -1, nil},
		{"all written over an earlier model", true, -1, -1, nil},
		{"a writer fails", false, 1, -1, fail},
		{"a writer fails over an earlier model", true, 2, -1, fail},
		{"interrupted", false, -1, 0, context.Canceled},
		{"interrupted over an earlier model", true, -1, 1, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "q4")
			if tt.existing {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "model.json"), []byte("earlier"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var files []output
			for k, name := range []string{"model.json", "report.md", "report.html"} {
				write := ok("new " + name)
				if k == tt.failAt {
					write = func(w io.Writer) error { io.WriteString(w, "half"); return fail }
				}
				if k == tt.cancelAt {
					inner := write
					write = func(w io.Writer) error { err := inner(w); cancel(); return err }
				}
				files = append(files, output{name, write})
			}
			err := writeOutputs(ctx, dir, files)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("writeOutputs = %v, want %v", err, tt.wantErr)
			}
			entries, _ := os.ReadDir(dir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			switch {
			case err == nil:
				if strings.Join(names, ",") != "model.json,report.html,report.md" {
					t.Errorf("directory holds %q, want the three files only", names)
				}
				if b, _ := os.ReadFile(filepath.Join(dir, "model.json")); string(b) != "new model.json" {
					t.Errorf("model.json = %q, want the new one", b)
				}
			case tt.existing:
				if strings.Join(names, ",") != "model.json" {
					t.Errorf("directory holds %q, want the earlier model.json only", names)
				}
				if b, _ := os.ReadFile(filepath.Join(dir, "model.json")); string(b) != "earlier" {
					t.Errorf("model.json = %q, want the earlier one untouched", b)
				}
			default:
				if _, serr := os.Stat(dir); !errors.Is(serr, os.ErrNotExist) {
					t.Errorf("the directory made for the run is left (%v, holding %q), want it removed", serr, names)
				}
			}
		})
	}
}
