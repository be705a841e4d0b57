//go:build unix

package icp_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCommandLines runs every built command as a user would: --help and
// -h print a paragraph, the usage, an example and every flag with its
// description on stdout and exit 0; --version prints the build
// information and exits 0; a flag that does not exist exits 2 with one
// prefixed error and a pointer to --help.
func TestCommandLines(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the commands")
	}
	if err := buildCommands(""); err != nil {
		t.Fatal(err)
	}
	commands := [][]string{
		{"train"}, {"serve"}, {"score"}, {"gen"}, {"replay"}, {"icpbench"}, {"ceiling"},
		{"icpctl", "keys", "create"}, {"icpctl", "keys", "list"}, {"icpctl", "keys", "revoke"},
		{"icpctl", "models", "register"}, {"icpctl", "models", "list"}, {"icpctl", "models", "promote"},
		{"icpctl", "models", "rollback"}, {"icpctl", "models", "shadow"}, {"icpctl", "models", "unshadow"},
		{"icpctl", "models", "history"}, {"icpctl", "sql"},
	}
	flagLine := regexp.MustCompile(`^  --[a-z0-9-]+( [A-Za-z.]+)?$`)
	for _, c := range commands {
		name := strings.Join(c, " ")
		bin := filepath.Join(buildDir, c[0])
		t.Run(name, func(t *testing.T) {
			for _, help := range []string{"--help", "-h"} {
				stdout, stderr, status := runCommand(t, bin, append(c[1:], help)...)
				if status != 0 || stderr != "" {
					t.Errorf("%s %s: status %d, stderr %q; want 0 and nothing", name, help, status, stderr)
				}
				for _, want := range []string{"\n\nUsage:\n  " + name + " ", "\n\nExample:\n  ", "\n\nFlags:\n", "  --version\n"} {
					if !strings.Contains(stdout, want) {
						t.Errorf("%s %s lacks %q:\n%s", name, help, want, stdout)
					}
				}
				if strings.HasPrefix(stdout, "Usage:") {
					t.Errorf("%s %s starts with the usage, want a paragraph first", name, help)
				}
				lines := strings.Split(stdout, "\n")
				for i, l := range lines {
					if flagLine.MatchString(l) && (i+1 == len(lines) || !strings.HasPrefix(lines[i+1], "        ") || len(strings.TrimSpace(lines[i+1])) < 8) {
						t.Errorf("%s %s: flag %q has no description", name, help, strings.TrimSpace(l))
					}
				}
			}
			stdout, stderr, status := runCommand(t, bin, append(c[1:], "--version")...)
			if status != 0 || !strings.HasPrefix(stdout, name+" ") || !strings.Contains(stdout, "(github.com/icpengine/icp)") || !strings.Contains(stdout, ", revision ") {
				t.Errorf("%s --version: status %d, stdout %q, stderr %q; want 0 and the build information", name, status, stdout, stderr)
			}
			_, stderr, status = runCommand(t, bin, append(c[1:], "--no-such-flag")...)
			prefix := c[0] + ": "
			if status != 2 || !strings.HasPrefix(stderr, prefix+"flag provided but not defined: -no-such-flag\n") ||
				strings.Contains(stderr, prefix+prefix) || !strings.Contains(stderr, "--help") {
				t.Errorf("%s --no-such-flag: status %d, stderr %q; want 2, one %q prefix and a pointer to --help", name, status, stderr, prefix)
			}
		})
	}
}

// runCommand runs a built command with no ICP_ environment variable.
func runCommand(t *testing.T, bin string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ICP_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		return o.String(), e.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

// TestREADMERoutes checks that every route the README names ("`GET
// /v1/icp`") is one the server documents in its OpenAPI document, which a
// test of package server keeps in step with the router: a route that
// answers 404 is not documented.
func TestREADMERoutes(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join("server", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(doc, &spec); err != nil {
		t.Fatal(err)
	}
	route := regexp.MustCompile("`((?:GET|POST|DELETE|HEAD|PUT|PATCH)(?:\\|(?:GET|POST|DELETE|HEAD|PUT|PATCH))*) (/[^`?\\s]*)[^`]*`")
	found := 0
	for _, m := range route.FindAllStringSubmatch(string(readme), -1) {
		path := m[2]
		if strings.HasSuffix(path, "/*") {
			continue // a family of routes
		}
		for _, method := range strings.Split(m[1], "|") {
			found++
			ops, ok := spec.Paths[path]
			if _, has := ops[strings.ToLower(method)]; !ok || !has {
				t.Errorf("README.md names %s %s, which server/openapi.json does not document", method, path)
			}
		}
	}
	if found < 20 {
		t.Errorf("found %d routes in README.md, want the 20 or more it names", found)
	}
}

// TestMain removes the commands built by buildCommands.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}
