package features

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
)

// rowAccount returns row i of t as the raw fields a client would send for
// the schema's feature and id columns.
func rowAccount(s *Schema, t *datasets.Table, i int) icp.Account {
	acc := icp.Account{}
	for _, sc := range s.Columns {
		if !sc.Role.IsFeature() && sc.Name != s.ID {
			continue
		}
		c := t.Column(sc.Name)
		if c.IsMissing(i) {
			acc[sc.Name] = nil
			continue
		}
		switch c.Kind {
		case datasets.String:
			acc[sc.Name] = c.Str[i]
		case datasets.Bool:
			acc[sc.Name] = c.Num[i] == 1
		case datasets.Date:
			acc[sc.Name] = time.Unix(int64(c.Num[i]*86400), 0).UTC().Format(time.DateOnly)
		default:
			acc[sc.Name] = c.Num[i]
		}
	}
	return acc
}

func ptr[T any](v T) *T { return &v }

func TestAppendOutcomes(t *testing.T) {
	tab, _ := synth.Generate(synth.Config{Rows: 300, Seed: 3})
	s := Infer(tab, InferConfig{})
	if s.Outcomes.Won == "" || s.Outcomes.CloseDate == "" || s.Outcomes.LTV == "" || s.Outcomes.CycleDays == "" || s.Outcomes.Churned == "" {
		t.Fatalf("Infer outcomes = %+v, want all five outcome columns", s.Outcomes)
	}
	close1 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	acc := rowAccount(s, tab, 7)
	delete(acc, s.ID)
	outs := []icp.Outcome{
		{AccountID: "NEW-1", Account: acc, Won: true, Churned: ptr(false), CloseDate: close1, LTVUSD: ptr(1200.5), CycleDays: ptr(41.0)},
		{AccountID: "NEW-2", Account: rowAccount(s, tab, 8), Won: false, CloseDate: close1.AddDate(0, 0, 1)},
	}
	got, err := s.AppendOutcomes(tab, outs)
	if err != nil {
		t.Fatalf("AppendOutcomes: %v", err)
	}
	if got.Rows() != 302 || tab.Rows() != 300 {
		t.Fatalf("AppendOutcomes rows = %d (input %d), want 302 (input 300)", got.Rows(), tab.Rows())
	}
	tests := []struct {
		col  string
		row  int
		want any
	}{
		{"account_id", 300, "NEW-1"},
		{"account_id", 301, tab.Column("account_id").Str[8]},
		{"outcome", 300, "won"},
		{"outcome", 301, "lost"},
		{"close_date", 300, float64(close1.Unix()) / 86400},
		{"ltv_usd", 300, 1200.5},
		{"ltv_usd", 301, math.NaN()},
		{"sales_cycle_days", 300, 41.0},
		{"churned", 300, 0.0},
		{"churned", 301, math.NaN()},
		{"industry", 300, tab.Column("industry").Str[7]},
		{"tech_stack", 301, tab.Column("tech_stack").Str[8]},
		{"employees", 300, tab.Column("employees").Num[7]},
		{"account_id", 5, tab.Column("account_id").Str[5]},
	}
	for _, tt := range tests {
		c := got.Column(tt.col)
		switch w := tt.want.(type) {
		case string:
			if c.Str[tt.row] != w {
				t.Errorf("AppendOutcomes %s[%d] = %q, want %q", tt.col, tt.row, c.Str[tt.row], w)
			}
		case float64:
			v := c.Num[tt.row]
			if math.IsNaN(w) != math.IsNaN(v) || (!math.IsNaN(w) && math.Abs(v-w) > 1e-9) {
				t.Errorf("AppendOutcomes %s[%d] = %v, want %v", tt.col, tt.row, v, w)
			}
		}
	}
	// The training labels see the new rows.
	if err := s.Check(got); err != nil {
		t.Errorf("Check(appended) = %v, want nil", err)
	}
}

func TestAppendOutcomesNumericWon(t *testing.T) {
	tab := &datasets.Table{Columns: []*datasets.Column{
		{Name: "employees", Kind: datasets.Number, Num: []float64{10, 20}},
		{Name: "won", Kind: datasets.Bool, Num: []float64{1, 0}},
	}}
	s := &Schema{
		Columns:  []Column{{Name: "employees", Role: RoleNumeric, Kind: "number"}, {Name: "won", Role: RoleOutcome, Kind: "bool"}},
		Outcomes: Outcomes{Won: "won"},
	}
	got, err := s.AppendOutcomes(tab, []icp.Outcome{{AccountID: "a", Account: icp.Account{"employees": "1,200"}, Won: true, CloseDate: time.Now()}})
	if err != nil {
		t.Fatalf("AppendOutcomes: %v", err)
	}
	if w, e := got.Column("won").Num[2], got.Column("employees").Num[2]; w != 1 || e != 1200 {
		t.Errorf("AppendOutcomes won, employees = %v, %v, want 1, 1200", w, e)
	}
}

func TestAppendOutcomesErrors(t *testing.T) {
	tab, _ := synth.Generate(synth.Config{Rows: 50, Seed: 3})
	s := Infer(tab, InferConfig{})
	outs := []icp.Outcome{
		{AccountID: "a", Account: icp.Account{"employees": 10.0}, CloseDate: time.Now()},
		{AccountID: "b", Account: icp.Account{"employees": "many", "colour": "red"}},
	}
	_, err := s.AppendOutcomes(tab, outs)
	var v *icp.ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("AppendOutcomes(bad) error = %v, want *icp.ValidationError", err)
	}
	want := map[string]bool{"outcomes[1].employees": true, "outcomes[1].colour": true}
	for _, f := range v.Fields {
		delete(want, f.Field)
	}
	if len(want) != 0 {
		t.Errorf("AppendOutcomes(bad) fields = %v, missing %v", v.Fields, want)
	}
}

func TestTableOutcomesRoundTrip(t *testing.T) {
	tab, _ := synth.Generate(synth.Config{Rows: 200, Seed: 5})
	s := Infer(tab, InferConfig{})
	outs, err := s.TableOutcomes(tab)
	if err != nil {
		t.Fatalf("TableOutcomes: %v", err)
	}
	if len(outs) != 200 {
		t.Fatalf("TableOutcomes = %d outcomes, want 200", len(outs))
	}
	empty := tab.Take(nil)
	back, err := s.AppendOutcomes(empty, outs)
	if err != nil {
		t.Fatalf("AppendOutcomes: %v", err)
	}
	for _, c := range tab.Columns {
		bc := back.Column(c.Name)
		for i := 0; i < tab.Rows(); i++ {
			if c.Kind == datasets.String {
				if bc.Str[i] != c.Str[i] {
					t.Fatalf("round trip %s[%d] = %q, want %q", c.Name, i, bc.Str[i], c.Str[i])
				}
				continue
			}
			a, b := c.Num[i], bc.Num[i]
			if math.IsNaN(a) != math.IsNaN(b) || (!math.IsNaN(a) && math.Abs(a-b) > 1e-6) {
				t.Fatalf("round trip %s[%d] = %v, want %v", c.Name, i, b, a)
			}
		}
	}
}
