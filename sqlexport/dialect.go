package sqlexport

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The dialects.
const (
	Postgres = "postgres"
	DuckDB   = "duckdb"
)

// dialect writes the few constructs the two databases spell differently.
type dialect struct {
	name string
}

func newDialect(name string) (dialect, error) {
	switch name {
	case Postgres, DuckDB:
		return dialect{name}, nil
	}
	return dialect{}, fmt.Errorf("sql export: dialect %q: want %q or %q", name, Postgres, DuckDB)
}

// num is an exact double literal: the shortest decimal that reads back
// as v, typed double in both dialects (PostgreSQL reads a bare literal
// with an exponent as numeric).
func (d dialect) num(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "CAST('Infinity' AS DOUBLE PRECISION)"
	case math.IsInf(v, -1):
		return "CAST('-Infinity' AS DOUBLE PRECISION)"
	case math.IsNaN(v):
		return "CAST('NaN' AS DOUBLE PRECISION)"
	}
	s := strconv.FormatFloat(v, 'e', -1, 64)
	if d.name == Postgres {
		s += "::float8"
	}
	if v < 0 || math.Signbit(v) {
		return "(" + s + ")"
	}
	return s
}

// str is a text literal.
func str(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ident quotes an identifier.
func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// TableName quotes a table or view name for SQL, each dot-separated part
// on its own (schema.table).
func TableName(s string) string { return tableName(s) }

// tableName quotes a table name, each dot-separated part on its own
// (schema.table).
func tableName(s string) string {
	parts := strings.Split(s, ".")
	for k, p := range parts {
		parts[k] = ident(p)
	}
	return strings.Join(parts, ".")
}

// whiteSpace lists the characters Go's unicode.IsSpace accepts: the set
// strings.TrimSpace trims and features.TagKey collapses.
var whiteSpace = []int{
	9, 10, 11, 12, 13, 32, 0x85, 0xA0, 0x1680,
	0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A,
	0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
}

// wsChars is a text literal of every white-space character, the space
// included or not.
func wsChars(space bool) string {
	var b strings.Builder
	for _, c := range whiteSpace {
		if c != ' ' || space {
			b.WriteRune(rune(c))
		}
	}
	return str(b.String())
}

// trim removes white space from both ends of a text expression.
func (d dialect) trim(x string) string {
	if d.name == Postgres {
		return "btrim(" + x + ", " + wsChars(true) + ")"
	}
	// DuckDB's trim with a set of characters is slow; most cells need none.
	edge := "[" + d.wsClass() + "]"
	return "(CASE WHEN regexp_matches(" + x + ", " + str("^"+edge+"|"+edge+"$") + ") THEN trim(" + x + ", " + wsChars(true) + ") ELSE " + x + " END)"
}

// wsClass is the inside of a regular expression's bracket expression
// matching one white-space character.
func (d dialect) wsClass() string {
	var b strings.Builder
	for _, c := range whiteSpace {
		if d.name == Postgres {
			fmt.Fprintf(&b, `\u%04X`, c)
		} else {
			fmt.Fprintf(&b, `\x{%X}`, c)
		}
	}
	return b.String()
}

// tagTokens is the trimmed text x of a tag list lower-cased, with the
// white space around each separator removed: its tags, split at sep, are
// trimmed and lower-cased.
func (d dialect) tagTokens(x, sep string) string {
	ws := "[" + d.wsClass() + "]*"
	return "lower(regexp_replace(" + x + ", " + str(ws+regexpQuote(sep)+ws) + ", " + str(sep) + ", 'g'))"
}

// tagKeys is the list of features.TagKey of the tags of tokens (see
// tagTokens): their inner runs of white space made one space.
func (d dialect) tagKeys(tokens, sep string) string {
	collapsed := "regexp_replace(" + tokens + ", " + str("["+d.wsClass()+"]+") + ", ' ', 'g')"
	if d.name == Postgres {
		return "string_to_array(" + collapsed + ", " + str(sep) + ")"
	}
	return "string_split(" + collapsed + ", " + str(sep) + ")"
}

// tagPresent is true when tokens (see tagTokens) hold a tag that is not
// empty and not a placeholder (ph, lower-cased): the tag list is not
// missing.
func (d dialect) tagPresent(tokens, sep string, ph []string) string {
	if d.name == Postgres {
		arr := "array_remove(string_to_array(" + tokens + ", " + str(sep) + "), '')"
		for _, p := range ph {
			arr = "array_remove(" + arr + ", " + str(p) + ")"
		}
		return "COALESCE(cardinality(" + arr + "), 0) > 0"
	}
	keep := "t <> ''"
	if len(ph) > 0 {
		keep += " AND NOT " + d.in("t", ph)
	}
	return "COALESCE(len([t FOR t IN string_split(" + tokens + ", " + str(sep) + ") IF " + keep + "]), 0) > 0"
}

// regexpQuote escapes the characters of s that regular expressions read
// as operators.
func regexpQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\.^$|?*+()[]{}-`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// in is true when the text x is one of vs (NULL or false when x is
// NULL). DuckDB turns an IN list, and a list lookup, into a join with a
// table of the values; a CASE stays an expression.
func (d dialect) in(x string, vs []string) string {
	if d.name == Postgres {
		return "(" + x + " IN (" + strList(vs) + "))"
	}
	return "(CASE " + x + " WHEN " + strings.Join(strListParts(vs), " THEN TRUE WHEN ") + " THEN TRUE ELSE FALSE END)"
}

// strListParts are the text literals of vs.
func strListParts(vs []string) []string {
	out := make([]string, len(vs))
	for k, v := range vs {
		out[k] = str(v)
	}
	return out
}

// hasKey is true when the list of keys holds key, false when not or when
// the list is NULL.
func (d dialect) hasKey(keys, key string) string {
	if d.name == Postgres {
		return "COALESCE(" + str(key) + " = ANY(" + keys + "), FALSE)"
	}
	return "COALESCE(list_contains(" + keys + ", " + str(key) + "), FALSE)"
}

// epoch is the seconds since 1970-01-01 UTC of an ISO date or timestamp
// text, NULL for text that is not one.
func (d dialect) epoch(t string) string {
	if d.name == Postgres {
		iso := `^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?Z?$`
		return "CASE WHEN " + t + " ~ " + str(iso) + " THEN CAST(EXTRACT(EPOCH FROM CAST(" + t + " AS TIMESTAMP)) AS DOUBLE PRECISION) END"
	}
	return "CAST(epoch(TRY_CAST(" + t + " AS TIMESTAMP)) AS DOUBLE)"
}

// days turns seconds since the epoch into days, fractional for times of
// day, as datasets.ParseDate computes them.
func (d dialect) days(e string) string {
	day := d.num(86400)
	return "(floor(" + e + " / " + day + ") + (" + e + " - floor(" + e + " / " + day + ") * " + day + ") / " + day + ")"
}

// strList is a comma-separated list of text literals.
func strList(vs []string) string {
	parts := make([]string, len(vs))
	for k, v := range vs {
		parts[k] = str(v)
	}
	return strings.Join(parts, ", ")
}

// numList is a comma-separated list of double literals.
func (d dialect) numList(vs []float64) string {
	parts := make([]string, len(vs))
	for k, v := range vs {
		parts[k] = d.num(v)
	}
	return strings.Join(parts, ", ")
}

// fence ends a layer of the query: PostgreSQL would otherwise fold the
// layers into one and repeat each expression at every use.
func (d dialect) fence() string {
	if d.name == Postgres {
		return " OFFSET 0"
	}
	return ""
}
