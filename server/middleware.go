package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/gin-gonic/gin"
)

// requestIDHeader carries the request id in requests and responses.
const requestIDHeader = "X-Request-ID"

// maxRequestIDLen is the longest incoming request id that is kept.
const maxRequestIDLen = 128

// requestIDKey is the context key of the request id.
type requestIDKey struct{}

// requestIDFrom returns the request id stored in ctx, or "".
func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestID keeps a well-formed incoming X-Request-ID or makes a new one,
// echoes it in the response and stores it in the request context, where the
// logs and the Scorer find it.
func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader(requestIDHeader)
	if !validRequestID(id) {
		id = newRequestID()
	}
	c.Header(requestIDHeader, id)
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), requestIDKey{}, id))
	c.Next()
}

// validRequestID reports whether id is 1-128 characters of [A-Za-z0-9._-].
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// newRequestID returns 16 random bytes from crypto/rand, hex encoded.
func newRequestID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand.Read is documented never to return an error.
		panic("server: crypto/rand: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// recovery turns a panic in a later handler into a logged, generic 500 and
// keeps the server serving. http.ErrAbortHandler is re-panicked so that
// net/http aborts the response as that sentinel asks.
func (s *Server) recovery(c *gin.Context) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if err, ok := p.(error); ok && err == http.ErrAbortHandler {
			panic(p)
		}
		pe, ok := p.(*panicError) // re-raised from the scorer's goroutine
		if !ok {
			pe = &panicError{value: p, stack: debug.Stack()}
		}
		s.writeError(c, pe)
	}()
	c.Next()
}

// accessLog writes one Info line per request. The route is the matched
// pattern, never the raw path, so ids in paths do not explode log
// cardinality; it is empty for unmatched paths.
//
// The same numbers feed the request metrics (see Metrics).
func (s *Server) accessLog(c *gin.Context) {
	start := s.now()
	completed := false
	s.metrics.inFlight.Inc()
	defer func() {
		s.metrics.inFlight.Dec()
		status := c.Writer.Status()
		attrs := make([]slog.Attr, 0, 8)
		if !completed {
			// A panic is unwinding; recovery answers it with a 500
			// once this returns.
			status = http.StatusInternalServerError
			attrs = append(attrs, slog.Bool("panic", true))
		}
		elapsed := s.now().Sub(start)
		s.metrics.observe(c, status, elapsed)
		attrs = append(attrs,
			slog.String("method", c.Request.Method),
			slog.String("route", c.FullPath()),
			slog.Int("status", status),
			slog.Duration("duration", elapsed),
			slog.Int("bytes", max(c.Writer.Size(), 0)),
			slog.String("request_id", requestIDFrom(c.Request.Context())),
			slog.String("remote", c.Request.RemoteAddr),
		)
		if id := c.GetString(keyIDKey); id != "" {
			// The key's id, never the key.
			attrs = append(attrs, slog.String("key_id", id))
		}
		s.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "request", attrs...)
	}()
	c.Next()
	completed = true
}

// limitBody caps the request body at the route's limit (bodyLimit). A
// body announced as larger is refused at once; one that turns out larger
// fails the read with *http.MaxBytesError, which writeError answers with a
// 413.
func (s *Server) limitBody(c *gin.Context) {
	limit := s.bodyLimit(c)
	if c.Request.ContentLength > limit {
		s.writeError(c, &http.MaxBytesError{Limit: limit})
		return
	}
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	}
	c.Next()
}

// bodyLimit is the body cap of a request: MaxBodyBytes, except for a model
// artifact (MaxArtifactBytes) and a batch (MaxBatchBytes for a JSON array,
// MaxStreamBytes for a stream).
func (s *Server) bodyLimit(c *gin.Context) int64 {
	if c.Request.Method == http.MethodPost {
		switch c.FullPath() {
		case modelsPath:
			return s.maxArtifact
		case batchPath:
			if isStream(c) {
				return s.maxStreamBytes
			}
			return s.maxBatchBytes
		}
	}
	return s.maxBody
}

// requireJSON refuses a POST to a known route unless its Content-Type is
// application/json. The only parameter allowed is charset, and only as
// utf-8, the one encoding the decoder accepts. The batch route also takes
// NDJSON and CSV (see batchFormatOf).
func (s *Server) requireJSON(c *gin.Context) {
	if c.Request.Method != http.MethodPost || c.FullPath() == "" {
		c.Next()
		return
	}
	ct := c.GetHeader("Content-Type")
	ok, want := isJSONMediaType(ct), ""
	if c.FullPath() == batchPath {
		_, _, ok = batchFormatOf(ct)
		want = "application/json, application/x-ndjson or text/csv"
	}
	if !ok {
		s.writeError(c, &mediaTypeError{missing: ct == "", want: want})
		return
	}
	c.Next()
}

// isJSONMediaType reports whether the Content-Type value ct is
// application/json with at most a utf-8 charset parameter.
func isJSONMediaType(ct string) bool {
	// The usual values, without the parser's map.
	switch ct {
	case "application/json", "application/json; charset=utf-8", "application/json; charset=UTF-8":
		return true
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return false
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return false
		}
	}
	return true
}
