package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/icpengine/icp"
)

// KeyVerifier verifies the API key a client presents in its Authorization
// header. cmd/serve wires an *auth.Verifier.
type KeyVerifier interface {
	// VerifyKey returns the principal of a presented key. A malformed,
	// unknown or revoked key gives an error matching
	// icp.ErrUnauthenticated; a store that does not answer gives one
	// matching icp.ErrUnavailable.
	VerifyKey(ctx context.Context, presented string) (icp.Principal, error)
}

// access is who may call a route: anyone, or a key holding scope (or
// also, when set).
type access struct {
	public bool
	scope  icp.Scope
	// also is a second scope that grants the route, "" when none.
	also icp.Scope
	// session lets a dashboard session cookie stand for a Bearer key (see
	// session.go).
	session bool
}

// allows reports whether p holds a scope that grants the route.
func (a access) allows(p icp.Principal) bool {
	return p.Has(a.scope) || a.also != "" && p.Has(a.also)
}

// isPublicPath reports whether path is an unauthenticated route: the probes
// an orchestrator calls, the Prometheus scrape and the API description. None
// of them reveals data about accounts; restrict /metrics at the network if
// its counters are sensitive.
func isPublicPath(path string) bool {
	switch path {
	case "/healthz", "/livez", "/readyz", "/metrics", "/openapi.json":
		return true
	}
	return false
}

// routeAccess returns the access rule of a route, given its method and gin
// pattern. The rules, first match wins:
//
//	GET /healthz /livez /readyz /metrics /openapi.json  public
//	/dashboard/login, /dashboard/logout                 public (they check keys and sessions themselves)
//	GET or HEAD /dashboard                              read or dashboard; a session will do
//	POST /dashboard/alerts/...                          dashboard or admin; a session will do
//	/v1/admin and below                                 admin
//	POST /v1/score, POST /v1/score/batch                score
//	POST /v1/outcomes                                   outcomes
//	GET or HEAD (/v1/drift, /v1/alerts, /v1/icp, ...)   read
//	anything else (alert acknowledge and resolve, ...)  admin
//
// Reviewing an alert changes shared state and is recorded under the key's
// name, so it needs admin, not read: read keys go to dashboards and BI
// tools. The dashboard scope is the key to give leadership: it signs in to
// the dashboard and reviews alerts there, and reaches nothing under /v1.
// Scopes are independent (admin does not imply read). A route added later
// falls under the last two rules, so that a new write is never reachable
// with less than an admin key, and a score key reaches nothing but
// scoring.
func routeAccess(method, path string) access {
	read := method == http.MethodGet || method == http.MethodHead
	switch {
	case read && isPublicPath(path):
		return access{public: true}
	case path == signInPath || path == signOutPath:
		return access{public: true}
	case read && path == dashboardPath:
		return access{scope: icp.ScopeRead, also: icp.ScopeDashboard, session: true}
	case method == http.MethodPost && strings.HasPrefix(path, dashboardPath+"/alerts/"):
		return access{scope: icp.ScopeDashboard, also: icp.ScopeAdmin, session: true}
	case path == "/v1/admin" || strings.HasPrefix(path, "/v1/admin/"):
		return access{scope: icp.ScopeAdmin}
	case method == http.MethodPost && (path == "/v1/score" || path == "/v1/score/batch"):
		return access{scope: icp.ScopeScore}
	case method == http.MethodPost && path == "/v1/outcomes":
		return access{scope: icp.ScopeOutcomes}
	case read:
		return access{scope: icp.ScopeRead}
	default:
		return access{scope: icp.ScopeAdmin}
	}
}

// principalKey is the context key of the request's principal.
type principalKey struct{}

// principalFrom returns the principal that authenticated the request of
// ctx, and false when there is none (a public route, or authentication
// turned off).
func principalFrom(ctx context.Context) (icp.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(icp.Principal)
	return p, ok
}

// authError is a request without valid credentials, answered 401.
type authError struct {
	// presented is true when the request carried a credential, however bad.
	presented bool
	detail    string
	cause     error
}

func (e *authError) Error() string {
	if e.cause != nil {
		return "unauthenticated: " + e.detail + ": " + e.cause.Error()
	}
	return "unauthenticated: " + e.detail
}

// Is reports whether target is icp.ErrUnauthenticated.
func (e *authError) Is(target error) bool { return target == icp.ErrUnauthenticated }

// forbiddenError is a valid key without the scope a route needs, or a
// session's POST without its CSRF token, answered 403.
type forbiddenError struct {
	scope, also icp.Scope
	// reason, when set, says why instead of the scopes.
	reason string
}

func (e *forbiddenError) Error() string {
	switch {
	case e.reason != "":
		return "forbidden: " + e.reason
	case e.also != "":
		return "forbidden: this API key has neither the " + string(e.scope) + " nor the " + string(e.also) + " scope"
	}
	return "forbidden: this API key lacks the " + string(e.scope) + " scope"
}

// authenticate checks the API key of a request to a known route against
// the route's access rule and stores the principal in the request context.
// A key in the query string is refused on every route, public ones
// included, since URLs end up in logs and browser histories.
func (s *Server) authenticate(c *gin.Context) {
	path := c.FullPath()
	if path == "" {
		c.Next() // unknown path or method: answered 404 or 405
		return
	}
	if keyInQuery(c.Request.URL) {
		s.writeError(c, &authError{presented: true, detail: "send the API key in the Authorization header, never in the URL"})
		return
	}
	a := routeAccess(c.Request.Method, path)
	if a.public || s.keys == nil {
		c.Next()
		return
	}
	header := c.GetHeader("Authorization")
	if header == "" && a.session {
		s.authenticateSession(c, a)
		return
	}
	token, ok := bearerToken(header)
	if !ok {
		if header == "" {
			s.writeError(c, &authError{detail: "missing Authorization header, want: Bearer <API key>"})
		} else {
			s.writeError(c, &authError{presented: true, detail: "malformed Authorization header, want: Bearer <API key>"})
		}
		return
	}
	p, err := s.keys.VerifyKey(c.Request.Context(), token)
	if err != nil {
		if errors.Is(err, icp.ErrUnauthenticated) {
			err = &authError{presented: true, detail: "invalid API key", cause: err}
		}
		s.writeError(c, err)
		return
	}
	c.Set(keyIDKey, p.KeyID)
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), principalKey{}, p))
	if !a.allows(p) {
		s.writeError(c, &forbiddenError{scope: a.scope, also: a.also})
		return
	}
	c.Next()
}

// authenticateSession authenticates a request to a dashboard route that
// came without an Authorization header by its session cookie: the
// session's key is verified again, as a Bearer key would be, so that a
// revoked key ends the session; a POST must carry the session's CSRF
// token. Without a valid session a browser asking for the page is sent to
// the sign-in page, and anything else gets 401.
func (s *Server) authenticateSession(c *gin.Context, a access) {
	r := c.Request
	id := sessionCookieValue(r)
	sess, ok := s.sessions.get(id)
	if !ok {
		detail := "missing Authorization header, want: Bearer <API key>, or sign in at " + signInPath
		if id != "" {
			detail = "the dashboard session has expired or was signed out: sign in again at " + signInPath
		}
		s.refuseSession(c, id != "", detail, nil)
		return
	}
	p, err := s.keys.VerifyKey(r.Context(), sess.key)
	switch {
	case errors.Is(err, icp.ErrUnauthenticated):
		s.sessions.remove(id)
		s.refuseSession(c, true, "the API key of this dashboard session is no longer valid: sign in again at "+signInPath, err)
		return
	case err != nil:
		s.writeError(c, err)
		return
	}
	c.Set(keyIDKey, p.KeyID)
	ctx := context.WithValue(r.Context(), principalKey{}, p)
	c.Request = r.WithContext(context.WithValue(ctx, sessionCtxKey{}, sessionInfo{csrf: sess.csrf}))
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !validCSRF(r.Header.Get(CSRFHeader), sess.csrf) {
		s.writeError(c, &forbiddenError{reason: "missing or wrong " + CSRFHeader + " header: reload the dashboard"})
		return
	}
	if !a.allows(p) {
		s.writeError(c, &forbiddenError{scope: a.scope, also: a.also})
		return
	}
	c.Next()
}

// refuseSession answers a dashboard request without a valid session. A
// browser asking for a page (GET, accepting HTML) is redirected to the
// sign-in page; anything else gets 401 as a request without a key does. A
// stale cookie is deleted.
func (s *Server) refuseSession(c *gin.Context, stale bool, detail string, cause error) {
	if stale {
		http.SetCookie(c.Writer, s.sessions.cookie(c.Request, "", -1))
	}
	r := c.Request
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && acceptsHTML(r) {
		c.Header("Cache-Control", "no-store")
		c.Redirect(http.StatusSeeOther, signInPath)
		c.Abort()
		return
	}
	s.writeError(c, &authError{presented: stale, detail: detail, cause: cause})
}

// acceptsHTML reports whether r's Accept header names text/html, as a
// browser's navigation does and API clients' requests do not.
func acceptsHTML(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, _ := strings.Cut(part, ";")
			if strings.EqualFold(strings.TrimSpace(mt), "text/html") {
				return true
			}
		}
	}
	return false
}

// keyIDKey is the gin context key of the authenticated key's id, read by
// the access log.
const keyIDKey = "icp.key_id"

// bearerToken returns the credential of an "Authorization: Bearer <token>"
// header value. The scheme is case-insensitive; the token must be one
// non-empty word.
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

// keyInQuery reports whether the URL's query carries something that looks
// like an API key: a parameter named as credentials are in other APIs
// (api_key, apikey, key, access_token, token, auth), or a value in the shape of
// this engine's keys ("icp_" and 41 more characters).
func keyInQuery(u *url.URL) bool {
	if u.RawQuery == "" {
		return false
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		// An unparsable query is left to the handler, but a key in it is
		// still refused.
		return strings.Contains(u.RawQuery, "icp_")
	}
	for name, vals := range q {
		switch strings.ToLower(name) {
		case "api_key", "apikey", "key", "access_token", "token", "auth":
			return true
		}
		for _, v := range vals {
			if strings.HasPrefix(v, "icp_") && len(v) == 45 {
				return true
			}
		}
	}
	return false
}
