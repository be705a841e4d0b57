package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/icpengine/icp/datasets"
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
	tab, _ := datasets.Generate(datasets.GenerateConfig{Rows: 1500, Seed: 4})
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
