package datasets

import (
	"encoding/json"
	"math"

	"github.com/icpengine/icp"
)

// Kind is the storage type of a column, inferred from its cells when a file
// is read.
type Kind uint8

// The column kinds.
const (
	// String columns keep the trimmed cell text.
	String Kind = iota
	// Number columns hold float64 values.
	Number
	// Bool columns hold 0 (false) or 1 (true).
	Bool
	// Date columns hold days since 1970-01-01 UTC (fractional for times).
	Date
)

// String returns the kind's lower-case name.
func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case Number:
		return "number"
	case Bool:
		return "bool"
	case Date:
		return "date"
	}
	return "unknown"
}

// Column is one typed column of a table.
type Column struct {
	Name string
	Kind Kind
	// Num holds the values of Number, Bool and Date columns; NaN marks a
	// missing value. It is nil for String columns.
	Num []float64
	// Str holds the values of String columns; "" marks a missing value. It is
	// nil for the other kinds.
	Str []string
}

// Len returns the number of values in the column.
func (c *Column) Len() int {
	if c.Kind == String {
		return len(c.Str)
	}
	return len(c.Num)
}

// IsMissing reports whether row i has no value.
func (c *Column) IsMissing(i int) bool {
	if c.Kind == String {
		return c.Str[i] == ""
	}
	return math.IsNaN(c.Num[i])
}

// Table is a typed, column-oriented table of accounts.
type Table struct {
	// Source names where the table came from (a file name) for errors.
	Source  string
	Columns []*Column
	// Lines[i] is the 1-based line on which row i starts in Source. It is
	// nil for tables that were not read from a file.
	Lines []int
}

// Rows returns the number of rows.
func (t *Table) Rows() int {
	if len(t.Columns) == 0 {
		return 0
	}
	return t.Columns[0].Len()
}

// Column returns the column with the given name, or nil.
func (t *Table) Column(name string) *Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Line returns the source line of row i, or 0 when unknown.
func (t *Table) Line(i int) int {
	if i < len(t.Lines) {
		return t.Lines[i]
	}
	return 0
}

// Take returns a new table holding the given rows, in order.
func (t *Table) Take(rows []int) *Table {
	out := &Table{Source: t.Source, Columns: make([]*Column, len(t.Columns))}
	if t.Lines != nil {
		out.Lines = make([]int, len(rows))
		for j, i := range rows {
			out.Lines[j] = t.Lines[i]
		}
	}
	for k, c := range t.Columns {
		nc := &Column{Name: c.Name, Kind: c.Kind}
		if c.Kind == String {
			nc.Str = make([]string, len(rows))
			for j, i := range rows {
				nc.Str[j] = c.Str[i]
			}
		} else {
			nc.Num = make([]float64, len(rows))
			for j, i := range rows {
				nc.Num[j] = c.Num[i]
			}
		}
		out.Columns[k] = nc
	}
	return out
}

// Account returns row i as a JSON request would carry it: strings, bools,
// numbers as json.Number and dates as text, written as WriteCSV writes
// them; missing cells are left out.
func (t *Table) Account(i int) icp.Account {
	acc := make(icp.Account, len(t.Columns))
	for _, c := range t.Columns {
		if c.IsMissing(i) {
			continue
		}
		switch c.Kind {
		case String, Date:
			acc[c.Name] = c.Text(i)
		case Bool:
			acc[c.Name] = c.Num[i] != 0
		default:
			acc[c.Name] = json.Number(c.Text(i))
		}
	}
	return acc
}

// Text returns cell i as text, "" when missing: strings as they are, and
// the other kinds as WriteCSV writes them. It is how a column of any kind
// reads as a category.
func (c *Column) Text(i int) string {
	switch {
	case c.IsMissing(i):
		return ""
	case c.Kind == String:
		return c.Str[i]
	}
	return string(appendValue(nil, c.Kind, c.Num[i]))
}
