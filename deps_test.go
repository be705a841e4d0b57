package icp_test

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/icpengine/icp"

// allowed is the dependency policy of the package docs (see package icp):
// what each package may import from this module (tests excepted). A
// package imports only from the rows above its own level; the commands
// under cmd/ wire everything and may import anything.
var allowed = map[string][]string{
	// The vocabulary and the learners, at the bottom.
	".":         {},
	"model":     {},
	"model/gbm": {"model"},
	// Data in, and its features.
	"datasets":       {"."},
	"datasets/synth": {".", "datasets"},
	"features":       {".", "datasets"},
	"rollup":         {".", "datasets", "features"},
	// Statistics and keys.
	"drift": {"."},
	"auth":  {"."},
	// The served profile: the artifact and scoring.
	"profile": {".", "datasets", "features", "model", "model/gbm", "drift"},
	// What reads a profile or makes one.
	"traits": {".", "datasets", "features", "drift", "profile"},
	"train":  {".", "datasets", "features", "model", "model/gbm", "drift", "profile", "traits"},
	"report": {".", "datasets", "profile"},
	// The model as SQL for warehouses.
	"sqlexport": {".", "datasets", "features", "model", "model/gbm", "profile"},
	"emerging":  {".", "datasets", "drift", "model", "profile", "traits"},
	"registry":  {".", "profile"},
	// Serving: persistence, the watcher and HTTP, which speak icp only.
	"store":            {"."},
	"watch":            {".", "drift", "model"},
	"server":           {".", "server/dashboard"},
	"server/dashboard": {"."},
	"notebooks":        {},
	// What the commands share on their command lines.
	"internal/cli": {},
}

func TestDependencyPolicy(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if name := d.Name(); path != "." && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return filepath.SkipDir
		}
		dir := filepath.ToSlash(path)
		if dir == "cmd" || strings.HasPrefix(dir, "cmd/") {
			return nil
		}
		pkg, err := build.ImportDir(path, 0)
		if err != nil {
			return nil // not a Go package
		}
		want, ok := allowed[dir]
		if !ok {
			t.Errorf("package %s is not in the dependency policy; add it to deps_test.go", dir)
			return nil
		}
		for _, imp := range pkg.Imports {
			if imp != module && !strings.HasPrefix(imp, module+"/") {
				continue
			}
			rel := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
			if rel == "" {
				rel = "."
			}
			if !slices.Contains(want, rel) {
				t.Errorf("package %s imports %s, which the policy does not allow", dir, imp)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
