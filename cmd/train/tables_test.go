package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/profile"
)

func TestTwoTableExport(t *testing.T) {
	e, err := synth.GenerateExport(synth.DialectTwoTable, synth.Config{Rows: 2500, Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, s := range e.Sheets {
		var buf bytes.Buffer
		if err := s.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		files = append(files, writeFile(t, s.Name+".csv", buf.String()))
	}
	out := filepath.Join(t.TempDir(), "m")
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{"--accounts", files[0], "--deals", files[1], "--out", out, "--label", "won", "--quiet"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	for _, want := range []string{`on "Account ID" = "AccountId"`, `stage "Stage"`, "left out, never features", "label: won deals (deal_outcome)"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	p, err := profile.ReadFile(filepath.Join(out, "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range p.Schema.Features() {
		if strings.HasPrefix(c.Name, "deal_") || c.Name == "Forecast Category" || c.Name == "Stage" {
			t.Errorf("%q is a feature", c.Name)
		}
	}
}

func TestTwoTableFlags(t *testing.T) {
	tests := []struct {
		name string
		give []string
		want string
	}{
		{"deals without accounts", []string{"--data", "x.csv", "--deals", "d.csv", "--out", "o"}, "need --accounts"},
		{"data and accounts", []string{"--data", "x.csv", "--accounts", "a.csv", "--deals", "d.csv", "--out", "o"}, "exclusive"},
		{"accounts alone", []string{"--accounts", "a.csv", "--out", "o"}, "needs --deals"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.give, &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%v) = %v, want an error with %q", tt.give, err, tt.want)
			}
		})
	}
}
