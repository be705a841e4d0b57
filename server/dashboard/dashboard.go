package dashboard

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/icpengine/icp"
)

// templates holds the page templates, parsed once by New.
//
//go:embed templates/*.html
var templates embed.FS

// ICPSummary is the served model in brief.
type ICPSummary struct {
	ModelVersion string           `json:"model_version"`
	Segments     []SegmentSummary `json:"segments"`
	// Tiers lists the tiers best first with their lowest score.
	Tiers []TierSummary `json:"tiers"`
}

// SegmentSummary is one ICP segment.
type SegmentSummary struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Share  float64  `json:"share"`
	Lift   float64  `json:"lift"`
	Traits []string `json:"traits"`
}

// TierSummary is one tier's threshold.
type TierSummary struct {
	Tier     icp.Tier `json:"tier"`
	MinScore float64  `json:"min_score"`
}

// Page is what one dashboard page shows and who it is for.
type Page struct {
	// Now is when the page is made.
	Now time.Time
	// ICP is the served model in brief; nil shows none.
	ICP *ICPSummary
	// Report is the latest drift report, made at ReportAt; when it is nil,
	// ReportErr says why.
	Report    *icp.WatchReport
	ReportAt  time.Time
	ReportErr string
	// Alerts are the alerts to show, in any order; when they could not be
	// listed, AlertsErr says why.
	Alerts    []icp.Alert
	AlertsErr string
	// Channels is the recent outcomes by channel; nil, with ChannelsErr
	// empty, leaves the section out (the model has no channel column).
	Channels    *ChannelSummary
	ChannelsErr string

	// Viewer names who is looking (the name of the API key signed in
	// with); empty when authentication is off.
	Viewer string
	// SignedIn shows the sign-out button: the page was asked with a
	// session.
	SignedIn bool
	// CanReview shows the acknowledge and resolve buttons.
	CanReview bool
	// CSRFToken is the session's token, which the page's posts send in
	// the X-CSRF-Token header.
	CSRFToken string
	// Nonce is the nonce of the page's Content-Security-Policy, from
	// NewNonce.
	Nonce string
}

// SignIn is what the sign-in page shows.
type SignIn struct {
	// Nonce is the nonce of the page's Content-Security-Policy, from
	// NewNonce.
	Nonce string
}

// Renderer writes the dashboard's pages. It is safe for concurrent use.
type Renderer struct {
	t *template.Template
}

// New parses the embedded templates.
func New() (*Renderer, error) {
	t, err := template.New("dashboard").Funcs(funcs()).ParseFS(templates, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard: parse templates: %w", err)
	}
	return &Renderer{t: t}, nil
}

// Page writes the dashboard for p. Nothing is written when rendering
// fails.
func (r *Renderer) Page(w io.Writer, p Page) error {
	return r.execute(w, "page", newView(p))
}

// SignIn writes the sign-in page.
func (r *Renderer) SignIn(w io.Writer, s SignIn) error {
	return r.execute(w, "signin", s)
}

// funcs are the template functions.
func funcs() template.FuncMap {
	return template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "never"
			}
			return t.UTC().Format("2 Jan 2006, 15:04 UTC")
		},
		"short": func(t time.Time) string { return t.UTC().Format("2 Jan 15:04 UTC") },
		"pct":   func(v float64) string { return formatValue(v, "share") },
		"num":   func(v float64) string { return formatValue(v, "") },
		"stat":  statistic,
		"tier":  icp.Tier.Title,
		"join":  strings.Join,
		"plural": func(n int, one, many string) string {
			if n == 1 {
				return one
			}
			return many
		},
	}
}

func (r *Renderer) execute(w io.Writer, name string, data any) error {
	var buf bytes.Buffer
	if err := r.t.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("dashboard: render %s: %w", name, err)
	}
	if _, err := buf.WriteTo(w); err != nil {
		return fmt.Errorf("dashboard: write %s: %w", name, err)
	}
	return nil
}

// NewNonce returns a fresh random nonce for ContentSecurityPolicy.
func NewNonce() string {
	var b [18]byte
	// crypto/rand.Read is documented never to return an error.
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ContentSecurityPolicy is the policy to send with a page rendered with
// nonce: nothing is loaded from elsewhere, only the page's own style and
// script elements run, the script talks only to the server that sent it,
// and no other site may frame the page.
func ContentSecurityPolicy(nonce string) string {
	return "default-src 'none'; style-src 'nonce-" + nonce + "'; script-src 'nonce-" + nonce + "'; " +
		"connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}
