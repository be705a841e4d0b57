package datasets

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/icpengine/icp"
)

// openParquetChunks reads a Parquet file row group by row group, a chunk
// of rows at a time. Values keep their stored types where the kind asked
// for matches (a DOUBLE read as a Number); otherwise they are turned into
// the text a CSV cell would hold and parsed as such.
func openParquetChunks(r io.ReaderAt, size int64, source string, opts ChunkOptions) (c *Chunks, err error) {
	c, err = newChunks(source, FormatParquet, opts)
	if err != nil {
		return nil, err
	}
	invalid := func(err error) error {
		return &ParseError{Source: source, Err: fmt.Errorf("%w: parquet: %w", icp.ErrInvalid, err)}
	}
	defer func() {
		if p := recover(); p != nil {
			c, err = nil, invalid(fmt.Errorf("malformed file: %v", p))
		}
	}()
	f, err := openParquet(r, size)
	if err != nil {
		return nil, invalid(err)
	}
	schema := f.Schema()
	paths := schema.Columns()
	if len(paths) == 0 {
		return nil, &ParseError{Source: source, Err: ErrEmpty}
	}
	leaves := make([]*parquetColumn, len(paths))
	names := make([]string, len(paths))
	for j, path := range paths {
		leaf, ok := schema.Lookup(path...)
		if !ok {
			return nil, invalid(fmt.Errorf("column %q missing from the schema", strings.Join(path, ".")))
		}
		names[j] = parquetName(schema, path)
		if names[j] == "" {
			names[j] = "column_" + strconv.Itoa(j+1)
		}
		pc := &parquetColumn{leaf: leaf, name: names[j]}
		if leaf.MaxRepetitionLevel > 1 {
			return nil, &ParseError{Source: source, Column: j + 1, Field: names[j], Err: errors.New("lists of lists are not supported; flatten the column")}
		}
		if err := pc.classify(); err != nil {
			return nil, &ParseError{Source: source, Column: j + 1, Field: names[j], Err: fmt.Errorf("%w: parquet: %w", icp.ErrInvalid, err)}
		}
		leaves[j] = pc
	}
	if err := c.setHeader(names); err != nil {
		return nil, err
	}
	c.total = f.NumRows()
	groups := f.RowGroups()
	g := 0
	var rows parquet.Rows
	buf := make([]parquet.Row, 256)
	cells := make([]string, len(names))
	lists := make([][]string, len(names))
	nums := make([]float64, len(names))
	typed := make([]bool, len(names))
	rowNum := 0
	c.next = func(ch *Chunk) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = invalid(fmt.Errorf("malformed file: %v", p))
			}
		}()
		for ch.Read < c.opts.Rows {
			if rows == nil {
				if g >= len(groups) {
					return io.EOF
				}
				rows = groups[g].Rows()
				g++
			}
			want := min(len(buf), c.opts.Rows-ch.Read)
			n, err := rows.ReadRows(buf[:want])
			for _, pr := range buf[:n] {
				rowNum++
				c.done.Store(int64(rowNum))
				clear(cells)
				clear(typed)
				for j := range lists {
					lists[j] = lists[j][:0]
				}
				var cellErr *ParseError
				for _, v := range pr {
					j := v.Column()
					if j < 0 || j >= len(leaves) || c.take[j] < 0 && c.keep[j] < 0 {
						continue
					}
					pc := leaves[j]
					s, x, verr := pc.value(v, rowNum-1)
					if verr != nil && cellErr == nil {
						cellErr = &ParseError{Source: source, Row: rowNum, Column: j + 1, Field: names[j], Err: verr}
					}
					if v.IsNull() {
						continue
					}
					if pc.leaf.MaxRepetitionLevel > 0 {
						if s != "" {
							lists[j] = append(lists[j], s)
						}
						continue
					}
					if pc.kind == pqText {
						cells[j] = s
						continue
					}
					nums[j], typed[j] = x, true
					cells[j] = string(appendValue(nil, parquetKindOf(pc.kind), x))
				}
				for j := range lists {
					if len(lists[j]) > 0 {
						sep := ";"
						if k := c.take[j]; k >= 0 {
							sep = c.cols[k].sep
						}
						cells[j] = strings.Join(lists[j], sep)
					}
				}
				if cellErr != nil {
					ch.Read++
					ch.Errors = append(ch.Errors, cellErr)
					continue
				}
				c.addParquetRow(ch, rowNum, cells, nums, typed, leaves, names)
			}
			if errors.Is(err, io.EOF) || n == 0 && err == nil {
				rows.Close()
				rows = nil
				continue
			}
			if err != nil {
				return invalid(err)
			}
		}
		return nil
	}
	return c, nil
}

// parquetKindOf is the Kind of a typed Parquet column.
func parquetKindOf(k parquetKind) Kind {
	switch k {
	case pqBool:
		return Bool
	case pqDate, pqTimestamp, pqInt96:
		return Date
	}
	return Number
}

// addParquetRow adds one row: a typed value goes in as it is when the
// column is read with its kind, every other value through its text.
func (c *Chunks) addParquetRow(ch *Chunk, rowNum int, cells []string, nums []float64, typed []bool, leaves []*parquetColumn, names []string) {
	ch.Read++
	var buf [64]float64
	vals := buf[:0]
	for j, cell := range cells {
		k := c.take[j]
		if k < 0 || c.cols[k].kind == String {
			continue
		}
		want := c.cols[k].kind
		if typed[j] && parquetKindOf(leaves[j].kind) == want {
			vals = append(vals, nums[j])
			continue
		}
		v, err := ParseCell(cell, want, c.opts.Decimal, c.opts.Decimal == ',')
		if err != nil {
			ch.Errors = append(ch.Errors, &ParseError{Source: c.source, Row: rowNum, Column: j + 1, Field: names[j], Err: err})
			return
		}
		vals = append(vals, v)
	}
	c.appendRow(ch, rowNum, cells, vals)
}
