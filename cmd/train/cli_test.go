package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/internal/cli"
	"github.com/icpengine/icp/profile"
)

// TestCommandLine checks what the command line answers: the help and the
// version on stdout with status 0, usage errors with status 2 and a
// pointer to --help, failures with status 1, one "train: " prefix.
func TestCommandLine(t *testing.T) {
	data := writeFile(t, "a.csv", "industry,outcome\nSaaS,won\nRetail,lost\n")
	tests := []struct {
		name       string
		give       []string
		wantStatus int
		wantStdout []string
		wantStderr []string
	}{
		{"help", []string{"--help"}, 0, []string{"train learns an Ideal Customer Profile", "Usage:\n  train --data FILE --out DIR [flags]",
			"Example:\n  train --data datasets/sample_accounts.csv --out models/2026q4", "  --model-version name\n        model version name",
			"  --data file\n        CSV, gzip CSV or Parquet file of accounts"}, nil},
		{"short help", []string{"-h"}, 0, []string{"Example:"}, nil},
		{"version", []string{"--version"}, 0, []string{"train "}, nil},
		{"no flags", nil, 2, nil, []string{"train: --data and --out are required", "run 'train --help'"}},
		{"unknown flag", []string{"--data", data, "--out", t.TempDir(), "--nope"}, 2, nil, []string{"train: flag provided but not defined: -nope"}},
		{"old model name flag", []string{"--data", data, "--out", t.TempDir(), "--version", "q4"}, 2, nil,
			[]string{`train: --version takes no value ("q4"): it prints the build information; name the model with --model-version NAME`}},
		{"old model name flag with =", []string{"--version=q4", "--data", data}, 2, nil, []string{"name the model with --model-version NAME"}},
		{"bad tier shares", []string{"--data", data, "--out", t.TempDir(), "--tier-shares", "0.1"}, 2, nil, []string{"train: --tier-shares"}},
		{"missing file", []string{"--data", filepath.Join(t.TempDir(), "nope.csv"), "--out", t.TempDir()}, 1, nil, []string{"nope.csv: no such file"}},
		{"training fails", []string{"--data", data, "--out", t.TempDir(), "--quiet"}, 1, nil, []string{"train: validate: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.give, &stdout, &stderr)
			if got := cli.Exit("train", err, &stderr); got != tt.wantStatus {
				t.Errorf("status %d (%v), want %d", got, err, tt.wantStatus)
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			if strings.Contains(stderr.String(), "train: train:") {
				t.Errorf("stderr repeats the prefix:\n%s", stderr.String())
			}
		})
	}
}

// TestModelVersionAndSteps names the model with --model-version and
// checks that each step is reported on stderr with its duration.
func TestModelVersionAndSteps(t *testing.T) {
	tab, _ := synth.Generate(synth.Config{Rows: 1200, Seed: 6})
	var csv bytes.Buffer
	if err := datasets.WriteCSV(&csv, tab); err != nil {
		t.Fatal(err)
	}
	data := writeFile(t, "accounts.csv", csv.String())
	out := filepath.Join(t.TempDir(), "q4")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"--data", data, "--out", out, "--quiet", "--model-version", "2026q4"}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	p, err := profile.ReadFile(filepath.Join(out, "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != "2026q4" {
		t.Errorf("model version %q, want 2026q4", p.Version)
	}
	for _, want := range []string{
		"train: read 1200 rows and ", " columns from " + data + " in ",
		"train: fit logistic on 960 older deals in ", "train: fit gbm on 960 older deals in ",
		"train: segment search in ", "train: write the model and the report to " + out + " in ",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	entries, err := os.ReadDir(out)
	if err != nil || len(entries) != 3 {
		t.Errorf("output directory holds %v (%v), want model.json, report.html and report.md", entries, err)
	}
}
