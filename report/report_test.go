package report

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/train"
)

var update = flag.Bool("update", false, "update golden files")

// cache holds one trained profile per configuration, since training is
// the slow part of these tests.
var cache sync.Map

type trainKey struct {
	rows   int
	seed   uint64
	target string
}

// trained returns a profile trained with seed 1 on a generated table of
// rows rows (seed seed) under the label target, and the table.
func trained(t testing.TB, rows int, seed uint64, target string) (*profile.Profile, *datasets.Table) {
	t.Helper()
	k := trainKey{rows, seed, target}
	tab, _ := synth.Generate(synth.Config{Rows: rows, Seed: seed})
	tab.Source = "generated.csv"
	if p, ok := cache.Load(k); ok {
		return p.(*profile.Profile), tab
	}
	p, err := train.Train(tab, features.Infer(tab, features.InferConfig{}), train.Config{Seed: 1, Label: train.LabelConfig{Target: target}})
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	cache.Store(k, p)
	return p, tab
}

func TestReportGolden(t *testing.T) {
	p, _ := trained(t, 1500, 5, train.TargetIdeal)
	var b bytes.Buffer
	if err := WriteMarkdown(&b, p, Options{}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "report.golden.md", b.Bytes())
}

// checkGolden compares got with testdata/name, which -update rewrites.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("report differs from %s; run go test ./report -update and review the diff\n%s", golden, got)
	}
}

// TestReportGoldenSegments pins the Markdown report of a profile with
// segments, an anti-ICP and a comparison with a previous model (itself).
func TestReportGoldenSegments(t *testing.T) {
	p, tab := trained(t, 5000, 42, train.TargetWon)
	if len(p.Segments) == 0 {
		t.Fatalf("no segments on 5,000 generated rows: %s", p.SegmentSearch.Reason)
	}
	changes, err := Compare(p, p, tab)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, p, Options{Changes: changes}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "report_segments.golden.md", b.Bytes())
}

func TestCompareWithItself(t *testing.T) {
	p, tab := trained(t, 5000, 42, train.TargetWon)
	c, err := Compare(p, p, tab)
	if err != nil {
		t.Fatal(err)
	}
	if c.Moved != 0 {
		t.Errorf("Compare(p, p).Moved = %d, want 0", c.Moved)
	}
	for _, s := range c.Segments {
		if s.Change != "kept" || math.Abs(s.Overlap-1) > 1e-9 {
			t.Errorf("Compare(p, p) segment %+v, want kept with overlap 1", s)
		}
	}
	if len(c.Segments) != len(p.Segments) {
		t.Errorf("Compare(p, p) lists %d segments, want %d", len(c.Segments), len(p.Segments))
	}
}
