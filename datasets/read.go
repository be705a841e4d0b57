package datasets

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/icpengine/icp"
)

// Errors of Read. They reach callers inside a *ParseError, which also
// matches icp.ErrInvalid.
var (
	// ErrEmpty marks an input without a header line.
	ErrEmpty = errors.New("empty file")
	// ErrNoRows marks an input with a header but no data rows.
	ErrNoRows = errors.New("no data rows")
	// ErrRagged marks a row whose field count differs from the header's.
	ErrRagged = errors.New("wrong number of fields")
	// ErrHeader marks a duplicate column name.
	ErrHeader = errors.New("bad header")
)

// ReadOptions configures Read. The zero value (and a nil pointer) sniffs
// the delimiter and the decimal separator and reads every row.
type ReadOptions struct {
	// Comma is the field delimiter. Zero sniffs it among ',', ';', '\t' and
	// '|' from the first lines, counting only outside quotes.
	Comma rune
	// Decimal is the decimal separator of numbers, '.' or ','. Zero means
	// '.', except that when the delimiter is not ',' a column whose cells
	// only parse with a decimal comma ("12,5") is read with ','. A column
	// that parses both ways, such as "1.200" alone, keeps '.'; set Decimal
	// to ',' for exports that write thousands as "1.200".
	Decimal rune
	// MaxRows stops reading after that many data rows. Zero reads all.
	MaxRows int
}

// ParseError is a problem at a place in an input (CSV or Parquet). It matches
// icp.ErrInvalid with errors.Is and unwraps to the cause, such as ErrRagged.
type ParseError struct {
	// Source names the input, usually its file name.
	Source string
	// Line is the 1-based line, 0 when the problem is the whole input or
	// the input has no lines (Parquet).
	Line int
	// Row is the 1-based row of a Parquet input, 0 otherwise.
	Row int
	// Column is the 1-based field index, 0 when unknown.
	Column int
	// Field is the header name of Column, when known.
	Field string
	// Err is the cause.
	Err error
}

// Error formats the error as `source: line 12, column 3 "employees": cause`
// (`row 12` for a Parquet input).
func (e *ParseError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
	} else {
		b.WriteString("input")
	}
	sep := ": "
	switch {
	case e.Line > 0:
		b.WriteString(": line ")
		b.WriteString(strconv.Itoa(e.Line))
		sep = ", "
	case e.Row > 0:
		b.WriteString(": row ")
		b.WriteString(strconv.Itoa(e.Row))
		sep = ", "
	}
	if e.Column > 0 && (e.Line > 0 || e.Row > 0 || e.Field != "") {
		b.WriteString(sep)
		b.WriteString("column ")
		b.WriteString(strconv.Itoa(e.Column))
		if e.Field != "" {
			b.WriteString(" ")
			b.WriteString(strconv.Quote(e.Field))
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

// Is reports whether target is icp.ErrInvalid.
func (e *ParseError) Is(target error) bool { return target == icp.ErrInvalid }

// ReadFile reads the export at path into a typed table whose Source is
// path: CSV, gzip-compressed CSV or Parquet, told apart by their first
// bytes, whatever the file's name. A nil opts means the defaults. A
// Parquet file is read in place (its footer first); see Read.
func ReadFile(path string, opts *ReadOptions) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read accounts: %w", err)
	}
	defer f.Close()
	var magic [4]byte
	n, err := io.ReadFull(f, magic[:])
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if isParquet(magic[:n]) {
		st, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		return readParquet(f, st.Size(), path, opts)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return Read(f, path, opts)
}

// gzipMagic starts every gzip stream (RFC 1952).
const gzipMagic = "\x1f\x8b"

// Read reads a CRM export into a typed, column-oriented table. source names
// the input in errors and becomes Table.Source; a nil opts means the
// defaults.
//
// The format is told from the first bytes, never from a file name: a gzip
// stream (1f 8b) is decompressed and read again by these rules, a Parquet
// file ("PAR1") is read as described at the end, and anything else is CSV.
//
// # CSV
//
// The input may start with a UTF-8 byte order mark and may end lines with
// LF, CRLF or a lone CR. Cells that are not valid UTF-8 are decoded as
// Windows-1252 (a superset of the printable Latin-1). Fields may be quoted
// (RFC 4180) and hold delimiters and newlines; bare quotes inside unquoted
// fields are errors, and a quote that is never closed is reported at the
// line and column where it opens. Cells are trimmed of surrounding white
// space. Rows whose cells are all empty (a spreadsheet artefact) and lines
// of only white space are skipped.
//
// The first record is the header. Empty names become "column_N" (N the
// 1-based position); duplicate names are errors. Every row must have as many
// fields as the header.
//
// Each column's kind is inferred from all of its cells, ignoring missing
// ones (see IsMissing, with "NA" missing for the first three tests): Number
// when every cell parses with ParseNumber, else Date when every cell parses
// with ParseDate, else Bool when every cell is a ParseBool word, else
// String, in which "NA" is a value. Missing values are NaN in Column.Num
// and "" in Column.Str. A column with no value at all is a Number column of
// NaN. A column of numbers with one beyond the float64 range (1e400) is an
// error wrapping ErrOutOfRange, never a String column.
//
// # Parquet
//
// Parquet columns keep their stored types: booleans are Bool; integers,
// floats and decimals are Number; DATE and TIMESTAMP columns (and legacy
// INT96 timestamps) are Date; nulls and float NaN are missing. Text
// columns (and columns of other types, read as text) are typed by the CSV
// rules above, so "$1,200" or "2024-03-01" stored as text read as they
// would from CSV. A repeated (list) column of text or numbers becomes one
// String column with the elements joined by ';', as a tag list; a nested
// group becomes columns named by their path joined with '.'. Table.Lines
// holds the 1-based row numbers, and errors name the row. Parquet input
// is read whole into memory by Read; ReadFile reads a file in place.
// Encrypted files are refused. Every length the footer declares is checked
// against the footer's size before it is decoded; the pages are decoded
// by github.com/parquet-go/parquet-go, which allocates what a page header
// declares (up to 2 GiB) before checking it, so read Parquet files from
// untrusted sources with that in mind.
//
// Errors are *ParseError values naming the source, line (or row) and
// column, except for I/O errors of r, which are wrapped as they are.
func Read(r io.Reader, source string, opts *ReadOptions) (*Table, error) {
	var o ReadOptions
	if opts != nil {
		o = *opts
	}
	if err := o.check(source); err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", source, err)
	}
	switch {
	case strings.HasPrefix(string(magic), gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &ParseError{Source: source, Err: fmt.Errorf("gzip: %w", err)}
		}
		defer zr.Close()
		return Read(&gzipErrReader{r: zr, source: source}, source, &o)
	case isParquet(magic):
		data, err := io.ReadAll(br)
		if err != nil {
			return nil, readErr(source, err)
		}
		return readParquet(bytes.NewReader(data), int64(len(data)), source, &o)
	}
	return readCSV(br, source, o)
}

// check validates the options.
func (o *ReadOptions) check(source string) error {
	perr := func(err error) error { return &ParseError{Source: source, Err: err} }
	if o.Comma != 0 && !validDelim(o.Comma) {
		return perr(fmt.Errorf("%w: delimiter %q", icp.ErrInvalid, o.Comma))
	}
	if o.Decimal != 0 && o.Decimal != '.' && o.Decimal != ',' {
		return perr(fmt.Errorf("%w: decimal separator %q", icp.ErrInvalid, o.Decimal))
	}
	if o.Decimal == ',' && o.Comma == ',' {
		return perr(fmt.Errorf("%w: decimal separator and delimiter are both ','", icp.ErrInvalid))
	}
	return nil
}

// gzipErrReader turns the errors of a gzip stream (a bad checksum, a
// truncated stream) into *ParseError values: they are errors of the input,
// not of the machine.
type gzipErrReader struct {
	r      io.Reader
	source string
}

// Read implements io.Reader.
func (g *gzipErrReader) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		var pe *ParseError
		if !errors.As(err, &pe) {
			err = &ParseError{Source: g.source, Err: fmt.Errorf("gzip: %w", err)}
		}
	}
	return n, err
}

// readErr wraps an error of the underlying reader, keeping a *ParseError
// as it is.
func readErr(source string, err error) error {
	var pe *ParseError
	if errors.As(err, &pe) {
		return pe
	}
	return fmt.Errorf("read %s: %w", source, err)
}

// readCSV reads CSV text after the format was sniffed; see Read.
func readCSV(r io.Reader, source string, o ReadOptions) (*Table, error) {
	perr := func(line, col int, field string, err error) error {
		return &ParseError{Source: source, Line: line, Column: col, Field: field, Err: err}
	}
	br := bufio.NewReaderSize(&crReader{r: r}, 1<<16)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\uFEFF" {
		if _, err := br.Discard(3); err != nil {
			return nil, readErr(source, err)
		}
	}
	comma := o.Comma
	if comma == 0 {
		head, err := br.Peek(1 << 16)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, readErr(source, err)
		}
		comma = sniffDelimiter(head, err == nil || errors.Is(err, bufio.ErrBufferFull))
		if comma == 0 { // a single column
			comma = ','
			if o.Decimal == ',' {
				comma = ';'
			}
		}
	}
	if o.Decimal == ',' && comma == ',' {
		return nil, perr(0, 0, "", fmt.Errorf("%w: decimal separator and delimiter are both ','", icp.ErrInvalid))
	}

	quotes := &quoteTracker{r: br, comma: comma, line: 1}
	cr := csv.NewReader(quotes)
	cr.Comma = comma
	cr.FieldsPerRecord = -1 // checked below, to name both counts
	cr.ReuseRecord = true

	var names []string
	csvErr := func(err error) error {
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return readErr(source, err)
		}
		if errors.Is(pe.Err, csv.ErrQuote) {
			if line, field, ok := quotes.unclosed(pe.Line); ok {
				col, name := field+1, ""
				if field >= 0 && field < len(names) {
					name = names[field]
				}
				return perr(line, col, name,
					fmt.Errorf("%w: a quoted field opens here and is never closed (the input ends at line %d)", csv.ErrQuote, pe.Line))
			}
		}
		return perr(pe.Line, 0, "", fmt.Errorf("character %d: %w", pe.Column, pe.Err))
	}

	rec, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, perr(0, 0, "", ErrEmpty)
	}
	if err != nil {
		return nil, csvErr(err)
	}
	headerLine, _ := cr.FieldPos(0)
	names = make([]string, len(rec))
	seen := make(map[string]int, len(rec))
	for j, f := range rec {
		name := cleanCell(f)
		if name == "" {
			name = "column_" + strconv.Itoa(j+1)
		}
		if k, dup := seen[name]; dup {
			return nil, perr(headerLine, j+1, name,
				fmt.Errorf("%w: duplicate column name %q (also column %d)", ErrHeader, name, k+1))
		}
		seen[name] = j
		names[j] = name
	}

	n := len(names)
	raw := make([]cells, n)
	var lines []int
	for o.MaxRows <= 0 || len(lines) < o.MaxRows {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvErr(err)
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
			continue // a blank line or a row of empty cells
		}
		if len(rec) != n {
			col, field := n+1, ""
			if len(rec) < n {
				col, field = len(rec)+1, names[len(rec)]
			}
			return nil, perr(line, col, field,
				fmt.Errorf("%w: expected %d fields, got %d", ErrRagged, n, len(rec)))
		}
		for j, f := range rec {
			raw[j].add(cleanCell(f))
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return nil, perr(0, 0, "", ErrNoRows)
	}
	commaDecimal := o.Decimal == ',' || o.Decimal == 0 && comma != ','
	cols, err := typeColumns(names, raw, o.Decimal == ',', commaDecimal, func(j, row int, err error) error {
		return perr(lines[row], j+1, names[j], err)
	})
	if err != nil {
		return nil, err
	}
	return &Table{Source: source, Columns: cols, Lines: lines}, nil
}

// typeColumns types every column in parallel (see typeColumn) and frees
// the raw cells as it goes. The first cell error, in column order, becomes
// the error that place returns for the column and row.
func typeColumns(names []string, raw []cells, forceComma, commaDecimal bool,
	place func(j, row int, err error) error) ([]*Column, error) {
	cols := make([]*Column, len(names))
	errs := make([]*cellError, len(names))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for j := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			cols[j], errs[j] = typeColumn(names[j], &raw[j], forceComma, commaDecimal)
			raw[j] = cells{}
			<-sem
		}()
	}
	wg.Wait()
	for j, e := range errs {
		if e != nil {
			return nil, place(j, e.row, e.err)
		}
	}
	return cols, nil
}

// quoteTracker passes bytes through to the CSV reader and follows the
// quoting as encoding/csv does (a quote opens a quoted field only at the
// start of a field; "" inside it is a quote), so that a quote never closed
// can be reported where it opens rather than where the input ends. It
// counts lines by '\n', as encoding/csv does, after crReader.
type quoteTracker struct {
	r     io.Reader
	comma rune
	eof   bool

	line, field         int  // the current line (1-based) and field (0-based)
	state               byte // one of the q* states below
	openLine, openField int  // where the last quoted field opened
}

// The states of quoteTracker.
const (
	qFieldStart byte = iota // at the start of a field
	qUnquoted               // inside an unquoted field
	qQuoted                 // inside a quoted field
	qQuoteSeen              // just after a quote inside a quoted field
)

// Read implements io.Reader.
func (q *quoteTracker) Read(p []byte) (int, error) {
	n, err := q.r.Read(p)
	if errors.Is(err, io.EOF) {
		q.eof = true
	}
	comma := byte(0xff) // never a whole byte of UTF-8 text
	if q.comma < utf8.RuneSelf {
		comma = byte(q.comma)
	}
	buf := p[:n]
	for i := 0; i < len(buf); {
		switch q.state {
		case qQuoted: // jump to the next quote, counting lines
			k := bytes.IndexByte(buf[i:], '"')
			if k < 0 {
				q.line += bytes.Count(buf[i:], []byte{'\n'})
				i = len(buf)
				continue
			}
			q.line += bytes.Count(buf[i:i+k], []byte{'\n'})
			q.state = qQuoteSeen
			i += k + 1
			continue
		case qQuoteSeen:
			if buf[i] == '"' { // an escaped quote
				q.state = qQuoted
				i++
				continue
			}
			q.state = qUnquoted
		case qUnquoted: // jump to the end of the field
			for i < len(buf) && buf[i] != comma && buf[i] != '\n' {
				i++
			}
			if i == len(buf) {
				continue
			}
		}
		switch c := buf[i]; c {
		case '\n':
			q.line++
			q.field = 0
			q.state = qFieldStart
		case comma:
			q.field++
			q.state = qFieldStart
		case '"':
			if q.state == qFieldStart {
				q.state = qQuoted
				q.openLine, q.openField = q.line, q.field
			} else {
				q.state = qUnquoted
			}
		default:
			q.state = qUnquoted
		}
		i++
	}
	return n, err
}

// unclosed reports where the quoted field that runs to the end of the input
// opened, given the line of a quote error of encoding/csv: only when the
// input was read to its end inside a quoted field that opened no later
// than errLine. field is -1 when unknown (a delimiter beyond ASCII).
func (q *quoteTracker) unclosed(errLine int) (line, field int, ok bool) {
	if !q.eof || q.state != qQuoted || q.openLine > errLine {
		return 0, 0, false
	}
	if q.comma >= utf8.RuneSelf {
		return q.openLine, -1, true // fields were not counted
	}
	return q.openLine, q.openField, true
}

// validDelim reports whether c can delimit fields.
func validDelim(c rune) bool {
	return c != '"' && c != '\r' && c != '\n' && c != utf8.RuneError && c != '\uFEFF' &&
		utf8.ValidRune(c) && c != 0
}

// cleanCell trims white space and decodes invalid UTF-8 as Windows-1252.
func cleanCell(s string) string {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		s = strings.TrimSpace(decodeWindows1252(s))
	}
	return s
}

// decodeWindows1252 keeps the valid UTF-8 sequences of s and decodes every
// other byte as Windows-1252, falling back to Latin-1 for the five bytes
// Windows-1252 leaves undefined.
func decodeWindows1252(s string) string {
	// The code points of bytes 0x80 to 0x9F; the others equal their byte.
	high := [32]rune{
		'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8D, 'Ž', 0x8F,
		0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9D, 'ž', 'Ÿ',
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || size != 1 {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		c := s[i]
		if c >= 0x80 && c < 0xA0 {
			b.WriteRune(high[c-0x80])
		} else {
			b.WriteRune(rune(c))
		}
		i++
	}
	return b.String()
}

// cellBlock is the number of cells in one block of cells.
const cellBlock = 1 << 13

// cells holds one column's raw cells in fixed-size blocks, so that growing
// it never copies what it already holds.
type cells struct {
	blocks [][]string
	n      int
}

// add appends one cell.
func (c *cells) add(s string) {
	if c.n%cellBlock == 0 {
		c.blocks = append(c.blocks, make([]string, 0, cellBlock))
	}
	b := &c.blocks[len(c.blocks)-1]
	*b = append(*b, s)
	c.n++
}

// cellError is a problem with one cell of a column, found while typing it.
type cellError struct {
	row int // 0-based data row
	err error
}

// Error returns the cause's text; the place is added by the caller.
func (e *cellError) Error() string { return e.err.Error() }

// Unwrap returns the cause.
func (e *cellError) Unwrap() error { return e.err }

// typeColumn infers the kind of one column from its trimmed cells and
// converts them. forceComma reads numbers with a decimal comma only;
// commaDecimal allows it as a fallback. A column whose cells are all
// numbers but one or more beyond the float64 range is an error, not a
// String column.
func typeColumn(name string, raw *cells, forceComma, commaDecimal bool) (*Column, *cellError) {
	num := make([]float64, raw.n)
	overflow, ok := -1, false
	if !forceComma {
		overflow, ok = fillNumbers(num, raw, '.')
	}
	if !ok && commaDecimal {
		overflow, ok = fillNumbers(num, raw, ',')
	}
	if ok && overflow >= 0 {
		cell := raw.blocks[overflow/cellBlock][overflow%cellBlock]
		return nil, &cellError{row: overflow, err: fmt.Errorf("%w: %q in a column of numbers", ErrOutOfRange, cell)}
	}
	if ok {
		return &Column{Name: name, Kind: Number, Num: num}, nil
	}
	if fill(num, raw, ParseDate) {
		return &Column{Name: name, Kind: Date, Num: num}, nil
	}
	if fill(num, raw, parseBoolNumber) {
		return &Column{Name: name, Kind: Bool, Num: num}, nil
	}
	// Copy the values out of the record buffers so that they can be freed;
	// repeated values (categories) share one copy.
	const maxInterned = 1 << 12
	seen := make(map[string]string)
	str := make([]string, raw.n)
	for b, blk := range raw.blocks {
		for k, c := range blk {
			if IsMissing(c, false) {
				continue
			}
			i := b*cellBlock + k
			if s, ok := seen[c]; ok {
				str[i] = s
				continue
			}
			s := strings.Clone(c)
			if len(seen) < maxInterned {
				seen[s] = s
			}
			str[i] = s
		}
	}
	return &Column{Name: name, Kind: String, Str: str}, nil
}

// fillNumbers parses every cell as a number into dst, NaN for missing
// cells, and reports whether all of them parsed. A well-formed number
// beyond the float64 range counts as parsed (NaN in dst), and overflow is
// the index of the first such cell, -1 when there is none.
func fillNumbers(dst []float64, raw *cells, decimal byte) (overflow int, ok bool) {
	overflow = -1
	for b, blk := range raw.blocks {
		out := dst[b*cellBlock:]
		for k, c := range blk {
			if v, ok := parsePlain(c); ok {
				out[k] = v
				continue
			}
			if IsMissing(c, true) {
				out[k] = math.NaN()
				continue
			}
			v, res := parseDecorated(c, decimal)
			switch res {
			case numBad:
				return -1, false
			case numRange:
				if overflow < 0 {
					overflow = b*cellBlock + k
				}
				v = math.NaN()
			}
			out[k] = v
		}
	}
	return overflow, true
}

// fill parses every cell with parse into dst, NaN for missing cells, and
// reports whether all of them parsed.
func fill(dst []float64, raw *cells, parse func(string) (float64, error)) bool {
	for b, blk := range raw.blocks {
		out := dst[b*cellBlock:]
		for k, c := range blk {
			if IsMissing(c, true) {
				out[k] = math.NaN()
				continue
			}
			v, err := parse(c)
			if err != nil {
				return false
			}
			out[k] = v
		}
	}
	return true
}

// parseBoolNumber is ParseBool with the result as 0 or 1.
func parseBoolNumber(s string) (float64, error) {
	v, err := ParseBool(s)
	if v {
		return 1, err
	}
	return 0, err
}

// sniffDelimiter picks the delimiter among ',', ';', '\t' and '|' whose
// count outside quotes on the first non-empty line is non-zero and repeats
// on the most following lines (at least one when there are any); ties go to
// the larger count, then to the order above. truncated says head may end inside a line, which is then ignored.
// It returns 0 when no candidate qualifies (a single-column input).
func sniffDelimiter(head []byte, truncated bool) rune {
	const maxLines = 50
	cands := [4]byte{',', ';', '\t', '|'}
	var counts [][4]int
	var cur [4]int
	inQuote := false
	complete := false
	lineLen := 0
	for _, c := range head {
		if len(counts) == maxLines {
			break
		}
		if c == '\n' && !inQuote {
			if lineLen > 0 { // encoding/csv skips empty lines
				counts = append(counts, cur)
			}
			cur = [4]int{}
			lineLen = 0
			complete = true
			continue
		}
		lineLen++
		switch {
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		default:
			for k, d := range cands {
				if c == d {
					cur[k]++
				}
			}
		}
	}
	if len(counts) < maxLines && lineLen > 0 && (!truncated || !complete) {
		counts = append(counts, cur)
	}
	if len(counts) == 0 {
		return 0
	}
	best, bestCons, bestCount := -1, -1, 0
	for k := range cands {
		h := counts[0][k]
		if h == 0 {
			continue
		}
		cons := 0
		for _, c := range counts[1:] {
			if c[k] == h {
				cons++
			}
		}
		if cons == 0 && len(counts) > 1 {
			continue // in the header but on no data line: part of a name
		}
		if cons > bestCons || cons == bestCons && h > bestCount {
			best, bestCons, bestCount = k, cons, h
		}
	}
	if best < 0 {
		return 0
	}
	return rune(cands[best])
}

// crReader turns lone CR line endings into LF and leaves CRLF alone.
type crReader struct {
	r       io.Reader
	pending bool // a CR was held back to see the byte after it
}

// Read implements io.Reader.
func (c *crReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	off := 0
	if c.pending {
		p[0] = '\r'
		off = 1
		c.pending = false
	}
	n, err := c.r.Read(p[off:])
	n += off
	if n > 0 && p[n-1] == '\r' && err == nil {
		c.pending = true
		n--
	}
	for i := 0; i < n; i++ {
		if p[i] == '\r' && (i+1 >= n || p[i+1] != '\n') {
			p[i] = '\n'
		}
	}
	return n, err
}
