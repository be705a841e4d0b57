package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/icpengine/icp"
)

// The dashboard's sign-in sessions.
//
// A browser signs in once with an API key (POST /dashboard/login) and gets
// a session cookie: a random id, HttpOnly, SameSite=Strict, limited to
// /dashboard, Secure when the request came over TLS (or through a trusted
// proxy that says so), expiring with the session. The session lives in the
// server's memory and holds the key, never sent again, which is verified
// on every request as a Bearer key is: revoking the key ends the session
// within the key cache's TTL. Each session has a CSRF token that the page
// carries and that every POST must send in the X-CSRF-Token header;
// signing out forgets the session at once.
//
// Sessions are per process: a restart signs everyone out, and behind a
// load balancer with several replicas a browser must stay on the replica
// it signed in with (session affinity), or sign in on each.

// SessionCookie is the name of the dashboard's session cookie.
const SessionCookie = "icp_session"

// CSRFHeader carries a session's CSRF token on the dashboard's POSTs.
const CSRFHeader = "X-CSRF-Token"

// sessionPath is where the session cookie is sent: the dashboard's routes
// and nothing else, so that the /v1 API never sees it.
const sessionPath = "/dashboard"

// The defaults of SessionConfig.
const (
	defaultSessionTTL  = 12 * time.Hour
	defaultMaxSessions = 10000
)

// SessionConfig tunes the dashboard's sign-in sessions. The zero value is
// ready to use.
type SessionConfig struct {
	// TTL is how long a sign-in lasts, however active. Zero means 12
	// hours.
	TTL time.Duration
	// Max bounds the sessions held at once; a sign-in beyond it ends the
	// session closest to expiring. Zero means 10,000.
	Max int
	// TrustForwardedProto marks the session cookie Secure when the
	// request's X-Forwarded-Proto (or the proto of a Forwarded header)
	// says https, as a proxy that terminates TLS sets it. Only the last
	// value is read, the one the nearest proxy wrote. Set it only when
	// every request comes through such a proxy: otherwise a client could
	// send the header itself. Requests that arrive over TLS are Secure
	// whatever this says.
	TrustForwardedProto bool
}

// session is one signed-in browser.
type session struct {
	// key is the API key signed in with, verified again on each request.
	key     string
	keyID   string
	csrf    string
	expires time.Time
}

// sessionStore holds the sessions, by the SHA-256 of their cookie value,
// so that the ids themselves are kept nowhere but in the browsers. It is
// safe for concurrent use.
type sessionStore struct {
	ttl        time.Duration
	max        int
	trustProto bool
	now        func() time.Time

	mu sync.Mutex
	m  map[[sha256.Size]byte]session
}

func newSessionStore(cfg SessionConfig, now func() time.Time) *sessionStore {
	st := &sessionStore{ttl: cfg.TTL, max: cfg.Max, trustProto: cfg.TrustForwardedProto, now: now,
		m: make(map[[sha256.Size]byte]session)}
	if st.ttl <= 0 {
		st.ttl = defaultSessionTTL
	}
	if st.max <= 0 {
		st.max = defaultMaxSessions
	}
	return st
}

// randomToken returns 32 random bytes from crypto/rand, base64url encoded.
func randomToken() string {
	var b [32]byte
	// crypto/rand.Read is documented never to return an error.
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a session for the verified key and returns its cookie
// value and the session.
func (st *sessionStore) create(key string, p icp.Principal) (string, session) {
	id := randomToken()
	s := session{key: key, keyID: p.KeyID, csrf: randomToken(), expires: st.now().Add(st.ttl)}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.m) >= st.max {
		st.evictLocked()
	}
	st.m[sha256.Sum256([]byte(id))] = s
	return id, s
}

// evictLocked drops the expired sessions and, when none had expired, the
// one closest to expiring.
func (st *sessionStore) evictLocked() {
	now := st.now()
	var (
		oldest    [sha256.Size]byte
		oldestExp time.Time
		dropped   bool
	)
	for h, s := range st.m {
		if !now.Before(s.expires) {
			delete(st.m, h)
			dropped = true
			continue
		}
		if oldestExp.IsZero() || s.expires.Before(oldestExp) {
			oldest, oldestExp = h, s.expires
		}
	}
	if !dropped && !oldestExp.IsZero() {
		delete(st.m, oldest)
	}
}

// get returns the live session of a cookie value. An expired session is
// forgotten.
func (st *sessionStore) get(id string) (session, bool) {
	if id == "" {
		return session{}, false
	}
	h := sha256.Sum256([]byte(id))
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.m[h]
	if !ok {
		return session{}, false
	}
	if !st.now().Before(s.expires) {
		delete(st.m, h)
		return session{}, false
	}
	return s, true
}

// remove forgets the session of a cookie value.
func (st *sessionStore) remove(id string) {
	h := sha256.Sum256([]byte(id))
	st.mu.Lock()
	delete(st.m, h)
	st.mu.Unlock()
}

// len returns the number of sessions held, expired ones included.
func (st *sessionStore) len() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.m)
}

// secure reports whether r reached the client over TLS: directly, or, when
// the proxy is trusted, as the proxy's last X-Forwarded-Proto or
// Forwarded proto says.
func (st *sessionStore) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if !st.trustProto {
		return false
	}
	if v := r.Header.Values("X-Forwarded-Proto"); len(v) > 0 {
		return strings.EqualFold(lastListItem(v), "https")
	}
	if v := r.Header.Values("Forwarded"); len(v) > 0 {
		for pair := range strings.SplitSeq(lastListItem(v), ";") {
			name, val, _ := strings.Cut(strings.TrimSpace(pair), "=")
			if strings.EqualFold(name, "proto") {
				return strings.EqualFold(strings.Trim(val, `"`), "https")
			}
		}
	}
	return false
}

// lastListItem returns the last element of a header whose values are
// comma-separated lists, trimmed.
func lastListItem(values []string) string {
	last := values[len(values)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.TrimSpace(last)
}

// cookie returns the session cookie carrying value for r's connection; a
// negative maxAge deletes it.
func (st *sessionStore) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: SessionCookie, Value: value, Path: sessionPath, MaxAge: maxAge,
		HttpOnly: true, Secure: st.secure(r), SameSite: http.SameSiteStrictMode,
	}
}

// sessionCookieValue returns the session cookie of r, "" when it has none.
func sessionCookieValue(r *http.Request) string {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// validCSRF compares a presented CSRF token with the session's in
// constant time.
func validCSRF(presented, want string) bool {
	return presented != "" && subtle.ConstantTimeCompare([]byte(presented), []byte(want)) == 1
}

// sessionInfo marks a request authenticated by a session: the page shows
// the sign-out button and carries the CSRF token.
type sessionInfo struct {
	csrf string
}

// sessionCtxKey is the context key of the request's sessionInfo.
type sessionCtxKey struct{}

// sessionFrom returns the session of the request of ctx, if it came with
// one.
func sessionFrom(ctx context.Context) (sessionInfo, bool) {
	s, ok := ctx.Value(sessionCtxKey{}).(sessionInfo)
	return s, ok
}
