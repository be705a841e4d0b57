package datasets

import (
	"bufio"
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

// ParseError is a problem at a place in a CSV input. It matches
// icp.ErrInvalid with errors.Is and unwraps to the cause, such as ErrRagged.
type ParseError struct {
	// Source names the input, usually its file name.
	Source string
	// Line is the 1-based line, 0 when the problem is the whole input.
	Line int
	// Column is the 1-based field index, 0 when unknown.
	Column int
	// Field is the header name of Column, when known.
	Field string
	// Err is the cause.
	Err error
}

// Error formats the error as `source: line 12, column 3 "employees": cause`.
func (e *ParseError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
	} else {
		b.WriteString("input")
	}
	if e.Line > 0 {
		b.WriteString(": line ")
		b.WriteString(strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteString(", column ")
			b.WriteString(strconv.Itoa(e.Column))
			if e.Field != "" {
				b.WriteString(" ")
				b.WriteString(strconv.Quote(e.Field))
			}
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

// ReadFile reads the CSV file at path into a typed table whose Source is
// path. A nil opts means the defaults. See Read.
func ReadFile(path string, opts *ReadOptions) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read accounts: %w", err)
	}
	defer f.Close()
	return Read(f, path, opts)
}

// Read reads a CSV export into a typed, column-oriented table. source names
// the input in errors and becomes Table.Source; a nil opts means the
// defaults.
//
// The input may start with a UTF-8 byte order mark and may end lines with
// LF, CRLF or a lone CR. Cells that are not valid UTF-8 are decoded as
// Windows-1252 (a superset of the printable Latin-1). Fields may be quoted
// (RFC 4180) and hold delimiters and newlines; bare quotes inside unquoted
// fields are errors. Cells are trimmed of surrounding white space. Rows whose
// cells are all empty (a spreadsheet artefact) and lines of only white space
// are skipped.
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
// NaN.
//
// Errors are *ParseError values naming the source, line and column, except
// for I/O errors of r, which are wrapped as they are.
func Read(r io.Reader, source string, opts *ReadOptions) (*Table, error) {
	var o ReadOptions
	if opts != nil {
		o = *opts
	}
	perr := func(line, col int, field string, err error) error {
		return &ParseError{Source: source, Line: line, Column: col, Field: field, Err: err}
	}
	if o.Comma != 0 && !validDelim(o.Comma) {
		return nil, perr(0, 0, "", fmt.Errorf("%w: delimiter %q", icp.ErrInvalid, o.Comma))
	}
	if o.Decimal != 0 && o.Decimal != '.' && o.Decimal != ',' {
		return nil, perr(0, 0, "", fmt.Errorf("%w: decimal separator %q", icp.ErrInvalid, o.Decimal))
	}
	if o.Decimal == ',' && o.Comma == ',' {
		return nil, perr(0, 0, "", fmt.Errorf("%w: decimal separator and delimiter are both ','", icp.ErrInvalid))
	}

	br := bufio.NewReaderSize(&crReader{r: r}, 1<<16)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\uFEFF" {
		if _, err := br.Discard(3); err != nil {
			return nil, fmt.Errorf("read %s: %w", source, err)
		}
	}
	comma := o.Comma
	if comma == 0 {
		head, err := br.Peek(1 << 16)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("read %s: %w", source, err)
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

	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.FieldsPerRecord = -1 // checked below, to name both counts
	cr.ReuseRecord = true

	readErr := func(err error) error {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return perr(pe.Line, 0, "", fmt.Errorf("character %d: %w", pe.Column, pe.Err))
		}
		return fmt.Errorf("read %s: %w", source, err)
	}

	rec, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, perr(0, 0, "", ErrEmpty)
	}
	if err != nil {
		return nil, readErr(err)
	}
	headerLine, _ := cr.FieldPos(0)
	names := make([]string, len(rec))
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
			return nil, readErr(err)
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
	cols := make([]*Column, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for j := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			cols[j] = typeColumn(names[j], &raw[j], o.Decimal == ',', commaDecimal)
			raw[j] = cells{}
			<-sem
		}()
	}
	wg.Wait()
	return &Table{Source: source, Columns: cols, Lines: lines}, nil
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

// typeColumn infers the kind of one column from its trimmed cells and
// converts them. forceComma reads numbers with a decimal comma only;
// commaDecimal allows it as a fallback.
func typeColumn(name string, raw *cells, forceComma, commaDecimal bool) *Column {
	num := make([]float64, raw.n)
	if !forceComma && fillNumbers(num, raw, '.') ||
		commaDecimal && fillNumbers(num, raw, ',') {
		return &Column{Name: name, Kind: Number, Num: num}
	}
	if fill(num, raw, ParseDate) {
		return &Column{Name: name, Kind: Date, Num: num}
	}
	if fill(num, raw, parseBoolNumber) {
		return &Column{Name: name, Kind: Bool, Num: num}
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
	return &Column{Name: name, Kind: String, Str: str}
}

// fillNumbers parses every cell as a number into dst, NaN for missing
// cells, and reports whether all of them parsed.
func fillNumbers(dst []float64, raw *cells, decimal byte) bool {
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
			v, ok := parseDecorated(c, decimal)
			if !ok {
				return false
			}
			out[k] = v
		}
	}
	return true
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
