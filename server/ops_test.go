package server

import (
	"errors"
	"strings"
	"testing"

	"github.com/icpengine/icp"
)

func TestDecodeOutcomes(t *testing.T) {
	one := `{"account_id":"A-1","account":{"industry":"SaaS","tech_stack":["aws"]},"outcome":"won","churned":false,"close_date":"2026-03-01","ltv_usd":1200.5,"sales_cycle_days":41}`
	tests := []struct {
		name       string
		give       string
		wantN      int
		wantFields []string
		wantBody   bool // a malformed-body error
	}{
		{"one object", one, 1, nil, false},
		{"array", "[" + one + "," + one + "]", 2, nil, false},
		{"wrapped", `{"outcomes":[` + one + `]}`, 1, nil, false},
		{"rfc3339 date", strings.Replace(one, "2026-03-01", "2026-03-01T10:00:00Z", 1), 1, nil, false},
		{"empty array", `[]`, 0, []string{"outcomes"}, false},
		{"too many", "[" + strings.Repeat(one+",", 3) + one + "]", 0, []string{"outcomes"}, false},
		{"missing fields", `{}`, 0, []string{"account_id", "close_date", "outcome"}, false},
		{"bad values in a batch", `[` + one + `,{"account_id":"","outcome":"tie","close_date":"soon","churned":"no","ltv_usd":-1,"sales_cycle_days":"x","extra":1}]`, 0,
			[]string{"outcomes[1].account_id", "outcomes[1].churned", "outcomes[1].close_date", "outcomes[1].extra",
				"outcomes[1].ltv_usd", "outcomes[1].outcome", "outcomes[1].sales_cycle_days"}, false},
		{"bad account field", `[{"account_id":"A","account":{"tech_stack":[1]},"outcome":"won","close_date":"2026-03-01"}]`, 0,
			[]string{"outcomes[0].account.tech_stack[0]"}, false},
		{"not an object", `[1]`, 0, []string{"outcomes[0]"}, false},
		{"wrapped not an array", `{"outcomes":3}`, 0, []string{"outcomes"}, false},
		{"truncated", `[{"account_id":`, 0, nil, true},
		{"a number", `42`, 0, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outs, err := decodeOutcomes([]byte(tt.give), 3, nil)
			var body *bodyError
			if tt.wantBody {
				if !errors.As(err, &body) {
					t.Fatalf("decodeOutcomes(%q) error = %v, want a malformed-body error", tt.give, err)
				}
				return
			}
			var v *icp.ValidationError
			if len(tt.wantFields) > 0 {
				if !errors.As(err, &v) {
					t.Fatalf("decodeOutcomes(%q) error = %v, want field errors %v", tt.give, err, tt.wantFields)
				}
				var got []string
				for _, f := range v.Fields {
					got = append(got, f.Field)
				}
				if strings.Join(got, ",") != strings.Join(tt.wantFields, ",") {
					t.Errorf("decodeOutcomes(%q) fields = %v, want %v", tt.give, got, tt.wantFields)
				}
				return
			}
			if err != nil || len(outs) != tt.wantN {
				t.Fatalf("decodeOutcomes(%q) = %d outcomes, %v; want %d", tt.give, len(outs), err, tt.wantN)
			}
			o := outs[0]
			if o.AccountID != "A-1" || !o.Won || o.Churned == nil || *o.Churned || o.LTVUSD == nil || *o.LTVUSD != 1200.5 ||
				o.CycleDays == nil || *o.CycleDays != 41 || o.CloseDate.Year() != 2026 || o.Account["industry"] != "SaaS" {
				t.Errorf("decodeOutcomes(%q)[0] = %+v", tt.give, o)
			}
		})
	}
}

func TestDecodeBy(t *testing.T) {
	tests := []struct {
		give    string
		want    string
		wantErr bool
	}{
		{"", "", false},
		{"  ", "", false},
		{`{}`, "", false},
		{`{"by":" cro "}`, "cro", false},
		{`{"by":3}`, "", true},
		{`{"who":"x"}`, "", true},
		{`[1]`, "", true},
		{`{"by":"` + strings.Repeat("x", 201) + `"}`, "", true},
	}
	for _, tt := range tests {
		got, err := decodeBy([]byte(tt.give))
		if (err != nil) != tt.wantErr || !tt.wantErr && got != tt.want {
			t.Errorf("decodeBy(%q) = %q, %v; want %q, error %v", tt.give, got, err, tt.want, tt.wantErr)
		}
	}
}

func FuzzDecodeOutcomes(f *testing.F) {
	f.Add([]byte(`{"account_id":"A","account":{"x":1},"outcome":"won","close_date":"2026-03-01"}`))
	f.Add([]byte(`[{"account_id":"A","outcome":"lost","close_date":"2026-03-01T00:00:00Z","ltv_usd":null}]`))
	f.Add([]byte(`{"outcomes":[{}]}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		outs, err := decodeOutcomes(data, 50, nil)
		if err == nil && len(outs) == 0 {
			t.Fatalf("decodeOutcomes(%q) = no outcomes and no error", data)
		}
		if err != nil && !errors.Is(err, icp.ErrInvalid) {
			t.Fatalf("decodeOutcomes(%q) error = %v, want it to match icp.ErrInvalid", data, err)
		}
	})
}
