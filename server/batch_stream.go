package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/icpengine/icp"
)

// errEndOfBody is the end of a stream body, after its last record.
var errEndOfBody = errors.New("end of body")

// record is one record of a stream body: an NDJSON line or a CSV record,
// without its line end.
type record struct {
	data []byte
	// tooLong is set when the record was longer than the reader's cap;
	// data is then empty and the record was skipped.
	tooLong bool
}

// recordReader splits a stream body into records, each at most max bytes,
// so that one record never holds more memory than one POST /v1/score body
// may. NDJSON records end at each newline; CSV records end at a newline
// outside quotes (an even number of quotes so far in the record), so that
// quoted fields may hold line ends. A trailing carriage return is dropped.
type recordReader struct {
	br  *bufio.Reader
	max int
	csv bool
	// line is the number of physical lines read so far: after next, the
	// last line of the record returned.
	line int
	// first is the first physical line of the record next returned last.
	first int
	// arena holds the records returned since the last reset.
	arena []byte
}

func newRecordReader(r io.Reader, maxRecord int, csv bool) *recordReader {
	return &recordReader{br: bufio.NewReaderSize(r, 64<<10), max: maxRecord, csv: csv}
}

// reset lets the reader reuse the memory of the records returned so far;
// they must no longer be used.
func (r *recordReader) reset() { r.arena = r.arena[:0] }

// buffered reports whether more of the body is at hand without waiting for
// the client.
func (r *recordReader) buffered() bool { return r.br.Buffered() > 0 }

// next returns the next record. At the end of the body it returns
// errEndOfBody; a body over its cap gives *http.MaxBytesError, and any
// other failure to read a *bodyError.
func (r *recordReader) next() (record, error) {
	start := len(r.arena)
	size, quotes, read := 0, 0, false
	tooLong, partial := false, false
	r.first = r.line + 1
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(chunk) > 0 {
			read = true
			partial = chunk[len(chunk)-1] != '\n'
			if !partial {
				r.line++
			}
			if r.csv {
				quotes += bytes.Count(chunk, []byte{'"'})
			}
			size += len(chunk)
			if size > r.max+2 { // room for "\r\n"
				tooLong = true
			}
			if !tooLong {
				r.arena = append(r.arena, chunk...)
			}
		}
		switch {
		case err == nil:
			if r.csv && quotes%2 == 1 {
				continue // a newline inside a quoted field
			}
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if !read {
				return record{}, errEndOfBody
			}
			if partial {
				r.line++ // a last line without a line end
			}
		default:
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return record{}, err
			}
			return record{}, &bodyError{Offset: 0, Msg: "read request body: " + err.Error()}
		}
		if tooLong {
			r.arena = r.arena[:start]
			return record{tooLong: true}, nil
		}
		data := r.arena[start:len(r.arena):len(r.arena)]
		data = bytes.TrimSuffix(data, []byte{'\n'})
		data = bytes.TrimSuffix(data, []byte{'\r'})
		if len(data) > r.max {
			return record{tooLong: true}, nil
		}
		return record{data: data}, nil
	}
}

// csvHeader returns the columns of a CSV answer:
//
//	line              the first line of the input record (the header is line 1)
//	account_id        the account's id, when the schema has one
//	model_version     the model that answered
//	score, percentile, tier, segment (id), anti_icp (rule id), margin
//	top_attributions  the three largest contributions, "feature:+0.1234;..."
//	                  (empty with attributions=false)
//	error             empty for a score; else what is wrong, field by field
//	                  ("employees: must be a number; industry: ...")
func csvHeader() []string {
	return []string{"line", "account_id", "model_version", "score", "percentile", "tier",
		"segment", "anti_icp", "margin", "top_attributions", "error"}
}

// topAttributions is how many attributions the CSV answer lists.
const topAttributions = 3

// scoreCSV answers a CSV stream of accounts with a CSV stream of scores.
func (s *Server) scoreCSV(c *gin.Context, attributions bool) error {
	ctx := c.Request.Context()
	s.startStream(c)
	rd := newRecordReader(c.Request.Body, int(s.maxBody), true)
	cols, err := s.readCSVHeader(ctx, rd)
	if err != nil {
		return err
	}
	w := &streamWriter{c: c, contentType: "text/csv; charset=utf-8"}
	version := ""
	if v, ok := s.scorer.(ModelVersioner); ok {
		version = v.ModelVersion()
	}
	if err := w.write(appendCSVRow(nil, csvHeader()...)); err != nil {
		return nil // the client is gone
	}
	setVersion := func(items []batchItem) {
		if version == "" {
			version = s.modelVersion(items)
		}
	}
	encode := func(dst []byte, it *batchItem) []byte {
		return s.appendCSVScore(ctx, dst, it, version)
	}
	items := make([]batchItem, 0, streamChunk)
	for {
		items = items[:0]
		rd.reset()
		var rerr error
		for len(items) < streamChunk {
			rec, err := rd.next()
			if err != nil {
				rerr = err
				break
			}
			if it, ok := csvItem(rec, rd.first, cols, s.maxBody); ok {
				items = append(items, it)
			}
			if !rd.buffered() {
				break // score what the client has sent so far
			}
		}
		if len(items) > 0 {
			gone, err := s.answerChunk(ctx, c, w, items, attributions, setVersion, encode, &version)
			if gone {
				return nil // the client is gone; nobody reads an answer
			}
			if err != nil {
				rerr = err
			}
		}
		switch {
		case rerr == nil:
			continue
		case errors.Is(rerr, errEndOfBody):
			return nil
		}
		l := s.streamEndLine(ctx, rd.line+1, version, rerr)
		msg := l.Error
		if l.Detail != "" {
			msg += ": " + l.Detail
		}
		_ = w.write(appendCSVRow(nil, strconv.Itoa(l.Line), "", version, "", "", "", "", "", "", "", msg))
		return nil
	}
}

// readCSVHeader reads the header row and checks its columns: present,
// valid UTF-8, not empty, not repeated, and known to the scorer, which is
// asked about an account holding every column with no value.
func (s *Server) readCSVHeader(ctx context.Context, rd *recordReader) ([]string, error) {
	rec, err := rd.next()
	switch {
	case errors.Is(err, errEndOfBody):
		return nil, &bodyError{Offset: 0, Msg: "empty body, want a CSV header row of account field names"}
	case err != nil:
		return nil, err
	case rec.tooLong:
		return nil, &bodyError{Offset: 0, Msg: fmt.Sprintf("CSV header row longer than %d bytes", s.maxBody)}
	}
	rec.data = bytes.TrimPrefix(rec.data, []byte("\ufeff")) // a byte order mark
	cols, err := parseCSVRecord(rec.data)
	if err != nil {
		return nil, &bodyError{Offset: 0, Msg: "malformed CSV header row: " + err.Error()}
	}
	if len(cols) == 0 {
		return nil, &bodyError{Offset: 0, Msg: "empty CSV header row, want account field names"}
	}
	var verr icp.ValidationError
	seen := make(map[string]bool, len(cols))
	probe := make(icp.Account, len(cols))
	for j, col := range cols {
		name := "header[" + strconv.Itoa(j) + "]"
		switch {
		case !utf8.ValidString(col):
			verr.Add(name, "column name is not valid UTF-8")
		case col == "":
			verr.Add(name, msgEmptyKey)
		case len(col) > maxKeyBytes:
			verr.Add(name, msgLongKey)
		case seen[col]:
			verr.Add(col, "duplicate column")
		default:
			seen[col] = true
			probe[col] = nil
		}
	}
	if err := verr.Err(); err != nil {
		return nil, err
	}
	items := []batchItem{{acc: probe}}
	if err := s.scorePart(ctx, items, false); err != nil {
		return nil, err
	}
	var unknown *icp.ValidationError
	if errors.As(items[0].err, &unknown) {
		out := &icp.ValidationError{}
		for _, f := range unknown.Fields {
			out.Add(f.Field, f.Message+" (CSV header column)")
		}
		return nil, out
	}
	if items[0].err != nil {
		return nil, fmt.Errorf("check CSV header: %w", items[0].err)
	}
	return cols, nil
}

// csvItem turns a CSV record into an account to score, and false for a
// blank line. Empty cells are missing values. A record that cannot be
// parsed, has the wrong number of cells or holds an over-long or invalid
// cell becomes an item with its error set.
func csvItem(rec record, line int, cols []string, maxRecord int64) (batchItem, bool) {
	it := batchItem{pos: line}
	if rec.tooLong {
		it.err = &bodyError{Offset: 0, Msg: fmt.Sprintf("record longer than %d bytes", maxRecord)}
		return it, true
	}
	if isBlank(rec.data) {
		return it, false
	}
	cells, err := parseCSVRecord(rec.data)
	if err != nil {
		it.err = &bodyError{Offset: 0, Msg: "malformed CSV record: " + err.Error()}
		return it, true
	}
	if len(cells) != len(cols) {
		it.err = &icp.ValidationError{Fields: []icp.FieldError{{Field: "", Message: fmt.Sprintf("record has %d cells, the header has %d", len(cells), len(cols))}}}
		return it, true
	}
	acc := make(icp.Account, len(cols))
	var verr icp.ValidationError
	for j, v := range cells {
		switch {
		case v == "":
			continue
		case !utf8.ValidString(v):
			verr.Add(cols[j], "value is not valid UTF-8")
		case len(v) > maxStringBytes:
			verr.Add(cols[j], msgLongValue)
		default:
			acc[cols[j]] = v
		}
	}
	it.acc = acc
	if err := verr.Err(); err != nil {
		it.err = err
	}
	return it, true
}

// parseCSVRecord parses one CSV record (RFC 4180, as encoding/csv reads
// it, quotes strict) into its cells. An empty record gives no cells.
func parseCSVRecord(data []byte) ([]string, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	cells, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if _, err := r.Read(); !errors.Is(err, io.EOF) {
		// The splitter ends records at line ends outside quotes, so a
		// second record means malformed quoting.
		return nil, errors.New("more than one record on a line")
	}
	return cells, nil
}

// appendCSVScore appends the CSV row of one item.
func (s *Server) appendCSVScore(ctx context.Context, dst []byte, it *batchItem, version string) []byte {
	line := strconv.Itoa(it.pos)
	if it.err != nil {
		l := s.describeItemError(ctx, it.pos, version, it.err)
		return appendCSVRow(dst, line, "", version, "", "", "", "", "", "", "", csvErrorText(l))
	}
	sc := &it.sc
	seg, anti := "", ""
	if sc.Segment != nil {
		seg = sc.Segment.ID
	}
	if sc.AntiICP != nil {
		anti = sc.AntiICP.ID
	}
	var top []byte
	for i, a := range sc.Attributions {
		if i == topAttributions {
			break
		}
		if i > 0 {
			top = append(top, ';')
		}
		top = append(top, a.Feature...)
		top = append(top, ':')
		if a.Contribution >= 0 {
			top = append(top, '+')
		}
		top = strconv.AppendFloat(top, a.Contribution, 'f', 4, 64)
	}
	return appendCSVRow(dst, line, sc.AccountID, sc.ModelVersion, csvFloat(sc.Score), csvFloat(sc.Percentile),
		string(sc.Tier), seg, anti, csvFloat(sc.Margin), string(top), "")
}

// csvErrorText writes an error line as one CSV cell.
func csvErrorText(l streamLine) string {
	var b strings.Builder
	b.WriteString(l.Error)
	if l.Detail != "" {
		b.WriteString(": ")
		b.WriteString(l.Detail)
	}
	for i, f := range l.Fields {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if f.Field != "" {
			b.WriteString(f.Field)
			b.WriteString(": ")
		}
		b.WriteString(f.Message)
	}
	return b.String()
}

// csvFloat formats a finite number as the JSON answers do.
func csvFloat(f float64) string {
	b, err := appendFloat(nil, f)
	if err != nil {
		return "" // checkFinite has let only finite numbers through
	}
	return string(b)
}

// appendCSVRow appends one CSV row, quoting the cells that need it as
// encoding/csv does, with a "\n" line end.
func appendCSVRow(dst []byte, cells ...string) []byte {
	for i, cell := range cells {
		if i > 0 {
			dst = append(dst, ',')
		}
		if !csvNeedsQuotes(cell) {
			dst = append(dst, cell...)
			continue
		}
		dst = append(dst, '"')
		for j := 0; j < len(cell); j++ {
			if cell[j] == '"' {
				dst = append(dst, '"')
			}
			dst = append(dst, cell[j])
		}
		dst = append(dst, '"')
	}
	return append(dst, '\n')
}

// csvNeedsQuotes reports whether a cell must be quoted: it holds a comma, a
// quote or a line end, or starts with a space, as encoding/csv decides.
func csvNeedsQuotes(cell string) bool {
	if cell == "" {
		return false
	}
	if cell == `\.` || cell[0] == ' ' || cell[0] == '\t' {
		return true
	}
	return strings.ContainsAny(cell, ",\"\r\n")
}
