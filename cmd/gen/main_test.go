package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "sub", "accounts.csv")
	var stdout, stderr bytes.Buffer
	if err := run([]string{"--rows", "300", "--seed", "7", "--out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("run error %v (stderr %q)", err, stderr.String())
	}
	tab, err := datasets.ReadFile(out, nil)
	if err != nil {
		t.Fatalf("ReadFile(%s) error %v", out, err)
	}
	if tab.Rows() != 300 || len(tab.Columns) != len(synth.AccountColumns()) {
		t.Errorf("table is %dx%d, want 300x%d", tab.Rows(), len(tab.Columns), len(synth.AccountColumns()))
	}
	truthPath := filepath.Join(dir, "sub", "accounts_truth.csv")
	truth, err := datasets.ReadFile(truthPath, nil)
	if err != nil {
		t.Fatalf("ReadFile(%s) error %v", truthPath, err)
	}
	if truth.Rows() != 300 || truth.Column("true_segment") == nil || truth.Column("true_win_prob").Kind != datasets.Number {
		t.Errorf("truth file has %d rows and columns %v", truth.Rows(), truth.Columns)
	}
	summary := stdout.String()
	for _, want := range []string{"wrote 300 rows to " + out, "accounts_truth.csv", "win rate 0.", "other="} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary %q does not contain %q", summary, want)
		}
	}
	if strings.Count(summary, "\n") != 1 {
		t.Errorf("summary %q is not one line", summary)
	}

	// The same flags write the same bytes; --truth and --emerging are honoured.
	again := filepath.Join(dir, "again.csv")
	custom := filepath.Join(dir, "hidden.csv")
	if err := run([]string{"--rows", "300", "--seed", "7", "--out", again, "--truth", custom}, &stdout, &stderr); err != nil {
		t.Fatalf("run error %v", err)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Errorf("two runs with the same flags wrote different tables")
	}
	if _, err := os.Stat(custom); err != nil {
		t.Errorf("--truth file: %v", err)
	}
	em := filepath.Join(dir, "em.csv")
	stdout.Reset()
	if err := run([]string{"--rows", "20000", "--seed", "7", "--emerging", "--out", em}, &stdout, &stderr); err != nil {
		t.Fatalf("run --emerging error %v", err)
	}
	if !strings.Contains(stdout.String(), synth.SegmentEmerging+"=") {
		t.Errorf("summary %q lacks the emerging segment", stdout.String())
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		give []string
		want string
	}{
		{name: "no out", give: []string{"--rows", "10"}, want: "missing --out"},
		{name: "zero rows", give: []string{"--rows", "0", "--out", filepath.Join(dir, "a.csv")}, want: "--rows must be positive"},
		{name: "bad flag", give: []string{"--nope"}, want: "not defined"},
		{name: "bad seed", give: []string{"--seed", "-1", "--out", "x.csv"}, want: "invalid value"},
		{name: "extra argument", give: []string{"--out", "x.csv", "extra"}, want: "unexpected arguments"},
		{name: "same files", give: []string{"--out", "x.csv", "--truth", "x.csv"}, want: "same file"},
		{
			name: "unwritable", give: []string{"--rows", "5", "--out", filepath.Join(dir, "file.txt", "a.csv")},
			want: "write ",
		},
	}
	if err := os.WriteFile(filepath.Join(dir, "file.txt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(tt.give, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tt.give, err, tt.want)
			}
		})
	}
}
