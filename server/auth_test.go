package server

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/auth"
	"github.com/icpengine/icp/store"
)

func TestRouteAccess(t *testing.T) {
	tests := []struct {
		method, path string
		want         access
	}{
		{"GET", "/healthz", access{public: true}},
		{"GET", "/livez", access{public: true}},
		{"GET", "/readyz", access{public: true}},
		{"GET", "/metrics", access{public: true}},
		{"GET", "/openapi.json", access{public: true}},
		{"POST", "/v1/score", access{scope: icp.ScopeScore}},
		{"POST", "/v1/score/batch", access{scope: icp.ScopeScore}},
		{"POST", "/v1/outcomes", access{scope: icp.ScopeOutcomes}},
		{"GET", "/v1/outcomes", access{scope: icp.ScopeRead}},
		{"GET", "/v1/drift", access{scope: icp.ScopeRead}},
		{"GET", "/v1/alerts", access{scope: icp.ScopeRead}},
		{"GET", "/v1/alerts/:id", access{scope: icp.ScopeRead}},
		{"POST", "/v1/alerts/:id/acknowledge", access{scope: icp.ScopeAdmin}},
		{"POST", "/v1/alerts/:id/resolve", access{scope: icp.ScopeAdmin}},
		{"GET", "/v1/icp", access{scope: icp.ScopeRead}},
		{"GET", "/dashboard", access{scope: icp.ScopeRead, also: icp.ScopeDashboard, session: true}},
		{"HEAD", "/dashboard", access{scope: icp.ScopeRead, also: icp.ScopeDashboard, session: true}},
		{"GET", "/dashboard/login", access{public: true}},
		{"POST", "/dashboard/login", access{public: true}},
		{"POST", "/dashboard/logout", access{public: true}},
		{"POST", "/dashboard/alerts/:id/acknowledge", access{scope: icp.ScopeDashboard, also: icp.ScopeAdmin, session: true}},
		{"POST", "/dashboard/alerts/:id/resolve", access{scope: icp.ScopeDashboard, also: icp.ScopeAdmin, session: true}},
		{"POST", "/dashboard", access{scope: icp.ScopeAdmin}},
		{"GET", "/v1/admin/models", access{scope: icp.ScopeAdmin}},
		{"POST", "/v1/admin/models/reload", access{scope: icp.ScopeAdmin}},
		{"GET", "/v1/admin", access{scope: icp.ScopeAdmin}},
		{"DELETE", "/v1/anything", access{scope: icp.ScopeAdmin}},
		{"POST", "/v1/new-write", access{scope: icp.ScopeAdmin}},
		// Only the exact public paths are public.
		{"GET", "/healthz/x", access{scope: icp.ScopeRead}},
		{"POST", "/metrics", access{scope: icp.ScopeAdmin}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			if got := routeAccess(tt.method, tt.path); got != tt.want {
				t.Errorf("routeAccess(%s, %s) = %+v, want %+v", tt.method, tt.path, got, tt.want)
			}
		})
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		give   string
		want   string
		wantOK bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER   abc", "abc", true},
		{"", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic dXNlcjpwYXNz", "", false},
		{"Bearer a b", "", false},
		{"Bearerabc", "", false},
		{"Token abc", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			got, ok := bearerToken(tt.give)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("bearerToken(%q) = %q, %v, want %q, %v", tt.give, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestKeyInQuery(t *testing.T) {
	key := "icp_AbCd1234_" + strings.Repeat("x", 32)
	tests := []struct {
		give string
		want bool
	}{
		{"", false},
		{"status=open&limit=10", false},
		{"api_key=abc", true},
		{"API_KEY=abc", true},
		{"access_token=abc", true},
		{"token=", true},
		{"q=" + key, true},
		{"q=icp_short", false},
		{"a=%zz&x=" + key, true}, // unparsable query
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			if got := keyInQuery(&url.URL{RawQuery: tt.give}); got != tt.want {
				t.Errorf("keyInQuery(%q) = %v, want %v", tt.give, got, tt.want)
			}
		})
	}
}

// authFixture is a server whose keys live in a real SQLite store.
type authFixture struct {
	s    *Server
	logs *syncBuffer
	// keys maps a credential name to the Authorization header value sent.
	keys map[string]string
	// scopes maps the name of each single-scope key to its scope.
	scopes map[string]icp.Scope
	// secrets lists every generated key, to check that none is logged.
	secrets []string
}

func newAuthFixture(t *testing.T, cfg Config) *authFixture {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "icp.db"), store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &authFixture{keys: map[string]string{}, scopes: map[string]icp.Scope{}}
	mk := func(name string, scopes []icp.Scope, stored bool) (string, icp.APIKey) {
		key, rec, err := auth.Generate(name, scopes)
		if err != nil {
			t.Fatal(err)
		}
		f.secrets = append(f.secrets, key)
		f.keys[name] = "Bearer " + key
		if !stored {
			return key, rec
		}
		rec, err = st.CreateAPIKey(t.Context(), rec)
		if err != nil {
			t.Fatal(err)
		}
		return key, rec
	}
	for _, sc := range icp.Scopes() {
		name := "scope:" + string(sc)
		mk(name, []icp.Scope{sc}, true)
		f.scopes[name] = sc
	}
	mk("unknown", icp.Scopes(), false)
	_, rec := mk("revoked", icp.Scopes(), true)
	if _, err := st.RevokeAPIKey(t.Context(), rec.ID); err != nil {
		t.Fatal(err)
	}
	real := strings.TrimPrefix(f.keys["scope:score"], "Bearer ")
	f.keys["none"] = ""
	f.keys["malformed"] = "Bearer icp_short"
	f.keys["wrong secret"] = "Bearer " + real[:len(real)-4] + "AAAA"
	f.keys["basic scheme"] = "Basic " + real
	f.keys["no scheme"] = real
	f.keys["empty bearer"] = "Bearer "
	f.keys["key and more"] = "Bearer " + real + " more"
	// The scheme is case-insensitive and spaces may precede the key
	// (RFC 7235): these are the score key.
	f.keys["lower-case scheme"] = "bearer " + real
	f.keys["spaces before the key"] = "Bearer    " + real
	f.scopes["lower-case scheme"], f.scopes["spaces before the key"] = icp.ScopeScore, icp.ScopeScore

	cfg.Keys = auth.NewVerifier(st, auth.VerifierConfig{})
	f.s, f.logs = newTestServer(t, cfg)
	return f
}

// routeRequest builds a request for a registered route: path parameters get
// a placeholder value and a POST carries a valid score body.
func routeRequest(method, path, authz string) request {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			segs[i] = "x"
		}
	}
	r := request{method: method, path: strings.Join(segs, "/")}
	if method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
		r.ct = "application/json"
		r.body = strings.NewReader(`{"account_id":"acme","employees":12}`)
		if r.path == batchPath {
			r.body = strings.NewReader(`[{"account_id":"acme","employees":12}]`)
		}
	}
	if authz != "" {
		r.header = map[string]string{"Authorization": authz}
	}
	return r
}

// TestAuthMatrix sends every registered route every kind of credential and
// checks the documented answer: public routes ignore credentials; the
// others answer 401 without a valid key, 403 with a key lacking the
// route's scope, and run the handler with the right scope.
func TestAuthMatrix(t *testing.T) {
	f := newAuthFixture(t, Config{})
	routes := f.s.engine.Routes()
	if len(routes) < 6 {
		t.Fatalf("Routes() = %d routes, want at least the 6 of this package", len(routes))
	}
	// The answer of a handler run with sufficient rights, for the routes
	// of this package; routes added later must only not be refused.
	handled := map[string]int{
		"POST /v1/score":       http.StatusOK,
		"POST /v1/score/batch": http.StatusOK,
		"GET /healthz":         http.StatusOK,
		"GET /livez":           http.StatusOK,
		"GET /readyz":          http.StatusOK,
		"GET /metrics":         http.StatusOK,
		"GET /openapi.json":    http.StatusOK,
	}
	creds := make([]string, 0, len(f.keys))
	for name := range f.keys {
		creds = append(creds, name)
	}
	slices.Sort(creds)
	for _, rt := range routes {
		a := routeAccess(rt.Method, rt.Path)
		for _, cred := range creds {
			t.Run(rt.Method+" "+rt.Path+"/"+cred, func(t *testing.T) {
				rec := serve(f.s.Handler(), routeRequest(rt.Method, rt.Path, f.keys[cred]))
				sc, isScopeKey := f.scopes[cred]
				switch {
				case a.public || (isScopeKey && (sc == a.scope || sc == a.also)):
					want, known := handled[rt.Method+" "+rt.Path]
					if known && rec.Code != want {
						t.Errorf("status = %d, want %d; body %s", rec.Code, want, rec.Body)
					}
					if rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden {
						t.Errorf("status = %d, want the handler's answer; body %s", rec.Code, rec.Body)
					}
				case isScopeKey:
					if rec.Code != http.StatusForbidden {
						t.Fatalf("status = %d, want 403; body %s", rec.Code, rec.Body)
					}
					if got := decodeError(t, rec); got.Error != "forbidden" || !strings.Contains(got.Detail, string(a.scope)) {
						t.Errorf("body = %+v, want forbidden naming the %s scope", got, a.scope)
					}
				default:
					if rec.Code != http.StatusUnauthorized {
						t.Fatalf("status = %d, want 401; body %s", rec.Code, rec.Body)
					}
					want := `Bearer realm="icp", error="invalid_token"`
					if cred == "none" {
						want = `Bearer realm="icp"`
					}
					if got := rec.Header().Get("WWW-Authenticate"); got != want {
						t.Errorf("WWW-Authenticate = %q, want %q", got, want)
					}
					if got := decodeError(t, rec); got.Error != "unauthenticated" || got.RequestID == "" {
						t.Errorf("body = %+v, want unauthenticated with a request id", got)
					}
				}
			})
		}
	}
	for _, secret := range f.secrets {
		if strings.Contains(f.logs.String(), secret) {
			t.Fatalf("logs hold an API key")
		}
	}
	if !strings.Contains(f.logs.String(), `"key_id":"key_`) {
		t.Errorf("access logs lack key ids")
	}
}

// TestAuthKeyInQuery checks that a key in the URL is refused on every
// route, even with a valid header.
func TestAuthKeyInQuery(t *testing.T) {
	f := newAuthFixture(t, Config{})
	key := strings.TrimPrefix(f.keys["scope:score"], "Bearer ")
	for _, path := range []string{"/v1/score?api_key=" + key, "/v1/score?x=" + key, "/healthz?token=" + key} {
		t.Run(path, func(t *testing.T) {
			method := http.MethodGet
			if strings.HasPrefix(path, "/v1/score") {
				method = http.MethodPost
			}
			r := routeRequest(method, "/", f.keys["scope:score"])
			r.path = path
			rec := serve(f.s.Handler(), r)
			if rec.Code != http.StatusUnauthorized || !strings.Contains(decodeError(t, rec).Detail, "Authorization header") {
				t.Errorf("status = %d, body %s, want 401 asking for the header", rec.Code, rec.Body)
			}
		})
	}
	if strings.Contains(f.logs.String(), key) {
		t.Error("logs hold the API key sent in the URL")
	}
}

// unavailableKeys is a KeyVerifier whose store is down.
type unavailableKeys struct{}

func (unavailableKeys) VerifyKey(context.Context, string) (icp.Principal, error) {
	return icp.Principal{}, icp.ErrUnavailable
}

func TestAuthStoreDown(t *testing.T) {
	s, _ := newTestServer(t, Config{Keys: unavailableKeys{}})
	rec := serve(s.Handler(), routeRequest(http.MethodPost, "/v1/score", "Bearer icp_AbCd1234_"+strings.Repeat("x", 32)))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503 when keys cannot be checked; body %s", rec.Code, rec.Body)
	}
}

func TestNewAuthConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"neither", Config{Scorer: scorerFunc(echoScorer)}, "AllowUnauthenticated"},
		{"both", Config{Scorer: scorerFunc(echoScorer), Keys: unavailableKeys{}, AllowUnauthenticated: true}, "exclusive"},
		{"negative rate", Config{Scorer: scorerFunc(echoScorer), AllowUnauthenticated: true, RateLimit: -1}, "RateLimit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New(%s) = %v, want an error containing %q", tt.name, err, tt.want)
			}
		})
	}
	_, logs := newTestServer(t, Config{AllowUnauthenticated: true})
	if line := findLog(t, logs.String(), "authentication is off: every route answers without an API key"); line["level"] != "WARN" {
		t.Errorf("unauthenticated start logged %v, want a warning", line)
	}
}

// TestAuthUnknownRoutes checks that unknown paths and methods answer 404
// and 405 whatever the credentials, as before authentication.
func TestAuthUnknownRoutes(t *testing.T) {
	f := newAuthFixture(t, Config{})
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/v1/score", http.StatusMethodNotAllowed},
		{http.MethodPost, "/v1/nope", http.StatusNotFound},
		{http.MethodGet, "/", http.StatusNotFound},
	}
	for _, tt := range tests {
		for _, cred := range []string{"none", "scope:score"} {
			t.Run(tt.method+" "+tt.path+"/"+cred, func(t *testing.T) {
				r := routeRequest(tt.method, tt.path, f.keys[cred])
				if rec := serve(f.s.Handler(), r); rec.Code != tt.want {
					t.Errorf("status = %d, want %d; body %s", rec.Code, tt.want, rec.Body)
				}
			})
		}
	}
}
