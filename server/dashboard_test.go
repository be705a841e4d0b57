package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/auth"
	"github.com/icpengine/icp/store"
)

// testClock is a settable clock shared by the server and the key
// verifier.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// reviewAlerts is an AlertService holding alerts in memory and recording
// who reviewed them.
type reviewAlerts struct {
	mu     sync.Mutex
	alerts map[string]icp.Alert
}

func newReviewAlerts(ids ...string) *reviewAlerts {
	r := &reviewAlerts{alerts: map[string]icp.Alert{}}
	for _, id := range ids {
		r.alerts[id] = icp.Alert{ID: id, GroupKey: "feature_drift:industry", Kind: "feature_drift", Severity: icp.SeverityWarning,
			Status: icp.AlertOpen, Title: "Industry: more Logistics accounts", Subject: "Industry",
			Summary: "Logistics accounts make up 14% of the last 1,000 scored accounts.", Action: "Ask marketing whether targeting changed."}
	}
	return r
}

func (r *reviewAlerts) Alerts(context.Context, icp.AlertStatus, int) ([]icp.Alert, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]icp.Alert, 0, len(r.alerts))
	for _, a := range r.alerts {
		out = append(out, a)
	}
	return out, nil
}

func (r *reviewAlerts) SetAlertStatus(_ context.Context, id string, status icp.AlertStatus, by string) (icp.Alert, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.alerts[id]
	if !ok {
		return icp.Alert{}, icp.ErrNotFound
	}
	a.Status, a.UpdatedBy = status, by
	r.alerts[id] = a
	return a, nil
}

func (r *reviewAlerts) get(id string) icp.Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.alerts[id]
}

// sessionFixture is a server with keys in a real SQLite store, a
// settable clock and alerts in memory.
type sessionFixture struct {
	s      *Server
	st     *store.Store
	clock  *testClock
	alerts *reviewAlerts
	// keys maps a key's name to the key; ids to its record's id.
	keys, ids map[string]string
}

// keyCacheTTL is the key verifier's cache TTL in the fixture.
const keyCacheTTL = 10 * time.Second

func newSessionFixture(t *testing.T, sessions SessionConfig) *sessionFixture {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "icp.db"), store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &sessionFixture{st: st, clock: &testClock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)},
		alerts: newReviewAlerts("al-1", "al-2"), keys: map[string]string{}, ids: map[string]string{}}
	for name, scopes := range map[string][]icp.Scope{
		"vp-sales": {icp.ScopeDashboard},
		"reader":   {icp.ScopeRead},
		"crm":      {icp.ScopeScore},
		"ops":      {icp.ScopeRead, icp.ScopeAdmin},
	} {
		key, rec, err := auth.Generate(name, scopes)
		if err != nil {
			t.Fatal(err)
		}
		if rec, err = st.CreateAPIKey(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
		f.keys[name], f.ids[name] = key, rec.ID
	}
	f.s, _ = newTestServer(t, Config{
		Keys:     auth.NewVerifier(st, auth.VerifierConfig{CacheTTL: keyCacheTTL, Now: f.clock.now}),
		Now:      f.clock.now,
		Sessions: sessions,
		Ops:      OpsConfig{Alerts: f.alerts},
	})
	return f
}

// do sends a request with the given headers and session cookie ("" for
// none) and returns the answer.
func (f *sessionFixture) do(method, path, body, cookie string, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: cookie})
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.s.Handler().ServeHTTP(rec, req)
	return rec
}

// signIn signs in with the named key and returns the session cookie and
// its CSRF token, read from the dashboard page as the browser would.
func (f *sessionFixture) signIn(t *testing.T, name string) (cookie, csrf string) {
	t.Helper()
	rec := f.do(http.MethodPost, signInPath, `{"key":"`+f.keys[name]+`"}`, "", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("sign in as %s = %d %s, want 200", name, rec.Code, rec.Body)
	}
	c := sessionCookieOf(t, rec)
	page := f.do(http.MethodGet, dashboardPath, "", c.Value, nil)
	if page.Code != http.StatusOK {
		t.Fatalf("GET /dashboard with the session of %s = %d %s", name, page.Code, page.Body)
	}
	return c.Value, csrfOf(page.Body.String())
}

// sessionCookieOf returns the session cookie an answer sets.
func sessionCookieOf(t *testing.T, rec *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range rec.Result().Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	t.Fatalf("answer %d sets no %s cookie; headers %v", rec.Code, SessionCookie, rec.Header())
	return nil
}

// csrfOf returns the content of a page's csrf-token meta element.
func csrfOf(page string) string {
	_, rest, ok := strings.Cut(page, `<meta name="csrf-token" content="`)
	if !ok {
		return ""
	}
	token, _, _ := strings.Cut(rest, `"`)
	return token
}

func TestSignInCookie(t *testing.T) {
	tests := []struct {
		name       string
		trust      bool
		tls        bool
		header     map[string]string
		wantSecure bool
	}{
		{name: "plain http", wantSecure: false},
		{name: "tls", tls: true, wantSecure: true},
		{name: "forwarded https, proxy trusted", trust: true, header: map[string]string{"X-Forwarded-Proto": "https"}, wantSecure: true},
		{name: "forwarded https, proxy not trusted", header: map[string]string{"X-Forwarded-Proto": "https"}, wantSecure: false},
		{name: "client https before the proxy's http", trust: true, header: map[string]string{"X-Forwarded-Proto": "https, http"}, wantSecure: false},
		{name: "Forwarded proto https", trust: true, header: map[string]string{"Forwarded": `for=192.0.2.1;proto=https`}, wantSecure: true},
		{name: "Forwarded proto http", trust: true, header: map[string]string{"Forwarded": `for=192.0.2.1;proto=http`}, wantSecure: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSessionFixture(t, SessionConfig{TTL: 3 * time.Hour, TrustForwardedProto: tt.trust})
			req := httptest.NewRequest(http.MethodPost, signInPath, strings.NewReader(`{"key":"`+f.keys["vp-sales"]+`"}`))
			req.Header.Set("Content-Type", "application/json")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			if tt.tls {
				req.TLS = &tls.ConnectionState{}
			}
			rec := httptest.NewRecorder()
			f.s.Handler().ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("sign in = %d %s, want 200", rec.Code, rec.Body)
			}
			c := sessionCookieOf(t, rec)
			if c.Secure != tt.wantSecure {
				t.Errorf("cookie Secure = %v, want %v", c.Secure, tt.wantSecure)
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/dashboard" || c.MaxAge != 3*3600 || len(c.Value) < 43 {
				t.Errorf("cookie = %+v, want HttpOnly, SameSite=Strict, Path=/dashboard, Max-Age 10800 and a 256-bit value", c)
			}
			raw := rec.Header().Get("Set-Cookie")
			for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/dashboard", "Max-Age=10800"} {
				if !strings.Contains(raw, want) {
					t.Errorf("Set-Cookie %q lacks %s", raw, want)
				}
			}
			var ans signInAnswer
			if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil || ans.Next != "/dashboard" || !ans.Expires.Equal(f.clock.now().Add(3*time.Hour)) {
				t.Errorf("sign-in answer = %s, %v; want next /dashboard, expiring in 3 h", rec.Body, err)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
		})
	}
}

func TestSignInRefused(t *testing.T) {
	f := newSessionFixture(t, SessionConfig{})
	if _, err := f.st.RevokeAPIKey(t.Context(), f.ids["reader"]); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, body, ct string
		want           int
		detail         string
	}{
		{"wrong key", `{"key":"icp_AbCd1234_` + strings.Repeat("x", 32) + `"}`, "application/json", http.StatusUnauthorized, "invalid API key"},
		{"malformed key", `{"key":"hunter2"}`, "application/json", http.StatusUnauthorized, "invalid API key"},
		{"score key", `{"key":"` + f.keys["crm"] + `"}`, "application/json", http.StatusForbidden, "neither the dashboard nor the read scope"},
		{"revoked key", `{"key":"` + f.keys["reader"] + `"}`, "application/json", http.StatusUnauthorized, "invalid API key"},
		{"no key", `{}`, "application/json", http.StatusBadRequest, ""},
		{"empty key", `{"key":" "}`, "application/json", http.StatusBadRequest, ""},
		{"unknown field", `{"key":"` + f.keys["vp-sales"] + `","user":"x"}`, "application/json", http.StatusBadRequest, ""},
		{"a form post", `key=` + f.keys["vp-sales"], "application/x-www-form-urlencoded", http.StatusUnsupportedMediaType, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, signInPath, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ct)
			rec := httptest.NewRecorder()
			f.s.Handler().ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("sign in = %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			if got := decodeError(t, rec); !strings.Contains(got.Detail, tt.detail) {
				t.Errorf("detail = %q, want %q in it", got.Detail, tt.detail)
			}
			if c := rec.Header().Get("Set-Cookie"); c != "" {
				t.Errorf("refused sign-in sets a cookie: %s", c)
			}
		})
	}
	if n := f.s.sessions.len(); n != 0 {
		t.Errorf("%d sessions after refused sign-ins, want 0", n)
	}
}

// TestSessionCSRF checks that a session's POSTs need its CSRF token, and
// that a session reviews alerts under its key's name.
func TestSessionCSRF(t *testing.T) {
	f := newSessionFixture(t, SessionConfig{})
	cookie, csrf := f.signIn(t, "vp-sales")
	_, otherCSRF := f.signIn(t, "ops")
	if csrf == "" || otherCSRF == "" || csrf == otherCSRF {
		t.Fatalf("CSRF tokens %q and %q, want one per session", csrf, otherCSRF)
	}
	ack := dashboardPath + "/alerts/al-1/acknowledge"
	tests := []struct {
		name   string
		header map[string]string
	}{
		{"no token", nil},
		{"empty token", map[string]string{CSRFHeader: ""}},
		{"wrong token", map[string]string{CSRFHeader: csrf[:len(csrf)-2] + "xx"}},
		{"another session's token", map[string]string{CSRFHeader: otherCSRF}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.do(http.MethodPost, ack, "{}", cookie, tt.header)
			if rec.Code != http.StatusForbidden || !strings.Contains(decodeError(t, rec).Detail, CSRFHeader) {
				t.Errorf("acknowledge = %d %s, want 403 naming %s", rec.Code, rec.Body, CSRFHeader)
			}
			if got := f.alerts.get("al-1"); got.Status != icp.AlertOpen {
				t.Errorf("alert is %s after a refused acknowledge, want open", got.Status)
			}
			// Signing out needs the token too.
			if rec := f.do(http.MethodPost, signOutPath, "{}", cookie, tt.header); rec.Code != http.StatusForbidden {
				t.Errorf("sign out = %d, want 403", rec.Code)
			}
		})
	}
	rec := f.do(http.MethodPost, ack, "{}", cookie, map[string]string{CSRFHeader: csrf})
	if rec.Code != http.StatusOK {
		t.Fatalf("acknowledge with the token = %d %s, want 200", rec.Code, rec.Body)
	}
	if got := f.alerts.get("al-1"); got.Status != icp.AlertAcknowledged || got.UpdatedBy != "vp-sales" {
		t.Errorf("alert = %s by %q, want acknowledged by vp-sales", got.Status, got.UpdatedBy)
	}
	// A body cannot put the review under another name.
	rec = f.do(http.MethodPost, dashboardPath+"/alerts/al-1/resolve", `{"by":"someone else"}`, cookie, map[string]string{CSRFHeader: csrf})
	if got := f.alerts.get("al-1"); rec.Code != http.StatusOK || got.Status != icp.AlertResolved || got.UpdatedBy != "vp-sales" {
		t.Errorf("resolve = %d, alert %s by %q; want 200, resolved by vp-sales", rec.Code, got.Status, got.UpdatedBy)
	}
	// A Bearer key needs no token: it is not sent by a browser on its own.
	rec = f.do(http.MethodPost, dashboardPath+"/alerts/al-2/acknowledge", "{}", "", map[string]string{"Authorization": "Bearer " + f.keys["vp-sales"]})
	if rec.Code != http.StatusOK {
		t.Errorf("acknowledge with a Bearer key = %d %s, want 200", rec.Code, rec.Body)
	}
}

// TestSessionSignOut checks that signing out ends the session on the
// server, not only in the browser: the old cookie is refused.
func TestSessionSignOut(t *testing.T) {
	f := newSessionFixture(t, SessionConfig{})
	cookie, csrf := f.signIn(t, "vp-sales")
	rec := f.do(http.MethodPost, signOutPath, "", cookie, map[string]string{CSRFHeader: csrf})
	if rec.Code != http.StatusNoContent {
		t.Fatalf("sign out = %d %s, want 204", rec.Code, rec.Body)
	}
	if c := sessionCookieOf(t, rec); c.MaxAge >= 0 || c.Value != "" || c.Path != "/dashboard" {
		t.Errorf("sign-out cookie = %+v, want it deleted", c)
	}
	checkRefused(t, f, cookie, csrf)
	// Signing out again, or without a session, only deletes the cookie.
	if rec := f.do(http.MethodPost, signOutPath, "", cookie, nil); rec.Code != http.StatusNoContent {
		t.Errorf("second sign out = %d, want 204", rec.Code)
	}
}

// checkRefused checks that a session is over: a browser is sent to the
// sign-in page and its stale cookie deleted, an API client gets 401, and
// a POST with the old token is refused.
func checkRefused(t *testing.T, f *sessionFixture, cookie, csrf string) {
	t.Helper()
	rec := f.do(http.MethodGet, dashboardPath, "", cookie, map[string]string{"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != signInPath {
		t.Errorf("browser GET /dashboard = %d to %q, want 303 to %s", rec.Code, rec.Header().Get("Location"), signInPath)
	} else if c := sessionCookieOf(t, rec); c.MaxAge >= 0 {
		t.Errorf("redirect keeps the stale cookie: %+v", c)
	}
	if rec := f.do(http.MethodGet, dashboardPath, "", cookie, nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("API GET /dashboard = %d, want 401", rec.Code)
	}
	rec = f.do(http.MethodPost, dashboardPath+"/alerts/al-2/acknowledge", "{}", cookie, map[string]string{CSRFHeader: csrf})
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("acknowledge with the ended session = %d %s, want 401", rec.Code, rec.Body)
	}
	if got := f.alerts.get("al-2"); got.Status != icp.AlertOpen {
		t.Errorf("alert is %s after a refused acknowledge, want open", got.Status)
	}
}

func TestSessionExpires(t *testing.T) {
	f := newSessionFixture(t, SessionConfig{TTL: time.Hour})
	cookie, csrf := f.signIn(t, "vp-sales")
	f.clock.advance(59 * time.Minute)
	if rec := f.do(http.MethodGet, dashboardPath, "", cookie, nil); rec.Code != http.StatusOK {
		t.Fatalf("GET /dashboard before expiry = %d, want 200", rec.Code)
	}
	f.clock.advance(time.Minute)
	checkRefused(t, f, cookie, csrf)
	if n := f.s.sessions.len(); n != 0 {
		t.Errorf("%d sessions held after expiry, want 0", n)
	}
}

// TestSessionEndsWithRevokedKey checks that revoking a key ends its
// sessions within the key cache's TTL.
func TestSessionEndsWithRevokedKey(t *testing.T) {
	f := newSessionFixture(t, SessionConfig{})
	cookie, csrf := f.signIn(t, "vp-sales")
	if _, err := f.st.RevokeAPIKey(t.Context(), f.ids["vp-sales"]); err != nil {
		t.Fatal(err)
	}
	// The verifier trusts the key it verified for its cache TTL.
	f.clock.advance(keyCacheTTL - time.Second)
	if rec := f.do(http.MethodGet, dashboardPath, "", cookie, nil); rec.Code != http.StatusOK {
		t.Fatalf("GET /dashboard within the key cache TTL = %d, want 200", rec.Code)
	}
	f.clock.advance(time.Second)
	checkRefused(t, f, cookie, csrf)
}

// TestDashboardAccess checks who sees what: a browser without a session
// is sent to the sign-in page, an API client gets 401 as before, a read
// key views without review buttons and cannot review, a session never
// reaches the /v1 API.
func TestDashboardAccess(t *testing.T) {
	f := newSessionFixture(t, SessionConfig{})
	rec := f.do(http.MethodGet, dashboardPath, "", "", map[string]string{"Accept": "text/html"})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != signInPath || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("browser without a session = %d to %q, want 303 to %s", rec.Code, rec.Header().Get("Location"), signInPath)
	}
	if rec := f.do(http.MethodGet, dashboardPath, "", "", nil); rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("API client without a key = %d, want 401 with a challenge", rec.Code)
	}
	for _, name := range []string{"reader", "vp-sales", "ops"} {
		rec := f.do(http.MethodGet, dashboardPath, "", "", map[string]string{"Authorization": "Bearer " + f.keys[name]})
		if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `data-action="acknowledge"`) || csrfOf(rec.Body.String()) != "" {
			t.Errorf("GET /dashboard with the Bearer key of %s = %d; want 200 without review buttons or a CSRF token", name, rec.Code)
		}
	}
	if rec := f.do(http.MethodGet, dashboardPath, "", "", map[string]string{"Authorization": "Bearer " + f.keys["crm"]}); rec.Code != http.StatusForbidden {
		t.Errorf("GET /dashboard with a score key = %d, want 403", rec.Code)
	}
	reader, readerCSRF := f.signIn(t, "reader")
	page := f.do(http.MethodGet, dashboardPath, "", reader, nil).Body.String()
	if !strings.Contains(page, "Signed in as reader") || strings.Contains(page, `data-action="acknowledge"`) {
		t.Errorf("the reader's page lacks its name or shows review buttons")
	}
	rec = f.do(http.MethodPost, dashboardPath+"/alerts/al-1/acknowledge", "{}", reader, map[string]string{CSRFHeader: readerCSRF})
	if rec.Code != http.StatusForbidden || f.alerts.get("al-1").Status != icp.AlertOpen {
		t.Errorf("acknowledge by a read-only session = %d, want 403 and the alert open", rec.Code)
	}
	vp, _ := f.signIn(t, "vp-sales")
	page = f.do(http.MethodGet, dashboardPath, "", vp, nil).Body.String()
	for _, want := range []string{"Signed in as vp-sales", `data-action="acknowledge"`, "Industry: more Logistics accounts", "What to do:", "Ask marketing whether targeting changed."} {
		if !strings.Contains(page, want) {
			t.Errorf("the dashboard session's page lacks %q", want)
		}
	}
	for _, path := range []string{"/v1/alerts", "/v1/drift"} {
		if rec := f.do(http.MethodGet, path, "", vp, nil); rec.Code != http.StatusUnauthorized {
			t.Errorf("GET %s with only a session cookie = %d, want 401", path, rec.Code)
		}
	}
	if rec := f.do(http.MethodPost, "/v1/alerts/al-1/acknowledge", "{}", vp, nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("POST /v1/alerts/al-1/acknowledge with only a session cookie = %d, want 401", rec.Code)
	}
	if rec := f.do(http.MethodGet, signInPath, "", "", nil); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="signin"`) {
		t.Errorf("GET %s = %d, want the sign-in page", signInPath, rec.Code)
	}
}

func TestDashboardPageHeaders(t *testing.T) {
	f := newSessionFixture(t, SessionConfig{})
	cookie, _ := f.signIn(t, "vp-sales")
	for _, path := range []string{dashboardPath, signInPath} {
		rec := f.do(http.MethodGet, path, "", cookie, nil)
		csp := rec.Header().Get("Content-Security-Policy")
		_, rest, ok := strings.Cut(csp, "script-src 'nonce-")
		nonce, _, _ := strings.Cut(rest, "'")
		if rec.Code != http.StatusOK || !ok || len(nonce) < 16 || !strings.Contains(rec.Body.String(), `<script nonce="`+nonce+`">`) {
			t.Errorf("GET %s = %d, CSP %q; want a script nonce that the page's script carries", path, rec.Code, csp)
		}
		for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %s", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: CSP %q allows inline code", path, csp)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s: Cache-Control %q, want no-store", path, got)
		}
	}
}

// TestDashboardAuthOff checks the dashboard of a server without
// authentication: no sign-in, and the buttons work with no token.
func TestDashboardAuthOff(t *testing.T) {
	alerts := newReviewAlerts("al-1")
	s, _ := newTestServer(t, Config{Ops: OpsConfig{Alerts: alerts}})
	rec := serve(s.Handler(), request{method: http.MethodGet, path: signInPath})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != dashboardPath {
		t.Errorf("GET %s without authentication = %d to %q, want 303 to %s", signInPath, rec.Code, rec.Header().Get("Location"), dashboardPath)
	}
	rec = serve(s.Handler(), request{method: http.MethodGet, path: dashboardPath})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `data-action="acknowledge"`) || strings.Contains(rec.Body.String(), "Sign out") {
		t.Errorf("GET /dashboard without authentication = %d; want 200 with review buttons and no sign-out", rec.Code)
	}
	rec = serve(s.Handler(), request{method: http.MethodPost, path: dashboardPath + "/alerts/al-1/acknowledge", ct: "application/json", body: strings.NewReader("")})
	if got := alerts.get("al-1"); rec.Code != http.StatusOK || got.UpdatedBy != "dashboard" {
		t.Errorf("acknowledge without authentication = %d, by %q; want 200 by dashboard", rec.Code, got.UpdatedBy)
	}
	rec = serve(s.Handler(), request{method: http.MethodPost, path: signInPath, ct: "application/json", body: strings.NewReader(`{"key":"anything"}`)})
	if rec.Code != http.StatusOK || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("sign in without authentication = %d, Set-Cookie %q; want 200 and no cookie", rec.Code, rec.Header().Get("Set-Cookie"))
	}
}

func TestSessionStoreEviction(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st := newSessionStore(SessionConfig{TTL: time.Hour, Max: 2}, clock.now)
	first, _ := st.create("k1", icp.Principal{KeyID: "1"})
	clock.advance(time.Minute)
	second, _ := st.create("k2", icp.Principal{KeyID: "2"})
	third, _ := st.create("k3", icp.Principal{KeyID: "3"})
	if _, ok := st.get(first); ok {
		t.Error("the session closest to expiring survived a sign-in beyond Max")
	}
	for _, id := range []string{second, third} {
		if _, ok := st.get(id); !ok {
			t.Errorf("session %s was evicted, want kept", id)
		}
	}
	// Expired sessions go first.
	clock.advance(time.Hour - time.Second)
	fourth, _ := st.create("k4", icp.Principal{KeyID: "4"})
	if st.len() != 2 {
		t.Errorf("%d sessions, want 2", st.len())
	}
	if _, ok := st.get(fourth); !ok {
		t.Error("the new session is missing")
	}
	if _, ok := st.get(""); ok {
		t.Error("an empty cookie found a session")
	}
}

func TestAcceptsHTML(t *testing.T) {
	tests := []struct {
		give string
		want bool
	}{
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"TEXT/HTML", true},
		{"application/json", false},
		{"*/*", false},
		{"", false},
		{"text/htmlx", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/dashboard", nil)
		if tt.give != "" {
			r.Header.Set("Accept", tt.give)
		}
		if got := acceptsHTML(r); got != tt.want {
			t.Errorf("acceptsHTML(%q) = %v, want %v", tt.give, got, tt.want)
		}
	}
}
