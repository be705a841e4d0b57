package cli_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/icpengine/icp/internal/cli"
)

func TestExit(t *testing.T) {
	tests := []struct {
		name       string
		give       error
		want       int
		wantStderr string
	}{
		{"success", nil, cli.ExitOK, ""},
		{"help answered", cli.ErrDone, cli.ExitOK, ""},
		{"usage", cli.Usagef("--data is required"), cli.ExitUsage, "train: --data is required\nrun 'train --help' for the flags and an example\n"},
		{"wrapped usage", fmt.Errorf("parse: %w", cli.Usagef("bad")), cli.ExitUsage, "train: parse: bad\n"},
		{"failure", errors.New("read accounts.csv: line 3: bad quote"), cli.ExitFailure, "train: read accounts.csv: line 3: bad quote\n"},
		{"reported", fmt.Errorf("3 rows failed: %w", cli.ErrReported), cli.ExitFailure, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := cli.Exit("train", tt.give, &stderr); got != tt.want {
				t.Errorf("Exit(%v) = %d, want %d", tt.give, got, tt.want)
			}
			if got := stderr.String(); !strings.HasPrefix(got, tt.wantStderr) || (tt.wantStderr == "" && got != "") {
				t.Errorf("Exit(%v) printed %q, want it to start with %q", tt.give, got, tt.wantStderr)
			}
		})
	}
}

func testCommand() *cli.Command {
	return &cli.Command{
		Name:        "train",
		Summary:     "train learns an Ideal Customer Profile from a CRM export.",
		Usage:       []string{"train --data FILE --out DIR [flags]"},
		Example:     "train --data accounts.csv --out models/q4",
		VersionHint: "name the model with --model-version",
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name       string
		give       []string
		wantErr    error // ErrDone, nil, or a *UsageError (any)
		wantUsage  bool
		wantStdout string
		wantMsg    string
	}{
		{"flags", []string{"--data", "a.csv"}, nil, false, "", ""},
		{"help", []string{"--help"}, cli.ErrDone, false, "Example:\n  train --data accounts.csv --out models/q4\n", ""},
		{"short help", []string{"-h"}, cli.ErrDone, false, "  --data FILE\n        CSV FILE to read (required)\n", ""},
		{"version", []string{"--version"}, cli.ErrDone, false, "train ", ""},
		{"version with a value", []string{"--version=q4"}, nil, true, "", "name the model with --model-version"},
		{"version then an argument", []string{"--version", "q4"}, nil, true, "", "name the model with --model-version"},
		{"unknown flag", []string{"--nope"}, nil, true, "", "flag provided but not defined: -nope"},
		{"bad value", []string{"--seed", "x"}, nil, true, "", `invalid value "x" for flag -seed`},
		{"arguments", []string{"a.csv"}, nil, true, "", `unexpected arguments ["a.csv"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testCommand()
			fs := c.FlagSet()
			fs.String("data", "", "CSV `FILE` to read (required)")
			fs.Uint64("seed", 1, "random seed")
			var stdout bytes.Buffer
			err := c.Parse(fs, tt.give, &stdout, false)
			_, isUsage := errors.AsType[*cli.UsageError](err)
			switch {
			case tt.wantUsage && !isUsage:
				t.Fatalf("Parse(%q) = %v, want a usage error", tt.give, err)
			case !tt.wantUsage && !errors.Is(err, tt.wantErr) && !(err == nil && tt.wantErr == nil):
				t.Fatalf("Parse(%q) = %v, want %v", tt.give, err, tt.wantErr)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Parse(%q) = %q, want it to contain %q", tt.give, err, tt.wantMsg)
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("Parse(%q) printed %q, want it to contain %q", tt.give, stdout.String(), tt.wantStdout)
			}
		})
	}
}

func TestHelpDescribesEveryFlag(t *testing.T) {
	c := testCommand()
	c.Env = &cli.Env{Prefix: "ICP_"}
	fs := c.FlagSet()
	fs.String("max-body-bytes", "", "largest request body")
	fs.Int("workers", 4, "goroutines")
	fs.String("addr", "127.0.0.1:8080", "listen address")
	var b bytes.Buffer
	c.WriteHelp(&b, fs)
	help := b.String()
	for _, want := range []string{
		"train learns an Ideal Customer Profile from a CRM export.\n\nUsage:\n  train --data FILE --out DIR [flags]\n",
		"  --addr string\n        listen address (default \"127.0.0.1:8080\") [$ICP_ADDR]\n",
		"  --max-body-bytes string\n        largest request body [$ICP_MAX_BODY_BYTES]\n",
		"  --workers int\n        goroutines (default 4) [$ICP_WORKERS]\n",
		"  --version\n        print the version and build information, and exit\n",
		"  -h, --help\n",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
}

func TestEnv(t *testing.T) {
	vars := map[string]string{
		"ICP_DB":             "postgres://icp:s3cret@db.internal/icp",
		"ICP_MAX_BODY_BYTES": "2048",
		"ICP_ADDR":           "",
		"ICP_SEED":           "not-a-number",
	}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	tests := []struct {
		name     string
		args     []string
		skipSeed bool
		wantDB   string
		wantMax  int64
		wantAddr string
		wantErr  string
	}{
		{"environment fills unset flags", []string{"--seed", "2"}, false, "postgres://icp:s3cret@db.internal/icp", 2048, "127.0.0.1:8080", ""},
		{"flag wins", []string{"--seed", "2", "--db", "icp.db", "--max-body-bytes", "10"}, false, "icp.db", 10, "127.0.0.1:8080", ""},
		{"bad variable named, value not shown", nil, false, "", 0, "", "environment variable ICP_SEED (--seed)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &cli.Command{Name: "serve", Env: &cli.Env{Prefix: "ICP_", Lookup: lookup}}
			fs := c.FlagSet()
			db := fs.String("db", "", "store")
			maxBody := fs.Int64("max-body-bytes", 0, "largest body")
			addr := fs.String("addr", "127.0.0.1:8080", "listen address")
			fs.Int("seed", 1, "seed")
			err := c.Parse(fs, tt.args, &bytes.Buffer{}, false)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "not-a-number") {
					t.Fatalf("Parse = %v, want an error naming %q without the value", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *db != tt.wantDB || *maxBody != tt.wantMax || *addr != tt.wantAddr {
				t.Errorf("db %q, max %d, addr %q; want %q, %d, %q", *db, *maxBody, *addr, tt.wantDB, tt.wantMax, tt.wantAddr)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	tests := []struct {
		name string
		give *debug.BuildInfo
		want []string
	}{
		{"release", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/icpengine/icp", Version: "v1.2.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-12-07T12:00:00Z"}, {Key: "vcs.modified", Value: "false"}}},
			[]string{"train v1.2.0 (github.com/icpengine/icp), revision 0123456789abcdef, committed 2026-12-07T12:00:00Z, built with go1.26.8 "}},
		{"modified tree", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/icpengine/icp", Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}},
			[]string{"train (devel) (github.com/icpengine/icp), revision abc (modified), built with go1.26.8"}},
		{"go run", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/icpengine/icp"}},
			[]string{"train (devel) (github.com/icpengine/icp), revision unknown, built with go1.26.8"}},
		{"no build information", nil, []string{"train: no build information"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cli.Version("train", tt.give)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Version(%s) = %q, want it to contain %q", tt.name, got, w)
				}
			}
		})
	}
}

func ExampleCommand_Parse() {
	c := &cli.Command{
		Name:    "gen",
		Summary: "gen writes a seeded synthetic CRM export.",
		Usage:   []string{"gen --out FILE [flags]"},
		Example: "gen --rows 2000 --seed 7 --out accounts.csv",
	}
	fs := c.FlagSet()
	fs.Int("rows", 10000, "number of accounts")
	fs.String("out", "", "output CSV `file` (required)")
	err := c.Parse(fs, []string{"--help"}, os.Stdout, false)
	fmt.Println(errors.Is(err, cli.ErrDone), cli.Exit("gen", err, os.Stderr))
	// Output:
	// gen writes a seeded synthetic CRM export.
	//
	// Usage:
	//   gen --out FILE [flags]
	//
	// Example:
	//   gen --rows 2000 --seed 7 --out accounts.csv
	//
	// Flags:
	//   --out file
	//         output CSV file (required)
	//   --rows int
	//         number of accounts (default 10000)
	//   --version
	//         print the version and build information, and exit
	//   -h, --help
	//         print this help, and exit
	// true 0
}
