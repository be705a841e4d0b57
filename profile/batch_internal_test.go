package profile

import (
	"errors"
	"slices"
	"testing"

	"github.com/icpengine/icp"
)

func TestSplitFieldErrors(t *testing.T) {
	field := func(f ...string) *icp.ValidationError {
		v := &icp.ValidationError{}
		for k := 0; k < len(f); k += 2 {
			v.Add(f[k], f[k+1])
		}
		return v
	}
	tests := []struct {
		name    string
		give    *icp.ValidationError
		n       int
		want    map[int][]icp.FieldError
		wantErr bool
	}{
		{"one account", field("employees", "must be a number"), 1,
			map[int][]icp.FieldError{0: {{Field: "employees", Message: "must be a number"}}}, false},
		{"several accounts", field("[0].nope", "unknown field", "[12].employees", "must not be negative", "[12].industry", "must be a string", "[3].x.y", "unknown field"), 13,
			map[int][]icp.FieldError{
				0:  {{Field: "nope", Message: "unknown field"}},
				3:  {{Field: "x.y", Message: "unknown field"}},
				12: {{Field: "employees", Message: "must not be negative"}, {Field: "industry", Message: "must be a string"}},
			}, false},
		{"no index", field("employees", "must be a number"), 2, nil, true},
		{"index out of range", field("[2].employees", "must be a number"), 2, nil, true},
		{"not a number", field("[a].employees", "must be a number"), 2, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := splitFieldErrors(tt.give, tt.n)
			if (err != nil) != tt.wantErr {
				t.Fatalf("splitFieldErrors(%v, %d) error = %v, want error %v", tt.give, tt.n, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			for i, e := range got {
				var v *icp.ValidationError
				if e != nil && !errors.As(e, &v) {
					t.Fatalf("splitFieldErrors()[%d] = %v, want an *icp.ValidationError", i, e)
				}
				var fields []icp.FieldError
				if v != nil {
					fields = v.Fields
				}
				if !slices.Equal(fields, tt.want[i]) {
					t.Errorf("splitFieldErrors()[%d] = %v, want %v", i, fields, tt.want[i])
				}
			}
		})
	}
}
