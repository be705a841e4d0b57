package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/icpengine/icp"
)

func TestDecodeAccount(t *testing.T) {
	tests := []struct {
		name string
		give string
		want icp.Account
	}{
		{"empty object", `{}`, icp.Account{}},
		{"whitespace around", " \t\r\n{ } \n", icp.Account{}},
		{
			name: "every allowed kind",
			give: `{"id":"a-1","employees":120,"arr":1.5e3,"public":true,"churned":false,"ltv":null,"tech":["go","postgres"],"none":[]}`,
			want: icp.Account{
				"id":        "a-1",
				"employees": json.Number("120"),
				"arr":       json.Number("1.5e3"),
				"public":    true,
				"churned":   false,
				"ltv":       nil,
				"tech":      []any{"go", "postgres"},
				"none":      []any{},
			},
		},
		{"escapes", `{"n\u00e4me":"a\"b\\c\n"}`, icp.Account{"näme": "a\"b\\c\n"}},
		{"underflow is zero, not an error", `{"x":1e-400}`, icp.Account{"x": json.Number("1e-400")}},
		{"largest float", `{"x":1.7976931348623157e308}`, icp.Account{"x": json.Number("1.7976931348623157e308")}},
		{"key of 256 bytes", `{"` + strings.Repeat("k", 256) + `":1}`, icp.Account{strings.Repeat("k", 256): json.Number("1")}},
		{"value of 8 KiB", `{"v":"` + strings.Repeat("v", maxStringBytes) + `"}`, icp.Account{"v": strings.Repeat("v", maxStringBytes)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeAccount([]byte(tt.give))
			if err != nil {
				t.Fatalf("decodeAccount(%q) error = %v, want nil", tt.give, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decodeAccount(%q) = %#v, want %#v", tt.give, got, tt.want)
			}
		})
	}
}

func TestDecodeAccountBodyErrors(t *testing.T) {
	tests := []struct {
		name       string
		give       string
		wantOffset int64
		wantMsg    string
	}{
		{"empty", ``, 0, "empty body"},
		{"only whitespace", "  \n", 3, "empty body"},
		{"array", ` [{"a":1}]`, 1, "want a JSON object, got an array"},
		{"string", `"a"`, 0, "want a JSON object, got a string"},
		{"number", `12`, 0, "want a JSON object, got a number"},
		{"null", `null`, 0, "want a JSON object, got null"},
		{"bool", `true`, 0, "want a JSON object, got a boolean"},
		{"trailing garbage", `{"a":1} x`, 8, "unexpected data after the JSON object"},
		{"second object", `{"a":1}` + "\n" + `{"b":2}`, 8, "unexpected data after the JSON object"},
		{"extra brace", `{"a":1}}`, 7, "unexpected data after the JSON object"},
		{"missing value", `{"a":}`, 5, "malformed JSON"},
		{"NaN", `{"a":NaN}`, 5, "invalid character 'N'"},
		{"Infinity", `{"a":-Infinity}`, 6, "invalid character 'I'"},
		{"trailing comma", `{"a":1,}`, 7, "malformed JSON"},
		{"single quotes", `{'a':1}`, 1, "malformed JSON"},
		{"bad escape", `{"a":"\x"}`, 7, "malformed JSON"},
		{"leading zero", `{"a":01}`, 6, "malformed JSON"},
		{"control char in string", "{\"a\":\"\x01\"}", 6, "malformed JSON"},
		{"truncated", `{"a":[1,`, 8, "unexpected end of JSON input"},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", 6, "not valid UTF-8"},
		{"invalid UTF-8 in key", "{\"\xc3\x28\":1}", 2, "not valid UTF-8"},
		{"byte order mark", "\xef\xbb\xbf{}", 0, "malformed JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeAccount([]byte(tt.give))
			var be *bodyError
			if !errors.As(err, &be) {
				t.Fatalf("decodeAccount(%q) = %v, %v, want a *bodyError", tt.give, got, err)
			}
			if be.Offset != tt.wantOffset || !strings.Contains(be.Msg, tt.wantMsg) {
				t.Errorf("decodeAccount(%q) error = %q at %d, want %q at %d", tt.give, be.Msg, be.Offset, tt.wantMsg, tt.wantOffset)
			}
			if !errors.Is(err, icp.ErrInvalid) {
				t.Errorf("errors.Is(%v, icp.ErrInvalid) = false, want true", err)
			}
		})
	}
}

func TestDecodeAccountFieldErrors(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	tests := []struct {
		name string
		give string
		want []icp.FieldError
	}{
		{"duplicate key", `{"employees":1,"employees":2}`, []icp.FieldError{{Field: "employees", Message: msgDuplicate}}},
		{"duplicate via escape", `{"a":1,"\u0061":2}`, []icp.FieldError{{Field: "a", Message: msgDuplicate}}},
		{"nested object", `{"address":{"city":"Oslo","geo":{"lat":1}}}`, []icp.FieldError{{Field: "address", Message: msgNested}}},
		{"array of numbers", `{"tags":["a",1,true,null]}`, []icp.FieldError{
			{Field: "tags[1]", Message: msgTag}, {Field: "tags[2]", Message: msgTag}, {Field: "tags[3]", Message: msgTag},
		}},
		{"nested array", `{"tags":[["a"],{"b":[1]},"c"]}`, []icp.FieldError{
			{Field: "tags[0]", Message: msgTag}, {Field: "tags[1]", Message: msgTag},
		}},
		{"overflow", `{"employees":1e400}`, []icp.FieldError{{Field: "employees", Message: msgFinite}}},
		{"negative overflow", `{"arr":-2e308}`, []icp.FieldError{{Field: "arr", Message: msgFinite}}},
		{"long value", `{"industry":"` + strings.Repeat("x", maxStringBytes+1) + `"}`, []icp.FieldError{{Field: "industry", Message: msgLongValue}}},
		{"long tag", `{"tags":["a","` + strings.Repeat("x", maxStringBytes+1) + `"]}`, []icp.FieldError{{Field: "tags[1]", Message: msgLongValue}}},
		{"empty key", `{"":1}`, []icp.FieldError{{Field: "", Message: msgEmptyKey}}},
		{"long key", `{"` + long + `":1}`, []icp.FieldError{{Field: strings.Repeat("é", 32) + "...", Message: msgLongKey}}},
		{"all problems in order", `{"x":{},"y":1e999,"x":2,"z":[0]}`, []icp.FieldError{
			{Field: "x", Message: msgNested}, {Field: "y", Message: msgFinite},
			{Field: "x", Message: msgDuplicate}, {Field: "z[0]", Message: msgTag},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeAccount([]byte(tt.give))
			var ve *icp.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("decodeAccount(%q) = %v, %v, want a *icp.ValidationError", tt.give, got, err)
			}
			if !reflect.DeepEqual(ve.Fields, tt.want) {
				t.Errorf("decodeAccount(%q) fields = %v, want %v", tt.give, ve.Fields, tt.want)
			}
		})
	}
}

func FuzzDecodeAccount(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `[]`, `{"a":1}`, `{"a":1} x`, `{"a":1,"a":2}`, `{"a":{"b":1}}`,
		`{"t":["x","y"]}`, `{"t":[1,[2]]}`, `{"n":1e400}`, `{"n":-0.0e-5}`, `{"s":"\ud800"}`,
		`{"a":NaN}`, "{\"a\":\"\xff\"}", `{"a":null,"b":true,"c":false}`, `{"<>&":"\u2028"}`,
		` { "k\"q" : [ "a\\" , "\u00e9" ] , "n" : -1.5E+3 } `, `{"x":[{"y":["]"]},"z"]}`, `{"e":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		acc, err := decodeAccount(data)
		if err != nil {
			var be *bodyError
			var ve *icp.ValidationError
			if !errors.As(err, &be) && !errors.As(err, &ve) {
				t.Fatalf("decodeAccount(%q) error %T %v, want *bodyError or *icp.ValidationError", data, err, err)
			}
			return
		}
		for k, v := range acc {
			switch v := v.(type) {
			case nil, string, bool, json.Number:
			case []any:
				for _, e := range v {
					if _, ok := e.(string); !ok {
						t.Fatalf("decodeAccount(%q)[%q] holds %T in a tag list", data, k, e)
					}
				}
			default:
				t.Fatalf("decodeAccount(%q)[%q] = %T, want a JSON scalar or tag list", data, k, v)
			}
		}
		// An accepted body decodes as encoding/json decodes it.
		ref := json.NewDecoder(bytes.NewReader(data))
		ref.UseNumber()
		var want map[string]any
		if err := ref.Decode(&want); err != nil || !reflect.DeepEqual(map[string]any(acc), want) {
			t.Fatalf("decodeAccount(%q) = %#v, encoding/json gives %#v, %v", data, acc, want, err)
		}
		enc, err := json.Marshal(acc)
		if err != nil {
			t.Fatalf("json.Marshal(%#v) error = %v", acc, err)
		}
		again, err := decodeAccount(enc)
		if err != nil {
			t.Fatalf("decodeAccount(%q) (re-encoded from %q) error = %v", enc, data, err)
		}
		if !reflect.DeepEqual(again, acc) {
			t.Fatalf("decodeAccount(%q) = %#v, want %#v", enc, again, acc)
		}
	})
}
