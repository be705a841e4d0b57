package server

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/server/dashboard"
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
	// Now is the clock for request durations and rate limits. Nil means
	// time.Now.
	Now func() time.Time
	// Ops wires the outcome, drift, alert and dashboard routes (ops.go).
	Ops OpsConfig

	// Keys verifies the API keys of requests to the routes that need one
	// (see routeAccess). Nil is allowed only with AllowUnauthenticated.
	Keys KeyVerifier
	// Sessions tunes the dashboard's sign-in sessions (session.go).
	Sessions SessionConfig
	// AllowUnauthenticated serves every route without a key. It must be set
	// explicitly when Keys is nil, and not together with Keys; New logs a
	// warning when it is set.
	AllowUnauthenticated bool
	// RequestTimeout bounds the handling of one request, through its
	// context; a scorer that overruns it is answered 503. Zero means 2s;
	// negative means no deadline.
	RequestTimeout time.Duration
	// MaxInFlight bounds the requests handled at once, probes, /metrics and
	// /openapi.json excepted; more are answered 503 with Retry-After. Zero
	// means 256; negative means no bound.
	MaxInFlight int
	// RateLimit is the sustained number of requests per second allowed to
	// each API key; more are answered 429 with Retry-After. Zero means no
	// limit. Requests without a key are not rate limited.
	RateLimit float64
	// RateBurst is how many requests a key may send at once above
	// RateLimit. Zero or negative means RateLimit rounded up (at least 1).
	RateBurst int
	// Metrics receives the request metrics and is exposed at /metrics. Nil
	// means New makes one on a private registry.
	Metrics *Metrics
	// ICP answers GET /v1/icp (icp.go). Nil leaves the route out.
	ICP ICPSource
	// Models answers the model registry routes under /v1/admin/models
	// (models.go). Nil answers them 503 "no store configured".
	Models ModelAdmin
	// Serving says what this replica serves, for GET /v1/admin/models.
	// Nil leaves it out.
	Serving func() ServedModels
	// MaxArtifactBytes caps the body of POST /v1/admin/models (a model
	// artifact). Zero means 256 MiB.
	MaxArtifactBytes int64
	// UploadTimeout bounds the handling of POST /v1/admin/models (reading
	// the artifact, validating and storing it) in place of RequestTimeout,
	// and replaces the HTTP server's read and write deadlines for it once
	// the request is authenticated. Zero means a deadline sized to
	// MaxArtifactBytes: 30 s plus a second per MiB (286 s for 256 MiB);
	// negative means none.
	UploadTimeout time.Duration

	// The limits of POST /v1/score/batch (batch.go). A JSON array is read
	// whole and answered all at once under RequestTimeout; NDJSON and CSV
	// bodies are streams, read and answered record by record, each record
	// within MaxBodyBytes.

	// MaxBatch caps the accounts of one JSON array; more are answered 413.
	// Zero means 1000.
	MaxBatch int
	// MaxBatchBytes caps the size of a JSON array body. Zero means 16 MiB.
	MaxBatchBytes int64
	// MaxStreamBytes caps the size of an NDJSON or CSV body; a stream that
	// grows beyond it ends with an error line. Zero means 256 MiB.
	MaxStreamBytes int64
	// StreamTimeout bounds the handling of one NDJSON or CSV stream in
	// place of RequestTimeout, and replaces the HTTP server's read and
	// write deadlines for it once the request is authenticated. Zero means
	// 10 minutes; negative means no deadline.
	StreamTimeout time.Duration
	// MaxStreamsPerKey bounds the NDJSON and CSV streams one API key (one
	// client address without authentication) has open at once; more are
	// answered 429 with Retry-After, so that one key cannot hold every
	// MaxInFlight slot. Zero means 8; negative means no bound.
	MaxStreamsPerKey int
	// StreamMinRate is the least average rate, in bytes a second, at which
	// a stream's client must send its body, over the time the server
	// waits for it once StreamRateGrace has passed; a slower stream is
	// ended (408 before its answer begins, an end line after). Zero means
	// 1024; negative turns the check off.
	StreamMinRate float64
	// StreamRateGrace is the wait a stream's client is allowed before
	// StreamMinRate applies. Zero means 10s.
	StreamRateGrace time.Duration
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
	ops      OpsConfig

	keys     KeyVerifier
	timeout  time.Duration
	inFlight chan struct{} // a semaphore; nil means no bound
	limiters *keyLimiters  // nil means no rate limit
	metrics  *Metrics
	// scoreJobs hands scoring calls to idle scorer goroutines (see
	// callScorer); it is unbuffered, so a call is only ever taken by a
	// goroutine ready to run it.
	scoreJobs chan scoreJob
	icp       ICPSource

	models        ModelAdmin
	serving       func() ServedModels
	maxArtifact   int64
	uploadTimeout time.Duration
	// uploads admits one model upload at a time.
	uploads        chan struct{}
	maxBatch       int
	maxBatchBytes  int64
	maxStreamBytes int64
	streamTimeout  time.Duration

	sessions      *sessionStore
	dash          *dashboard.Renderer
	streams       *keyStreams // nil means no bound per key
	streamMinRate float64     // bytes a second; <= 0 means no minimum
	streamGrace   time.Duration
}

// New returns a Server configured by cfg, with its routes and middleware
// built. It fails when cfg.Scorer is nil, cfg.MaxBodyBytes or cfg.RateLimit
// is negative, or authentication is neither configured (Keys) nor
// explicitly turned off (AllowUnauthenticated), or both.
func New(cfg Config) (*Server, error) {
	if cfg.Scorer == nil {
		return nil, errors.New("new server: nil Scorer")
	}
	if cfg.MaxBodyBytes < 0 || cfg.MaxArtifactBytes < 0 {
		return nil, fmt.Errorf("new server: negative MaxBodyBytes %d or MaxArtifactBytes %d", cfg.MaxBodyBytes, cfg.MaxArtifactBytes)
	}
	if cfg.MaxBatch < 0 || cfg.MaxBatchBytes < 0 || cfg.MaxStreamBytes < 0 {
		return nil, fmt.Errorf("new server: negative MaxBatch %d, MaxBatchBytes %d or MaxStreamBytes %d",
			cfg.MaxBatch, cfg.MaxBatchBytes, cfg.MaxStreamBytes)
	}
	if cfg.RateLimit < 0 || math.IsNaN(cfg.RateLimit) {
		return nil, fmt.Errorf("new server: RateLimit %v, want zero (no limit) or positive", cfg.RateLimit)
	}
	switch {
	case cfg.Keys == nil && !cfg.AllowUnauthenticated:
		return nil, errors.New("new server: no Keys to verify API keys; set AllowUnauthenticated to serve without authentication")
	case cfg.Keys != nil && cfg.AllowUnauthenticated:
		return nil, errors.New("new server: Keys and AllowUnauthenticated are exclusive")
	}
	s := &Server{
		scorer:    cfg.Scorer,
		log:       cfg.Logger,
		maxBody:   cfg.MaxBodyBytes,
		ready:     cfg.Ready,
		now:       cfg.Now,
		keys:      cfg.Keys,
		timeout:   cfg.RequestTimeout,
		metrics:   cfg.Metrics,
		scoreJobs: make(chan scoreJob),
		uploads:   make(chan struct{}, 1),
		ops:       cfg.Ops,
		icp:       cfg.ICP,

		models:         cfg.Models,
		serving:        cfg.Serving,
		maxArtifact:    cfg.MaxArtifactBytes,
		maxBatch:       cmp.Or(cfg.MaxBatch, defaultMaxScoreBatch),
		maxBatchBytes:  cmp.Or(cfg.MaxBatchBytes, defaultMaxBatchBytes),
		maxStreamBytes: cmp.Or(cfg.MaxStreamBytes, defaultMaxStreamBytes),
		streamTimeout:  cmp.Or(cfg.StreamTimeout, defaultStreamTimeout),
		streamMinRate:  cmp.Or(cfg.StreamMinRate, defaultStreamMinRate),
		streamGrace:    cmp.Or(cfg.StreamRateGrace, defaultStreamRateGrace),
	}
	if n := cmp.Or(cfg.MaxStreamsPerKey, defaultMaxStreamsPerKey); n > 0 {
		s.streams = newKeyStreams(n)
	}
	if math.IsNaN(cfg.StreamMinRate) || cfg.StreamRateGrace < 0 {
		return nil, fmt.Errorf("new server: StreamMinRate %v, StreamRateGrace %v", cfg.StreamMinRate, cfg.StreamRateGrace)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBody == 0 {
		s.maxBody = defaultMaxBodyBytes
	}
	if s.maxArtifact == 0 {
		s.maxArtifact = defaultMaxArtifactBytes
	}
	s.uploadTimeout = cfg.UploadTimeout
	if s.uploadTimeout == 0 {
		s.uploadTimeout = uploadTimeoutFor(s.maxArtifact)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.sessions = newSessionStore(cfg.Sessions, s.now)
	dash, err := dashboard.New()
	if err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	s.dash = dash
	if s.timeout == 0 {
		s.timeout = defaultRequestTimeout
	}
	switch n := cfg.MaxInFlight; {
	case n == 0:
		s.inFlight = make(chan struct{}, defaultMaxInFlight)
	case n > 0:
		s.inFlight = make(chan struct{}, n)
	}
	if cfg.RateLimit > 0 {
		s.limiters = newKeyLimiters(cfg.RateLimit, cfg.RateBurst)
	}
	if s.metrics == nil {
		m, err := NewMetrics(prometheus.NewRegistry())
		if err != nil {
			return nil, fmt.Errorf("new server: %w", err)
		}
		s.metrics = m
	}
	if cfg.AllowUnauthenticated {
		s.log.Warn("authentication is off: every route answers without an API key")
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
		s.deadline,
		s.shed,
		s.authenticate,
		s.rateLimit,
		s.limitStreams,
		s.limitBody,
		s.requireJSON,
	)
	e.NoRoute(s.handle(func(*gin.Context) error { return errNoRoute }))
	e.NoMethod(s.handle(func(*gin.Context) error { return errMethodNotAllowed }))

	e.POST("/v1/score", s.handle(s.handleScore))
	e.POST(batchPath, s.handle(s.handleScoreBatch))
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		e.Handle(method, "/healthz", s.handle(s.handleHealth))
		e.Handle(method, "/livez", s.handle(s.handleHealth))
		e.Handle(method, "/readyz", s.handle(s.handleReady))
	}
	e.GET("/metrics", s.metricsHandler())
	e.GET("/openapi.json", s.handle(s.handleOpenAPI))
	s.registerOps(e)
	s.registerICP(e)
	s.registerModels(e)
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

// handleScore scores the account in the request body. A field the model
// does not know is a field error, unless the request asks ?unknown=ignore:
// then it is left out and named in the X-ICP-Ignored-Fields header.
func (s *Server) handleScore(c *gin.Context) error {
	policy, err := unknownPolicyOf(c, rejectUnknown)
	if err != nil {
		return err
	}
	body, err := readBody(c.Request, s.maxBody)
	if err != nil {
		return err
	}
	d, err := decodeObjectAccount(body, false)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	if policy == ignoreUnknown {
		fields := s.newFieldSet()
		if err := fields.drop(ctx, &d); err != nil {
			return fmt.Errorf("score: %w", err)
		}
		if v := fields.header(); v != "" {
			c.Header(IgnoredFieldsHeader, v)
		}
	}
	acc := d.acc
	sc, err := s.callScorer(ctx, acc)
	if shape := d.problems.Err(); shape != nil {
		// Report the decoder's field errors together with the scorer's, so
		// that one answer names every bad field.
		var more *icp.ValidationError
		if err != nil && !errors.As(err, &more) {
			return fmt.Errorf("score: %w", err)
		}
		if more != nil {
			d.problems.Fields = append(d.problems.Fields, more.Fields...)
		}
		return &d.problems
	}
	if err != nil {
		return fmt.Errorf("score: %w", err)
	}
	// A non-finite number in the answer is a bug in the scorer, not bad
	// input; it becomes a logged 500 rather than unencodable JSON.
	if err := checkFinite(&sc); err != nil {
		return fmt.Errorf("score: %w", err)
	}
	s.observeScore(acc, &sc)
	c.Set(modelVersionKey, sc.ModelVersion) // for the request counter
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

// maxPreGrow bounds the buffer readBody allocates from the announced
// Content-Length before reading.
const maxPreGrow = 16 << 20

// readBody reads the whole request body. limitBody has already capped it
// at limit bytes; limit only sizes the buffer.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	n := r.ContentLength
	if n > 0 {
		// Room for the body and the final read that sees EOF, up to
		// maxPreGrow: a large announced body is not allocated before it
		// arrives.
		buf.Grow(int(min(n, limit, maxPreGrow)) + bytes.MinRead)
	}
	body := r.Body
	if n > maxPreGrow {
		// Once the first maxPreGrow bytes have come, the announced length
		// is believed: the rest goes into one buffer of that size rather
		// than one doubled again and again (which would hold about twice
		// the body, and as much garbage, at the end).
		if _, err := buf.ReadFrom(io.LimitReader(r.Body, maxPreGrow)); err != nil {
			return nil, bodyReadError(err, buf.Len())
		}
		if int64(buf.Len()) == maxPreGrow {
			buf.Grow(int(min(n, limit)) - buf.Len() + bytes.MinRead)
		}
	}
	if _, err := buf.ReadFrom(body); err != nil {
		return nil, bodyReadError(err, buf.Len())
	}
	return buf.Bytes(), nil
}

// bodyReadError is the error of a body that could not be read whole, n
// bytes in: the body cap and a body too slow as they are, anything else a
// *bodyError.
func bodyReadError(err error, n int) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return err
	}
	if _, ok := errors.AsType[*slowBodyError](err); ok {
		return err
	}
	// The client sent a body shorter than announced, or went away.
	return &bodyError{Offset: int64(n), Msg: "read request body: " + err.Error()}
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
	case sc.ValueScore != nil && (bad(sc.ExpectedValue) || bad(sc.PredictedValue)):
		return fmt.Errorf("non-finite expected value %v or predicted value %v", sc.ExpectedValue, sc.PredictedValue)
	}
	if v := sc.ValueScore; v != nil && v.ValueAttributions != nil {
		if bad(v.ValueAttributions.BaseValue) {
			return fmt.Errorf("non-finite expected-value base value: %v", v.ValueAttributions.BaseValue)
		}
		for _, a := range v.ValueAttributions.Attributions {
			if bad(a.Contribution) {
				return fmt.Errorf("non-finite expected-value contribution of %s: %v", a.Feature, a.Contribution)
			}
		}
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
