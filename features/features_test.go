package features

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
)

const fixture = `account_id,company_name,industry,employees,annual_revenue_usd,region,tech_stack,is_public,founded_at,all_blank,outcome,close_date,sales_cycle_days,ltv_usd,churned,close_value
A1,Acme,SaaS,120,"$1,200,000",NA,hubspot;aws,true,2015-03-01,,won,2024-01-05,30,50000,false,900
A2,Bolt,SaaS,80,800000,EMEA,hubspot;gcp,false,2018-06-01,,lost,2024-01-09,45,,,
A3,Crux,Retail,2000,,NA,shopify;stripe;aws,false,2001-01-01,,won,2024-02-01,60,90000,true,1200
A4,Dyna,Retail,,50000000,APAC,,true,1999-12-31,,lost,2024-02-11,20,,,
A5,Echo,FinTech,45,2500000,EMEA,hubspot;stripe,false,2020-01-01,,open,,,,,
A6,Flux,SaaS,300,9000000,NA,segment;aws,true,2010-05-05,,won,2024-03-01,35,70000,false,800
`

func readFixture(t *testing.T) *datasets.Table {
	t.Helper()
	tab, err := datasets.Read(strings.NewReader(fixture), "fixture.csv", nil)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return tab
}

func TestInfer(t *testing.T) {
	s := Infer(readFixture(t), InferConfig{})
	tests := []struct {
		give string
		want Role
	}{
		{"account_id", RoleID},
		{"company_name", RoleExcluded},
		{"industry", RoleCategorical},
		{"employees", RoleNumeric},
		{"annual_revenue_usd", RoleNumeric},
		{"region", RoleCategorical},
		{"tech_stack", RoleTags},
		{"is_public", RoleBoolean},
		{"founded_at", RoleDate},
		{"all_blank", RoleExcluded},
		{"outcome", RoleOutcome},
		{"close_date", RoleOutcome},
		{"sales_cycle_days", RoleOutcome},
		{"ltv_usd", RoleOutcome},
		{"churned", RoleOutcome},
		{"close_value", RoleLeakage},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			c := s.Column(tt.give)
			if c == nil {
				t.Fatalf("Column(%q) = nil", tt.give)
			}
			if c.Role != tt.want {
				t.Errorf("role of %q = %s (%s), want %s", tt.give, c.Role, c.Reason, tt.want)
			}
			if c.Reason == "" {
				t.Errorf("role of %q has no reason", tt.give)
			}
		})
	}
	want := Outcomes{Won: "outcome", CloseDate: "close_date", CycleDays: "sales_cycle_days", LTV: "ltv_usd", Value: "ltv_usd", Churned: "churned",
		Values: map[string]string{"won": MeaningWon, "lost": MeaningLost, "open": MeaningOpen}}
	if !reflect.DeepEqual(s.Outcomes, want) {
		t.Errorf("Outcomes = %+v, want %+v", s.Outcomes, want)
	}
	if s.ID != "account_id" {
		t.Errorf("ID = %q, want account_id", s.ID)
	}
	if !s.Column("employees").NonNegative {
		t.Errorf("employees is not marked non-negative")
	}
	if got := s.Column("tech_stack").Separator; got != ";" {
		t.Errorf("tech_stack separator = %q, want ;", got)
	}
}

func TestInferNameVariants(t *testing.T) {
	tests := []struct {
		give string // CSV text
		col  string
		want Role
	}{
		{"customerID,x\nC-1,1\nC-2,2\n", "customerID", RoleID},
		{"Churn Label,x\nYes,1\nNo,2\n", "Churn Label", RoleOutcome},
		{"Churn Reason,x\nprice,1\nservice,2\n", "Churn Reason", RoleLeakage},
		{"SeniorCitizen,x\n0,1\n1,2\n", "SeniorCitizen", RoleBoolean},
		{"deal_stage,x\nWon,1\nLost,2\n", "deal_stage", RoleOutcome},
	}
	for _, tt := range tests {
		t.Run(tt.col, func(t *testing.T) {
			tab, err := datasets.Read(strings.NewReader(tt.give), "t.csv", nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := Infer(tab, InferConfig{}).Column(tt.col).Role; got != tt.want {
				t.Errorf("role of %q = %s, want %s", tt.col, got, tt.want)
			}
		})
	}
}

func TestApplyOverride(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		wantErr string
		check   func(t *testing.T, s *Schema)
	}{
		{
			name: "exclude and leak",
			give: `{"columns": {"industry": {"role": "excluded"}, "region": {"role": "leakage"}}}`,
			check: func(t *testing.T, s *Schema) {
				if r := s.Column("industry").Role; r != RoleExcluded {
					t.Errorf("industry role = %s, want excluded", r)
				}
				if r := s.Column("region").Role; r != RoleLeakage {
					t.Errorf("region role = %s, want leakage", r)
				}
			},
		},
		{
			name: "outcome column renamed",
			give: `{"columns": {"is_public": {"role": "categorical"}}, "outcomes": {"won": "outcome", "ltv": ""}}`,
			check: func(t *testing.T, s *Schema) {
				if s.Outcomes.Won != "outcome" || s.Outcomes.LTV != "ltv_usd" {
					t.Errorf("Outcomes = %+v", s.Outcomes)
				}
			},
		},
		{name: "unknown column", give: `{"columns": {"nope": {"role": "numeric"}}}`, wantErr: `column "nope": not in the table`},
		{name: "unknown role", give: `{"columns": {"industry": {"role": "magic"}}}`, wantErr: `unknown role "magic"`},
		{name: "numeric on text", give: `{"columns": {"industry": {"role": "numeric"}}}`, wantErr: "role numeric needs numbers"},
		{name: "typo in key", give: `{"colums": {}}`, wantErr: `unknown field "colums"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "o.json")
			if err := os.WriteFile(path, []byte(tt.give), 0o644); err != nil {
				t.Fatal(err)
			}
			s := Infer(readFixture(t), InferConfig{})
			o, err := ReadOverride(path)
			if err == nil {
				err = s.Apply(o)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, icp.ErrInvalid) {
					t.Fatalf("override error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("override: %v", err)
			}
			tt.check(t, s)
		})
	}
}

func fitFixture(t *testing.T) (*datasets.Table, *Schema, *Encoder) {
	t.Helper()
	tab := readFixture(t)
	s := Infer(tab, InferConfig{})
	e, err := Fit(tab, s, nil, EncoderConfig{MinLevelCount: 2})
	if err != nil {
		t.Fatalf("Fit: %v", err)
	}
	return tab, s, e
}

func TestEncoderLayout(t *testing.T) {
	_, _, e := fitFixture(t)
	var names []string
	for _, f := range e.Features() {
		names = append(names, f.Name)
	}
	want := []string{
		"industry=SaaS", "industry=Retail", "industry other",
		"employees", "employees missing",
		"annual_revenue_usd", "annual_revenue_usd missing",
		"region=NA", "region=EMEA", "region other",
		"tech_stack has aws", "tech_stack has hubspot", "tech_stack has stripe", "tech_stack missing",
		"is_public",
		"founded_at",
	}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Errorf("Features() =\n%v\nwant\n%v", names, want)
	}
	if e.Width != len(want) {
		t.Errorf("Width = %d, want %d", e.Width, len(want))
	}
	if c := e.Columns[1]; c.Name != "employees" || !c.Log {
		t.Errorf("employees encoder = %+v, want a log transform (skewed)", c)
	}
}

func TestEncoderTransform(t *testing.T) {
	tab, _, e := fitFixture(t)
	x, err := e.Transform(tab, nil)
	if err != nil {
		t.Fatal(err)
	}
	feat := func(name string) int {
		for j, f := range e.Features() {
			if f.Name == name {
				return j
			}
		}
		t.Fatalf("no feature %q", name)
		return -1
	}
	tests := []struct {
		row     int
		feature string
		want    float64
	}{
		{0, "industry=SaaS", 1},
		{4, "industry other", 1}, // FinTech is rare
		{3, "employees missing", 1},
		{0, "employees missing", 0},
		{0, "region=NA", 1}, // "NA" is North America in a text column
		{3, "region other", 1},
		{2, "tech_stack has stripe", 1},
		{2, "tech_stack has hubspot", 0},
		{3, "tech_stack missing", 1},
		{0, "is_public", 1},
	}
	for _, tt := range tests {
		if got := x.At(tt.row, feat(tt.feature)); got != tt.want {
			t.Errorf("row %d %q = %v, want %v", tt.row, tt.feature, got, tt.want)
		}
	}
	// The missing employees count is imputed with the median, so its
	// standardized value equals the median's.
	ce := e.Columns[1]
	want := (math.Log1p(ce.Median) - ce.Mean) / ce.Std
	if got := x.At(3, feat("employees")); math.Abs(got-want) > 1e-12 {
		t.Errorf("imputed employees = %v, want %v", got, want)
	}
	// Standardized columns have mean 0 over the fitted rows.
	var sum float64
	for i := 0; i < tab.Rows(); i++ {
		sum += x.At(i, feat("annual_revenue_usd"))
	}
	if math.Abs(sum) > 1e-9 {
		t.Errorf("sum of standardized revenue = %v, want 0", sum)
	}
	// Raw undoes the encoding.
	j := feat("employees")
	if got := e.Raw(j, x.At(0, j)); math.Abs(got-120) > 1e-9 {
		t.Errorf("Raw(employees of row 0) = %v, want 120", got)
	}
}

func TestEncoderJSONRoundTrip(t *testing.T) {
	tab, _, e := fitFixture(t)
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var back Encoder
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	x1, _ := e.Transform(tab, nil)
	x2, err := back.Transform(tab, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, c := x1.Dims()
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			if x1.At(i, j) != x2.At(i, j) {
				t.Fatalf("decoded encoder gives %v at (%d,%d), want %v", x2.At(i, j), i, j, x1.At(i, j))
			}
		}
	}
	bad := strings.Replace(string(b), `"width":16`, `"width":17`, 1)
	if err := json.Unmarshal([]byte(bad), &back); err == nil {
		t.Errorf("Unmarshal of an encoder with a wrong width succeeded")
	}
}

func TestSchemaTable(t *testing.T) {
	_, s, e := fitFixture(t)
	tests := []struct {
		name       string
		give       string
		wantFields []string // field errors, in order
	}{
		{name: "good", give: `{"account_id":"X1","industry":"SaaS","employees":120,"annual_revenue_usd":"$1,200,000","tech_stack":["hubspot","aws"],"is_public":"yes","founded_at":"2015-03-01","outcome":"won"}`},
		{name: "nulls are missing", give: `{"industry":null,"employees":null,"tech_stack":null}`},
		{name: "unknown field", give: `{"industy":"SaaS"}`, wantFields: []string{"industy"}},
		{name: "wrong types", give: `{"employees":"many","is_public":"maybe","founded_at":3,"industry":["a"]}`, wantFields: []string{"employees", "founded_at", "industry", "is_public"}},
		{name: "negative count", give: `{"employees":-5}`, wantFields: []string{"employees"}},
		{name: "overflow", give: `{"employees":1e400}`, wantFields: []string{"employees"}},
		{name: "NaN text", give: `{"annual_revenue_usd":"NaN"}`, wantFields: []string{"annual_revenue_usd"}},
		{name: "tag list of numbers", give: `{"tech_stack":[1,2]}`, wantFields: []string{"tech_stack"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := json.NewDecoder(strings.NewReader(tt.give))
			dec.UseNumber()
			var acc icp.Account
			if err := dec.Decode(&acc); err != nil {
				t.Fatal(err)
			}
			tab, err := s.Table([]icp.Account{acc})
			if len(tt.wantFields) == 0 {
				if err != nil {
					t.Fatalf("Table(%s) error: %v", tt.give, err)
				}
				if _, err := e.Transform(tab, nil); err != nil {
					t.Fatalf("Transform: %v", err)
				}
				return
			}
			var verr *icp.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Table(%s) error = %v, want a ValidationError", tt.give, err)
			}
			var got []string
			for _, f := range verr.Fields {
				got = append(got, f.Field)
			}
			if strings.Join(got, ",") != strings.Join(tt.wantFields, ",") {
				t.Errorf("Table(%s) fields = %v, want %v (%v)", tt.give, got, tt.wantFields, verr)
			}
		})
	}
}

// The same account gives the same encoded row through the CSV path and the
// JSON path: one encoding for training and serving.
func TestOneEncodingPath(t *testing.T) {
	tab, s, e := fitFixture(t)
	x, _ := e.Transform(tab, nil)
	acc := icp.Account{"account_id": "A1", "company_name": "Acme", "industry": "SaaS", "employees": json.Number("120"),
		"annual_revenue_usd": "$1,200,000", "region": "NA", "tech_stack": "hubspot;aws", "is_public": true, "founded_at": "2015-03-01"}
	one, err := s.Table([]icp.Account{acc})
	if err != nil {
		t.Fatal(err)
	}
	row := make([]float64, e.Width)
	e.EncodeRow(one, 0, row)
	for j, v := range row {
		if v != x.At(0, j) {
			t.Errorf("feature %s: JSON path %v, CSV path %v", e.Features()[j].Name, v, x.At(0, j))
		}
	}
}

func TestCheckNegative(t *testing.T) {
	tab, err := datasets.Read(strings.NewReader("employees,outcome\n10,won\n-3,lost\n"), "neg.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = Infer(tab, InferConfig{}).Check(tab)
	if err == nil || !strings.Contains(err.Error(), "neg.csv") || !strings.Contains(err.Error(), "line 3") || !errors.Is(err, icp.ErrInvalid) {
		t.Errorf("Check = %v, want an error naming neg.csv line 3", err)
	}
}

func BenchmarkTableAndEncode(b *testing.B) {
	tab, err := datasets.Read(strings.NewReader(fixture), "fixture.csv", nil)
	if err != nil {
		b.Fatal(err)
	}
	s := Infer(tab, InferConfig{})
	e, err := Fit(tab, s, nil, EncoderConfig{MinLevelCount: 2})
	if err != nil {
		b.Fatal(err)
	}
	acc := icp.Account{"industry": "SaaS", "employees": json.Number("120"), "annual_revenue_usd": "$1,200,000",
		"region": "NA", "tech_stack": "hubspot;aws", "is_public": true, "founded_at": "2015-03-01"}
	row := make([]float64, e.Width)
	b.ReportAllocs()
	for b.Loop() {
		t, err := s.Table([]icp.Account{acc})
		if err != nil {
			b.Fatal(err)
		}
		e.EncodeRow(t, 0, row)
	}
}

func TestColumnFrom(t *testing.T) {
	tab := &datasets.Table{Columns: []*datasets.Column{{Name: "a"}, {Name: "b"}, {Name: "c"}}}
	s := &Schema{Columns: []Column{{Name: "a"}, {Name: "b"}, {Name: "c"}}}
	tests := []struct {
		give string
		from int
		want int // index of the column found, -1 for none
	}{
		{"a", 0, 0}, {"c", 0, 2}, {"a", 2, 0}, {"b", 3, 1}, {"c", 1, 2}, {"z", 1, -1}, {"b", 7, 1},
	}
	for _, tt := range tests {
		c, next := ColumnFrom(tab, tt.give, tt.from)
		sc, snext := s.ColumnFrom(tt.give, tt.from)
		switch {
		case tt.want < 0 && (c != nil || sc != nil || next != tt.from || snext != tt.from):
			t.Errorf("ColumnFrom(%q, %d) = %v, %d and %v, %d; want nil and %d", tt.give, tt.from, c, next, sc, snext, tt.from)
		case tt.want >= 0 && (c != tab.Columns[tt.want] || next != tt.want+1 || sc != &s.Columns[tt.want] || snext != tt.want+1):
			t.Errorf("ColumnFrom(%q, %d) = %v, %d and %v, %d; want column %d and %d", tt.give, tt.from, c, next, sc, snext, tt.want, tt.want+1)
		}
	}
	if c, next := ColumnFrom(&datasets.Table{}, "a", 0); c != nil || next != 0 {
		t.Errorf("ColumnFrom(empty table) = %v, %d", c, next)
	}
}

// TestEncodeRowColumnOrder checks that a table whose columns come in
// another order than the encoder's encodes as the same table in order.
func TestEncodeRowColumnOrder(t *testing.T) {
	tab, _ := synth.Generate(synth.Config{Rows: 300, Seed: 5})
	s := Infer(tab, InferConfig{})
	enc, err := Fit(tab, s, nil, EncoderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	shuffled := &datasets.Table{Columns: slices.Clone(tab.Columns)}
	slices.Reverse(shuffled.Columns)
	a, b := make([]float64, enc.Width), make([]float64, enc.Width)
	for i := range 300 {
		enc.EncodeRow(tab, i, a)
		enc.EncodeRow(shuffled, i, b)
		for j := range a {
			if a[j] != b[j] && !(math.IsNaN(a[j]) && math.IsNaN(b[j])) {
				t.Fatalf("row %d, encoded column %d: %v in order, %v reversed", i, j, a[j], b[j])
			}
		}
	}
}
