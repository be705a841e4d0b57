package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/train"
)

// trainedExport trains on a dialect of the generator, read as an export
// is, with the schema inferred, under the label won.
func trainedExport(t *testing.T, dialect string, rows int, cfg train.Config) *profile.Profile {
	t.Helper()
	e, err := synth.GenerateExport(dialect, synth.Config{Rows: rows, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := e.Sheets[0].WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	tab, err := datasets.Read(&buf, dialect+".csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := features.Infer(tab, features.InferConfig{})
	cfg.Seed, cfg.Label.Target = 1, train.TargetWon
	p, err := train.Train(s.Clean(tab), s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestValueAndChannelSections checks that the report's value section
// appears where the data have a value outcome and its channel section
// exactly where they have a channel column, in the Markdown, the HTML and
// the ICP document.
func TestValueAndChannelSections(t *testing.T) {
	withBoth := trainedExport(t, synth.DialectChannels, 2000, train.Config{Value: train.ValueConfig{TierBy: train.TierByValue}})
	noChannel, _ := trained(t, 1500, 5, train.TargetIdeal)
	noValue := trainedExport(t, synth.DialectLeads, 1500, train.Config{})
	tests := []struct {
		name           string
		p              *profile.Profile
		value, channel bool
	}{
		{"value and channel", withBoth, true, true},
		{"value, no channel", noChannel, true, false},
		{"channel, no value", noValue, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var md, page bytes.Buffer
			if err := WriteMarkdown(&md, tt.p, Options{}); err != nil {
				t.Fatal(err)
			}
			if err := WriteHTML(&page, tt.p, Options{}); err != nil {
				t.Fatal(err)
			}
			doc, err := json.Marshal(Document(tt.p))
			if err != nil {
				t.Fatal(err)
			}
			var obj map[string]any
			if err := json.Unmarshal(doc, &obj); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what    string
				has     bool
				present bool
			}{
				{"## Value: what accounts are worth", strings.Contains(md.String(), "## Value: what accounts are worth"), tt.value},
				{"## The ICP by channel", strings.Contains(md.String(), "## The ICP by channel"), tt.channel},
				{"<h2>The ICP by channel</h2>", strings.Contains(page.String(), "<h2>The ICP by channel</h2>"), tt.channel},
				{"the ICP document's value", obj["value"] != nil, tt.value},
				{"the ICP document's channels", obj["channels"] != nil, tt.channel},
			} {
				if c.has != c.present {
					t.Errorf("%s present: %v, want %v", c.what, c.has, c.present)
				}
			}
			if bytes.Contains(doc, []byte(`"trees"`)) && tt.p.Value != nil {
				v, _ := json.Marshal(obj["value"])
				if bytes.Contains(v, []byte(`"trees"`)) {
					t.Errorf("the ICP document's value holds the value model's trees")
				}
			}
		})
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, withBoth, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"**Channels that bring ICP accounts:**", "**Channels that bring the anti-ICP:**",
		"Thresholds on the expected value", "tier 1 (the top 10.0%", "### By segment", "### By tier", "| Partner Referral |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	var sum bytes.Buffer
	WriteSummary(&sum, withBoth)
	for _, want := range []string{"value model (Contract Value): log RMSE", "by expected value", "channels (Lead Source)"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
}
