package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/icpengine/icp"
)

// errEndOfBody is the end of a stream body, after its last record.
var errEndOfBody = errors.New("end of body")

// streamBufferSize is the read buffer of a stream body.
const streamBufferSize = 64 << 10

// ndjsonLine is one line of an NDJSON body, without its line end.
type ndjsonLine struct {
	data []byte
	// tooLong is set when the line was longer than the reader's cap; data
	// is then empty and the line was skipped.
	tooLong bool
}

// lineReader splits an NDJSON body into lines, each at most max bytes, so
// that one line never holds more memory than one POST /v1/score body may.
// A trailing carriage return is dropped.
type lineReader struct {
	br  *bufio.Reader
	max int
	// line is the number of lines read so far.
	line int
	// arena holds the lines returned since the last reset.
	arena []byte
}

func newLineReader(r io.Reader, maxLine int) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, streamBufferSize), max: maxLine}
}

// reset lets the reader reuse the memory of the lines returned so far;
// they must no longer be used.
func (r *lineReader) reset() { r.arena = r.arena[:0] }

// buffered reports whether more of the body is at hand without waiting for
// the client.
func (r *lineReader) buffered() bool { return r.br.Buffered() > 0 }

// next returns the next line. At the end of the body it returns
// errEndOfBody; a body over its cap gives *http.MaxBytesError, and any
// other failure to read a *bodyError.
func (r *lineReader) next() (ndjsonLine, error) {
	start := len(r.arena)
	size, read, tooLong := 0, false, false
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(chunk) > 0 {
			read = true
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
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if !read {
				return ndjsonLine{}, errEndOfBody
			}
		default:
			return ndjsonLine{}, readError(err)
		}
		r.line++
		if tooLong {
			r.arena = r.arena[:start]
			return ndjsonLine{tooLong: true}, nil
		}
		data := r.arena[start:len(r.arena):len(r.arena)]
		data = bytes.TrimSuffix(data, []byte{'\n'})
		data = bytes.TrimSuffix(data, []byte{'\r'})
		if len(data) > r.max {
			return ndjsonLine{tooLong: true}, nil
		}
		return ndjsonLine{data: data}, nil
	}
}

// readError is a failure to read a stream body: the body cap as it is
// (*http.MaxBytesError), anything else as a *bodyError.
func readError(err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return err
	}
	if _, ok := errors.AsType[*slowBodyError](err); ok {
		return err
	}
	var be *bodyError
	if errors.As(err, &be) {
		return err
	}
	return &bodyError{Offset: 0, Msg: "read request body: " + err.Error()}
}

// errRecordTooLong is a CSV record longer than the cap of one record.
var errRecordTooLong = errors.New("record too long")

// recordLimiter passes a CSV body on to encoding/csv and fails with
// errRecordTooLong once the record being read holds more than max bytes,
// so that a record (an unbalanced quote swallows the rest of the body into
// one) never holds more memory than one POST /v1/score body may. csv.Reader
// asks for more bytes only while the current record is unfinished, so all
// the bytes passed since the record began belong to it; the read-ahead of
// the buffer in between is allowed for.
type recordLimiter struct {
	r io.Reader
	// read counts the bytes passed on; start is the offset where the
	// current record began, set by csvStream after each record.
	read, start int64
	max         int64
}

func (l *recordLimiter) Read(p []byte) (int, error) {
	if l.read-l.start > l.max+streamBufferSize {
		return 0, errRecordTooLong
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		err = readError(err)
	}
	return n, err
}

// csvStream reads the records of a CSV body with encoding/csv (RFC 4180,
// quotes strict), each within a cap.
type csvStream struct {
	br  *bufio.Reader
	lim *recordLimiter
	cr  *csv.Reader
	// endLine is the line the last record read ended on.
	endLine int
}

func newCSVStream(body io.Reader, maxRecord int64) *csvStream {
	lim := &recordLimiter{r: body, max: maxRecord}
	// csv.NewReader uses br itself, being a *bufio.Reader, so that
	// br.Buffered says whether more of the body is at hand.
	br := bufio.NewReaderSize(lim, streamBufferSize)
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // checked against the header by csvItem
	return &csvStream{br: br, lim: lim, cr: cr}
}

// buffered reports whether more of the body is at hand without waiting for
// the client.
func (s *csvStream) buffered() bool { return s.br.Buffered() > 0 }

// next returns the next record and the line it starts on. At the end of
// the body it returns errEndOfBody. A record that cannot be parsed gives a
// *csv.ParseError, after which reading goes on at the next line; a record
// over the cap, the body cap or a failure to read end the stream
// (errRecordTooLong, *http.MaxBytesError, *bodyError).
func (s *csvStream) next() ([]string, int, error) {
	rec, err := s.cr.Read()
	s.lim.start = s.cr.InputOffset()
	var pe *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return nil, 0, errEndOfBody
	case errors.As(err, &pe):
		s.endLine = pe.Line
		return nil, pe.StartLine, err
	case err != nil:
		return nil, s.endLine + 1, err
	}
	first, _ := s.cr.FieldPos(0)
	last, _ := s.cr.FieldPos(len(rec) - 1)
	s.endLine = last + strings.Count(rec[len(rec)-1], "\n")
	return rec, first, nil
}

// csvHeader returns the columns of a CSV answer:
//
//	line              the first line of the input record (the header is line 1)
//	account_id        the account's id, when the schema has one
//	model_version     the model that answered
//	score, percentile, tier, segment (id), anti_icp (rule id), margin
//	top_attributions  the three largest contributions, "feature:+0.1234;..."
//	                  (empty with attributions=false)
//	expected_value, predicted_value
//	                  as the score's; empty without a value model
//	top_value_attributions
//	                  the three largest contributions to the expected value
//	                  (empty with attributions=false or without a value model)
//	error             empty for a score; else what is wrong, field by field
//	                  ("employees: must be a number; industry: ...")
func csvHeader() []string {
	return []string{"line", "account_id", "model_version", "score", "percentile", "tier",
		"segment", "anti_icp", "margin", "top_attributions", "expected_value", "predicted_value",
		"top_value_attributions", "error"}
}

// csvErrorRow is the CSV answer's row of an error at line: only line,
// model_version and error are filled.
func csvErrorRow(line int, version, msg string) []string {
	row := make([]string, len(csvHeader()))
	row[0], row[2], row[len(row)-1] = strconv.Itoa(line), version, msg
	return row
}

// topAttributions is how many attributions the CSV answer lists.
const topAttributions = 3

// scoreCSV answers a CSV stream of accounts with a CSV stream of scores.
func (s *Server) scoreCSV(c *gin.Context, opts batchOptions) error {
	ctx := c.Request.Context()
	s.startStream(c)
	rd := newCSVStream(s.streamBody(c), s.maxBody)
	cols, err := s.readCSVHeader(ctx, rd, opts.fields)
	if err != nil {
		return err
	}
	w := &streamWriter{c: c, contentType: "text/csv; charset=utf-8", fields: opts.fields}
	version := ""
	if v, ok := s.scorer.(ModelVersioner); ok {
		version = v.ModelVersion()
	}
	if err := w.write(csvRows(csvHeader())); err != nil {
		return nil // the client is gone
	}
	setVersion := func(items []batchItem) {
		if version == "" {
			version = s.modelVersion(items)
		}
	}
	encode := func(buf *bytes.Buffer, part []batchItem) {
		cw := csv.NewWriter(buf)
		for i := range part {
			// A bytes.Buffer never fails a write.
			_ = cw.Write(s.csvScoreRow(ctx, &part[i], version))
		}
		cw.Flush()
	}
	// The columns are known from the header: nothing is left to drop from
	// each record's account.
	opts.fields = nil
	items := make([]batchItem, 0, streamChunk)
	for {
		items = items[:0]
		var rerr error
		for len(items) < streamChunk {
			rec, line, err := rd.next()
			if _, bad := errors.AsType[*csv.ParseError](err); bad {
				items = append(items, batchItem{pos: line, err: &bodyError{Offset: 0, Msg: "malformed CSV record: " + err.Error()}})
			} else if err != nil {
				rerr = err
				if errors.Is(err, errRecordTooLong) {
					rerr = &bodyError{Offset: 0, Msg: fmt.Sprintf("record longer than %d bytes (an unbalanced quote?)", s.maxBody)}
				}
				break
			} else if it, ok := csvItem(rec, line, cols); ok {
				items = append(items, it)
			}
			if !rd.buffered() {
				break // score what the client has sent so far
			}
		}
		if len(items) > 0 {
			gone, err := s.answerChunk(ctx, c, w, items, opts, setVersion, encode, &version)
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
			w.finish()
			return nil
		}
		l := s.streamEndLine(ctx, rd.endLine+1, version, rerr)
		msg := l.Error
		if l.Detail != "" {
			msg += ": " + l.Detail
		}
		_ = w.write(csvRows(csvErrorRow(l.Line, version, msg)))
		w.finish()
		return nil
	}
}

// csvRows writes rows as CSV with encoding/csv.
func csvRows(rows ...[]string) []byte {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.WriteAll(rows) // a bytes.Buffer never fails a write
	return buf.Bytes()
}

// readCSVHeader reads the header row and checks its columns: present,
// valid UTF-8, not empty, not repeated, and known to the model, which is
// asked about an account holding every column with no value. With fields
// set, the columns the model does not know are recorded there as ignored
// and come back as "" (their cells are skipped); without it they are
// refused.
func (s *Server) readCSVHeader(ctx context.Context, rd *csvStream, fields *fieldSet) ([]string, error) {
	cols, _, err := rd.next()
	switch {
	case errors.Is(err, errEndOfBody):
		return nil, &bodyError{Offset: 0, Msg: "empty body, want a CSV header row of account field names"}
	case errors.Is(err, errRecordTooLong):
		return nil, &bodyError{Offset: 0, Msg: fmt.Sprintf("CSV header row longer than %d bytes", s.maxBody)}
	case err != nil:
		if _, bad := errors.AsType[*csv.ParseError](err); bad {
			return nil, &bodyError{Offset: 0, Msg: "malformed CSV header row: " + err.Error()}
		}
		return nil, err
	}
	cols[0] = strings.TrimPrefix(cols[0], "\ufeff") // a byte order mark
	if len(cols) == 1 && cols[0] == "" {
		return nil, &bodyError{Offset: 0, Msg: "empty CSV header row, want account field names"}
	}
	var verr icp.ValidationError
	seen := make(map[string]bool, len(cols))
	names := make([]string, 0, len(cols))
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
			names = append(names, col)
		}
	}
	if err := verr.Err(); err != nil {
		return nil, err
	}
	if fields != nil {
		unknown, err := fields.unknownOf(ctx, names)
		if err != nil {
			return nil, fmt.Errorf("check CSV header: %w", err)
		}
		for j, col := range cols {
			if slices.Contains(unknown, col) {
				cols[j] = ""
			}
		}
		return cols, nil
	}
	probe := make(icp.Account, len(names))
	for _, n := range names {
		probe[n] = nil
	}
	unknown, err := s.unknownFields(ctx, probe)
	if err != nil {
		return nil, fmt.Errorf("check CSV header: %w", err)
	}
	for _, col := range cols {
		if unknown[col] {
			verr.Add(col, "unknown field (CSV header column; send ?unknown=ignore to ignore it)")
		}
	}
	if err := verr.Err(); err != nil {
		return nil, err
	}
	return cols, nil
}

// csvItem turns a CSV record into an account to score, and false for a
// blank line (one empty or all-space cell). Empty cells are missing
// values; cells under a column cols names "" are ignored. A record with
// the wrong number of cells or an over-long or invalid cell becomes an
// item with its error set.
func csvItem(cells []string, line int, cols []string) (batchItem, bool) {
	it := batchItem{pos: line}
	if len(cells) == 1 && strings.TrimSpace(cells[0]) == "" {
		return it, false
	}
	if len(cells) != len(cols) {
		it.err = &icp.ValidationError{Fields: []icp.FieldError{{Field: "", Message: fmt.Sprintf("record has %d cells, the header has %d", len(cells), len(cols))}}}
		return it, true
	}
	acc := make(icp.Account, len(cols))
	var verr icp.ValidationError
	for j, v := range cells {
		switch {
		case v == "" || cols[j] == "":
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

// csvScoreRow returns the CSV row of one item.
func (s *Server) csvScoreRow(ctx context.Context, it *batchItem, version string) []string {
	line := strconv.Itoa(it.pos)
	if it.err != nil {
		l := s.describeItemError(ctx, it.pos, version, it.err)
		return csvErrorRow(it.pos, version, csvErrorText(l))
	}
	sc := &it.sc
	seg, anti := "", ""
	if sc.Segment != nil {
		seg = sc.Segment.ID
	}
	if sc.AntiICP != nil {
		anti = sc.AntiICP.ID
	}
	var ev, pv, topValue string
	if v := sc.ValueScore; v != nil {
		ev, pv = csvFloat(v.ExpectedValue), csvFloat(v.PredictedValue)
		if v.ValueAttributions != nil {
			topValue = topCell(v.ValueAttributions.Attributions, 2)
		}
	}
	return []string{line, sc.AccountID, sc.ModelVersion, csvFloat(sc.Score), csvFloat(sc.Percentile),
		string(sc.Tier), seg, anti, csvFloat(sc.Margin), topCell(sc.Attributions, 4), ev, pv, topValue, ""}
}

// topCell writes the first topAttributions attributions as one cell,
// "feature:+0.1234;...", contributions with prec decimals.
func topCell(attrs []icp.Attribution, prec int) string {
	var top strings.Builder
	for i, a := range attrs {
		if i == topAttributions {
			break
		}
		if i > 0 {
			top.WriteByte(';')
		}
		top.WriteString(a.Feature)
		top.WriteByte(':')
		if a.Contribution >= 0 {
			top.WriteByte('+')
		}
		top.WriteString(strconv.FormatFloat(a.Contribution, 'f', prec, 64))
	}
	return top.String()
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

// csvFloat formats a finite number as the JSON answers do, with
// encoding/json.
func csvFloat(f float64) string {
	b, err := json.Marshal(f)
	if err != nil {
		return "" // checkFinite has let only finite numbers through
	}
	return string(b)
}
