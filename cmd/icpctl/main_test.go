package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/auth"
	"github.com/icpengine/icp/internal/cli"
	"github.com/icpengine/icp/store"
)

func icpctl(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(context.Background(), args, nil, &out, &errb)
	return out.String(), errb.String(), err
}

func TestKeysLifecycle(t *testing.T) {
	db := filepath.Join(t.TempDir(), "icp.db")
	out, msg, err := icpctl(t, "keys", "create", "--db", db, "--name", "crm-sync", "--scopes", "score,outcomes")
	if err != nil {
		t.Fatalf("keys create: %v (%s)", err, msg)
	}
	key := strings.TrimSpace(out)
	if !regexp.MustCompile(`^icp_[A-Za-z0-9]{8}_[A-Za-z0-9]{32}$`).MatchString(key) {
		t.Fatalf("keys create printed %q, want one key alone on stdout", out)
	}
	if strings.Contains(msg, key) || !strings.Contains(msg, "shown once") {
		t.Errorf("keys create stderr = %q, want a notice without the key", msg)
	}

	out, _, err = icpctl(t, "keys", "list", "--db", db, "--json")
	if err != nil {
		t.Fatalf("keys list: %v", err)
	}
	var keys []icp.APIKey
	if err := json.Unmarshal([]byte(out), &keys); err != nil || len(keys) != 1 {
		t.Fatalf("keys list --json = %s, %v, want one key", out, err)
	}
	prefix, _ := auth.Parse(key)
	if k := keys[0]; k.Name != "crm-sync" || k.Prefix != prefix || k.Revoked() || strings.Contains(out, key) || strings.Contains(out, auth.Hash(key)) {
		t.Errorf("keys list = %s, want crm-sync with prefix %s, active, and neither the key nor its hash", out, prefix)
	}
	table, _, err := icpctl(t, "keys", "list", "--db", db)
	if err != nil || !strings.Contains(table, keys[0].ID) || !strings.Contains(table, "score,outcomes") || !strings.Contains(table, "active") {
		t.Errorf("keys list = %q, %v, want a table row for %s", table, err, keys[0].ID)
	}

	// The stored record verifies the printed key.
	st, err := store.Open(t.Context(), db, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	v := auth.NewVerifier(st, auth.VerifierConfig{CacheTTL: -1})
	if p, err := v.VerifyKey(t.Context(), key); err != nil || p.KeyID != keys[0].ID || !p.Has(icp.ScopeOutcomes) {
		t.Errorf("VerifyKey(printed key) = %+v, %v, want %s with outcomes", p, err, keys[0].ID)
	}

	out, _, err = icpctl(t, "keys", "revoke", "--db", db, keys[0].ID)
	if err != nil || !strings.Contains(out, "revoked "+keys[0].ID) {
		t.Fatalf("keys revoke = %q, %v", out, err)
	}
	if _, err := v.VerifyKey(t.Context(), key); err == nil {
		t.Error("VerifyKey(revoked key) succeeded, want an error")
	}
	st.Close()
	if _, _, err := icpctl(t, "keys", "revoke", "--db", db, "key_nope"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("keys revoke unknown = %v, want not found", err)
	}
}

func TestKeysErrors(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "icp.db")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "want a command"},
		{"unknown command", []string{"keys", "rotate", "--db", db}, "unknown command"},
		{"no db", []string{"keys", "list"}, "--db is required"},
		{"no name", []string{"keys", "create", "--db", db, "--scopes", "read"}, "--name is required"},
		{"bad scope", []string{"keys", "create", "--db", db, "--name", "x", "--scopes", "read,root"}, `unknown scope "root"`},
		{"no scopes", []string{"keys", "create", "--db", db, "--name", "x"}, "no scopes"},
		{"revoke without id", []string{"keys", "revoke", "--db", db}, "exactly one key id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := icpctl(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("icpctl %v = %v, want an error containing %q", tt.args, err, tt.want)
			}
			if got := cli.Exit("icpctl", err, io.Discard); got != cli.ExitUsage {
				t.Errorf("icpctl %v: exit status %d, want %d", tt.args, got, cli.ExitUsage)
			}
		})
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("refused commands created %s (stat error %v), want no file", db, err)
	}
}

// TestHelpVersionAndEnvironment checks the help of icpctl and of each of
// its commands, --version, and --db taken from ICP_DB.
func TestHelpVersionAndEnvironment(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"help"}, {"keys", "create", "--help"}, {"keys", "list", "-h"}, {"keys", "revoke", "--help"},
		{"models", "register", "--help"}, {"models", "list", "--help"}, {"models", "promote", "--help"},
		{"models", "rollback", "--help"}, {"models", "shadow", "--help"}, {"models", "unshadow", "--help"},
		{"models", "history", "--help"}, {"sql", "--help"},
	} {
		out, _, err := icpctl(t, args...)
		if got := cli.Exit("icpctl", err, io.Discard); got != cli.ExitOK {
			t.Errorf("icpctl %q: exit status %d (%v), want 0", args, got, err)
		}
		for _, want := range []string{"Usage:\n", "Example:\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("icpctl %q printed %q, want it to contain %q", args, out, want)
			}
		}
	}
	out, _, err := icpctl(t, "--version")
	if err != cli.ErrDone || !strings.HasPrefix(out, "icpctl ") {
		t.Errorf("icpctl --version = %q, %v; want the version line", out, err)
	}

	db := filepath.Join(t.TempDir(), "icp.db")
	env := func(k string) (string, bool) { return db, k == "ICP_DB" }
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"keys", "create", "--name", "ops", "--scopes", "read"}, env, &stdout, &stderr); err != nil {
		t.Fatalf("keys create with ICP_DB: %v", err)
	}
	stdout.Reset()
	if err := run(context.Background(), []string{"models", "list"}, env, &stdout, &stderr); err != nil {
		t.Fatalf("models list with ICP_DB: %v", err)
	}
	// The flag wins over the environment.
	other := filepath.Join(t.TempDir(), "other.db")
	stdout.Reset()
	if err := run(context.Background(), []string{"keys", "list", "--db", other, "--json"}, env, &stdout, &stderr); err != nil || strings.TrimSpace(stdout.String()) != "[]" {
		t.Errorf("keys list --db other = %q, %v; want no key", stdout.String(), err)
	}
	stdout.Reset()
	if err := run(context.Background(), []string{"keys", "list", "--json"}, env, &stdout, &stderr); err != nil || !strings.Contains(stdout.String(), `"name": "ops"`) {
		t.Errorf("keys list with ICP_DB = %q, %v; want the key made through ICP_DB", stdout.String(), err)
	}
}
