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

// access is who may call a route: anyone, or a key holding scope.
type access struct {
	public bool
	scope  icp.Scope
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
//	/v1/admin and below                                 admin
//	POST /v1/score, POST /v1/score/batch                score
//	POST /v1/outcomes                                   outcomes
//	GET or HEAD (/v1/drift, /v1/alerts, /v1/icp, ...)   read
//	anything else (alert acknowledge and resolve, ...)  admin
//
// Reviewing an alert changes shared state and is recorded under the key's
// name, so it needs admin, not read: read keys go to dashboards and BI
// tools. Scopes are independent (admin does not imply read). A route added
// later falls under the last two rules, so that a new write is never
// reachable with less than an admin key, and a score key reaches nothing
// but scoring.
func routeAccess(method, path string) access {
	read := method == http.MethodGet || method == http.MethodHead
	switch {
	case read && isPublicPath(path):
		return access{public: true}
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

// forbiddenError is a valid key without the scope a route needs, answered
// 403.
type forbiddenError struct {
	scope icp.Scope
}

func (e *forbiddenError) Error() string {
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
	if !p.Has(a.scope) {
		s.writeError(c, &forbiddenError{scope: a.scope})
		return
	}
	c.Next()
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
