package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/server/dashboard"
)

// The dashboard's routes. Package dashboard renders the pages; the
// handlers here gather what they show and, with session.go and auth.go,
// sign browsers in and out.
const (
	dashboardPath = "/dashboard"
	signInPath    = "/dashboard/login"
	signOutPath   = "/dashboard/logout"
)

// maxDashboardAlerts is the most alerts the dashboard lists.
const maxDashboardAlerts = 100

// registerDashboard adds the dashboard, its sign-in and sign-out, and the
// alert reviews its buttons post.
func (s *Server) registerDashboard(e *gin.Engine) {
	e.GET(dashboardPath, s.handle(s.handleDashboard))
	e.GET(signInPath, s.handle(s.handleSignInPage))
	e.POST(signInPath, s.handle(s.handleSignIn))
	e.POST(signOutPath, s.handle(s.handleSignOut))
	e.POST(dashboardPath+"/alerts/:id/acknowledge", s.handle(s.handleDashboardReview(icp.AlertAcknowledged)))
	e.POST(dashboardPath+"/alerts/:id/resolve", s.handle(s.handleDashboardReview(icp.AlertResolved)))
}

// handleDashboard renders the leadership dashboard (see package
// dashboard): the alerts with what to do about each, the ICP in brief,
// tier KPIs, ICP drift, emerging segments and every watched signal. The
// acknowledge and resolve buttons show for a session whose key may review
// alerts (dashboard or admin scope), and for everyone when authentication
// is off.
func (s *Server) handleDashboard(c *gin.Context) error {
	ctx := c.Request.Context()
	p := dashboard.Page{Now: s.now().UTC(), Nonce: dashboard.NewNonce()}
	if s.ops.ICP != nil {
		p.ICP = s.ops.ICP()
	}
	if s.ops.Channels != nil {
		if ch, err := s.ops.Channels(ctx); err != nil {
			s.log.ErrorContext(ctx, "dashboard: recent outcomes by channel", "error", err)
			p.ChannelsErr = "the recent outcomes could not be read; see the server log"
		} else {
			p.Channels = ch
		}
	}
	if s.ops.Drift == nil {
		p.ReportErr = "no store configured"
	} else if r, err := s.ops.Drift.LatestDriftReport(ctx); err == nil {
		var v icp.WatchReport
		if err := json.Unmarshal(r.Body, &v); err != nil {
			return fmt.Errorf("dashboard: decode drift report: %w", err)
		}
		p.Report, p.ReportAt = &v, r.At
	} else if errors.Is(err, icp.ErrNotFound) {
		p.ReportErr = "no drift report yet: the first evaluation has not run"
	} else {
		return fmt.Errorf("dashboard: %w", err)
	}
	if s.ops.Alerts == nil {
		p.AlertsErr = "no store configured"
	} else {
		alerts, err := s.ops.Alerts.Alerts(ctx, "", maxDashboardAlerts)
		if err != nil {
			return fmt.Errorf("dashboard: %w", err)
		}
		p.Alerts = alerts
	}
	who, _ := principalFrom(ctx)
	sess, signedIn := sessionFrom(ctx)
	p.Viewer, p.SignedIn, p.CSRFToken = who.Name, signedIn, sess.csrf
	p.CanReview = s.keys == nil || signedIn && (who.Has(icp.ScopeDashboard) || who.Has(icp.ScopeAdmin))
	var buf bytes.Buffer
	if err := s.dash.Page(&buf, p); err != nil {
		return err
	}
	writeHTML(c, p.Nonce, buf.Bytes())
	return nil
}

// writeHTML sends a page rendered with nonce, with its
// Content-Security-Policy; pages are never cached, since they show one
// viewer's session.
func writeHTML(c *gin.Context, nonce string, page []byte) {
	c.Header("Content-Security-Policy", dashboard.ContentSecurityPolicy(nonce))
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "same-origin")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, "text/html; charset=utf-8", page)
}

// handleSignInPage renders the sign-in page; with authentication off it
// sends the browser to the dashboard.
func (s *Server) handleSignInPage(c *gin.Context) error {
	if s.keys == nil {
		c.Redirect(http.StatusSeeOther, dashboardPath)
		return nil
	}
	nonce := dashboard.NewNonce()
	var buf bytes.Buffer
	if err := s.dash.SignIn(&buf, dashboard.SignIn{Nonce: nonce}); err != nil {
		return err
	}
	writeHTML(c, nonce, buf.Bytes())
	return nil
}

// signInAnswer is the answer of POST /dashboard/login.
type signInAnswer struct {
	// Next is where the browser goes once signed in.
	Next string `json:"next"`
	// Expires is when the session ends, zero with authentication off.
	Expires time.Time `json:"expires,omitzero"`
}

// handleSignIn signs a browser in with the API key of the JSON body
// {"key": "icp_..."}: a key with the dashboard or read scope starts a
// session, whose id goes back in the session cookie. The body is JSON, as
// every POST's is, so a form on another site cannot sign a browser in
// with the attacker's key. A cookie already present is replaced.
func (s *Server) handleSignIn(c *gin.Context) error {
	body, err := readBody(c.Request, s.maxBody)
	if err != nil {
		return err
	}
	key, err := decodeSignIn(body)
	if err != nil {
		return err
	}
	if s.keys == nil {
		return s.writeJSON(c, http.StatusOK, signInAnswer{Next: dashboardPath})
	}
	p, err := s.keys.VerifyKey(c.Request.Context(), key)
	if err != nil {
		if errors.Is(err, icp.ErrUnauthenticated) {
			err = &authError{presented: true, detail: "invalid API key", cause: err}
		}
		return err
	}
	c.Set(keyIDKey, p.KeyID)
	if !p.Has(icp.ScopeDashboard) && !p.Has(icp.ScopeRead) {
		return &forbiddenError{scope: icp.ScopeDashboard, also: icp.ScopeRead}
	}
	if old := sessionCookieValue(c.Request); old != "" {
		s.sessions.remove(old)
	}
	id, sess := s.sessions.create(key, p)
	http.SetCookie(c.Writer, s.sessions.cookie(c.Request, id, int(s.sessions.ttl/time.Second)))
	c.Header("Cache-Control", "no-store")
	s.log.InfoContext(c.Request.Context(), "dashboard sign-in", "key_id", p.KeyID, "expires", sess.expires)
	return s.writeJSON(c, http.StatusOK, signInAnswer{Next: dashboardPath, Expires: sess.expires})
}

// decodeSignIn reads the body of POST /dashboard/login.
func decodeSignIn(body []byte) (string, error) {
	key, ok, err := decodeStringField(body, "key", 0)
	if err != nil {
		return "", err
	}
	var v icp.ValidationError
	switch {
	case !ok:
		v.Add("key", "is required")
	case key == "":
		v.Add("key", "must not be empty")
	}
	return key, v.Err()
}

// handleSignOut ends the browser's session and deletes its cookie. It
// needs the session's CSRF token, so that another site cannot sign a
// browser out; without a session it only deletes the cookie.
func (s *Server) handleSignOut(c *gin.Context) error {
	id := sessionCookieValue(c.Request)
	if sess, ok := s.sessions.get(id); ok {
		if !validCSRF(c.GetHeader(CSRFHeader), sess.csrf) {
			return &forbiddenError{reason: "missing or wrong " + CSRFHeader + " header: reload the dashboard"}
		}
		s.sessions.remove(id)
	}
	if id != "" {
		http.SetCookie(c.Writer, s.sessions.cookie(c.Request, "", -1))
	}
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusNoContent)
	return nil
}

// handleDashboardReview moves an alert to status from the dashboard's
// buttons; authenticate has checked the session and its CSRF token. The
// review is recorded under the name of the key signed in with ("dashboard"
// when authentication is off, or the body's optional {"by": "name"}).
func (s *Server) handleDashboardReview(status icp.AlertStatus) func(*gin.Context) error {
	return func(c *gin.Context) error {
		by, err := s.readBy(c)
		if err != nil {
			return err
		}
		if p, ok := principalFrom(c.Request.Context()); ok {
			by = p.Name
		}
		if by == "" {
			by = "dashboard"
		}
		a, err := s.ops.Alerts.SetAlertStatus(c.Request.Context(), c.Param("id"), status, by)
		if err != nil {
			return fmt.Errorf("set alert status: %w", err)
		}
		return s.writeJSON(c, http.StatusOK, a)
	}
}
