package datasets

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/icpengine/icp"
)

// ChunkOptions configures OpenChunks. Kinds is required; the zero value
// of the other fields reads 4,096 rows a chunk and sniffs the delimiter.
type ChunkOptions struct {
	// Kinds fixes the kind of each column to read, by name: every cell is
	// parsed to it (see ParseCell) instead of the kind being inferred from
	// the file, so that each chunk has the columns a model was trained on.
	// A column of the input not named here nor in Keep is skipped and
	// listed by Chunks.Skipped; a column named here that the input lacks
	// is absent from the chunks (missing in every row).
	Kinds map[string]Kind
	// Separators joins the elements of a list value (NDJSON arrays,
	// Parquet lists) of the named columns; ";" when a column has none.
	Separators map[string]string
	// Keep names columns to pass through as trimmed text, whatever their
	// kind; each must be in the input.
	Keep []string
	// Rows is the number of rows of a chunk. Zero means 4096.
	Rows int
	// Comma is the CSV delimiter; zero sniffs it as Read does.
	Comma rune
	// Decimal is the decimal separator of numbers, '.' or ','. Zero reads
	// a number with '.' and, when the delimiter is not ',', one that only
	// parses with a decimal comma ("12,5") with ','. Unlike Read, which
	// decides per column over the whole file, a chunk reader decides per
	// cell: set it to ',' for exports that write thousands as "1.200".
	Decimal rune
}

// The input formats of Chunks.Format.
const (
	FormatCSV     = "csv"
	FormatCSVGzip = "csv.gz"
	FormatNDJSON  = "ndjson"
	FormatParquet = "parquet"
)

// Chunk is one chunk of rows read by Chunks.Next.
type Chunk struct {
	// Table holds the rows that parsed, with the columns of
	// ChunkOptions.Kinds that the input has, typed as it says, and
	// Table.Lines giving each row's line (CSV, NDJSON) or row (Parquet).
	Table *Table
	// Kept holds the columns of ChunkOptions.Keep for the same rows, as
	// trimmed text.
	Kept *Table
	// Errors lists the rows that did not parse, one *ParseError each
	// (the first problem of the row), in input order.
	Errors []*ParseError
	// Read counts the input rows of the chunk, good and bad.
	Read int
}

// Chunks reads an input in chunks of rows, in bounded memory. It is made
// by OpenChunks or OpenChunksFile; use it from one goroutine, except
// Progress, which any goroutine may call.
type Chunks struct {
	source string
	format string
	opts   ChunkOptions
	header []string
	// take[j] is where input column j goes: -1 skipped, else its index in
	// cols; keep[j] its index in kept, or -1.
	take, keep []int
	cols       []colSpec
	keepNames  []string
	skipped    []string

	next   func(c *Chunk) error // reads one chunk
	closer io.Closer
	done   atomic.Int64 // bytes read, or rows for Parquet
	total  int64
	eof    bool
}

// colSpec is one typed column of the chunks.
type colSpec struct {
	name string
	kind Kind
	sep  string
}

// Format returns the input's format: FormatCSV, FormatCSVGzip,
// FormatNDJSON or FormatParquet (told from its first bytes).
func (c *Chunks) Format() string { return c.format }

// Columns returns the input's columns, in order.
func (c *Chunks) Columns() []string { return c.header }

// Skipped returns the input's columns that are neither in Kinds nor in
// Keep, sorted. For NDJSON it grows as lines bring new fields.
func (c *Chunks) Skipped() []string {
	out := append([]string(nil), c.skipped...)
	sort.Strings(out)
	return out
}

// Progress returns how much of the input was read and its size: bytes
// (compressed bytes for gzip), or rows for Parquet. total is 0 when
// unknown (standard input).
func (c *Chunks) Progress() (done, total int64) { return c.done.Load(), c.total }

// Close releases the input.
func (c *Chunks) Close() error {
	if c.closer != nil {
		return c.closer.Close()
	}
	return nil
}

// Next reads the next chunk. It returns io.EOF after the last one. An
// error other than a bad row (an I/O error, a malformed Parquet file)
// ends the input.
func (c *Chunks) Next() (*Chunk, error) {
	if c.eof {
		return nil, io.EOF
	}
	ch := &Chunk{Table: &Table{Source: c.source}, Kept: &Table{Source: c.source}}
	for _, s := range c.cols {
		col := &Column{Name: s.name, Kind: s.kind}
		ch.Table.Columns = append(ch.Table.Columns, col)
	}
	for _, n := range c.keepNames {
		ch.Kept.Columns = append(ch.Kept.Columns, &Column{Name: n, Kind: String})
	}
	err := c.next(ch)
	if errors.Is(err, io.EOF) {
		c.eof = true
		if ch.Read > 0 {
			return ch, nil
		}
		return nil, io.EOF
	}
	if err != nil {
		c.eof = true
		return nil, err
	}
	return ch, nil
}

// OpenChunksFile opens the input at path for OpenChunks; "-" is standard
// input (not for Parquet, which is read from its footer). Its progress is
// measured against the file's size.
func OpenChunksFile(path string, opts ChunkOptions) (*Chunks, error) {
	var f *os.File
	if path == "-" {
		f = os.Stdin
	} else {
		var err error
		if f, err = os.Open(path); err != nil {
			return nil, fmt.Errorf("read accounts: %w", err)
		}
	}
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	if isParquet(magic[:n]) {
		if size == 0 {
			f.Close()
			return nil, &ParseError{Source: path, Err: fmt.Errorf("%w: a Parquet input must be a file, not a stream", icp.ErrInvalid)}
		}
		c, err := openParquetChunks(f, size, path, opts)
		if err != nil {
			f.Close()
			return nil, err
		}
		c.closer = f
		return c, nil
	}
	c, err := openStreamChunks(io.MultiReader(bytes.NewReader(magic[:n]), f), path, opts)
	if err != nil {
		if path != "-" {
			f.Close()
		}
		return nil, err
	}
	c.total = size
	if path != "-" {
		c.closer = f
	}
	return c, nil
}

// OpenChunks reads a CSV, gzip-compressed CSV or NDJSON input (one JSON
// object a line) in chunks, told apart by its first bytes: the gzip
// magic, then '{' for NDJSON. Parquet needs random access: see
// OpenChunksFile. Rows parse as Read parses them, except that each
// column's kind is fixed by opts.Kinds rather than inferred.
func OpenChunks(r io.Reader, source string, opts ChunkOptions) (*Chunks, error) {
	return openStreamChunks(r, source, opts)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func newChunks(source, format string, opts ChunkOptions) (*Chunks, error) {
	if opts.Rows <= 0 {
		opts.Rows = 4096
	}
	if err := (&ReadOptions{Comma: opts.Comma, Decimal: opts.Decimal}).check(source); err != nil {
		return nil, err
	}
	return &Chunks{source: source, format: format, opts: opts}, nil
}

func openStreamChunks(r io.Reader, source string, opts ChunkOptions) (*Chunks, error) {
	c, err := newChunks(source, FormatCSV, opts)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(countingReader{r, &c.done}, 1<<16)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", source, err)
	}
	if string(magic) == gzipMagic {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &ParseError{Source: source, Err: fmt.Errorf("gzip: %w", err)}
		}
		c.format = FormatCSVGzip
		br = bufio.NewReaderSize(&gzipErrReader{r: zr, source: source}, 1<<16)
	}
	if bom, err := br.Peek(3); err == nil && string(bom) == "\uFEFF" {
		br.Discard(3)
	}
	if first := firstByte(br); first == '{' {
		if c.format == FormatCSVGzip {
			c.format = FormatNDJSON + ".gz"
		} else {
			c.format = FormatNDJSON
		}
		return c, c.startNDJSON(br)
	}
	return c, c.startCSV(br)
}

// firstByte peeks at the first byte that is not white space.
func firstByte(br *bufio.Reader) byte {
	for n := 1; n <= 4096; n++ {
		b, err := br.Peek(n)
		if len(b) < n {
			return 0
		}
		if ch := b[n-1]; ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n' {
			return ch
		}
		if err != nil {
			return 0
		}
	}
	return 0
}

// setHeader maps the input's columns to the chunks' columns. An input
// column named twice is an error, as is a Keep column the input lacks.
func (c *Chunks) setHeader(names []string) error {
	c.header = names
	c.take = make([]int, len(names))
	c.keep = make([]int, len(names))
	keepAt := make(map[string]int, len(c.opts.Keep))
	for _, n := range c.opts.Keep {
		if _, dup := keepAt[n]; !dup {
			keepAt[n] = len(c.keepNames)
			c.keepNames = append(c.keepNames, n)
		}
	}
	seen := make(map[string]int, len(names))
	for j, n := range names {
		if k, dup := seen[n]; dup {
			return &ParseError{Source: c.source, Line: 1, Column: j + 1, Field: n,
				Err: fmt.Errorf("%w: duplicate column name %q (also column %d)", ErrHeader, n, k+1)}
		}
		seen[n] = j
		c.take[j], c.keep[j] = -1, -1
		if kind, ok := c.opts.Kinds[n]; ok {
			c.take[j] = len(c.cols)
			sep := c.opts.Separators[n]
			if sep == "" {
				sep = ";"
			}
			c.cols = append(c.cols, colSpec{name: n, kind: kind, sep: sep})
		}
		if k, ok := keepAt[n]; ok {
			c.keep[j] = k
		}
		if c.take[j] < 0 && c.keep[j] < 0 {
			c.skipped = append(c.skipped, n)
		}
	}
	for _, n := range c.keepNames {
		if _, ok := seen[n]; !ok {
			return &ParseError{Source: c.source, Field: n, Err: fmt.Errorf("%w: column %q to keep is not in the input", icp.ErrInvalid, n)}
		}
	}
	return nil
}

// row is one input row on its way into a chunk: its cells as text, by
// input column.
type row struct {
	line  int
	cells []string
}

// addRow parses the cells of one row into the chunk, or records its first
// bad cell. place builds the error of input column j.
func (c *Chunks) addRow(ch *Chunk, r row, place func(j int, err error) *ParseError) {
	ch.Read++
	// Parse first, append after: a bad row leaves no cell behind.
	var nums [64]float64
	vals := nums[:0]
	for j, cell := range r.cells {
		k := c.take[j]
		if k < 0 {
			continue
		}
		s := c.cols[k]
		if s.kind == String {
			continue
		}
		v, err := ParseCell(cell, s.kind, c.opts.Decimal, c.commaDecimal())
		if err != nil {
			ch.Errors = append(ch.Errors, place(j, err))
			return
		}
		vals = append(vals, v)
	}
	c.appendRow(ch, r.line, r.cells, vals)
}

// appendRow appends one parsed row to the chunk: the text of its text
// columns, vals for the others in input order, its kept columns and its
// line.
func (c *Chunks) appendRow(ch *Chunk, line int, cells []string, vals []float64) {
	t := ch.Table
	vi := 0
	for j, cell := range cells {
		if k := c.take[j]; k >= 0 {
			col := t.Columns[k]
			if col.Kind == String {
				col.Str = append(col.Str, textCell(cell))
			} else {
				col.Num = append(col.Num, vals[vi])
				vi++
			}
		}
		if k := c.keep[j]; k >= 0 {
			kc := ch.Kept.Columns[k]
			kc.Str = append(kc.Str, cleanCell(cell))
		}
	}
	t.Lines = append(t.Lines, line)
}

// commaDecimal reports whether a number may be read with a decimal comma
// when it does not read with a point.
func (c *Chunks) commaDecimal() bool {
	return c.opts.Decimal == ',' || c.opts.Decimal == 0 && c.opts.Comma != 0 && c.opts.Comma != ','
}

// textCell is a String cell as Read keeps it: trimmed, Windows-1252
// decoded, "" for missing-value markers.
func textCell(cell string) string {
	s := cleanCell(cell)
	if IsMissing(s, false) {
		return ""
	}
	return strings.Clone(s)
}

// ParseCell parses one cell as Read parses a cell of a column of kind k:
// NaN for a missing value (see IsMissing), numbers with ParseNumber (or a
// decimal comma: decimal ',' forces it, commaDecimal allows it for a cell
// that does not read with a point), dates with ParseDate, booleans with
// ParseBool or as 1 and 0. It is not for String columns.
func ParseCell(cell string, k Kind, decimal rune, commaDecimal bool) (float64, error) {
	s := cleanCell(cell)
	if IsMissing(s, true) {
		return math.NaN(), nil
	}
	switch k {
	case Number:
		if decimal != ',' {
			if v, ok := parsePlain(s); ok {
				return v, nil
			}
			v, res := parseDecorated(s, '.')
			if res == numOK {
				return v, nil
			}
			if res == numRange {
				return 0, fmt.Errorf("%w: %q", ErrOutOfRange, s)
			}
			if !commaDecimal {
				return 0, fmt.Errorf("%w: %q", ErrNotNumber, s)
			}
		}
		v, res := parseDecorated(s, ',')
		switch res {
		case numRange:
			return 0, fmt.Errorf("%w: %q", ErrOutOfRange, s)
		case numBad:
			return 0, fmt.Errorf("%w: %q", ErrNotNumber, s)
		}
		return v, nil
	case Date:
		return ParseDate(s)
	case Bool:
		switch s {
		case "1":
			return 1, nil
		case "0":
			return 0, nil
		}
		return parseBoolNumber(s)
	}
	return 0, fmt.Errorf("parse cell: kind %s is not parsed", k)
}

// startCSV reads the header of a CSV input and sets up Next.
func (c *Chunks) startCSV(br *bufio.Reader) error {
	comma := c.opts.Comma
	if comma == 0 {
		head, err := br.Peek(1 << 16)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return readErr(c.source, err)
		}
		comma = sniffDelimiter(head, err == nil || errors.Is(err, bufio.ErrBufferFull))
		if comma == 0 {
			comma = ','
			if c.opts.Decimal == ',' {
				comma = ';'
			}
		}
		c.opts.Comma = comma
	}
	if c.opts.Decimal == ',' && comma == ',' {
		return &ParseError{Source: c.source, Err: fmt.Errorf("%w: decimal separator and delimiter are both ','", icp.ErrInvalid)}
	}
	cr := csv.NewReader(&crReader{r: br})
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	rec, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return &ParseError{Source: c.source, Err: ErrEmpty}
	}
	if err != nil {
		return c.csvErr(err, nil)
	}
	names := make([]string, len(rec))
	for j, f := range rec {
		names[j] = cleanCell(f)
		if names[j] == "" {
			names[j] = "column_" + strconv.Itoa(j+1)
		}
	}
	if err := c.setHeader(names); err != nil {
		return err
	}
	n := len(names)
	c.next = func(ch *Chunk) error {
		for ch.Read < c.opts.Rows {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			if err != nil {
				var pe *csv.ParseError
				if !errors.As(err, &pe) {
					return readErr(c.source, err)
				}
				ch.Read++
				ch.Errors = append(ch.Errors, c.csvErr(err, names))
				continue
			}
			line, _ := cr.FieldPos(0)
			empty := true
			for _, f := range rec {
				if strings.TrimSpace(f) != "" {
					empty = false
					break
				}
			}
			if empty && (len(rec) == n || len(rec) == 1) {
				continue
			}
			if len(rec) != n {
				ch.Read++
				col, field := n+1, ""
				if len(rec) < n {
					col, field = len(rec)+1, names[len(rec)]
				}
				ch.Errors = append(ch.Errors, &ParseError{Source: c.source, Line: line, Column: col, Field: field,
					Err: fmt.Errorf("%w: expected %d fields, got %d", ErrRagged, n, len(rec))})
				continue
			}
			c.addRow(ch, row{line: line, cells: rec}, func(j int, err error) *ParseError {
				return &ParseError{Source: c.source, Line: line, Column: j + 1, Field: names[j], Err: err}
			})
		}
		return nil
	}
	return nil
}

// csvErr turns an error of encoding/csv into a *ParseError.
func (c *Chunks) csvErr(err error, names []string) *ParseError {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return &ParseError{Source: c.source, Err: err}
	}
	out := &ParseError{Source: c.source, Line: pe.StartLine, Err: fmt.Errorf("line %d, character %d: %w", pe.Line, pe.Column, pe.Err)}
	if pe.StartLine == pe.Line {
		out.Err = fmt.Errorf("character %d: %w", pe.Column, pe.Err)
	}
	return out
}

// maxNDJSONLine bounds one NDJSON line.
const maxNDJSONLine = 16 << 20

// startNDJSON sets up Next for NDJSON: the columns are the fields of
// Kinds and Keep; other fields are skipped and listed as they appear.
func (c *Chunks) startNDJSON(br *bufio.Reader) error {
	var names []string
	for name := range c.opts.Kinds {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, n := range c.opts.Keep {
		if _, ok := c.opts.Kinds[n]; !ok {
			names = append(names, n)
		}
	}
	keep := c.opts.Keep
	c.opts.Keep = nil // every field may be absent from a line
	if err := c.setHeader(names); err != nil {
		return err
	}
	c.opts.Keep = keep
	c.skipped = nil
	c.keepNames = nil
	for _, n := range keep {
		c.keepNames = append(c.keepNames, n)
	}
	at := make(map[string]int, len(names))
	for j, n := range names {
		at[n] = j
		for k, kn := range c.keepNames {
			if kn == n {
				c.keep[j] = k
			}
		}
	}
	seenSkip := make(map[string]bool)
	line := 0
	cells := make([]string, len(names))
	c.next = func(ch *Chunk) error {
		for ch.Read < c.opts.Rows {
			b, err := readLine(br, maxNDJSONLine)
			if len(b) == 0 && errors.Is(err, io.EOF) {
				return io.EOF
			}
			line++
			if errors.Is(err, bufio.ErrBufferFull) {
				ch.Read++
				ch.Errors = append(ch.Errors, &ParseError{Source: c.source, Line: line,
					Err: fmt.Errorf("%w: a line longer than %d bytes", icp.ErrInvalid, maxNDJSONLine)})
				continue
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return readErr(c.source, err)
			}
			if len(bytes.TrimSpace(b)) == 0 {
				continue
			}
			clear(cells)
			field, perr := c.ndjsonCells(b, at, cells, func(name string) {
				if !seenSkip[name] {
					seenSkip[name] = true
					c.skipped = append(c.skipped, name)
				}
			})
			if perr != nil {
				ch.Read++
				pe := &ParseError{Source: c.source, Line: line, Field: field, Err: perr}
				if j, ok := at[field]; ok {
					pe.Column = j + 1
				}
				ch.Errors = append(ch.Errors, pe)
				continue
			}
			ln := line
			c.addRow(ch, row{line: ln, cells: cells}, func(j int, err error) *ParseError {
				return &ParseError{Source: c.source, Line: ln, Field: names[j], Err: err}
			})
		}
		return nil
	}
	return nil
}

// readLine reads one line without its end, at most max bytes; longer
// lines are consumed and reported with bufio.ErrBufferFull.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var out []byte
	for {
		part, err := br.ReadSlice('\n')
		if len(out)+len(part) > max {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			return []byte{0}, bufio.ErrBufferFull
		}
		out = append(out, part...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimRight(out, "\r\n"), err
	}
}

// ndjsonCells reads one JSON object into the cells of the known fields,
// as the text a CSV cell would hold: strings as they are, numbers as
// written, booleans as true and false, null as missing, a list's elements
// joined with the column's separator. It returns the field at fault.
func (c *Chunks) ndjsonCells(b []byte, at map[string]int, cells []string, skip func(string)) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return "", fmt.Errorf("%w: malformed JSON: %v", icp.ErrInvalid, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return "", fmt.Errorf("%w: a line must be a JSON object", icp.ErrInvalid)
	}
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", fmt.Errorf("%w: malformed JSON: %v", icp.ErrInvalid, err)
		}
		name := tok.(string)
		if seen[name] {
			return name, fmt.Errorf("%w: duplicate field", icp.ErrInvalid)
		}
		seen[name] = true
		var v any
		if err := dec.Decode(&v); err != nil {
			return name, fmt.Errorf("%w: malformed JSON: %v", icp.ErrInvalid, err)
		}
		j, ok := at[name]
		if !ok {
			skip(name)
			continue
		}
		sep := ";"
		if k := c.take[j]; k >= 0 {
			sep = c.cols[k].sep
		}
		text, err := jsonCell(v, sep)
		if err != nil {
			return name, err
		}
		cells[j] = text
	}
	if _, err := dec.Token(); err != nil {
		return "", fmt.Errorf("%w: malformed JSON: %v", icp.ErrInvalid, err)
	}
	if dec.More() {
		return "", fmt.Errorf("%w: data after the JSON object", icp.ErrInvalid)
	}
	return "", nil
}

// jsonCell is the text of one JSON value.
func jsonCell(v any, sep string) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			switch y := e.(type) {
			case string:
				parts = append(parts, y)
			case json.Number:
				parts = append(parts, y.String())
			case nil:
			default:
				return "", fmt.Errorf("%w: a list must hold strings or numbers", icp.ErrInvalid)
			}
		}
		return strings.Join(parts, sep), nil
	}
	return "", fmt.Errorf("%w: must not be an object", icp.ErrInvalid)
}
