package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

func TestIgnoredFieldsValue(t *testing.T) {
	tests := []struct {
		give []string
		want string
	}{
		{nil, ""},
		{[]string{"notes"}, "notes"},
		{[]string{"notes", "Owner Name", "a,b", "Région", "50%"}, "50%25,Owner%20Name,R%C3%A9gion,a%2Cb,notes"},
	}
	for _, tt := range tests {
		if got := ignoredFieldsValue(tt.give); got != tt.want {
			t.Errorf("ignoredFieldsValue(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestDuplicateKey(t *testing.T) {
	tests := []struct {
		give    string
		want    string
		wantDup bool
	}{
		{`{"a":1,"b":2}`, "", false},
		{`{"a":1,"a":2}`, "a", true},
		{`{"a":1,"\u0061":2}`, "a", true},
		{`{"outcomes":[{"x":1},{"y":1,"y":2}]}`, "outcomes[1].y", true},
		{`[{"a":{"b":1,"b":1}}]`, "[0].a.b", true},
		{`{"a":[{"b":1},{"b":1}]}`, "", false},
		{`{"a":`, "", false}, // not JSON: left to the decoder
		{`{"a/b":{"c~d":1,"c~d":2}}`, "a/b.c~d", true},
	}
	for _, tt := range tests {
		got, dup := duplicateKey([]byte(tt.give))
		if got != tt.want || dup != tt.wantDup {
			t.Errorf("duplicateKey(%s) = %q, %v; want %q, %v", tt.give, got, dup, tt.want, tt.wantDup)
		}
	}
}

// FuzzSplitArray compares the JSON array splitter with encoding/json
// reading the body into []json.RawMessage: a body it splits is one
// encoding/json reads, into the same elements; a body it refuses gets a
// *bodyError or *tooManyError, and is one encoding/json refuses too, but
// for the escapes of lone surrogates and for invalid UTF-8, which the
// splitter refuses (a body must be UTF-8) and encoding/json replaces, and
// for null, which encoding/json reads as no array and the splitter refuses.
func FuzzSplitArray(f *testing.F) {
	for _, seed := range []string{
		`[]`, ` [ {"a":1} , {"b":[1,2]} ] `, `[1,"a",null,[],{}]`, `[{"a":1},]`, `[`, `[{]`, `{}`, `"x"`,
		`[{"a":"\ud800"}]`, `[{"a":1}] x`, `[{"a":1}][]`, "[\xff]", `[{"a":1,"a":2}]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		const limit = 8
		items, err := splitArray(body, limit)
		var want []json.RawMessage
		werr := json.Unmarshal(body, &want)
		if err != nil {
			var be *bodyError
			var tm *tooManyError
			if !errors.As(err, &be) && !errors.As(err, &tm) {
				t.Fatalf("splitArray(%q) error = %v, want a *bodyError or *tooManyError", body, err)
			}
			if werr == nil && want != nil && tm == nil && !bytes.Contains(body, []byte(`\u`)) && utf8.Valid(body) {
				t.Fatalf("splitArray(%q) = %v, but encoding/json reads it", body, err)
			}
			if tm != nil && (werr != nil || len(want) <= limit) {
				t.Fatalf("splitArray(%q) = %v, want it only for a valid array of more than %d elements", body, err, limit)
			}
			return
		}
		if werr != nil {
			t.Fatalf("splitArray(%q) = %d items, but encoding/json refuses it: %v", body, len(items), werr)
		}
		if len(items) != len(want) {
			t.Fatalf("splitArray(%q) = %d items, want %d", body, len(items), len(want))
		}
		for i, it := range items {
			raw := it.raw
			if raw == nil { // not an object: refused with a field error
				if want[i][0] == '{' || it.err == nil {
					t.Fatalf("item %d of %q: no text and error %v, but encoding/json reads %s", i, body, it.err, want[i])
				}
				continue
			}
			if !bytes.Equal(raw, want[i]) || !bytes.Equal(body[it.off:it.off+len(raw)], raw) {
				t.Fatalf("item %d of %q = %q at %d, want %q", i, body, raw, it.off, want[i])
			}
			if !jsontext.Value(raw).IsValid(jsontext.AllowDuplicateNames(true)) {
				t.Fatalf("item %d of %q = %q is not valid JSON", i, body, raw)
			}
		}
	})
}
