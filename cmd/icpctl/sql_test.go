package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/train"
)

func TestSQL(t *testing.T) {
	tab, _ := synth.Generate(synth.Config{Rows: 1200, Seed: 3})
	s := features.Infer(tab, features.InferConfig{})
	p, err := train.Train(s.Clean(tab), s, train.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(t.TempDir(), "model.json")
	if err := p.WriteFile(model); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		give    []string
		want    string
		wantErr string
	}{
		{"postgres", []string{"--model", model, "--dialect", "postgres", "--table", "crm.accounts"}, `FROM "crm"."accounts"`, ""},
		{"duckdb view", []string{"--model", model, "--dialect", "duckdb", "--view", "scores"}, `CREATE OR REPLACE VIEW "scores" AS` + "\nSELECT _icp_id AS account_id,", ""},
		{"create table", []string{"--model", model, "--dialect", "postgres", "--create-table"}, `"employees" DOUBLE PRECISION,`, ""},
		{"bad dialect", []string{"--model", model, "--dialect", "oracle"}, "", `dialect "oracle"`},
		{"no model", []string{"--dialect", "postgres"}, "", "--model and --dialect are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append([]string{"sql"}, tt.give...), nil, &stdout, &stderr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("run = %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(stdout.String(), tt.want) {
				t.Errorf("output lacks %q:\n%.300s", tt.want, stdout.String())
			}
		})
	}
}
