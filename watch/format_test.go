package watch_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/drift"
	"github.com/icpengine/icp/watch"
)

// receiver is a local webhook endpoint that checks each body against the
// shape its service documents and keeps what it accepted.
type receiver struct {
	t      *testing.T
	check  func(h http.Header, body []byte) error
	status int
	mu     sync.Mutex
	bodies [][]byte
	errs   []error
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	err := r.check(req.Header, body)
	if err == nil && (req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json") {
		err = fmt.Errorf("%s with Content-Type %q, want a JSON POST", req.Method, req.Header.Get("Content-Type"))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%w in %s", err, body))
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	r.bodies = append(r.bodies, body)
	w.WriteHeader(r.status)
	fmt.Fprint(w, "ok")
}

// checkSlack checks an incoming-webhook message as Slack's Block Kit
// reference describes it: a non-empty "text" (the notification), at most
// 50 blocks; a header is plain_text of at most 150 characters; a section
// has a text of at most 3,000 or 1 to 10 fields of at most 2,000; a
// context has 1 to 10 text elements; an actions block has buttons with a
// plain_text label of at most 75 characters and a URL.
func checkSlack(h http.Header, body []byte) error {
	if h.Get(watch.SignatureHeader) != "" || h.Get(watch.AlertIDHeader) != "" {
		return errors.New("slack message carries the generic format's headers")
	}
	var msg map[string]json.RawMessage
	if err := json.Unmarshal(body, &msg); err != nil {
		return err
	}
	for k := range msg {
		if k != "text" && k != "blocks" {
			return fmt.Errorf("unexpected top-level field %q", k)
		}
	}
	var m struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type   string          `json:"type"`
			Text   *textObject     `json:"text"`
			Fields []textObject    `json:"fields"`
			Elems  json.RawMessage `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return err
	}
	if strings.TrimSpace(m.Text) == "" {
		return errors.New("no text")
	}
	if len(m.Blocks) == 0 || len(m.Blocks) > 50 {
		return fmt.Errorf("%d blocks, want 1 to 50", len(m.Blocks))
	}
	for i, b := range m.Blocks {
		switch b.Type {
		case "header":
			if b.Text == nil || b.Text.Type != "plain_text" || b.Text.Text == "" || utf8.RuneCountInString(b.Text.Text) > 150 {
				return fmt.Errorf("block %d: header text %+v, want plain_text of 1 to 150 characters", i, b.Text)
			}
		case "section":
			switch {
			case b.Text != nil:
				if err := b.Text.check(3000); err != nil {
					return fmt.Errorf("block %d: %w", i, err)
				}
			case len(b.Fields) > 0 && len(b.Fields) <= 10:
				for _, f := range b.Fields {
					if err := f.check(2000); err != nil {
						return fmt.Errorf("block %d field: %w", i, err)
					}
				}
			default:
				return fmt.Errorf("block %d: section with neither text nor 1 to 10 fields", i)
			}
		case "context":
			var els []textObject
			if err := json.Unmarshal(b.Elems, &els); err != nil || len(els) == 0 || len(els) > 10 {
				return fmt.Errorf("block %d: context elements %s, want 1 to 10 text objects", i, b.Elems)
			}
			for _, e := range els {
				if err := e.check(3000); err != nil {
					return fmt.Errorf("block %d: %w", i, err)
				}
			}
		case "actions":
			var els []struct {
				Type string     `json:"type"`
				Text textObject `json:"text"`
				URL  string     `json:"url"`
			}
			if err := json.Unmarshal(b.Elems, &els); err != nil || len(els) == 0 || len(els) > 25 {
				return fmt.Errorf("block %d: actions elements %s", i, b.Elems)
			}
			for _, e := range els {
				if e.Type != "button" || e.Text.Type != "plain_text" || e.Text.Text == "" || utf8.RuneCountInString(e.Text.Text) > 75 ||
					!strings.HasPrefix(e.URL, "http") || len(e.URL) > 3000 {
					return fmt.Errorf("block %d: button %+v", i, e)
				}
			}
		default:
			return fmt.Errorf("block %d: unexpected type %q", i, b.Type)
		}
	}
	return nil
}

type textObject struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func (o textObject) check(limit int) error {
	if o.Type != "mrkdwn" && o.Type != "plain_text" {
		return fmt.Errorf("text type %q, want mrkdwn or plain_text", o.Type)
	}
	if o.Text == "" || utf8.RuneCountInString(o.Text) > limit {
		return fmt.Errorf("text of %d characters, want 1 to %d", utf8.RuneCountInString(o.Text), limit)
	}
	// The engine writes no links or mentions: a "<" in mrkdwn would be
	// markup from the data ("<!channel>" pings everyone).
	if o.Type == "mrkdwn" && strings.Contains(o.Text, "<") {
		return fmt.Errorf("mrkdwn text %q has an unescaped <", o.Text)
	}
	return nil
}

// checkTeams checks a message as the Teams incoming-webhook documentation
// describes it: "type" "message", an "attachments" array whose items have
// the Adaptive Card content type and the card as "content"; the card has
// the Adaptive Card schema, type and a version, a body of TextBlocks and
// FactSets, and only Action.OpenUrl actions (Action.Submit is not
// supported by webhooks).
func checkTeams(h http.Header, body []byte) error {
	if h.Get(watch.SignatureHeader) != "" || h.Get(watch.AlertIDHeader) != "" {
		return errors.New("teams message carries the generic format's headers")
	}
	var m struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string           `json:"contentType"`
			ContentURL  *json.RawMessage `json:"contentUrl"`
			Content     struct {
				Schema  string `json:"$schema"`
				Type    string `json:"type"`
				Version string `json:"version"`
				Body    []struct {
					Type  string `json:"type"`
					Text  string `json:"text"`
					Facts []struct {
						Title string `json:"title"`
						Value string `json:"value"`
					} `json:"facts"`
				} `json:"body"`
				Actions []struct {
					Type  string `json:"type"`
					Title string `json:"title"`
					URL   string `json:"url"`
				} `json:"actions"`
			} `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return err
	}
	if m.Type != "message" || len(m.Attachments) == 0 {
		return fmt.Errorf("type %q with %d attachments, want a message with a card", m.Type, len(m.Attachments))
	}
	for _, a := range m.Attachments {
		c := a.Content
		if a.ContentType != "application/vnd.microsoft.card.adaptive" || c.Type != "AdaptiveCard" ||
			c.Schema != "http://adaptivecards.io/schemas/adaptive-card.json" || !strings.HasPrefix(c.Version, "1.") {
			return fmt.Errorf("attachment %s with a %s card version %q, schema %q", a.ContentType, c.Type, c.Version, c.Schema)
		}
		if len(c.Body) == 0 {
			return errors.New("card without a body")
		}
		for i, e := range c.Body {
			switch e.Type {
			case "TextBlock":
				if strings.TrimSpace(e.Text) == "" {
					return fmt.Errorf("body %d: empty TextBlock", i)
				}
			case "FactSet":
				if len(e.Facts) == 0 {
					return fmt.Errorf("body %d: empty FactSet", i)
				}
				for _, f := range e.Facts {
					if f.Title == "" || f.Value == "" {
						return fmt.Errorf("body %d: fact %+v", i, f)
					}
				}
			default:
				return fmt.Errorf("body %d: unexpected element %q", i, e.Type)
			}
		}
		for _, act := range c.Actions {
			if act.Type != "Action.OpenUrl" || act.Title == "" || !strings.HasPrefix(act.URL, "http") {
				return fmt.Errorf("action %+v, want Action.OpenUrl with a title and URL", act)
			}
		}
	}
	return nil
}

// checkGeneric checks the signed generic format.
func checkGeneric(secret []byte) func(http.Header, []byte) error {
	return func(h http.Header, body []byte) error {
		if got, want := h.Get(watch.SignatureHeader), watch.Sign(secret, body); got != want {
			return fmt.Errorf("signature %q, want %q", got, want)
		}
		var ev watch.PayloadEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			return err
		}
		if ev.Alert.ID == "" || h.Get(watch.AlertIDHeader) != ev.Alert.ID || (ev.Event != watch.EventAlert && ev.Event != watch.EventResolved) {
			return fmt.Errorf("event %q for alert %q with id header %q", ev.Event, ev.Alert.ID, h.Get(watch.AlertIDHeader))
		}
		return nil
	}
}

// TestWebhookFormats raises alerts of every kind, lets one resolve itself,
// and delivers them to a local receiver of each format.
func TestWebhookFormats(t *testing.T) {
	secret := []byte("s3cret")
	const link = "https://icp.example.com/dashboard"
	tests := []struct {
		format string
		secret []byte
		check  func(http.Header, []byte) error
		status int
		// want are strings every body of an alert carries.
		want []string
	}{
		{watch.FormatGeneric, secret, checkGeneric(secret), http.StatusOK, []string{`"event":`, `"details":`}},
		{watch.FormatSlack, nil, checkSlack, http.StatusOK, []string{`"header"`, "Recommended action", "dashboard"}},
		{watch.FormatTeams, nil, checkTeams, http.StatusAccepted, []string{"AdaptiveCard", "Recommended action", "Action.OpenUrl"}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			ctx := context.Background()
			m := newFakeModel()
			m.emerging = []icp.EmergingSegment{{Key: "industry=Logistics", Name: "Logistics <!channel> & co", Observed: 0.3, Expected: 0.05,
				PValue: 1e-9, Traits: []string{"industry is Logistics"}}}
			w, st, c := fakeWatcher(t, m, watch.Config{Monitor: drift.MonitorConfig{WindowSize: 300}, ResolveAfter: 20 * time.Minute})
			traffic(t, w, m, c, population{logistics: 0.4}, 300, 1)
			wins(w, 200, true, 2)
			if _, err := w.Evaluate(ctx); err != nil {
				t.Fatal(err)
			}
			for step := range 3 { // industry clears and resolves itself
				c.Advance(10 * time.Minute)
				traffic(t, w, m, c, population{}, 300, uint64(10+step))
				if _, err := w.Evaluate(ctx); err != nil {
					t.Fatal(err)
				}
			}
			rec := &receiver{t: t, check: tt.check, status: tt.status}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			d, err := watch.NewDeliverer(watch.DelivererConfig{Outbox: st, URL: srv.URL, Format: tt.format,
				Secret: tt.secret, Link: link, Now: c.Now})
			if err != nil {
				t.Fatal(err)
			}
			sent, failed, err := d.Flush(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range rec.errs {
				t.Errorf("receiver refused: %v", e)
			}
			all, _ := st.Alerts(ctx, "", 0)
			if failed != 0 || sent < 5 || len(rec.bodies) != sent {
				t.Fatalf("Flush = %d sent, %d failed, %d received, for %d alerts; want every delivery accepted", sent, failed, len(rec.bodies), len(all))
			}
			var resolved int
			for _, b := range rec.bodies {
				s := string(b)
				if strings.Contains(s, "Resolved on its own") {
					resolved++
					continue
				}
				for _, want := range tt.want {
					if !strings.Contains(s, want) {
						t.Errorf("body %.300s… lacks %q", s, want)
					}
				}
			}
			if resolved != 1 {
				t.Errorf("%d resolution messages, want 1", resolved)
			}
		})
	}
}

func TestRender(t *testing.T) {
	a := icp.Alert{ID: "a1", GroupKey: "feature_drift:industry", Severity: icp.SeverityCritical, Status: icp.AlertOpen,
		Title: strings.Repeat("Long title ", 30), Subject: "Industry", Summary: "Logistics accounts make up 36% <b>",
		Action: "Ask marketing.", Measure: &icp.AlertMeasure{Label: "share of Logistics accounts", Unit: "share", Value: 0.36, Low: 0.33, High: 0.39, Baseline: 0.1},
		Trend: &icp.AlertTrend{Label: "shift size (PSI)", Points: []icp.TrendPoint{{Value: 0.01}, {Value: 0.2}, {Value: 0.4}}}}
	payload, err := watch.Payload(a)
	if err != nil {
		t.Fatal(err)
	}
	generic, err := watch.Render(watch.FormatGeneric, payload, "")
	if err != nil || string(generic) != string(payload) {
		t.Errorf("Render(generic) = %s, %v; want the payload unchanged", generic, err)
	}
	slack, err := watch.Render(watch.FormatSlack, payload, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkSlack(http.Header{}, slack); err != nil {
		t.Errorf("Render(slack) = %s: %v", slack, err)
	}
	for _, want := range []string{"36% (95% interval 33–39%), baseline 10%", "▁▄█", "&lt;b&gt;", "Critical: Long title"} {
		if !strings.Contains(string(slack), want) {
			t.Errorf("Render(slack) = %s, want %q in it", slack, want)
		}
	}
	if strings.Contains(string(slack), `"actions"`) {
		t.Errorf("Render(slack) without a link = %s, want no button", slack)
	}
	teams, err := watch.Render(watch.FormatTeams, payload, "https://x.example/dashboard")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkTeams(http.Header{}, teams); err != nil || !strings.Contains(string(teams), "https://x.example/dashboard") {
		t.Errorf("Render(teams) = %s, %v; want a valid card with the link", teams, err)
	}
	bad := []struct {
		format  string
		payload string
	}{
		{"email", string(payload)},
		{watch.FormatSlack, `{"hello":1}`},
		{watch.FormatTeams, `not json`},
	}
	for _, b := range bad {
		if _, err := watch.Render(b.format, []byte(b.payload), ""); err == nil {
			t.Errorf("Render(%s, %s) = nil error, want one", b.format, b.payload)
		}
	}
}

func TestNewDelivererFormats(t *testing.T) {
	tests := []struct {
		format  string
		secret  []byte
		wantErr bool
	}{
		{"", []byte("s"), false},
		{watch.FormatGeneric, nil, false},
		{watch.FormatSlack, nil, false},
		{watch.FormatTeams, nil, false},
		{watch.FormatSlack, []byte("s"), true},
		{"pagerduty", nil, true},
	}
	for _, tt := range tests {
		_, err := watch.NewDeliverer(watch.DelivererConfig{Outbox: alertStore{}, URL: "http://127.0.0.1:1", Format: tt.format, Secret: tt.secret})
		if (err != nil) != tt.wantErr {
			t.Errorf("NewDeliverer(format %q, secret %q) = %v, want error %v", tt.format, tt.secret, err, tt.wantErr)
		}
	}
	if !slices.Equal(watch.Formats(), []string{"generic", "slack", "teams"}) {
		t.Errorf("Formats() = %v", watch.Formats())
	}
}
