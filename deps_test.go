package icp_test

import (
	"go/build"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/icpengine/icp"

// allowed is the dependency policy of ARCHITECTURE.md: what each package
// may import from this module (tests excepted). The commands under cmd/
// wire everything and may import anything.
var allowed = map[string][]string{
	".":         {},
	"datasets":  {"."},
	"features":  {".", "datasets"},
	"model":     {},
	"drift":     {"."},
	"auth":      {"."},
	"store":     {"."},
	"server":    {"."},
	"profile":   {".", "datasets", "features", "model", "drift"},
	"traits":    {".", "datasets", "features", "drift", "profile"},
	"train":     {".", "datasets", "features", "model", "drift", "profile", "traits"},
	"report":    {".", "datasets", "profile"},
	"emerging":  {".", "datasets", "drift", "model", "profile", "traits"},
	"watch":     {".", "drift", "model"},
	"registry":  {".", "profile"},
	"notebooks": {},
}

func TestDependencyPolicy(t *testing.T) {
	dirs, err := filepath.Glob("*")
	if err != nil {
		t.Fatal(err)
	}
	dirs = append(dirs, ".")
	for _, dir := range dirs {
		pkg, err := build.ImportDir(dir, 0)
		if err != nil {
			continue // not a Go package
		}
		want, ok := allowed[dir]
		if !ok {
			if dir != "cmd" {
				t.Errorf("package %s is not in the dependency policy; add it to deps_test.go", dir)
			}
			continue
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
	}
}
