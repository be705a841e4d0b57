package features

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/icpengine/icp"
)

// deals writes n closed deals (every third won) with the extra columns
// extra(i, won, r) returns under extraHead.
func deals(n int, extraHead string, extra func(i int, won bool, r *rand.Rand) string) string {
	return csvOf("Industry,Employees,Stage,"+extraHead, n, 7, func(i int, r *rand.Rand) string {
		won := i%3 == 0
		stage := "Closed Lost"
		if won {
			stage = "Closed Won"
		}
		return fmt.Sprintf("%s,%d,%s,%s", pick(r, "SaaS", "Retail", "Health"), 10+r.IntN(900), stage, extra(i, won, r))
	})
}

func TestDetectValue(t *testing.T) {
	wonOnly := func(v string) func(int, bool, *rand.Rand) string {
		return func(_ int, won bool, r *rand.Rand) string {
			if !won {
				return ""
			}
			return fmt.Sprintf(v, 1000+r.IntN(50000))
		}
	}
	tests := []struct {
		name string
		give string
		want string
	}{
		{"an LTV column", deals(90, "ltv_usd", func(_ int, won bool, r *rand.Rand) string { return fmt.Sprint(r.IntN(9000)) }), "ltv_usd"},
		{"an amount of won deals", deals(90, "Amount", wonOnly("%d")), "Amount"},
		{"a contract value in currency", deals(90, "Contract Value", wonOnly(`"$%d.00"`)), "Contract Value"},
		{"a won amount", deals(90, "won_amount", wonOnly("%d")), "won_amount"},
		{"ARR", deals(90, "ARR", wonOnly("%d")), "ARR"},
		{"annual revenue is a firmographic", deals(90, "Annual Revenue", func(int, bool, *rand.Rand) string { return "5000000" }), ""},
		{"a pre-sale amount is a feature", deals(90, "Amount", func(_ int, _ bool, r *rand.Rand) string { return fmt.Sprint(1000 + r.IntN(900)) }), ""},
		{"filled for few won deals", deals(90, "Amount", func(i int, won bool, _ *rand.Rand) string {
			if won && i%2 == 0 {
				return "5000"
			}
			return ""
		}), ""},
		{"negative values", deals(90, "Amount", func(_ int, won bool, r *rand.Rand) string {
			if !won {
				return ""
			}
			return fmt.Sprint(r.IntN(2000) - 1000)
		}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Infer(readCSV(t, tt.give), InferConfig{})
			if s.Outcomes.Value != tt.want {
				t.Fatalf("value column %q, want %q\n%s", s.Outcomes.Value, tt.want, table(s))
			}
			if tt.want == "" {
				return
			}
			c := s.Column(tt.want)
			if c.Role.IsFeature() {
				t.Errorf("value column %s is a feature (%s)", tt.want, c.Role)
			}
			if tt.want != "ltv_usd" && !strings.Contains(c.Reason, "the value outcome") {
				t.Errorf("reason %q does not say it is the value outcome", c.Reason)
			}
		})
	}
}

func TestValueOverride(t *testing.T) {
	give := deals(90, "Deal Size,Notes", func(_ int, _ bool, r *rand.Rand) string {
		return fmt.Sprintf("%d,n%d", 100+r.IntN(900), r.IntN(3))
	})
	tab := readCSV(t, give)
	s, err := InferWith(tab, InferConfig{}, &Override{Outcomes: &Outcomes{Value: "Deal Size"}})
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Column("Deal Size"); s.Outcomes.Value != "Deal Size" || c.Role != RoleOutcome || !c.Overridden {
		t.Errorf("value %q, Deal Size %+v; want the override's value column, an outcome", s.Outcomes.Value, c)
	}
	for _, tt := range []struct {
		name string
		give string
		want string
	}{
		{"missing", "Price", "not in the table"},
		{"text", "Notes", "needs numbers"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := InferWith(tab, InferConfig{}, &Override{Outcomes: &Outcomes{Value: tt.give}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("InferWith(value %q) = %v, want %q", tt.give, err, tt.want)
			}
		})
	}
}

func TestDetectChannel(t *testing.T) {
	sources := func(vs ...string) func(int, bool, *rand.Rand) string {
		return func(_ int, _ bool, r *rand.Rand) string { return pick(r, vs...) }
	}
	tests := []struct {
		name string
		give string
		want string
	}{
		{"Lead Source", deals(90, "Lead Source", sources("Web", "Partner Referral", "Trade Show")), "Lead Source"},
		{"utm_source", deals(90, "utm_source", sources("google", "newsletter", "linkedin")), "utm_source"},
		{"lead source before origin", deals(90, "Lead Origin,Lead Source", func(_ int, _ bool, r *rand.Rand) string {
			return pick(r, "API", "Landing Page") + "," + pick(r, "Google", "Olark Chat", "Reference")
		}), "Lead Source"},
		{"by content", deals(90, "how_acquired", sources("Inbound web form", "Outbound call", "Partner", "Paid ads")), "how_acquired"},
		{"not a channel by content", deals(90, "Segment", sources("SMB", "Mid-market", "Enterprise")), ""},
		{"one value only", deals(90, "Source", sources("Web")), ""},
		{"numbers named like a channel", deals(90, "channel", func(_ int, _ bool, r *rand.Rand) string { return fmt.Sprint(r.IntN(4)) }), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Infer(readCSV(t, tt.give), InferConfig{})
			if s.Channel != tt.want {
				t.Fatalf("channel %q, want %q\n%s", s.Channel, tt.want, table(s))
			}
			if tt.want != "" && !strings.Contains(s.Column(tt.want).Reason, "the channel") {
				t.Errorf("reason %q does not say it is the channel", s.Column(tt.want).Reason)
			}
		})
	}
}

func TestChannelOverrideAndValues(t *testing.T) {
	give := deals(60, "Lead Source,Referrer", func(i int, _ bool, r *rand.Rand) string {
		return pick(r, "partner referral", "Partner Referral", "Select", "") + "," + pick(r, "a", "b")
	})
	tab := readCSV(t, give)
	none := ""
	s, err := InferWith(tab, InferConfig{}, &Override{Channel: &none})
	if err != nil || s.Channel != "" {
		t.Errorf("override channel \"\": channel %q, %v; want none", s.Channel, err)
	}
	other := "Referrer"
	if s, err = InferWith(tab, InferConfig{}, &Override{Channel: &other}); err != nil || s.Channel != "Referrer" {
		t.Errorf("override channel Referrer: channel %q, %v", s.Channel, err)
	}
	bad := "Employees"
	if _, err := InferWith(tab, InferConfig{}, &Override{Channel: &bad}); err == nil || !strings.Contains(err.Error(), "needs text") {
		t.Errorf("override channel Employees = %v, want an error saying it needs text", err)
	}
	s = Infer(tab, InferConfig{})
	c := tab.Column("Lead Source")
	for i := range tab.Rows() {
		got, raw := s.ChannelOf(tab, i), strings.TrimSpace(c.Str[i])
		if want := map[bool]string{true: "", false: raw}[raw == "Select"]; got != want {
			t.Fatalf("ChannelOf(row %d) = %q, want %q (raw %q)", i, got, want, raw)
		}
	}
}

// TestOutcomesValue checks that a recorded outcome's value fills the value
// column when it is not an LTV column, and comes back from it.
func TestOutcomesValue(t *testing.T) {
	give := csvOf("Industry,Stage,Close Date,Contract Value", 60, 3, func(i int, r *rand.Rand) string {
		if i%3 == 0 {
			return fmt.Sprintf("%s,Closed Won,2024-01-%02d,%d", pick(r, "SaaS", "Retail"), 1+i%28, 1000+r.IntN(9000))
		}
		return fmt.Sprintf("%s,Closed Lost,2024-01-%02d,", pick(r, "SaaS", "Retail"), 1+i%28)
	})
	tab := readCSV(t, give)
	s := Infer(tab, InferConfig{})
	if s.Outcomes.Value != "Contract Value" || s.Outcomes.LTV != "" {
		t.Fatalf("value %q, LTV %q; want Contract Value and no LTV", s.Outcomes.Value, s.Outcomes.LTV)
	}
	v := 4321.5
	out, err := s.AppendOutcomes(tab, []icp.Outcome{{AccountID: "X", Account: icp.Account{"Industry": "SaaS"}, Won: true,
		CloseDate: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), LTVUSD: &v}})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Column("Contract Value").Num[out.Rows()-1]; got != v {
		t.Errorf("appended Contract Value = %v, want %v", got, v)
	}
	outs, err := s.TableOutcomes(out)
	if err != nil {
		t.Fatal(err)
	}
	if last := outs[len(outs)-1]; last.LTVUSD == nil || *last.LTVUSD != v {
		t.Errorf("TableOutcomes value = %v, want %v", last.LTVUSD, v)
	}
}
