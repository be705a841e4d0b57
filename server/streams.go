package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Fair sharing of the stream routes. A stream holds one of the
// MaxInFlight slots for as long as its client sends, up to StreamTimeout;
// without these bounds one key could hold every slot with slow streams and
// make the server answer 503 to everyone else. Each key (each client
// address without authentication) may have MaxStreamsPerKey streams open;
// every stream's client must send its body at StreamMinRate on average
// over the time the server waits for it, after StreamRateGrace (the
// scheme of Kestrel's MinRequestBodyDataRate); and each chunk of the
// answer must be taken by the client within streamWriteTimeout.

// Defaults of the stream limits of Config.
const (
	defaultMaxStreamsPerKey = 8
	defaultStreamMinRate    = 1024 // bytes a second
	defaultStreamRateGrace  = 10 * time.Second
)

// streamWriteTimeout bounds the write of one chunk of a stream's answer:
// a client that stops reading is let go.
const streamWriteTimeout = 30 * time.Second

// streamLimitError is a stream refused because its key has MaxStreamsPerKey
// open already, answered 429 with Retry-After.
type streamLimitError struct{ max int }

func (e *streamLimitError) Error() string {
	return fmt.Sprintf("too many streams: this key has %d open, the most allowed", e.max)
}

// slowBodyError is a stream whose client sent its body more slowly than
// the minimum rate: answered 408 before the answer began, and with an end
// line after.
type slowBodyError struct {
	rate  float64
	grace time.Duration
}

func (e *slowBodyError) Error() string {
	return fmt.Sprintf("the client sent the body at less than %g bytes a second (after a grace of %v)", e.rate, e.grace)
}

// keyStreams counts the open streams of each key. Keys leave the map when
// their last stream ends, so it holds only keys with streams open.
type keyStreams struct {
	max int
	mu  sync.Mutex
	n   map[string]int
}

func newKeyStreams(max int) *keyStreams { return &keyStreams{max: max, n: make(map[string]int)} }

// acquire opens a stream for key, unless it has max open already.
func (k *keyStreams) acquire(key string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.n[key] >= k.max {
		return false
	}
	k.n[key]++
	return true
}

// release closes a stream of key.
func (k *keyStreams) release(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.n[key]--; k.n[key] <= 0 {
		delete(k.n, key)
	}
}

// streamOwner is who a stream counts against: its API key, or the client
// address when the server runs without authentication.
func streamOwner(c *gin.Context) string {
	if p, ok := principalFrom(c.Request.Context()); ok {
		return "key:" + p.KeyID
	}
	return "addr:" + c.ClientIP()
}

// limitStreams refuses a stream to the batch route when its owner has
// MaxStreamsPerKey streams open (see streamOwner).
func (s *Server) limitStreams(c *gin.Context) {
	if s.streams == nil || !isStream(c) {
		c.Next()
		return
	}
	owner := streamOwner(c)
	if !s.streams.acquire(owner) {
		s.writeError(c, &streamLimitError{max: s.streams.max})
		return
	}
	defer s.streams.release(owner)
	c.Next()
}

// pacedBody reads a stream's body at no less than a minimum average rate:
// after a grace period, the bytes received must keep up with rate times
// the time spent waiting for them (time the server spends scoring is not
// counted). Each read gets a deadline at the moment the client would fall
// behind, so a client that stalls is cut off then, not at the end of the
// stream. A read past the rate fails with *slowBodyError.
type pacedBody struct {
	r     io.Reader
	rc    *http.ResponseController
	rate  float64
	grace time.Duration
	// until is the stream's own deadline (zero: none).
	until time.Time
	now   func() time.Time
	// got counts the bytes received and waited the time spent in reads.
	got    int64
	waited time.Duration
}

func (b *pacedBody) Read(p []byte) (int, error) {
	allowed := b.grace + time.Duration(float64(b.got+1)/b.rate*float64(time.Second))
	left := allowed - b.waited
	if left <= 0 {
		return 0, &slowBodyError{rate: b.rate, grace: b.grace}
	}
	start := b.now()
	deadline := start.Add(left)
	if !b.until.IsZero() && b.until.Before(deadline) {
		deadline = b.until
	}
	// A writer without deadlines (a test's recorder) reads without one.
	_ = b.rc.SetReadDeadline(deadline)
	n, err := b.r.Read(p)
	b.waited += b.now().Sub(start)
	b.got += int64(n)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && (b.until.IsZero() || deadline.Before(b.until)) {
		return n, &slowBodyError{rate: b.rate, grace: b.grace}
	}
	return n, err
}

// streamBody returns the body of a stream, paced (see pacedBody) unless
// the minimum rate is off.
func (s *Server) streamBody(c *gin.Context) io.Reader {
	if s.streamMinRate <= 0 {
		return c.Request.Body
	}
	b := &pacedBody{r: c.Request.Body, rc: http.NewResponseController(c.Writer), rate: s.streamMinRate,
		grace: s.streamGrace, now: s.now}
	if d, ok := c.Request.Context().Deadline(); ok {
		b.until = d
	}
	return b
}
