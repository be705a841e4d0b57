package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/icpengine/icp/internal/cli"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite the table of serve's flags in README.md")

// The README's table of serve's flags lies between these lines.
const (
	flagTableBegin = "<!-- serve's flags: written by go test ./cmd/serve -run TestREADMEFlagTable -update-readme -->"
	flagTableEnd   = "<!-- end of serve's flags -->"
)

// flagTable renders every flag of serve as a Markdown table: the flag,
// its environment variable, its default and its meaning.
func flagTable() string {
	cmd := command(nil)
	fs := cmd.FlagSet()
	defineFlags(fs)
	var b strings.Builder
	b.WriteString("| flag | environment | default | meaning |\n|---|---|---|---|\n")
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "version" {
			return
		}
		_, usage := flag.UnquoteUsage(f)
		def := ""
		if cli.Default(f) != "" {
			def = "`" + f.DefValue + "`"
		}
		fmt.Fprintf(&b, "| `--%s` | `%s` | %s | %s |\n", f.Name, cmd.Env.Name(f.Name), def, strings.ReplaceAll(usage, "|", `\|`))
	})
	return b.String()
}

// TestREADMEFlagTable compares the README's table of serve's flags with
// the flags themselves, so that it cannot drift; -update-readme rewrites
// it.
func TestREADMEFlagTable(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	begin, end := strings.Index(text, flagTableBegin), strings.Index(text, flagTableEnd)
	if begin < 0 || end < begin {
		t.Fatalf("README.md lacks the lines %q and %q around the table of serve's flags", flagTableBegin, flagTableEnd)
	}
	got := strings.TrimSpace(text[begin+len(flagTableBegin) : end])
	want := strings.TrimSpace(flagTable())
	if got == want {
		return
	}
	if *updateREADME {
		text = text[:begin+len(flagTableBegin)] + "\n\n" + want + "\n\n" + text[end:]
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's table of serve's flags differs from the flags; run go test ./cmd/serve -run TestREADMEFlagTable -update-readme\ngot:\n%s\nwant:\n%s", got, want)
}

// TestFlagsFromEnvironment starts serve configured by environment
// variables, with a flag on the command line winning over its variable,
// and checks that a PostgreSQL password given through ICP_DB appears in
// no log line or error.
func TestFlagsFromEnvironment(t *testing.T) {
	model := trainModel(t)
	t.Run("serves", func(t *testing.T) {
		vars := map[string]string{
			"ICP_MODEL":                 model,
			"ICP_ALLOW_UNAUTHENTICATED": "true",
			"ICP_ADDR":                  "127.0.0.1:1", // the flag wins
			"ICP_LOG_FORMAT":            "json",
			"ICP_DRAIN_DELAY":           "0s",
			"ICP_MAX_BODY_BYTES":        "64",
		}
		env := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var logs syncBuffer
		ready := make(chan string, 1)
		done := make(chan error, 1)
		go func() { done <- serve(ctx, []string{"--addr", "127.0.0.1:0"}, env, io.Discard, &logs, ready) }()
		var addr string
		select {
		case addr = <-ready:
		case err := <-done:
			t.Fatalf("serve: %v\n%s", err, logs.String())
		}
		// --max-body-bytes from ICP_MAX_BODY_BYTES: a 100-byte body is too large.
		resp, err := http.Post("http://"+addr+"/v1/score", "application/json", strings.NewReader(`{"account_id": "`+strings.Repeat("x", 80)+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("POST /v1/score with 100 bytes = %d, want 413 from ICP_MAX_BODY_BYTES=64", resp.StatusCode)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("serve: %v", err)
		}
		out := logs.String()
		if !strings.Contains(out, `"msg":"flags from the environment"`) ||
			!strings.Contains(out, `"variables":"ICP_ALLOW_UNAUTHENTICATED,ICP_DRAIN_DELAY,ICP_LOG_FORMAT,ICP_MAX_BODY_BYTES,ICP_MODEL"`) {
			t.Errorf("logs (JSON from ICP_LOG_FORMAT) lack the variables used, ICP_ADDR left out:\n%s", out)
		}
	})
	t.Run("secret kept out of the logs", func(t *testing.T) {
		const password = "s3cret-pw"
		for _, dsn := range []string{
			"postgres://icp:" + password + "@127.0.0.1:1/icp?connect_timeout=2",
			"postgres://icp:" + password + "@[::1",
		} {
			env := func(k string) (string, bool) { return dsn, k == "ICP_DB" }
			var logs syncBuffer
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			err := serve(ctx, []string{"--model", model, "--addr", "127.0.0.1:0"}, env, io.Discard, &logs, nil)
			cancel()
			var stderr bytes.Buffer
			if got := cli.Exit("serve", err, &stderr); got != cli.ExitFailure {
				t.Errorf("serve with an unreachable ICP_DB: exit status %d (%v), want 1", got, err)
			}
			if all := logs.String() + stderr.String(); strings.Contains(all, password) || !strings.Contains(all, "refusing to start") {
				t.Errorf("serve with ICP_DB printed:\n%s\nwant a refusal without the password", all)
			}
		}
	})
	t.Run("bad variable", func(t *testing.T) {
		env := func(k string) (string, bool) { return "many", k == "ICP_MAX_IN_FLIGHT" }
		err := serve(context.Background(), []string{"--model", model}, env, io.Discard, io.Discard, nil)
		if _, ok := errors.AsType[*cli.UsageError](err); !ok || !strings.Contains(err.Error(), "ICP_MAX_IN_FLIGHT (--max-in-flight)") {
			t.Errorf("serve with ICP_MAX_IN_FLIGHT=many = %v, want a usage error naming the variable", err)
		}
	})
}

// TestHelpAndVersion checks serve's --help (every flag with its
// environment variable) and --version, both with status 0.
func TestHelpAndVersion(t *testing.T) {
	var stdout bytes.Buffer
	err := serve(context.Background(), []string{"--help"}, nil, &stdout, io.Discard, nil)
	if got := cli.Exit("serve", err, io.Discard); got != cli.ExitOK {
		t.Fatalf("serve --help: status %d (%v)", got, err)
	}
	for _, want := range []string{"serve answers scoring calls", "Example:\n", "  --db store\n", "[$ICP_DB]", "[$ICP_MAX_BODY_BYTES]", "[$ICP_WEBHOOK_URL]"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("serve --help lacks %q:\n%s", want, stdout.String())
		}
	}
	stdout.Reset()
	err = serve(context.Background(), []string{"--version"}, nil, &stdout, io.Discard, nil)
	if got := cli.Exit("serve", err, io.Discard); got != cli.ExitOK || !strings.HasPrefix(stdout.String(), "serve ") {
		t.Errorf("serve --version: status %d, printed %q", got, stdout.String())
	}
}

// TestExitStatus checks serve's exit statuses: 2 for a bad command line,
// flags whose values cannot work included, and 1 for a refusal to start.
func TestExitStatus(t *testing.T) {
	model := trainModel(t)
	dir := t.TempDir()
	tests := []struct {
		name string
		give []string
		want int
	}{
		{"no model and no store", nil, cli.ExitUsage},
		{"bad log format", []string{"--model", model, "--log-format", "xml"}, cli.ExitUsage},
		{"bad sample rate", []string{"--model", model, "--db", filepath.Join(dir, "a.db"), "--allow-unauthenticated", "--sample-rate", "2"}, cli.ExitUsage},
		{"webhook without a store", []string{"--model", model, "--allow-unauthenticated", "--webhook-url", "http://127.0.0.1:1/"}, cli.ExitUsage},
		{"debug address not loopback", []string{"--model", model, "--allow-unauthenticated", "--debug-addr", "0.0.0.0:0"}, cli.ExitUsage},
		{"missing model", []string{"--model", filepath.Join(dir, "none.json"), "--allow-unauthenticated"}, cli.ExitFailure},
		{"no keys", []string{"--model", model, "--db", filepath.Join(dir, "b.db"), "--addr", "127.0.0.1:0"}, cli.ExitFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := serve(context.Background(), append(tt.give, "--addr", "127.0.0.1:0"), nil, io.Discard, io.Discard, nil)
			var stderr bytes.Buffer
			if got := cli.Exit("serve", err, &stderr); got != tt.want {
				t.Errorf("serve %q: status %d (%v), want %d", tt.give, got, err, tt.want)
			}
			if strings.Contains(stderr.String(), "serve: serve:") {
				t.Errorf("stderr repeats the prefix: %s", stderr.String())
			}
		})
	}
}
