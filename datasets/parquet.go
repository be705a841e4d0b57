package datasets

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/icpengine/icp"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// parquetMagic starts (and ends) every Parquet file.
const parquetMagic = "PAR1"

// isParquet reports whether the first bytes of an input are Parquet's.
func isParquet(head []byte) bool { return string(head) == parquetMagic }

// julianUnixEpoch is the Julian day number of 1970-01-01, the epoch of the
// legacy INT96 timestamps of Impala, Hive and Spark.
const julianUnixEpoch = 2_440_588

// parquetValueBatch is how many values readParquet decodes at a time.
const parquetValueBatch = 4096

// maxListElements bounds the elements of one list cell: a page of a few
// bytes can declare billions of repeated values.
const maxListElements = 1 << 16

// openParquet opens a Parquet file of size bytes once its footer and its
// pages' headers are checked (checkParquetFooter, checkParquetPages).
func openParquet(r io.ReaderAt, size int64) (*parquet.File, error) {
	if err := checkParquetFooter(r, size); err != nil {
		return nil, err
	}
	f, err := parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, err
	}
	if err := checkParquetPages(r, size, f.Metadata()); err != nil {
		return nil, err
	}
	return f, nil
}

// readParquet reads a Parquet file of size bytes into a typed table; see
// Read for the mapping of types. A panic of the Parquet library on a
// malformed file becomes an error: input never takes the process down.
func readParquet(r io.ReaderAt, size int64, source string, opts *ReadOptions) (t *Table, err error) {
	var o ReadOptions
	if opts != nil {
		o = *opts
	}
	if err := o.check(source); err != nil {
		return nil, err
	}
	invalid := func(err error) error {
		return &ParseError{Source: source, Err: fmt.Errorf("%w: parquet: %w", icp.ErrInvalid, err)}
	}
	defer func() {
		if p := recover(); p != nil {
			t, err = nil, invalid(fmt.Errorf("malformed file: %v", p))
		}
	}()
	f, err := openParquet(r, size)
	if err != nil {
		return nil, invalid(err)
	}
	schema := f.Schema()
	nrows := f.NumRows()
	if nrows < 0 {
		return nil, invalid(fmt.Errorf("negative row count %d", nrows))
	}
	if o.MaxRows > 0 && int64(o.MaxRows) < nrows {
		nrows = int64(o.MaxRows)
	}
	if nrows == 0 {
		return nil, &ParseError{Source: source, Err: ErrNoRows}
	}
	// Every leaf column holds at least one value (or level) per row, so a
	// row count beyond the file's size is a lie that must not allocate.
	if nrows > size {
		return nil, invalid(fmt.Errorf("%d rows in a file of %d bytes", nrows, size))
	}
	n := int(nrows)

	paths := schema.Columns()
	if len(paths) == 0 {
		return nil, &ParseError{Source: source, Err: ErrEmpty}
	}
	cols := make([]*Column, len(paths))
	raw := make([]cells, len(paths)) // text columns, typed by the CSV rules
	text := make([]bool, len(paths))
	names := make([]string, len(paths))
	seen := make(map[string]int, len(paths))
	for j, path := range paths {
		leaf, ok := schema.Lookup(path...)
		if !ok {
			return nil, invalid(fmt.Errorf("column %q missing from the schema", strings.Join(path, ".")))
		}
		name := parquetName(schema, path)
		if name == "" {
			name = "column_" + strconv.Itoa(j+1)
		}
		if k, dup := seen[name]; dup {
			return nil, &ParseError{Source: source, Column: j + 1, Field: name,
				Err: fmt.Errorf("%w: duplicate column name %q (also column %d)", ErrHeader, name, k+1)}
		}
		seen[name] = j
		names[j] = name
		pc := parquetColumn{leaf: leaf, name: name, rows: n}
		col, err := pc.read(f.RowGroups(), &raw[j])
		if err != nil {
			var ce *cellError
			if errors.As(err, &ce) {
				return nil, &ParseError{Source: source, Row: ce.row + 1, Column: j + 1, Field: name, Err: ce.err}
			}
			return nil, &ParseError{Source: source, Column: j + 1, Field: name,
				Err: fmt.Errorf("%w: parquet: %w", icp.ErrInvalid, err)}
		}
		cols[j] = col
		text[j] = col == nil
	}

	// Text columns are typed as CSV cells are.
	var textNames []string
	var textRaw []cells
	var textIdx []int
	for j := range paths {
		if text[j] {
			textNames = append(textNames, names[j])
			textRaw = append(textRaw, raw[j])
			textIdx = append(textIdx, j)
			raw[j] = cells{}
		}
	}
	typed, err := typeColumns(textNames, textRaw, o.Decimal == ',', o.Decimal == ',',
		func(k, row int, err error) error {
			j := textIdx[k]
			return &ParseError{Source: source, Row: row + 1, Column: j + 1, Field: names[j], Err: err}
		})
	if err != nil {
		return nil, err
	}
	for k, j := range textIdx {
		cols[j] = typed[k]
	}
	lines := make([]int, n)
	for i := range lines {
		lines[i] = i + 1
	}
	return &Table{Source: source, Columns: cols, Lines: lines}, nil
}

// parquetName names a leaf column: the names along its path joined with
// '.', stopping at a list or map (so a list of tags "tech_stack" with the
// leaf tech_stack.list.element is named "tech_stack"), or at a repeated
// field.
func parquetName(schema *parquet.Schema, path []string) string {
	var node parquet.Node = schema
	var parts []string
	for _, p := range path {
		var next parquet.Node
		for _, f := range node.Fields() {
			if f.Name() == p {
				next = f
				break
			}
		}
		if next == nil {
			break
		}
		parts = append(parts, p)
		node = next
		if next.Repeated() || isListOrMap(next) {
			break
		}
	}
	return strings.Join(parts, ".")
}

// isListOrMap reports whether a node is annotated as a LIST or a MAP.
func isListOrMap(n parquet.Node) bool {
	if n.Leaf() {
		return false
	}
	lt := n.Type().LogicalType()
	if lt != nil {
		switch lt.Value.(type) {
		case *format.ListType, *format.MapType:
			return true
		}
	}
	if ct := n.Type().ConvertedType(); ct != nil {
		switch *ct {
		case deprecated.List, deprecated.Map, deprecated.MapKeyValue:
			return true
		}
	}
	return false
}

// parquetKind is how one leaf column is read.
type parquetKind uint8

const (
	pqText      parquetKind = iota // text, typed by the CSV rules
	pqBool                         // BOOLEAN
	pqNumber                       // integers and floats
	pqUnsigned                     // unsigned integers
	pqDecimal                      // DECIMAL of any physical type
	pqDate                         // DATE: days since 1970-01-01
	pqTimestamp                    // TIMESTAMP in some unit
	pqInt96                        // legacy INT96 timestamps
)

// parquetColumn reads one leaf column.
type parquetColumn struct {
	leaf parquet.LeafColumn
	name string
	rows int

	kind  parquetKind
	scale int           // of a decimal
	unit  time.Duration // of a timestamp
}

// read decodes the column's values over the row groups. It returns the
// column for typed kinds, or nil after filling raw for text columns (and
// for lists, joined with ';').
func (pc *parquetColumn) read(groups []parquet.RowGroup, raw *cells) (*Column, error) {
	if pc.leaf.MaxRepetitionLevel > 1 {
		return nil, errors.New("lists of lists are not supported; flatten the column")
	}
	if err := pc.classify(); err != nil {
		return nil, err
	}
	repeated := pc.leaf.MaxRepetitionLevel == 1
	var num []float64
	if !repeated && pc.kind != pqText {
		num = make([]float64, 0, pc.rows)
	}
	var list []string // the elements of the current row of a list
	inRow := false
	row, elems := 0, 0 // elems counts the values of the current list
	flush := func() {
		raw.add(strings.Join(list, ";"))
		list = list[:0]
		row++
	}
	buf := make([]parquet.Value, parquetValueBatch)
	for _, rg := range groups {
		if row >= pc.rows {
			break
		}
		chunks := rg.ColumnChunks()
		if pc.leaf.ColumnIndex >= len(chunks) {
			return nil, fmt.Errorf("row group without column %d", pc.leaf.ColumnIndex+1)
		}
		vr := parquet.NewColumnChunkValueReader(chunks[pc.leaf.ColumnIndex])
		for stalls := 0; row < pc.rows; {
			k, err := vr.ReadValues(buf)
			if k == 0 && err == nil {
				if stalls++; stalls > 100 {
					vr.Close()
					return nil, errors.New("the column's pages yield no values")
				}
				continue
			}
			for _, v := range buf[:k] {
				if repeated {
					if v.RepetitionLevel() == 0 {
						elems = 0
						if inRow {
							flush()
							if row >= pc.rows {
								break
							}
						}
						inRow = true
					}
					if elems++; elems > maxListElements {
						return nil, &cellError{row: row, err: fmt.Errorf("%w: a list of more than %d elements", icp.ErrInvalid, maxListElements)}
					}
					if !v.IsNull() {
						s, _, err := pc.value(v, row)
						if err != nil {
							return nil, err
						}
						if s != "" {
							list = append(list, s)
						}
					}
					continue
				}
				if row >= pc.rows {
					break
				}
				s, x, err := pc.value(v, row)
				if err != nil {
					return nil, err
				}
				if num != nil {
					num = append(num, x)
				} else {
					raw.add(s)
				}
				row++
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				vr.Close()
				return nil, err
			}
		}
		if err := vr.Close(); err != nil {
			return nil, err
		}
	}
	if repeated && inRow && row < pc.rows {
		flush()
	}
	if row != pc.rows {
		return nil, fmt.Errorf("column holds %d rows, the file says %d", row, pc.rows)
	}
	if num == nil {
		return nil, nil
	}
	c := &Column{Name: pc.name, Kind: Number, Num: num}
	switch pc.kind {
	case pqBool:
		c.Kind = Bool
	case pqDate, pqTimestamp, pqInt96:
		c.Kind = Date
	}
	return c, nil
}

// classify chooses how to read the column from its physical and logical
// types.
func (pc *parquetColumn) classify() error {
	typ := pc.leaf.Node.Type()
	pc.kind = pqText
	if lt := typ.LogicalType(); lt != nil && lt.Value != nil {
		switch l := lt.Value.(type) {
		case *format.DecimalType:
			pc.kind, pc.scale = pqDecimal, int(l.Scale)
			return nil
		case *format.DateType:
			pc.kind = pqDate
			return nil
		case *format.TimestampType:
			pc.kind = pqTimestamp
			if l.Unit.Value != nil {
				pc.unit = l.Unit.Value.Duration()
			}
			if pc.unit <= 0 {
				return fmt.Errorf("timestamp unit %s is not supported", &l.Unit)
			}
			return nil
		case *format.IntType:
			if !l.IsSigned {
				pc.kind = pqUnsigned
				return nil
			}
		case *format.Float16Type, *format.GeometryType, *format.GeographyType, *format.VariantType:
			return fmt.Errorf("type %s is not supported", lt)
		}
	} else if ct := typ.ConvertedType(); ct != nil {
		switch *ct {
		case deprecated.Decimal:
			pc.kind, pc.scale = pqDecimal, 0 // a scale would come as a logical type
			return nil
		case deprecated.Date:
			pc.kind = pqDate
			return nil
		case deprecated.TimestampMillis:
			pc.kind, pc.unit = pqTimestamp, time.Millisecond
			return nil
		case deprecated.TimestampMicros:
			pc.kind, pc.unit = pqTimestamp, time.Microsecond
			return nil
		case deprecated.Uint8, deprecated.Uint16, deprecated.Uint32, deprecated.Uint64:
			pc.kind = pqUnsigned
			return nil
		}
	}
	switch typ.Kind() {
	case parquet.Boolean:
		pc.kind = pqBool
	case parquet.Int32, parquet.Int64, parquet.Float, parquet.Double:
		pc.kind = pqNumber
	case parquet.Int96:
		pc.kind = pqInt96
	}
	return nil
}

// value converts one non-repeated value or one list element: the text of
// a text column or list element, or the number of the other kinds (NaN
// for null).
func (pc *parquetColumn) value(v parquet.Value, row int) (string, float64, error) {
	if v.IsNull() {
		return "", math.NaN(), nil
	}
	var x float64
	switch pc.kind {
	case pqText:
		return parquetText(v), 0, nil
	case pqBool:
		if v.Boolean() {
			x = 1
		}
	case pqNumber:
		switch v.Kind() {
		case parquet.Int32:
			x = float64(v.Int32())
		case parquet.Int64:
			x = float64(v.Int64())
		case parquet.Float:
			x = float64(v.Float())
		default:
			x = v.Double()
		}
	case pqUnsigned:
		if v.Kind() == parquet.Int32 {
			x = float64(v.Uint32())
		} else {
			x = float64(v.Uint64())
		}
	case pqDecimal:
		var unscaled *big.Int
		switch v.Kind() {
		case parquet.Int32:
			unscaled = big.NewInt(int64(v.Int32()))
		case parquet.Int64:
			unscaled = big.NewInt(v.Int64())
		default:
			unscaled = twosComplement(v.ByteArray())
		}
		x, _ = new(big.Float).Quo(new(big.Float).SetInt(unscaled),
			new(big.Float).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(pc.scale)), nil))).Float64()
	case pqDate:
		x = float64(v.Int32())
	case pqTimestamp:
		ticks := v.Int64()
		if v.Kind() == parquet.Int32 {
			ticks = int64(v.Int32())
		}
		x = float64(ticks) / (float64(24*time.Hour) / float64(pc.unit)) // ticks over ticks per day
	case pqInt96:
		i := v.Int96()
		nanos := uint64(i[1])<<32 | uint64(i[0])
		x = float64(int64(i[2])-julianUnixEpoch) + float64(nanos)/float64(24*time.Hour)
	}
	if math.IsNaN(x) {
		return "", x, nil // a float NaN is a missing value, as "NaN" in a CSV
	}
	if math.IsInf(x, 0) {
		return "", 0, &cellError{row: row, err: fmt.Errorf("%w: %v", ErrOutOfRange, x)}
	}
	if pc.kind == pqText || pc.leaf.MaxRepetitionLevel > 0 {
		return strconv.FormatFloat(x, 'g', -1, 64), x, nil
	}
	return "", x, nil
}

// parquetText returns a value of a text column (or of a list) as text.
func parquetText(v parquet.Value) string {
	switch v.Kind() {
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return string(v.ByteArray())
	case parquet.Boolean:
		return strconv.FormatBool(v.Boolean())
	case parquet.Int32:
		return strconv.FormatInt(int64(v.Int32()), 10)
	case parquet.Int64:
		return strconv.FormatInt(v.Int64(), 10)
	case parquet.Float:
		return strconv.FormatFloat(float64(v.Float()), 'g', -1, 32)
	case parquet.Double:
		return strconv.FormatFloat(v.Double(), 'g', -1, 64)
	}
	return v.String()
}

// twosComplement decodes a big-endian two's complement integer.
func twosComplement(b []byte) *big.Int {
	x := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return x
}
