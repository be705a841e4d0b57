package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/icpengine/icp"
)

// defaultMaxBodyBytes is the body size cap when Config.MaxBodyBytes is zero.
const defaultMaxBodyBytes = 1 << 20

// Scorer scores one account. It returns an error matching icp.ErrInvalid
// (usually a *icp.ValidationError with field errors) for bad input, and
// icp.ErrUnavailable when no model is loaded.
type Scorer interface {
	Score(ctx context.Context, acc icp.Account) (icp.Score, error)
}

// Config holds everything a Server needs. Only Scorer is required; every
// other field has a documented zero-value default.
type Config struct {
	// Scorer answers POST /v1/score. It is required.
	Scorer Scorer
	// Logger receives the access log and the internal errors. Nil discards.
	Logger *slog.Logger
	// MaxBodyBytes caps the size of a request body. Zero means 1 MiB.
	MaxBodyBytes int64
	// Ready reports whether dependencies (store, model) are ready to serve.
	// Its error text is shown to the prober of /readyz, so it should not
	// carry secrets. Nil means always ready.
	Ready func(ctx context.Context) error
	// Now is the clock for request durations. Nil means time.Now.
	Now func() time.Time
	// ICP answers GET /v1/icp (icp.go). Nil leaves the route out.
	ICP ICPSource
}

// Server is the HTTP API. It is safe for concurrent use.
type Server struct {
	scorer   Scorer
	log      *slog.Logger
	maxBody  int64
	ready    func(ctx context.Context) error
	now      func() time.Time
	draining atomic.Bool
	engine   *gin.Engine
	icp      ICPSource
}

// New returns a Server configured by cfg, with its routes and middleware
// built. It fails when cfg.Scorer is nil or cfg.MaxBodyBytes is negative.
func New(cfg Config) (*Server, error) {
	if cfg.Scorer == nil {
		return nil, errors.New("new server: nil Scorer")
	}
	if cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("new server: negative MaxBodyBytes %d", cfg.MaxBodyBytes)
	}
	s := &Server{
		scorer:  cfg.Scorer,
		log:     cfg.Logger,
		maxBody: cfg.MaxBodyBytes,
		ready:   cfg.Ready,
		now:     cfg.Now,
		icp:     cfg.ICP,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBody == 0 {
		s.maxBody = defaultMaxBodyBytes
	}
	if s.now == nil {
		s.now = time.Now
	}
	e, err := s.newEngine()
	if err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	s.engine = e
	return s, nil
}

// newEngine builds the gin engine with explicit middleware and the routes.
func (s *Server) newEngine() (*gin.Engine, error) {
	e := gin.New()
	// Answer the client's address from the connection, never from
	// X-Forwarded-For, which any client can forge.
	if err := e.SetTrustedProxies(nil); err != nil {
		return nil, fmt.Errorf("set trusted proxies: %w", err)
	}
	// A JSON API answers unknown paths with a JSON 404 rather than
	// redirecting, and a known path with the wrong method with a 405.
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.HandleMethodNotAllowed = true

	e.Use(
		s.requestID,
		s.recovery,
		s.accessLog,
		s.limitBody,
		s.requireJSON,
	)
	e.NoRoute(s.handle(func(*gin.Context) error { return errNoRoute }))
	e.NoMethod(s.handle(func(*gin.Context) error { return errMethodNotAllowed }))

	e.POST("/v1/score", s.handle(s.handleScore))
	e.GET("/healthz", s.handle(s.handleHealth))
	e.GET("/livez", s.handle(s.handleHealth))
	e.GET("/readyz", s.handle(s.handleReady))
	s.registerICP(e)
	return e, nil
}

// Handler returns the HTTP handler serving the API.
func (s *Server) Handler() http.Handler { return s.engine }

// Drain marks the server as shutting down: from then on /readyz answers 503
// so that load balancers stop routing new requests, while requests still
// arriving are served. Call it on SIGTERM, before http.Server.Shutdown.
func (s *Server) Drain() { s.draining.Store(true) }

// handle adapts a handler that returns an error to gin, sending any error
// through writeError.
func (s *Server) handle(h func(*gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			s.writeError(c, err)
		}
	}
}

// handleScore scores the account in the request body.
func (s *Server) handleScore(c *gin.Context) error {
	body, err := readBody(c.Request, s.maxBody)
	if err != nil {
		return err
	}
	acc, err := decodeAccount(body)
	var shape *icp.ValidationError
	if err != nil && !errors.As(err, &shape) {
		return err
	}
	sc, err := s.scorer.Score(c.Request.Context(), acc)
	if shape != nil {
		// Report the decoder's field errors together with the scorer's, so
		// that one answer names every bad field.
		var more *icp.ValidationError
		if err != nil && !errors.As(err, &more) {
			return fmt.Errorf("score: %w", err)
		}
		if more != nil {
			shape.Fields = append(shape.Fields, more.Fields...)
		}
		return shape
	}
	if err != nil {
		return fmt.Errorf("score: %w", err)
	}
	// A non-finite number in the answer is a bug in the scorer, not bad
	// input; it becomes a logged 500 rather than unencodable JSON.
	if err := checkFinite(&sc); err != nil {
		return fmt.Errorf("score: %w", err)
	}
	return s.writeJSON(c, http.StatusOK, &sc)
}

// statusBody is the body of the probe endpoints.
type statusBody struct {
	Status string `json:"status"`
}

// handleHealth answers the liveness probe.
func (s *Server) handleHealth(c *gin.Context) error {
	return s.writeJSON(c, http.StatusOK, statusBody{Status: "ok"})
}

// handleReady answers the readiness probe.
func (s *Server) handleReady(c *gin.Context) error {
	if s.draining.Load() {
		return &notReadyError{reason: "draining"}
	}
	if s.ready != nil {
		if err := s.ready(c.Request.Context()); err != nil {
			return &notReadyError{reason: err.Error()}
		}
	}
	return s.writeJSON(c, http.StatusOK, statusBody{Status: "ok"})
}

// readBody reads the whole request body. limitBody has already capped it
// at limit bytes; limit only sizes the buffer.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 {
		// Room for the body and the final read that sees EOF.
		buf.Grow(int(min(n, limit)) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(r.Body); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, err
		}
		// The client sent a body shorter than announced, or went away.
		return nil, &bodyError{Offset: int64(buf.Len()), Msg: "read request body: " + err.Error()}
	}
	return buf.Bytes(), nil
}

// checkFinite returns an error naming the first NaN or infinite number in
// sc. It allocates only when it finds one.
func checkFinite(sc *icp.Score) error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	switch {
	case bad(sc.Score):
		return fmt.Errorf("non-finite score: %v", sc.Score)
	case bad(sc.Percentile):
		return fmt.Errorf("non-finite percentile: %v", sc.Percentile)
	case bad(sc.Margin):
		return fmt.Errorf("non-finite margin: %v", sc.Margin)
	case bad(sc.BaseValue):
		return fmt.Errorf("non-finite base value: %v", sc.BaseValue)
	case sc.Segment != nil && bad(sc.Segment.Distance):
		return fmt.Errorf("non-finite distance to segment %s: %v", sc.Segment.ID, sc.Segment.Distance)
	}
	for _, a := range sc.Attributions {
		if bad(a.Contribution) {
			return fmt.Errorf("non-finite contribution of %s: %v", a.Feature, a.Contribution)
		}
		if v, ok := a.Value.(float64); ok && bad(v) {
			return fmt.Errorf("non-finite value of %s: %v", a.Feature, v)
		}
	}
	return nil
}
