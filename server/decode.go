package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

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
	if !utf8.Valid(data) {
		return nil, &bodyError{Offset: invalidUTF8Offset(data), Msg: "request body is not valid UTF-8"}
	}
	if !json.Valid(data) {
		return nil, diagnose(data)
	}
	start := skipSpace(data, 0)
	if data[start] != '{' {
		return nil, &bodyError{Offset: int64(start), Msg: "want a JSON object, got " + kindOf(data[start])}
	}

	// data is now known to be one valid JSON object, so the token stream
	// below cannot fail on syntax; errors are still checked, never assumed.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // the opening brace
		return nil, tokenError(err, data)
	}
	acc := make(icp.Account)
	seen := make(map[string]bool)
	var verr icp.ValidationError
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, tokenError(err, data)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("decode account: object key is %T", tok)
		}
		keep := true
		switch {
		case key == "":
			verr.Add(key, msgEmptyKey)
			keep = false
		case len(key) > maxKeyBytes:
			verr.Add(truncateKey(key), msgLongKey)
			keep = false
		case seen[key]:
			verr.Add(key, msgDuplicate)
			keep = false
		}
		seen[key] = true

		before := len(verr.Fields)
		v, err := decodeValue(dec, key, &verr)
		if err != nil {
			return nil, tokenError(err, data)
		}
		if keep && len(verr.Fields) == before { // a bad value is left out too
			acc[key] = v
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, tokenError(err, data)
	}
	// The fields that passed are returned with the field errors, so that the
	// scorer can report its own problems with them in the same answer.
	return acc, verr.Err()
}

// decodeValue reads the value of field key. Shape problems are added to verr
// and the offending value is skipped; the returned error is only for a
// broken token stream.
func decodeValue(dec *json.Decoder, key string, verr *icp.ValidationError) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case string:
		if len(t) > maxStringBytes {
			verr.Add(key, msgLongValue)
		}
		return t, nil
	case nil, bool:
		return t, nil
	case json.Number:
		if !finite(t) {
			verr.Add(key, msgFinite)
		}
		return t, nil
	case json.Delim:
		if t == '{' {
			verr.Add(key, msgNested)
			return nil, skipValue(dec, 1)
		}
		return decodeTags(dec, key, verr)
	default:
		return nil, fmt.Errorf("decode account: unexpected token %T", tok)
	}
}

// decodeTags reads the rest of an array, whose opening bracket has been
// read, as a tag list.
func decodeTags(dec *json.Decoder, key string, verr *icp.ValidationError) (any, error) {
	tags := make([]any, 0, 4)
	for i := 0; dec.More(); i++ {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case string:
			if len(t) > maxStringBytes {
				verr.Add(key+"["+strconv.Itoa(i)+"]", msgLongValue)
				continue
			}
			tags = append(tags, t)
		case json.Delim:
			verr.Add(key+"["+strconv.Itoa(i)+"]", msgTag)
			if err := skipValue(dec, 1); err != nil {
				return nil, err
			}
		default:
			verr.Add(key+"["+strconv.Itoa(i)+"]", msgTag)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return nil, err
	}
	return tags, nil
}

// skipValue consumes tokens until depth open delimiters have been closed.
func skipValue(dec *json.Decoder, depth int) error {
	for depth > 0 {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
			default:
				depth--
			}
		}
	}
	return nil
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
