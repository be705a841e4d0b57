package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/icpengine/icp"
)

// POST /v1/score/batch scores many accounts in one request. The body's
// Content-Type chooses the form:
//
//   - application/json: a JSON array of at most Config.MaxBatch account
//     objects, within Config.MaxBatchBytes. Validation is all or nothing:
//     one bad account makes the answer a 400 whose field errors carry the
//     index, as in "[3].employees". Otherwise the answer is
//     {"model_version", "count", "scores"}, the scores in request order and
//     each the object POST /v1/score answers. The request deadline is
//     Config.RequestTimeout, as for one account.
//   - application/x-ndjson (or application/jsonl): one account object per
//     line, within Config.MaxStreamBytes, each line within
//     Config.MaxBodyBytes. The answer streams one line per input line, in
//     order: the score object, or an error line {"line", "model_version",
//     "error", "detail"/"offset"/"fields"}. A bad line, a line over the cap
//     included, does not stop the stream; blank lines are skipped and
//     answered by nothing.
//   - text/csv: a header row of account field names, then one account per
//     record, read with encoding/csv, each record within Config.MaxBodyBytes;
//     the answer is a CSV stream with the columns of csvHeader, written with
//     encoding/csv. A record that cannot be parsed is answered by an error
//     row naming its line and the stream goes on; a record over the cap
//     (most often a quote that never closes) ends the stream with an error
//     row at the line where it starts, since what follows cannot be read.
//
// Fields the model does not know are refused in a JSON array and ignored in
// the streams, unless ?unknown= says otherwise (see doc.go); ignored fields
// are named in the X-ICP-Ignored-Fields header.
//
// The streams run under Config.StreamTimeout instead of RequestTimeout,
// and stretch the HTTP server's read and write deadlines to it once the
// request is authenticated. They read the body while they write the
// answer (full duplex): a client must read the answer as it sends, as curl
// does, or keep a stream within what the connection buffers.
//
// The query parameter attributions=false leaves the attributions out
// (they are null): with boosted trees explaining an account costs far more
// than scoring it, so large batches that need only the scores and tiers
// should ask for that. The default, true, answers the same objects as
// POST /v1/score.
//
// The accounts of a request are scored by up to GOMAXPROCS goroutines, each
// over a contiguous part; with a BatchScorer each part is one call.

// batchPath is the pattern of the batch route.
const batchPath = "/v1/score/batch"

// Defaults of the batch settings of Config.
const (
	defaultMaxScoreBatch  = 1000
	defaultMaxBatchBytes  = 16 << 20
	defaultMaxStreamBytes = 256 << 20
	defaultStreamTimeout  = 10 * time.Minute
)

// Batch sizes: a request is split among workers only when each gets at
// least minPart accounts, and a stream is scored streamChunk records at a
// time (fewer when the client has sent no more yet).
const (
	minPart     = 32
	streamChunk = 1024
)

// BatchScorer is an optional extension of Scorer, type-asserted by the
// batch route: a scorer that can score many accounts faster at once than
// one by one. ScoreBatch scores accs[i] into dst[i] or sets errs[i] to the
// account's error (an *icp.ValidationError for bad fields, names without an
// index); with attributions false the scores may leave Attributions nil.
// It returns a non-nil error only when the whole call failed, such as when
// ctx is done.
type BatchScorer interface {
	ScoreBatch(ctx context.Context, accs []icp.Account, attributions bool, dst []icp.Score, errs []error) error
}

// ModelVersioner is an optional extension of Scorer: it names the model
// that answers, so that batch answers holding no score (an empty array,
// a stream of bad lines) still name it.
type ModelVersioner interface {
	ModelVersion() string
}

// batchFormat is the form of a batch body.
type batchFormat int

const (
	formatJSON batchFormat = iota
	formatNDJSON
	formatCSV
)

// batchFormatOf returns the form the Content-Type ct names, and false for
// an unsupported one. The only parameter allowed is charset=utf-8; for CSV
// the header parameter (RFC 4180) is allowed too.
func batchFormatOf(ct string) (batchFormat, string, bool) {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return 0, "", false
	}
	var f batchFormat
	switch mt {
	case "application/json":
		f = formatJSON
	case "application/x-ndjson", "application/jsonl":
		f = formatNDJSON
	case "text/csv":
		f = formatCSV
	default:
		return 0, "", false
	}
	for k, v := range params {
		switch {
		case k == "charset" && strings.EqualFold(v, "utf-8"):
		case k == "header" && f == formatCSV && strings.EqualFold(v, "present"):
		default:
			return 0, "", false
		}
	}
	return f, mt, true
}

// isStream reports whether c is a request to the batch route with a
// stream body (NDJSON or CSV).
func isStream(c *gin.Context) bool {
	if c.FullPath() != batchPath || c.Request.Method != http.MethodPost {
		return false
	}
	f, _, ok := batchFormatOf(c.GetHeader("Content-Type"))
	return ok && f != formatJSON
}

// writeStatus answers body with status, for the batch answers writeError
// has no error type for, and aborts the rest of the chain.
func (s *Server) writeStatus(c *gin.Context, status int, body errorBody) {
	c.Abort()
	if c.Writer.Written() {
		return
	}
	body.RequestID = requestIDFrom(c.Request.Context())
	buf, err := json.Marshal(body)
	if err != nil {
		// errorBody holds only strings, integers and field errors.
		buf, status = []byte(`{"error":"internal error"}`), http.StatusInternalServerError
	}
	c.Data(status, jsonContentType, buf)
}

// handleScoreBatch scores the accounts of the request body; see the
// comment at the top of this file.
func (s *Server) handleScoreBatch(c *gin.Context) error {
	attributions := true
	if v, ok := c.GetQuery("attributions"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return &icp.ValidationError{Fields: []icp.FieldError{{Field: "attributions", Message: "query parameter must be true or false"}}}
		}
		attributions = b
	}
	f, mt, _ := batchFormatOf(c.GetHeader("Content-Type")) // checked by batchRequireType
	def := ignoreUnknown                                   // streams of exports carry columns the model never saw
	if f == formatJSON {
		def = rejectUnknown
	}
	policy, err := unknownPolicyOf(c, def)
	if err != nil {
		return err
	}
	opts := batchOptions{attributions: attributions}
	if policy == ignoreUnknown {
		opts.fields = s.newFieldSet()
	}
	switch f {
	case formatNDJSON:
		err = s.scoreNDJSON(c, mt, opts)
	case formatCSV:
		err = s.scoreCSV(c, opts)
	default:
		return s.scoreArray(c, opts)
	}
	if err != nil {
		// The answer has not begun: net/http reads what is left of the
		// body (up to 256 KiB) before it answers, so that the client,
		// still sending, reads the answer rather than a reset
		// connection. A client that has stopped sending is not waited
		// for long.
		_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(time.Second))
	}
	return err
}

// batchOptions are the query options of one batch request.
type batchOptions struct {
	attributions bool
	// fields, when not nil, ignores and records the fields the model does
	// not know (?unknown=ignore).
	fields *fieldSet
}

// batchItem is one account of a batch on its way through decoding,
// scoring and encoding.
type batchItem struct {
	// raw is the account's JSON text; nil when acc was built directly (CSV).
	raw []byte
	// checked is set when raw is known to be valid UTF-8 and valid JSON.
	checked bool
	acc     icp.Account
	// pos is the item's place in the request: the array index, or the
	// line (NDJSON) or row (CSV) number.
	pos int
	// off is the byte offset of raw in a JSON array body.
	off int
	// err is the item's problem, when it has one: a *bodyError,
	// an *icp.ValidationError, or another error (internal).
	err error
	sc  icp.Score
}

// workerPanic carries a panic of a batch worker to the handler's
// goroutine.
type workerPanic struct {
	value any
	stack []byte
}

// scoreItems decodes, scores and encodes items on up to GOMAXPROCS
// goroutines, each over a contiguous part, and returns the encoded parts in
// order. Between scoring and encoding it calls prepare, when not nil, with
// every item scored (the encoders may depend on what it sets, such as the
// model version). encode appends the answers of one part's items (good or
// bad) to buf. It returns an error only when ctx is done or the scorer
// failed as a whole; a panic in a worker is raised again in the caller's
// goroutine.
func (s *Server) scoreItems(ctx context.Context, items []batchItem, opts batchOptions, prepare func([]batchItem), encode func(buf *bytes.Buffer, part []batchItem)) ([][]byte, error) {
	parts := max(1, min(runtime.GOMAXPROCS(0), len(items)/minPart))
	part := func(k int) []batchItem { return items[k*len(items)/parts : (k+1)*len(items)/parts] }
	errs := make([]error, parts)
	inParallel(parts, func(k int) {
		errs[k] = s.scorePart(ctx, part(k), opts.attributions, opts.fields)
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if prepare != nil {
		prepare(items)
	}
	out := make([][]byte, parts)
	perItem := 512 // a score without attributions, about
	if opts.attributions {
		perItem += 1536
	}
	inParallel(parts, func(k int) {
		p := part(k)
		buf := bytes.NewBuffer(make([]byte, 0, len(p)*perItem))
		encode(buf, p)
		out[k] = buf.Bytes()
	})
	return out, nil
}

// inParallel runs f(0), ..., f(n-1) on n goroutines, the first on the
// caller's, and waits for them. A panic in one is raised again in the
// caller's goroutine once all are done, with the panicking goroutine's
// stack, so that recovery answers it as any other.
func inParallel(n int, f func(k int)) {
	panics := make([]*workerPanic, n)
	run := func(k int) {
		defer func() {
			if p := recover(); p != nil {
				panics[k] = &workerPanic{value: p, stack: debug.Stack()}
			}
		}()
		f(k)
	}
	var wg sync.WaitGroup
	for k := 1; k < n; k++ {
		wg.Go(func() { run(k) })
	}
	run(0)
	wg.Wait()
	for _, p := range panics {
		if p == nil {
			continue
		}
		if err, ok := p.value.(error); ok && err == http.ErrAbortHandler {
			panic(p.value)
		}
		panic(&panicError{value: p.value, stack: p.stack})
	}
}

// scorePart decodes the raw items of part and scores them, leaving each
// item's score or error in it. Decoder and scorer field errors of one item
// are merged, as POST /v1/score does.
//
// With fields set, the fields the model does not know are left out: those
// already known to be unknown are deleted before scoring, which costs
// nothing for clean records; a field error of the scorer on a field seen
// for the first time has the field checked (see fieldSet), and when it is
// unknown it is left out and the account scored again.
func (s *Server) scorePart(ctx context.Context, part []batchItem, attributions bool, fields *fieldSet) error {
	idx := make([]int, 0, len(part))
	for i := range part {
		it := &part[i]
		if it.raw != nil {
			d, err := decodeObjectAccount(it.raw, it.checked)
			it.raw = nil
			if err != nil {
				it.err = err
				continue
			}
			if fields != nil {
				if err := fields.prune(ctx, &d); err != nil {
					return fmt.Errorf("score batch: %w", err)
				}
			}
			it.acc = d.acc
			if err := d.problems.Err(); err != nil {
				it.err = err
			}
		}
		if it.acc != nil {
			idx = append(idx, i)
		}
	}
	scores, errs, err := s.scoreAccounts(ctx, part, idx, attributions)
	if err != nil {
		return err
	}
	if fields != nil {
		if err := s.rescoreUnknown(ctx, part, idx, attributions, fields, scores, errs); err != nil {
			return err
		}
	}
	for j, i := range idx {
		it := &part[i]
		serr := errs[j]
		if errors.Is(serr, context.DeadlineExceeded) || errors.Is(serr, context.Canceled) {
			return fmt.Errorf("score batch: %w", serr)
		}
		var shape *icp.ValidationError
		if it.err != nil && errors.As(it.err, &shape) {
			var more *icp.ValidationError
			switch {
			case serr == nil:
			case errors.As(serr, &more):
				shape.Fields = append(shape.Fields, more.Fields...)
			default:
				it.err = fmt.Errorf("score: %w", serr)
			}
			continue
		}
		if serr != nil {
			it.err = serr
			continue
		}
		it.sc = scores[j]
		if err := checkFinite(&it.sc); err != nil {
			it.err = fmt.Errorf("score: %w", err)
		}
	}
	return nil
}

// scoreAccounts scores the accounts of part[i] for i in idx, with the
// BatchScorer in one call when the scorer is one.
func (s *Server) scoreAccounts(ctx context.Context, part []batchItem, idx []int, attributions bool) ([]icp.Score, []error, error) {
	accs := make([]icp.Account, len(idx))
	for j, i := range idx {
		accs[j] = part[i].acc
	}
	scores := make([]icp.Score, len(accs))
	errs := make([]error, len(accs))
	if bs, ok := s.scorer.(BatchScorer); ok {
		if err := bs.ScoreBatch(ctx, accs, attributions, scores, errs); err != nil {
			return nil, nil, fmt.Errorf("score batch: %w", err)
		}
		return scores, errs, nil
	}
	for j, acc := range accs {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("score batch: %w", err)
		}
		scores[j], errs[j] = s.scorer.Score(ctx, acc)
		if !attributions {
			scores[j].Attributions = nil
		}
	}
	return scores, errs, nil
}

// rescoreUnknown leaves out of each account the fields the scorer refused
// that the model does not know, and scores those accounts again, updating
// scores and errs.
func (s *Server) rescoreUnknown(ctx context.Context, part []batchItem, idx []int, attributions bool, fields *fieldSet, scores []icp.Score, errs []error) error {
	var again []int // positions in idx
	for j, i := range idx {
		var verr *icp.ValidationError
		if !errors.As(errs[j], &verr) {
			continue
		}
		acc := part[i].acc
		names := make([]string, 0, len(verr.Fields))
		for _, f := range verr.Fields {
			if _, ok := acc[f.Field]; ok { // only a field of the account can be unknown
				names = append(names, f.Field)
			}
		}
		unknown, err := fields.unknownOf(ctx, names)
		if err != nil {
			return fmt.Errorf("score batch: %w", err)
		}
		if len(unknown) == 0 {
			continue
		}
		for _, n := range unknown {
			delete(acc, n)
		}
		again = append(again, j)
	}
	if len(again) == 0 {
		return nil
	}
	sub := make([]int, len(again))
	for k, j := range again {
		sub[k] = idx[j]
	}
	sc, es, err := s.scoreAccounts(ctx, part, sub, attributions)
	if err != nil {
		return err
	}
	for k, j := range again {
		scores[j], errs[j] = sc[k], es[k]
	}
	return nil
}

// modelVersion returns the version of the scorer's model when it names
// it, else the version of the first scored item, else "".
func (s *Server) modelVersion(items []batchItem) string {
	if v, ok := s.scorer.(ModelVersioner); ok {
		return v.ModelVersion()
	}
	for i := range items {
		if items[i].err == nil && items[i].acc != nil {
			return items[i].sc.ModelVersion
		}
	}
	return ""
}

// tooManyError marks a JSON array longer than MaxBatch.
type tooManyError struct{ limit int }

func (e *tooManyError) Error() string {
	return fmt.Sprintf("batch holds more than %d accounts", e.limit)
}

// batchHead is the answer to a JSON array without its scores, which are
// written between its brackets as they were encoded, part by part.
type batchHead struct {
	ModelVersion string `json:"model_version"`
	Count        int    `json:"count"`
	// Scores is always empty here: "scores":[] is cut at its closing
	// bracket and the scores go in its place.
	Scores []struct{} `json:"scores"`
}

// scoreArray answers a JSON array of accounts, all or nothing.
func (s *Server) scoreArray(c *gin.Context, opts batchOptions) error {
	body, err := readBody(c.Request, s.maxBatchBytes)
	if err != nil {
		return err
	}
	items, err := splitArray(body, s.maxBatch)
	if tm, ok := errors.AsType[*tooManyError](err); ok {
		s.writeStatus(c, http.StatusRequestEntityTooLarge, errorBody{
			Error:  "too many accounts",
			Detail: tm.Error() + "; send larger batches as NDJSON or CSV, or split them",
			Limit:  int64(tm.limit),
		})
		return nil
	}
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	parts, err := s.scoreItems(ctx, items, opts, nil, encodeArrayPart)
	if opts.fields != nil {
		if v := opts.fields.header(); v != "" {
			c.Header(IgnoredFieldsHeader, v)
		}
	}
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return &timeoutError{op: "score batch", limit: s.timeout}
		}
		return err
	}
	var verr icp.ValidationError
	for i := range items {
		it := &items[i]
		if it.err == nil {
			continue
		}
		prefix := "[" + strconv.Itoa(it.pos) + "]"
		var fields *icp.ValidationError
		var malformed *bodyError
		switch {
		case errors.As(it.err, &fields):
			for _, f := range fields.Fields {
				name := prefix
				if f.Field != "" {
					name += "." + f.Field
				}
				verr.Add(name, f.Message)
			}
		case errors.As(it.err, &malformed):
			// A body that is not JSON is answered as such, at the first
			// malformed account.
			return &bodyError{Offset: int64(it.off) + malformed.Offset, Msg: "account " + prefix + ": " + malformed.Msg}
		case errors.Is(it.err, icp.ErrInvalid):
			verr.Add(prefix, it.err.Error())
		default:
			return fmt.Errorf("account %s: %w", prefix, it.err)
		}
	}
	if err := verr.Err(); err != nil {
		return err
	}
	version := s.modelVersion(items)
	c.Set(modelVersionKey, version)
	for i := range items {
		s.observeScore(items[i].acc, &items[i].sc)
	}
	head, err := json.Marshal(batchHead{ModelVersion: version, Count: len(items), Scores: []struct{}{}})
	if err != nil {
		return fmt.Errorf("encode answer: %w", err)
	}
	head = head[:len(head)-2] // "]}", written after the scores
	// The parts are written as they are, with commas between them, rather
	// than copied into one buffer.
	size, nonEmpty := len(head)+2, 0
	for _, p := range parts {
		if len(p) > 0 {
			size += len(p)
			nonEmpty++
		}
	}
	size += max(nonEmpty-1, 0)
	c.Header("Content-Type", jsonContentType)
	c.Header("Content-Length", strconv.Itoa(size))
	c.Status(http.StatusOK)
	w := c.Writer
	if _, err := w.Write(head); err != nil {
		return nil // the client is gone
	}
	first := true
	for _, p := range parts {
		if len(p) == 0 {
			continue
		}
		if !first {
			if _, err := w.Write([]byte{','}); err != nil {
				return nil
			}
		}
		first = false
		if _, err := w.Write(p); err != nil {
			return nil
		}
	}
	_, _ = w.Write([]byte("]}"))
	return nil
}

// encodeArrayPart appends the scores of part, separated by commas, to buf
// with encoding/json. An item whose score cannot be encoded gets an error
// instead (an attribution value of a type JSON cannot hold; checkFinite has
// let only finite numbers through).
func encodeArrayPart(buf *bytes.Buffer, part []batchItem) {
	enc := json.NewEncoder(buf)
	for i := range part {
		it := &part[i]
		if it.err != nil {
			continue
		}
		n := buf.Len()
		if n > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(&it.sc); err != nil {
			buf.Truncate(n)
			it.err = fmt.Errorf("encode score: %w", err)
			continue
		}
		buf.Truncate(buf.Len() - 1) // the newline Encode ends with
	}
}

// splitArray checks that body is one JSON array and returns its elements
// as items holding their raw text, for decodeObjectAccount to read each in
// a worker. Elements that are not objects are items with a field error
// already set. More than limit elements give a *tooManyError.
//
// The array is read with jsontext, the streaming layer of the Go team's
// encoding/json v2 (go-json-experiment/json, encoding/json/jsontext behind
// GOEXPERIMENT=jsonv2): one pass that validates each element (syntax,
// UTF-8, nesting) and returns it without a copy, where json.Decoder scans
// every element twice to decode it into a json.RawMessage. On the batch
// benchmark that is the difference between a splitter cheaper than the
// hand-written one it replaced and one that made the whole request about a
// fifth more expensive.
func splitArray(body []byte, limit int) ([]batchItem, error) {
	if !utf8.Valid(body) {
		return nil, &bodyError{Offset: invalidUTF8Offset(body), Msg: "request body is not valid UTF-8"}
	}
	// Duplicate keys inside an account are reported with the account's
	// other field errors by decodeObjectAccount.
	dec := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowDuplicateNames(true))
	switch dec.PeekKind() {
	case '[':
	case '{':
		i := skipSpace(body, 0)
		return nil, &bodyError{Offset: int64(i), Msg: "want a JSON array of accounts, got an object (POST /v1/score takes one account)"}
	default:
		if !json.Valid(body) {
			return nil, diagnose(body)
		}
		i := skipSpace(body, 0)
		if i == len(body) {
			return nil, &bodyError{Offset: int64(len(body)), Msg: "empty body, want a JSON array of accounts"}
		}
		return nil, &bodyError{Offset: int64(i), Msg: "want a JSON array of accounts, got " + kindOf(body[i])}
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, streamError(err, body)
	}
	items := make([]batchItem, 0, min(limit, 1024))
	for n := 0; ; n++ {
		if dec.PeekKind() == ']' {
			break
		}
		if n == limit {
			return nil, &tooManyError{limit: limit}
		}
		raw, err := dec.ReadValue()
		if err != nil {
			return nil, streamError(err, body)
		}
		off := int(dec.InputOffset()) - len(raw)
		it := batchItem{raw: body[off : off+len(raw)], checked: true, pos: n, off: off}
		if raw[0] != '{' {
			it.raw = nil
			it.err = &icp.ValidationError{Fields: []icp.FieldError{{Field: "", Message: "must be a JSON object (an account), got " + kindOf(raw[0])}}}
		}
		items = append(items, it)
	}
	if _, err := dec.ReadToken(); err != nil { // the closing bracket
		return nil, streamError(err, body)
	}
	if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
		return nil, &bodyError{Offset: int64(skipSpace(body, int(dec.InputOffset()))), Msg: "unexpected data after the JSON array"}
	}
	return items, nil
}

// streamError turns an error of a jsontext decoder reading body into a
// *bodyError at its offset.
func streamError(err error, body []byte) error {
	var se *jsontext.SyntacticError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &bodyError{Offset: int64(len(body)), Msg: "unexpected end of JSON input"}
	case errors.As(err, &se):
		return &bodyError{Offset: se.ByteOffset, Msg: "malformed JSON: " + se.Err.Error()}
	default:
		return fmt.Errorf("read JSON array: %w", err)
	}
}

// streamWriter writes the answer of a stream: the status and headers with
// the first bytes, then each chunk flushed as it is scored.
type streamWriter struct {
	c           *gin.Context
	contentType string
	// fields, when not nil, names the ignored fields: those seen so far in
	// the header, all of them in a trailer at the end (see finish).
	fields  *fieldSet
	started bool
}

func (w *streamWriter) write(parts ...[]byte) error {
	// The client must take each chunk within streamWriteTimeout (and
	// within the stream's deadline); one that stops reading is let go.
	until := time.Now().Add(streamWriteTimeout)
	if d, ok := w.c.Request.Context().Deadline(); ok && d.Before(until) {
		until = d
	}
	rc := http.NewResponseController(w.c.Writer)
	_ = rc.SetWriteDeadline(until)
	if !w.started {
		_ = rc.EnableFullDuplex()
		w.started = true
		w.c.Header("Content-Type", w.contentType)
		if v := w.fields.header(); v != "" {
			w.c.Header(IgnoredFieldsHeader, v)
		}
		w.c.Status(http.StatusOK)
	}
	for _, p := range parts {
		if len(p) == 0 {
			continue
		}
		if _, err := w.c.Writer.Write(p); err != nil {
			return fmt.Errorf("write answer: %w", err)
		}
	}
	w.c.Writer.Flush()
	return nil
}

// finish sends, as an HTTP trailer named IgnoredFieldsHeader, every field
// ignored during the stream, when there were any: fields first seen after
// the answer began could not be named in its header.
func (w *streamWriter) finish() {
	if v := w.fields.header(); w.started && v != "" {
		w.c.Writer.Header().Set(http.TrailerPrefix+IgnoredFieldsHeader, v)
	}
}

// startStream stretches the connection's deadlines to the stream's.
// Full duplex, so that the body can be read while the answer is written,
// is turned on when the answer begins (streamWriter.write): an error
// answered before then leaves net/http to read what is left of a small
// body first, as it does for other routes. Writers that support neither
// (tests' recorders) are fine: the answer is then only read after the
// body.
func (s *Server) startStream(c *gin.Context) {
	rc := http.NewResponseController(c.Writer)
	var until time.Time // the zero time: no deadline
	if d, ok := c.Request.Context().Deadline(); ok {
		until = d
	}
	_ = rc.SetReadDeadline(until)
	_ = rc.SetWriteDeadline(until)
}

// streamLine is an error line of an NDJSON answer, or an error row of a
// CSV answer before it is written as CSV.
type streamLine struct {
	Line         int              `json:"line"`
	ModelVersion string           `json:"model_version"`
	Error        string           `json:"error"`
	Detail       string           `json:"detail,omitempty"`
	Offset       *int64           `json:"offset,omitempty"`
	Fields       []icp.FieldError `json:"fields,omitempty"`
	Limit        int64            `json:"limit,omitempty"`
}

// describeItemError turns an item's error into an error line. Internal
// errors are logged and described generically.
func (s *Server) describeItemError(ctx context.Context, pos int, version string, err error) streamLine {
	l := streamLine{Line: pos, ModelVersion: version}
	var (
		fields    *icp.ValidationError
		malformed *bodyError
	)
	switch {
	case errors.As(err, &fields):
		l.Error, l.Fields = "invalid input", fields.Fields
	case errors.As(err, &malformed):
		off := malformed.Offset
		l.Error, l.Detail, l.Offset = "malformed line", malformed.Msg, &off
	case errors.Is(err, icp.ErrInvalid):
		l.Error, l.Detail = "invalid input", err.Error()
	default:
		s.log.ErrorContext(ctx, "internal error", slog.String("request_id", requestIDFrom(ctx)),
			slog.String("route", batchPath), slog.Int("line", pos), slog.Any("err", err))
		l.Error = "internal error"
	}
	return l
}

// answerChunk scores one chunk of a stream, offers its scores to the
// observer and writes its answer lines. gone reports a client that went
// away; err is a scoring error (a deadline, a cancellation).
func (s *Server) answerChunk(ctx context.Context, c *gin.Context, w *streamWriter, items []batchItem, opts batchOptions,
	setVersion func([]batchItem), encode func(buf *bytes.Buffer, part []batchItem), version *string) (gone bool, err error) {
	parts, err := s.scoreItems(ctx, items, opts, setVersion, encode)
	if err != nil {
		return false, err
	}
	c.Set(modelVersionKey, *version) // setVersion has named it by now
	for i := range items {
		if items[i].err == nil {
			s.observeScore(items[i].acc, &items[i].sc)
		}
	}
	return w.write(parts...) != nil, nil
}

// streamEndLine describes why a stream stopped early: the body was too
// large, unreadable, or the deadline passed.
func (s *Server) streamEndLine(ctx context.Context, pos int, version string, err error) streamLine {
	l := streamLine{Line: pos, ModelVersion: version}
	var (
		tooLarge  *http.MaxBytesError
		malformed *bodyError
	)
	switch {
	case errors.As(err, &tooLarge):
		l.Error, l.Detail, l.Limit = "request body too large", "the stream stopped here", tooLarge.Limit
	case errors.As(err, new(*slowBodyError)):
		l.Error, l.Detail = "timeout", "the stream stopped here: "+err.Error()
	case errors.Is(err, context.DeadlineExceeded):
		l.Error, l.Detail = "timeout", fmt.Sprintf("the stream stopped here: no end within the stream deadline of %v", s.streamTimeout)
	case errors.Is(err, context.Canceled):
		l.Error = "canceled"
	case errors.As(err, &malformed):
		l.Error, l.Detail = "malformed request body", malformed.Error()
	default:
		s.log.ErrorContext(ctx, "internal error", slog.String("request_id", requestIDFrom(ctx)),
			slog.String("route", batchPath), slog.Any("err", err))
		l.Error = "internal error"
	}
	return l
}

// scoreNDJSON answers a stream of NDJSON accounts with a stream of NDJSON
// scores and error lines.
func (s *Server) scoreNDJSON(c *gin.Context, mediaType string, opts batchOptions) error {
	ctx := c.Request.Context()
	s.startStream(c)
	rd := newLineReader(s.streamBody(c), int(s.maxBody))
	w := &streamWriter{c: c, contentType: mediaType + "; charset=utf-8", fields: opts.fields}
	version := ""
	if v, ok := s.scorer.(ModelVersioner); ok {
		version = v.ModelVersion()
	}
	setVersion := func(items []batchItem) {
		if version == "" {
			version = s.modelVersion(items)
		}
	}
	encode := func(buf *bytes.Buffer, part []batchItem) {
		enc := json.NewEncoder(buf)
		for i := range part {
			it := &part[i]
			if it.err == nil {
				n := buf.Len()
				err := enc.Encode(&it.sc)
				if err == nil {
					continue
				}
				buf.Truncate(n)
				it.err = fmt.Errorf("encode score: %w", err)
			}
			// An error line holds strings, integers and field errors.
			_ = enc.Encode(s.describeItemError(ctx, it.pos, version, it.err))
		}
	}
	items := make([]batchItem, 0, streamChunk)
	lines := 0
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
			lines = rd.line
			if !rec.tooLong && isBlank(rec.data) {
				continue
			}
			it := batchItem{pos: rd.line}
			if rec.tooLong {
				it.err = &bodyError{Offset: int64(s.maxBody), Msg: fmt.Sprintf("line longer than %d bytes", s.maxBody)}
			} else {
				it.raw = rec.data
			}
			items = append(items, it)
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
			if !w.started {
				if lines == 0 {
					return &bodyError{Offset: 0, Msg: "empty body, want one JSON account per line"}
				}
				return w.write() // only blank lines
			}
			w.finish()
			return nil
		case !w.started:
			return rerr
		}
		end, _ := json.Marshal(s.streamEndLine(ctx, lines+1, version, rerr))
		_ = w.write(end, []byte{'\n'})
		w.finish()
		return nil
	}
}

// isBlank reports whether b holds only JSON whitespace.
func isBlank(b []byte) bool { return skipSpace(b, 0) == len(b) }
