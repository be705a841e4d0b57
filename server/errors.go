package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/icpengine/icp"
)

// Routing errors, answered 404 and 405.
var (
	errNoRoute          = errors.New("no such route")
	errMethodNotAllowed = errors.New("method not allowed")
)

// notReadyError is a failed readiness check. It matches icp.ErrUnavailable.
type notReadyError struct {
	reason string
}

func (e *notReadyError) Error() string { return "not ready: " + e.reason }

// Is reports whether target is icp.ErrUnavailable.
func (e *notReadyError) Is(target error) bool { return target == icp.ErrUnavailable }

// mediaTypeError is a POST whose Content-Type the route does not take.
type mediaTypeError struct {
	missing bool
	// want lists the media types the route takes; empty means JSON.
	want string
}

func (e *mediaTypeError) Error() string {
	want := e.want
	if want == "" {
		want = "application/json"
	}
	if e.missing {
		return "missing Content-Type, want " + want
	}
	return "unsupported Content-Type, want " + want
}

// panicError is a panic recovered while serving a request. It logs as a
// group holding the panic value and the stack.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// LogValue reports the panic value and the stack of the panicking goroutine.
func (e *panicError) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("panic", fmt.Sprint(e.value)),
		slog.String("stack", string(e.stack)),
	)
}

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error string `json:"error"`
	// Detail explains a body-level or media-type problem.
	Detail string `json:"detail,omitempty"`
	// Offset is the byte offset of a malformed body's problem.
	Offset *int64 `json:"offset,omitempty"`
	// Fields lists the field errors of invalid input.
	Fields []icp.FieldError `json:"fields,omitempty"`
	// Limit is the body size cap, for a 413.
	Limit     int64  `json:"limit,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// writeError is the one place where errors become HTTP responses. Errors
// about the request are answered with what the client needs to fix it;
// unavailable dependencies are logged as warnings and answered 503; anything
// else is logged with the request id and answered with a generic 500, so
// internals never reach the client. It aborts the rest of the chain.
func (s *Server) writeError(c *gin.Context, err error) {
	ctx := c.Request.Context()
	id := requestIDFrom(ctx)
	body := errorBody{RequestID: id}
	var (
		status    int
		tooLarge  *http.MaxBytesError
		media     *mediaTypeError
		malform   *bodyError
		invalid   *icp.ValidationError
		notReady  *notReadyError
		authErr   *authError
		forbidden *forbiddenError
		limited   *rateLimitError
		overload  *overloadError
		streams   *streamLimitError
		slow      *slowBodyError
		busy      *busyError
	)
	s.metrics.countRejection(err)
	switch {
	case errors.As(err, &authErr):
		challenge := `Bearer realm="icp"`
		if authErr.presented {
			challenge += `, error="invalid_token"`
		}
		c.Header("WWW-Authenticate", challenge)
		status, body.Error, body.Detail = http.StatusUnauthorized, "unauthenticated", authErr.detail
	case errors.As(err, &forbidden):
		status, body.Error, body.Detail = http.StatusForbidden, "forbidden", forbidden.Error()
	case errors.As(err, &limited):
		c.Header("Retry-After", retryAfterSeconds(limited.retryAfter))
		status, body.Error, body.Detail = http.StatusTooManyRequests, "rate limited", "this API key sent more requests than its rate allows"
	case errors.As(err, &streams):
		// Closing the connection answers at once: net/http would
		// otherwise read what is left of the body first.
		c.Header("Connection", "close")
		c.Header("Retry-After", "1")
		status, body.Error, body.Detail = http.StatusTooManyRequests, "too many streams", streams.Error()
	case errors.As(err, &busy):
		c.Header("Retry-After", "5")
		status, body.Error, body.Detail = http.StatusTooManyRequests, "busy", busy.what
	case errors.As(err, &slow):
		c.Header("Connection", "close")
		status, body.Error, body.Detail = http.StatusRequestTimeout, "request too slow", slow.Error()
	case errors.As(err, &overload):
		c.Header("Retry-After", "1")
		status, body.Error, body.Detail = http.StatusServiceUnavailable, "overloaded", "too many requests in flight"
	case errors.Is(err, context.DeadlineExceeded):
		s.log.WarnContext(ctx, "request deadline exceeded", slog.String("request_id", id),
			slog.String("route", c.FullPath()), slog.Any("err", err))
		c.Header("Retry-After", "1")
		status, body.Error, body.Detail = http.StatusServiceUnavailable, "timeout", "no answer within the request deadline"
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this answer.
		status, body.Error = http.StatusServiceUnavailable, "canceled"
	case errors.As(err, &tooLarge):
		status, body.Error, body.Limit = http.StatusRequestEntityTooLarge, "request body too large", tooLarge.Limit
	case errors.As(err, &media):
		status, body.Error, body.Detail = http.StatusUnsupportedMediaType, "unsupported media type", media.Error()
	case errors.As(err, &malform):
		status, body.Error, body.Detail, body.Offset = http.StatusBadRequest, "malformed request body", malform.Error(), &malform.Offset
	case errors.As(err, &invalid):
		status, body.Error, body.Fields = http.StatusBadRequest, "invalid input", invalid.Fields
	case errors.Is(err, icp.ErrInvalid):
		// The message describes the client's own input.
		status, body.Error, body.Detail = http.StatusBadRequest, "invalid input", err.Error()
	case errors.As(err, &notReady):
		c.Header("Retry-After", retryAfterUnavailable)
		status, body.Error, body.Detail = http.StatusServiceUnavailable, "not ready", notReady.reason
	case errors.Is(err, errNoStore):
		// Not an outage: this server was started without a store.
		status, body.Error, body.Detail = http.StatusServiceUnavailable, "unavailable", "no store configured"
	case errors.Is(err, icp.ErrUnavailable):
		// A dependency (the store) is out of reach for now: the client
		// may retry.
		s.log.WarnContext(ctx, "dependency unavailable", slog.String("request_id", id), slog.Any("err", err))
		c.Header("Retry-After", retryAfterUnavailable)
		status, body.Error = http.StatusServiceUnavailable, "unavailable"
	case errors.Is(err, icp.ErrNotFound), errors.Is(err, errNoRoute):
		status, body.Error = http.StatusNotFound, "not found"
	case errors.Is(err, errMethodNotAllowed):
		status, body.Error = http.StatusMethodNotAllowed, "method not allowed"
	case errors.Is(err, icp.ErrConflict):
		status, body.Error = http.StatusConflict, "conflict"
	default:
		s.log.ErrorContext(ctx, "internal error",
			slog.String("request_id", id),
			slog.String("method", c.Request.Method),
			slog.String("route", c.FullPath()),
			slog.Any("err", err))
		status, body.Error = http.StatusInternalServerError, "internal error"
	}
	c.Abort()
	if c.Writer.Written() {
		// Too late to change the answer; the error is at least logged
		// when it is internal.
		return
	}
	buf, merr := json.Marshal(body)
	if merr != nil {
		// errorBody holds only strings and integers; this cannot happen.
		s.log.ErrorContext(ctx, "encode error body", slog.String("request_id", id), slog.Any("err", merr))
		buf = []byte(`{"error":"internal error"}`)
		status = http.StatusInternalServerError
	}
	c.Data(status, jsonContentType, buf)
}

// retryAfterUnavailable is the Retry-After of an answer 503 while a
// dependency is out of reach, in seconds.
const retryAfterUnavailable = "5"

// jsonContentType is the Content-Type of every response.
const jsonContentType = "application/json; charset=utf-8"

// writeJSON encodes v with encoding/json and sends it with the given status.
// Encoding happens before anything is written, so a value that cannot be
// encoded gives an error the caller can still answer with a 500.
func (s *Server) writeJSON(c *gin.Context, status int, v any) error {
	buf, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	c.Data(status, jsonContentType, buf)
	return nil
}
