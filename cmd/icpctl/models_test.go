package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model/gbm"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/train"
)

// writeModels trains two small models and writes their artifacts.
func writeModels(t *testing.T) (a, b string) {
	t.Helper()
	tab, _ := synth.Generate(synth.Config{Rows: 1200, Seed: 4})
	var paths [2]string
	for i := range paths {
		p, err := train.Train(tab, features.Infer(tab, features.InferConfig{}), train.Config{Seed: uint64(i + 1)})
		if err != nil {
			t.Fatal(err)
		}
		paths[i] = filepath.Join(t.TempDir(), "model.json")
		if err := p.WriteFile(paths[i]); err != nil {
			t.Fatal(err)
		}
	}
	return paths[0], paths[1]
}

func TestModelsLifecycle(t *testing.T) {
	db := filepath.Join(t.TempDir(), "icp.db")
	a, b := writeModels(t)
	out, _, err := icpctl(t, "models", "register", "--db", db, "--file", a, "--promote", "--actor", "ops", "--reason", "first")
	if err != nil || !strings.HasPrefix(out, "registered sha256:") || !strings.Contains(out, "promote: champion is now") {
		t.Fatalf("models register --promote = %q, %v", out, err)
	}
	if out, _, err = icpctl(t, "models", "register", "--db", db, "--file", a); err != nil || !strings.HasPrefix(out, "already registered") {
		t.Fatalf("models register again = %q, %v", out, err)
	}
	if _, _, err = icpctl(t, "models", "register", "--db", db, "--file", b, "--actor", "ops"); err != nil {
		t.Fatal(err)
	}
	out, _, err = icpctl(t, "models", "list", "--db", db, "--json")
	var list []icp.ModelRecord
	if err != nil || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 {
		t.Fatalf("models list --json = %q, %v, want two versions", out, err)
	}
	newest := list[0] // b, registered last
	if len(newest.Aliases) != 0 || strings.Join(list[1].Aliases, ",") != icp.AliasChampion {
		t.Fatalf("aliases = %v and %v, want none and champion", newest.Aliases, list[1].Aliases)
	}
	ref := strings.TrimPrefix(newest.Checksum, "sha256:")[:10]
	if out, _, err = icpctl(t, "models", "promote", "--db", db, "--actor", "ops", ref); err != nil || !strings.Contains(out, "champion is now "+newest.Checksum) {
		t.Fatalf("models promote %s = %q, %v", ref, out, err)
	}
	if out, _, err = icpctl(t, "models", "rollback", "--db", db, "--actor", "ops", "--reason", "bad week"); err != nil || !strings.Contains(out, "champion is now "+list[1].Checksum) {
		t.Fatalf("models rollback = %q, %v", out, err)
	}
	if out, _, err = icpctl(t, "models", "shadow", "--db", db, newest.Version); err != nil || !strings.Contains(out, "shadow is now "+newest.Checksum) {
		t.Fatalf("models shadow = %q, %v", out, err)
	}
	if out, _, err = icpctl(t, "models", "unshadow", "--db", db); err != nil || !strings.Contains(out, "shadow removed") {
		t.Fatalf("models unshadow = %q, %v", out, err)
	}
	out, _, err = icpctl(t, "models", "history", "--db", db, "--json", "--limit", "0")
	var events []icp.ModelEvent
	if err != nil || json.Unmarshal([]byte(out), &events) != nil {
		t.Fatalf("models history --json = %q, %v", out, err)
	}
	var actions []string
	for _, ev := range events {
		actions = append(actions, string(ev.Action))
	}
	want := "unshadow shadow rollback promote register register promote register"
	if got := strings.Join(actions, " "); got != want {
		t.Fatalf("history = %s, want %s", got, want)
	}
	if events[2].Actor != "ops" || events[2].Detail != "bad week" {
		t.Errorf("rollback entry = %+v, want actor ops and the reason", events[2])
	}
	table, _, err := icpctl(t, "models", "history", "--db", db)
	if err != nil || !strings.Contains(table, "rollback") || !strings.Contains(table, "bad week") {
		t.Errorf("models history = %q, %v", table, err)
	}
}

func TestModelsRefusals(t *testing.T) {
	db := filepath.Join(t.TempDir(), "icp.db")
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"format":"icp-model","format_version":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no db", []string{"models", "list"}, "--db is required"},
		{"unknown command", []string{"models", "delete", "--db", db}, "unknown command models delete"},
		{"register without file", []string{"models", "register", "--db", db}, "--file is required"},
		{"invalid artifact", []string{"models", "register", "--db", db, "--file", bad}, "bad.json"},
		{"promote without ref", []string{"models", "promote", "--db", db}, "want exactly one model"},
		{"promote unknown", []string{"models", "promote", "--db", db, "m-nope"}, "no registered version"},
		{"rollback with nothing", []string{"models", "rollback", "--db", db}, "no champion to roll back"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := icpctl(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("icpctl %v = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}

// TestModelsRegisterForged reproduces the first finding of the outside
// test through icpctl: a model file whose tree shares its nodes (node i
// points to i+1 and i+2) exhausted memory when registered. It is refused,
// and nothing is stored.
func TestModelsRegisterForged(t *testing.T) {
	a, _ := writeModels(t)
	p, err := profile.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	var dag gbm.Tree
	for i := range 1000 {
		f, l, r := int32(i%3), int32(i+1), int32(i+2)
		if i >= 998 {
			f, l, r = -1, -1, -1
		}
		dag.Feature, dag.Threshold = append(dag.Feature, f), append(dag.Threshold, 0.5)
		dag.Left, dag.Right = append(dag.Left, l), append(dag.Right, r)
		dag.MissingLeft, dag.Value, dag.Cover = append(dag.MissingLeft, true), append(dag.Value, 0.01), append(dag.Cover, 1)
	}
	for i := 997; i >= 0; i-- {
		dag.Cover[i] = dag.Cover[i+1] + dag.Cover[i+2]
	}
	p.Model = profile.NewGBMModel(&gbm.Model{Trees: []gbm.Tree{dag}, Loss: "logloss", NumFeatures: p.Encoder.Width}, p.Encoder)
	forged := filepath.Join(t.TempDir(), "forged.json")
	if err := p.WriteFile(forged); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "icp.db")
	if _, _, err := icpctl(t, "models", "register", "--db", db, "--file", forged); err == nil || !strings.Contains(err.Error(), "reached twice") {
		t.Fatalf("models register (forged) = %v, want an error naming the shared node", err)
	}
	out, _, err := icpctl(t, "models", "list", "--db", db, "--json")
	var list []icp.ModelRecord
	if err != nil || json.Unmarshal([]byte(out), &list) != nil || len(list) != 0 {
		t.Fatalf("models list --json = %q, %v, want no version", out, err)
	}
}
