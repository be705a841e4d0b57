package server

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/icpengine/icp"
)

// The score answer is the one body every request of the hot path encodes;
// appendScore writes it without reflection, byte for byte as encoding/json
// would (FuzzAppendScore checks that), and falls back to encoding/json for
// attribution values of types it does not know.

// writeScore sends sc with status 200.
func (s *Server) writeScore(c *gin.Context, sc *icp.Score) error {
	buf, err := appendScore(make([]byte, 0, 512+192*len(sc.Attributions)), sc)
	if err != nil {
		return s.writeJSON(c, http.StatusOK, sc) // reports the error as encoding/json does
	}
	c.Data(http.StatusOK, jsonContentType, buf)
	return nil
}

// errNonFinite is a NaN or an infinity, which JSON cannot hold.
var errNonFinite = errors.New("non-finite number")

// appendScore appends the JSON encoding of sc to dst.
func appendScore(dst []byte, sc *icp.Score) ([]byte, error) {
	var err error
	dst = append(dst, '{')
	if sc.AccountID != "" {
		dst = append(dst, `"account_id":`...)
		dst = appendString(dst, sc.AccountID)
		dst = append(dst, ',')
	}
	dst = append(dst, `"model_version":`...)
	dst = appendString(dst, sc.ModelVersion)
	dst = append(dst, `,"score":`...)
	if dst, err = appendFloat(dst, sc.Score); err != nil {
		return nil, err
	}
	dst = append(dst, `,"percentile":`...)
	if dst, err = appendFloat(dst, sc.Percentile); err != nil {
		return nil, err
	}
	dst = append(dst, `,"tier":`...)
	dst = appendString(dst, string(sc.Tier))
	dst = append(dst, `,"segment":`...)
	if sc.Segment == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, `{"id":`...)
		dst = appendString(dst, sc.Segment.ID)
		dst = append(dst, `,"name":`...)
		dst = appendString(dst, sc.Segment.Name)
		if sc.Segment.Rule != "" {
			dst = append(dst, `,"rule":`...)
			dst = appendString(dst, sc.Segment.Rule)
		}
		dst = append(dst, `,"distance":`...)
		if dst, err = appendFloat(dst, sc.Segment.Distance); err != nil {
			return nil, err
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `,"margin":`...)
	if dst, err = appendFloat(dst, sc.Margin); err != nil {
		return nil, err
	}
	dst = append(dst, `,"base_value":`...)
	if dst, err = appendFloat(dst, sc.BaseValue); err != nil {
		return nil, err
	}
	dst = append(dst, `,"attribution_scale":`...)
	dst = appendString(dst, sc.AttributionScale)
	dst = append(dst, `,"attributions":`...)
	if sc.Attributions == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, a := range sc.Attributions {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"feature":`...)
			dst = appendString(dst, a.Feature)
			dst = append(dst, `,"value":`...)
			if dst, err = appendValue(dst, a.Value); err != nil {
				return nil, err
			}
			dst = append(dst, `,"contribution":`...)
			if dst, err = appendFloat(dst, a.Contribution); err != nil {
				return nil, err
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return append(dst, '}'), nil
}

// appendValue appends a raw account value: the kinds the decoder produces
// and float64 directly, anything else through encoding/json.
func appendValue(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendString(dst, v), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case float64:
		return appendFloat(dst, v)
	case json.Number:
		if v == "" {
			return append(dst, '0'), nil // as encoding/json writes an empty Number
		}
		if !validNumber(string(v)) {
			return nil, errors.New("invalid json.Number " + strconv.Quote(string(v)))
		}
		return append(dst, v...), nil
	case []any:
		if v == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendValue(dst, e); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return append(dst, b...), nil
	}
}

// appendFloat appends f as encoding/json formats a float64: the shortest
// representation, in exponent form below 1e-6 and from 1e21 on, with a
// one-digit negative exponent written without its leading zero.
func appendFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errNonFinite
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-07 becomes e-7.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

// appendString appends s as a JSON string the way encoding/json does by
// default: HTML-sensitive characters (<, >, &), control characters, U+2028
// and U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// validNumber reports whether s is a JSON number: an optional minus, an
// integer part without leading zeros, an optional fraction and an optional
// exponent.
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
