package datasets

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/parquet-go/parquet-go"
)

// parquetRowGroup is how many rows a row group of ParquetWriter holds.
const parquetRowGroup = 1 << 17

// ParquetWriter writes tables of the same columns as one Parquet file, in
// bounded memory: a row group is written out every 131,072 rows. String
// columns are written as optional UTF-8 byte arrays, Number columns as
// optional doubles, Bool columns as optional booleans and Date columns as
// optional timestamps in microseconds (UTC); missing values are nulls.
// The Parquet library orders a group's fields by name, so the file's
// columns are in name order, whatever the tables' order.
type ParquetWriter struct {
	w      *parquet.Writer
	names  []string
	kinds  []Kind
	leaf   []int // leaf index of each column
	rows   []parquet.Row
	buffed int
}

// NewParquetWriter starts a Parquet file of the given columns on w.
func NewParquetWriter(w io.Writer, names []string, kinds []Kind) (*ParquetWriter, error) {
	if len(names) != len(kinds) || len(names) == 0 {
		return nil, errors.New("parquet writer: want one kind per column, and a column")
	}
	g := parquet.Group{}
	for k, n := range names {
		if _, dup := g[n]; dup {
			return nil, fmt.Errorf("parquet writer: column %q twice", n)
		}
		var node parquet.Node
		switch kinds[k] {
		case String:
			node = parquet.String()
		case Number:
			node = parquet.Leaf(parquet.DoubleType)
		case Bool:
			node = parquet.Leaf(parquet.BooleanType)
		case Date:
			node = parquet.Timestamp(parquet.Microsecond)
		default:
			return nil, fmt.Errorf("parquet writer: column %q: unknown kind", n)
		}
		g[n] = parquet.Optional(node)
	}
	schema := parquet.NewSchema("accounts", g)
	pw := &ParquetWriter{names: names, kinds: kinds, leaf: make([]int, len(names))}
	for k, n := range names {
		leaf, ok := schema.Lookup(n)
		if !ok {
			return nil, fmt.Errorf("parquet writer: column %q not in the schema", n)
		}
		pw.leaf[k] = leaf.ColumnIndex
	}
	pw.w = parquet.NewWriter(w, schema, parquet.Compression(&parquet.Snappy))
	return pw, nil
}

// Write appends the rows of t, whose columns must be the writer's, in
// order and of the same kinds.
func (p *ParquetWriter) Write(t *Table) error {
	if len(t.Columns) != len(p.names) {
		return fmt.Errorf("parquet writer: %d columns, want %d", len(t.Columns), len(p.names))
	}
	for k, c := range t.Columns {
		if c.Name != p.names[k] || c.Kind != p.kinds[k] {
			return fmt.Errorf("parquet writer: column %d is %q (%s), want %q (%s)", k+1, c.Name, c.Kind, p.names[k], p.kinds[k])
		}
	}
	n := t.Rows()
	if cap(p.rows) < n {
		p.rows = make([]parquet.Row, n)
	}
	rows := p.rows[:n]
	for i := range rows {
		r := rows[i][:0]
		if cap(r) < len(p.names) {
			r = make(parquet.Row, 0, len(p.names))
		}
		r = r[:len(p.names)]
		for k, c := range t.Columns {
			leaf := p.leaf[k]
			if c.IsMissing(i) {
				r[leaf] = parquet.NullValue().Level(0, 0, leaf)
				continue
			}
			var v parquet.Value
			switch c.Kind {
			case String:
				v = parquet.ByteArrayValue([]byte(c.Str[i]))
			case Number:
				v = parquet.DoubleValue(c.Num[i])
			case Bool:
				v = parquet.BooleanValue(c.Num[i] != 0)
			case Date:
				v = parquet.Int64Value(int64(math.Round(c.Num[i] * 86400e6)))
			}
			r[leaf] = v.Level(0, 1, leaf)
		}
		rows[i] = r
	}
	if _, err := p.w.WriteRows(rows); err != nil {
		return fmt.Errorf("parquet writer: %w", err)
	}
	p.buffed += n
	if p.buffed >= parquetRowGroup {
		p.buffed = 0
		if err := p.w.Flush(); err != nil {
			return fmt.Errorf("parquet writer: %w", err)
		}
	}
	return nil
}

// Close writes the last row group and the footer. It does not close the
// underlying writer.
func (p *ParquetWriter) Close() error {
	if err := p.w.Close(); err != nil {
		return fmt.Errorf("parquet writer: %w", err)
	}
	return nil
}
