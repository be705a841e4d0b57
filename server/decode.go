package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/icpengine/icp"
)

// maxKeyBytes is the longest field name a request may use.
const maxKeyBytes = 256

// maxStringBytes is the longest string value (or tag) a request may use.
// No account field needs more, and answers echo the values they scored.
const maxStringBytes = 8 << 10

// Field error messages produced by decodeAccount.
const (
	msgDuplicate = "duplicate key"
	msgEmptyKey  = "field name must not be empty"
	msgLongKey   = "field name longer than 256 bytes"
	msgNested    = "must be null, a string, a number, a boolean or an array of strings"
	msgTag       = "must be a string (tag lists hold only strings)"
	msgFinite    = "must be a finite number"
	msgLongValue = "value longer than 8192 bytes"
)

// bodyError is a request body that is not one well-formed JSON object. It
// matches icp.ErrInvalid with errors.Is.
type bodyError struct {
	// Offset is the 0-based byte offset of the problem in the body.
	Offset int64
	// Msg says what is wrong, without the offset.
	Msg string
}

func (e *bodyError) Error() string {
	return fmt.Sprintf("%s at offset %d", e.Msg, e.Offset)
}

// Is reports whether target is icp.ErrInvalid.
func (e *bodyError) Is(target error) bool { return target == icp.ErrInvalid }

// decodeAccount parses a request body into an account. The body must be
// valid UTF-8 holding exactly one JSON object, optionally surrounded by JSON
// whitespace. Values may be null, strings, numbers (kept as json.Number),
// booleans, or arrays of strings (returned as []any holding strings).
//
// A body that is not such an object gives a *bodyError naming the byte
// offset. Shape problems inside the object (duplicate, empty or over-long
// keys, string values over 8 KiB, nested values, non-string tags, numbers
// that overflow float64) are
// all collected, in the order they appear, into one *icp.ValidationError,
// which comes back together with the account of the fields that passed.
// decodeAccount never panics, whatever the input.
func decodeAccount(data []byte) (icp.Account, error) {
	d, err := decodeObjectAccount(data, false)
	if err != nil {
		return nil, err
	}
	return d.acc, d.problems.Err()
}

// decoded is a JSON object read as an account, with the shape problems of
// its fields.
type decoded struct {
	// acc holds the fields that passed.
	acc      icp.Account
	problems icp.ValidationError
	// owners[i] is the key problems.Fields[i] is about, or "" when the
	// problem is the key itself (empty, over-long or repeated): a field the
	// model does not know may be ignored with its value's problems, never
	// with a malformed key.
	owners []string
}

// decodeObjectAccount is decodeAccount keeping each problem's owner. With
// checked set, the caller vouches that data is valid UTF-8 and one
// syntactically valid JSON value (an element json.Decoder has read from a
// body checked whole), and those checks are skipped.
func decodeObjectAccount(data []byte, checked bool) (decoded, error) {
	if !checked {
		if !utf8.Valid(data) {
			return decoded{}, &bodyError{Offset: invalidUTF8Offset(data), Msg: "request body is not valid UTF-8"}
		}
		if !json.Valid(data) {
			return decoded{}, diagnose(data)
		}
	}
	start := skipSpace(data, 0)
	if start == len(data) {
		return decoded{}, &bodyError{Offset: int64(start), Msg: "empty body, want a JSON object"}
	}
	if data[start] != '{' {
		return decoded{}, &bodyError{Offset: int64(start), Msg: "want a JSON object, got " + kindOf(data[start])}
	}

	// data is now known to be one valid JSON object (json.Valid also bounds
	// its nesting), so the scanner below needs no syntax checks: it walks
	// the members of the object once, without the per-token cost of
	// json.Decoder.Token.
	sc := scanner{data: data, i: start + 1}
	if len(data) <= maxSharedBody {
		sc.text = string(data)
	}
	// A key is a duplicate when the account holds it already, or when it
	// was seen and left out (a bad key or value); the second set is made
	// only when something is left out.
	d := decoded{acc: make(icp.Account, memberHint(data[start:]))}
	verr := &d.problems
	var left map[string]bool
	for sc.skipSpace() != '}' {
		key, err := sc.str()
		if err != nil {
			return decoded{}, fmt.Errorf("decode account: %w", err)
		}
		sc.skipSpace()
		sc.i++ // the colon
		sc.skipSpace()
		keep := true
		switch {
		case key == "":
			verr.Add(key, msgEmptyKey)
			keep = false
		case len(key) > maxKeyBytes:
			verr.Add(truncateKey(key), msgLongKey)
			keep = false
		case left[key]:
			verr.Add(key, msgDuplicate)
			keep = false
		default:
			if _, dup := d.acc[key]; dup {
				verr.Add(key, msgDuplicate)
				keep = false
			}
		}
		for len(d.owners) < len(verr.Fields) {
			d.owners = append(d.owners, "") // a problem of the key
		}

		before := len(verr.Fields)
		v, err := sc.value(key, verr)
		if err != nil {
			return decoded{}, fmt.Errorf("decode account: %w", err)
		}
		for len(d.owners) < len(verr.Fields) {
			d.owners = append(d.owners, key) // a problem of the value
		}
		if keep && len(verr.Fields) == before { // a bad value is left out too
			d.acc[key] = v
		} else if _, kept := d.acc[key]; !kept {
			if left == nil {
				left = make(map[string]bool)
			}
			left[key] = true
		}
		if sc.skipSpace() == ',' {
			sc.i++
			sc.skipSpace()
		}
	}
	// The fields that passed are returned with the field errors, so that the
	// scorer can report its own problems with them in the same answer.
	return d, nil
}

// memberHint guesses the number of members of the JSON object obj, to size
// the account's map: the colons, capped so that a body full of colons in
// strings cannot ask for a large map.
func memberHint(obj []byte) int {
	return min(bytes.Count(obj, []byte{':'}), 64)
}

// maxSharedBody is the largest body whose keys and values are cut out of
// one copy of it rather than copied one by one. Above it, a small value
// kept by the account would hold the whole body in memory.
const maxSharedBody = 4 << 10

// scanner walks a byte slice known to be valid JSON. Its methods assume that
// validity and do not check syntax.
type scanner struct {
	data []byte
	// text is data as a string for bodies up to maxSharedBody, "" above:
	// strings without escapes and numbers are substrings of it.
	text string
	i    int
}

// slice returns data[i:j] as a string, shared with text when there is one.
func (sc *scanner) slice(i, j int) string {
	if sc.text != "" {
		return sc.text[i:j]
	}
	return string(sc.data[i:j])
}

// skipSpace moves past JSON whitespace and returns the next byte, or 0 at
// the end.
func (sc *scanner) skipSpace() byte {
	sc.i = skipSpace(sc.data, sc.i)
	if sc.i == len(sc.data) {
		return 0
	}
	return sc.data[sc.i]
}

// str reads the string starting at the current quote. Strings without
// escapes are copied as they are (the body is valid UTF-8); the others are
// unquoted by encoding/json, as json.Decoder would.
func (sc *scanner) str() (string, error) {
	start, j, escaped := sc.i, sc.i+1, false
	for sc.data[j] != '"' {
		if sc.data[j] == '\\' {
			escaped = true
			j++
		}
		j++
	}
	sc.i = j + 1
	if !escaped {
		return sc.slice(start+1, j), nil
	}
	var out string
	if err := json.Unmarshal(sc.data[start:sc.i], &out); err != nil {
		return "", fmt.Errorf("unquote string at offset %d: %w", start, err)
	}
	return out, nil
}

// number reads the number at the current position.
func (sc *scanner) number() json.Number {
	start := sc.i
	for sc.i < len(sc.data) {
		switch sc.data[sc.i] {
		case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '-', '+', '.', 'e', 'E':
			sc.i++
			continue
		}
		break
	}
	return json.Number(sc.slice(start, sc.i))
}

// skipComposite moves past the object or array starting at the current
// position.
func (sc *scanner) skipComposite() {
	depth := 0
	for {
		switch sc.data[sc.i] {
		case '"':
			// Only the extent matters; an unquoting error cannot happen
			// in valid JSON and would not change the extent.
			_, _ = sc.str()
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
		sc.i++
		if depth == 0 {
			return
		}
	}
}

// skipScalar moves past the number, true, false or null at the current
// position.
func (sc *scanner) skipScalar() {
	switch sc.data[sc.i] {
	case 't', 'n':
		sc.i += 4
	case 'f':
		sc.i += 5
	default:
		sc.number()
	}
}

// value reads the value of field key. Shape problems are added to verr and
// the offending value is skipped; the returned error is only for a string
// that cannot be unquoted, which valid JSON never holds.
func (sc *scanner) value(key string, verr *icp.ValidationError) (any, error) {
	switch sc.data[sc.i] {
	case '"':
		v, err := sc.str()
		if len(v) > maxStringBytes {
			verr.Add(key, msgLongValue)
		}
		return v, err
	case 'n':
		sc.i += 4
		return nil, nil
	case 't':
		sc.i += 4
		return true, nil
	case 'f':
		sc.i += 5
		return false, nil
	case '{':
		verr.Add(key, msgNested)
		sc.skipComposite()
		return nil, nil
	case '[':
		return sc.tags(key, verr)
	default:
		n := sc.number()
		if !finite(n) {
			verr.Add(key, msgFinite)
		}
		return n, nil
	}
}

// tags reads the array at the current position as a tag list.
func (sc *scanner) tags(key string, verr *icp.ValidationError) (any, error) {
	sc.i++ // the opening bracket
	tags := make([]any, 0, 4)
	for i := 0; sc.skipSpace() != ']'; i++ {
		switch sc.data[sc.i] {
		case '"':
			t, err := sc.str()
			if err != nil {
				return nil, err
			}
			if len(t) > maxStringBytes {
				verr.Add(key+"["+strconv.Itoa(i)+"]", msgLongValue)
			} else {
				tags = append(tags, t)
			}
		case '{', '[':
			verr.Add(key+"["+strconv.Itoa(i)+"]", msgTag)
			sc.skipComposite()
		default:
			verr.Add(key+"["+strconv.Itoa(i)+"]", msgTag)
			sc.skipScalar()
		}
		if sc.skipSpace() == ',' {
			sc.i++
		}
	}
	sc.i++ // the closing bracket
	return tags, nil
}

// finite reports whether n parses to a finite float64. Numbers that
// underflow parse to zero and are accepted.
func finite(n json.Number) bool {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		// ParseFloat reports overflow as ErrRange with f = ±Inf; the
		// decoder has already rejected anything that is not a number.
		return errors.Is(err, strconv.ErrRange) && !math.IsInf(f, 0)
	}
	return !math.IsInf(f, 0) && !math.IsNaN(f)
}

// diagnose explains why data, which json.Valid rejected, is not one JSON
// value: it is empty, truncated, malformed, or followed by more data.
func diagnose(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return tokenError(err, data)
	}
	// One value decoded, so something other than whitespace follows it.
	return &bodyError{
		Offset: int64(skipSpace(data, int(dec.InputOffset()))),
		Msg:    "unexpected data after the JSON object",
	}
}

// tokenError turns an error of the json decoder into a *bodyError.
func tokenError(err error, data []byte) error {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF) && skipSpace(data, 0) == len(data):
		return &bodyError{Offset: int64(len(data)), Msg: "empty body, want a JSON object"}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &bodyError{Offset: int64(len(data)), Msg: "unexpected end of JSON input"}
	case errors.As(err, &se):
		// SyntaxError.Offset counts the bytes read, including the bad one.
		return &bodyError{Offset: max(se.Offset-1, 0), Msg: "malformed JSON: " + se.Error()}
	default:
		return fmt.Errorf("decode account: %w", err)
	}
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace, or len(data).
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// kindOf names the kind of JSON value that starts with byte c.
func kindOf(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// invalidUTF8Offset returns the offset of the first byte of data that does
// not start a valid UTF-8 sequence.
func invalidUTF8Offset(data []byte) int64 {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return int64(i)
		}
		i += size
	}
	return int64(len(data))
}

// truncateKey shortens an over-long field name for an error message, cutting
// at a rune boundary.
func truncateKey(key string) string {
	const keep = 64
	if len(key) <= keep {
		return key
	}
	cut := keep
	for cut > 0 && !utf8.RuneStart(key[cut]) {
		cut--
	}
	return key[:cut] + "..."
}

// duplicateKey reports the first key that repeats within one object of
// data, a JSON value, as a field path such as "outcomes[2].outcome" (an
// index in brackets, names joined by dots). It uses jsontext, which checks
// names after unescaping them, as the object would be decoded; data that
// is not valid JSON reports none, and is left to the caller's decoder.
func duplicateKey(data []byte) (string, bool) {
	if jsontext.Value(data).IsValid() {
		return "", false
	}
	_, err := jsontext.NewDecoder(bytes.NewReader(data)).ReadValue()
	var se *jsontext.SyntacticError
	if !errors.As(err, &se) || !errors.Is(se.Err, jsontext.ErrDuplicateName) {
		return "", false
	}
	return fieldPath(se.JSONPointer), true
}

// fieldPath writes a JSON pointer as the field names of error answers:
// "/outcomes/2/account/industry" is "outcomes[2].account.industry". A
// token of digits alone is taken for an array index.
func fieldPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if tok != "" && strings.Trim(tok, "0123456789") == "" {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// duplicateError is the answer to a body with a repeated key.
func duplicateError(path string) error {
	return &icp.ValidationError{Fields: []icp.FieldError{{Field: path, Message: msgDuplicate}}}
}
