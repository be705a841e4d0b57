package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/profile"
)

// TestRunTierByValue trains on the channels dialect with --tier-by value:
// the summary gives the value model against the median and the channels,
// the artifact's tiers are on the expected value, the report has both
// sections; the flag is refused where no value model can come.
func TestRunTierByValue(t *testing.T) {
	e, err := synth.GenerateExport(synth.DialectChannels, synth.Config{Rows: 2000, Seed: 6})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := e.Sheets[0].WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	data := writeFile(t, "deals.csv", buf.String())
	out := filepath.Join(t.TempDir(), "m")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"--data", data, "--out", out, "--label", "won", "--tier-by", "value", "--quiet"}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"value model (Contract Value): log RMSE", "captures", "by expected value", "channels (Lead Source)"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	p, err := profile.ReadFile(filepath.Join(out, "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Tiers.By != profile.TierByValue || !p.HasValueModel() {
		t.Errorf("tiers by %q, value model %v; want tiers by the expected value", p.Tiers.By, p.HasValueModel())
	}
	report, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Value: what accounts are worth", "## The ICP by channel", "Thresholds on the expected value"} {
		if !bytes.Contains(report, []byte(want)) {
			t.Errorf("report.md lacks %q", want)
		}
	}

	leads, err := synth.GenerateExport(synth.DialectLeads, synth.Config{Rows: 600, Seed: 6})
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := leads.Sheets[0].WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"--data", writeFile(t, "leads.csv", buf.String()), "--out", filepath.Join(t.TempDir(), "l"), "--tier-by", "value", "--quiet"},
		&bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "no value model") {
		t.Errorf("--tier-by value without a value column: %v, want an error saying there is no value model", err)
	}
}
