package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/internal/cli"
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

func TestRunDialects(t *testing.T) {
	dir := t.TempDir()
	for _, d := range synth.Dialects() {
		t.Run(d, func(t *testing.T) {
			out := filepath.Join(dir, d+".csv")
			var stdout, stderr bytes.Buffer
			if err := run([]string{"--dialect", d, "--rows", "400", "--seed", "3", "--out", out}, &stdout, &stderr); err != nil {
				t.Fatalf("run --dialect %s error %v", d, err)
			}
			e, err := synth.GenerateExport(d, synth.Config{Rows: 400, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			for k, s := range e.Sheets {
				path := out
				if k > 0 {
					path = filepath.Join(dir, d+"_"+s.Name+".csv")
				}
				var want bytes.Buffer
				if err := s.WriteCSV(&want); err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if d != synth.DialectDefault && !bytes.Equal(got, want.Bytes()) {
					t.Errorf("%s differs from GenerateExport's sheet %s", path, s.Name)
				}
				if _, err := datasets.ReadFile(path, nil); err != nil {
					t.Errorf("ReadFile(%s) error %v", path, err)
				}
			}
			truth, err := datasets.ReadFile(filepath.Join(dir, d+"_truth.csv"), nil)
			if err != nil || truth.Rows() != 400 {
				t.Fatalf("truth file: %v", err)
			}
			if d != synth.DialectDefault && truth.Column("true_anti_icp") == nil {
				t.Errorf("truth file of %s lacks true_anti_icp", d)
			}
			if !strings.Contains(stdout.String(), "400") {
				t.Errorf("summary %q does not count the rows", stdout.String())
			}
		})
	}
	// The default dialect writes what gen without --dialect writes.
	a, b := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	var stdout, stderr bytes.Buffer
	if err := run([]string{"--rows", "50", "--seed", "9", "--out", a}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"--dialect", "default", "--rows", "50", "--seed", "9", "--out", b}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	if !bytes.Equal(da, db) {
		t.Errorf("--dialect default wrote another table than no --dialect")
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
		{name: "unknown dialect", give: []string{"--dialect", "sap", "--out", filepath.Join(dir, "s.csv")}, want: "unknown dialect"},
		{name: "emerging with a dialect", give: []string{"--dialect", "leads", "--emerging", "--out", "x.csv"}, want: "default dialect only"},
		{
			name: "truth on the second file", give: []string{"--dialect", "twotable", "--out", filepath.Join(dir, "t.csv"),
				"--truth", filepath.Join(dir, "t_opportunities.csv")}, want: "same file",
		},
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
			// A file that cannot be written is a failure; the rest are
			// bad command lines.
			want := cli.ExitUsage
			if tt.name == "unwritable" {
				want = cli.ExitFailure
			}
			if got := cli.Exit("gen", err, &stderr); got != want {
				t.Errorf("run(%q): exit status %d, want %d", tt.give, got, want)
			}
		})
	}
}
