package server

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/icpengine/icp"
)

// Defaults of the overload settings of Config.
const (
	defaultRequestTimeout = 2 * time.Second
	defaultMaxInFlight    = 256
)

// overloadError is a request refused because MaxInFlight requests are
// already being handled, answered 503 with Retry-After.
type overloadError struct{}

func (*overloadError) Error() string { return "overloaded: too many requests in flight" }

// rateLimitError is a request over its key's rate, answered 429 with
// Retry-After.
type rateLimitError struct {
	retryAfter time.Duration
}

func (e *rateLimitError) Error() string {
	return fmt.Sprintf("rate limited: retry after %v", e.retryAfter)
}

// timeoutError is a request that did not finish within RequestTimeout,
// answered 503.
type timeoutError struct {
	op    string
	limit time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("%s: no answer within the request deadline of %v", e.op, e.limit)
}

// Is reports whether target is context.DeadlineExceeded.
func (e *timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// retryAfterSeconds formats d for a Retry-After header: whole seconds,
// rounded up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(max(1, int64(math.Ceil(d.Seconds()))), 10)
}

// deadline bounds the handling of each request with RequestTimeout through
// its context: the scorer and the store see the deadline, and a scorer that
// overruns it is answered 503 (see callScorer). A stream to the batch route
// gets StreamTimeout instead, and a model upload UploadTimeout.
func (s *Server) deadline(c *gin.Context) {
	timeout := s.timeout
	switch {
	case isStream(c):
		timeout = s.streamTimeout
	case isUpload(c):
		timeout = s.uploadTimeout
	}
	if timeout <= 0 {
		c.Next()
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), timeout)
	defer cancel()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
}

// shed refuses a request to a non-public route when MaxInFlight requests
// are already being handled, rather than queueing it: under overload the
// answer is a fast 503 with Retry-After instead of a growing latency.
func (s *Server) shed(c *gin.Context) {
	path := c.FullPath()
	if s.inFlight == nil || path == "" || isPublicPath(path) {
		c.Next()
		return
	}
	select {
	case s.inFlight <- struct{}{}:
	default:
		s.writeError(c, &overloadError{})
		return
	}
	defer func() { <-s.inFlight }()
	c.Next()
}

// keyLimiters holds one token bucket per API key id.
type keyLimiters struct {
	limit rate.Limit
	burst int
	mu    sync.Mutex
	m     map[string]*rate.Limiter
}

func newKeyLimiters(perSecond float64, burst int) *keyLimiters {
	if burst <= 0 {
		burst = max(1, int(math.Ceil(perSecond)))
	}
	return &keyLimiters{limit: rate.Limit(perSecond), burst: burst, m: make(map[string]*rate.Limiter)}
}

// get returns the bucket of a key id, made full on first use. The map holds
// one entry per key that has authenticated, so it is bounded by the number
// of stored keys.
func (l *keyLimiters) get(id string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.m[id]
	if !ok {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.m[id] = lim
	}
	return lim
}

// rateLimit takes one token from the bucket of the request's API key and
// answers 429 with Retry-After when the bucket is empty. Requests without a
// key (public routes, authentication off) are not limited here.
func (s *Server) rateLimit(c *gin.Context) {
	p, ok := principalFrom(c.Request.Context())
	if s.limiters == nil || !ok {
		c.Next()
		return
	}
	lim := s.limiters.get(p.KeyID)
	now := s.now()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		s.writeError(c, &rateLimitError{retryAfter: d})
		return
	}
	c.Next()
}

// scoreWorker runs job, then the jobs that arrive while it is idle for
// less than scorerIdle.
func (s *Server) scoreWorker(job scoreJob) {
	idle := time.NewTimer(scorerIdle)
	defer idle.Stop()
	for {
		job.out <- s.runScore(job)
		idle.Reset(scorerIdle)
		select {
		case job = <-s.scoreJobs:
		case <-idle.C:
			return
		}
	}
}

// runScore calls the scorer, turning a panic into a result.
func (s *Server) runScore(job scoreJob) (r scoreResult) {
	defer func() {
		if p := recover(); p != nil {
			r = scoreResult{panicked: true, value: p, stack: debug.Stack()}
		}
	}()
	sc, err := s.scorer.Score(job.ctx, job.acc)
	return scoreResult{sc: sc, err: err}
}

// scoreResult carries a scorer's answer, or its panic, across goroutines.
type scoreResult struct {
	sc       icp.Score
	err      error
	panicked bool
	value    any
	stack    []byte
}

// scoreJob is one scoring call handed to a scorer goroutine.
type scoreJob struct {
	ctx context.Context
	acc icp.Account
	out chan<- scoreResult // buffered, so a worker never blocks on it
}

// scorerIdle is how long a scorer goroutine waits for more work before it
// ends.
const scorerIdle = time.Second

// callScorer runs the scorer under the request's deadline. The scorer runs
// in another goroutine so that one which overruns the deadline, or ignores
// its context, still gets the client a 503 on time; its goroutine finishes
// in the background and its answer is dropped. A panic in the scorer is
// raised again in the handler's goroutine, with the scorer's stack, so
// that recovery answers it as any other.
//
// The goroutines are reused: one that finished a call waits up to a second
// for the next, so under load scoring runs on warm stacks instead of
// growing a new goroutine's stack on every request; an idle server keeps
// none.
func (s *Server) callScorer(ctx context.Context, acc icp.Account) (icp.Score, error) {
	if _, ok := ctx.Deadline(); !ok {
		return s.scorer.Score(ctx, acc)
	}
	ch := make(chan scoreResult, 1)
	job := scoreJob{ctx: ctx, acc: acc, out: ch}
	select {
	case s.scoreJobs <- job: // an idle scorer goroutine took it
	default:
		go s.scoreWorker(job)
	}
	select {
	case r := <-ch:
		if r.panicked {
			if err, ok := r.value.(error); ok && err == http.ErrAbortHandler {
				panic(r.value)
			}
			panic(&panicError{value: r.value, stack: r.stack})
		}
		return r.sc, r.err
	case <-ctx.Done():
		if ctx.Err() == context.DeadlineExceeded {
			return icp.Score{}, &timeoutError{op: "score", limit: s.timeout}
		}
		return icp.Score{}, fmt.Errorf("score: %w", ctx.Err())
	}
}
