package watch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/icpengine/icp"
)

// The webhook formats of DelivererConfig.Format.
const (
	// FormatGeneric posts the PayloadEvent JSON, signed with the secret.
	FormatGeneric = "generic"
	// FormatSlack posts a Slack incoming-webhook message: a plain "text"
	// for notifications and Block Kit "blocks" for the message itself.
	FormatSlack = "slack"
	// FormatTeams posts a Microsoft Teams message carrying an Adaptive
	// Card ({"type": "message", "attachments": [...]}), as Teams incoming
	// webhooks and the Workflows "post to a channel when a webhook request
	// is received" template take it.
	FormatTeams = "teams"
)

// Formats lists the webhook formats.
func Formats() []string { return []string{FormatGeneric, FormatSlack, FormatTeams} }

// Limits of the Slack Block Kit fields this package fills (Slack's Block
// Kit reference: a header's text, a section's text and each of its fields,
// a button's label).
const (
	slackHeaderMax  = 150
	slackSectionMax = 3000
	slackFieldMax   = 2000
	slackButtonMax  = 75
)

// Render returns the body a webhook of the given format receives for a
// stored payload (a PayloadEvent as Payload encodes it). The generic
// format gets the payload unchanged; Slack and Teams get a message written
// from the alert's title, summary, recommended action, measure and trend,
// which links to link when it is not empty. It fails for an unknown format
// or a payload that is not a PayloadEvent.
func Render(format string, payload []byte, link string) ([]byte, error) {
	switch format {
	case "", FormatGeneric:
		return payload, nil
	case FormatSlack, FormatTeams:
	default:
		return nil, fmt.Errorf("render webhook: unknown format %q (want %s)", format, strings.Join(Formats(), ", "))
	}
	var ev PayloadEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("render webhook: decode payload: %w", err)
	}
	if ev.Alert.ID == "" {
		return nil, fmt.Errorf("render webhook: payload has no alert: %w", icp.ErrInvalid)
	}
	m := newMessage(ev, link)
	var v any = m.teams()
	if format == FormatSlack {
		v = m.slack()
	}
	// Without HTML escaping: the body is read by the services, not
	// embedded in a page, and Slack's own escapes stay legible.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("render webhook: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// message is an alert notification in words, before its layout.
type message struct {
	resolved bool
	severity string // "Critical", "Warning", "Info" or "Resolved"
	title    string
	summary  string
	// next is the recommended action, or the resolution.
	nextLabel, next string
	facts           [][2]string
	trend           string
	link            string
}

func newMessage(ev PayloadEvent, link string) message {
	a := ev.Alert
	m := message{resolved: ev.Event == EventResolved || a.Status == icp.AlertResolved, title: a.Title,
		summary: a.Summary, nextLabel: "Recommended action", next: a.Action, link: link}
	if m.title == "" {
		m.title = a.GroupKey
	}
	m.severity = titleCase(string(a.Severity))
	if m.resolved {
		m.severity = "Resolved"
		m.nextLabel, m.next = "Resolution", a.Resolution
		if m.next == "" {
			m.next = "Resolved by " + a.UpdatedBy + "."
		}
	}
	if a.Subject != "" {
		m.facts = append(m.facts, [2]string{"About", a.Subject})
	}
	m.facts = append(m.facts, [2]string{"Severity", titleCase(string(a.Severity))})
	if ms := a.Measure; ms != nil {
		m.facts = append(m.facts, [2]string{titleCase(ms.Label), measureText(ms)})
	}
	if !a.FirstSeen.IsZero() {
		m.facts = append(m.facts, [2]string{"Open since", a.FirstSeen.UTC().Format("2 Jan 2006 15:04 UTC")})
	}
	if t := a.Trend; t != nil && len(t.Points) >= 2 {
		first, last := t.Points[0].Value, t.Points[len(t.Points)-1].Value
		m.trend = fmt.Sprintf("%s over the last %d evaluations: %s  %s → %s", titleCase(t.Label), len(t.Points),
			sparkline(t.Points), trendValue(t, first), trendValue(t, last))
	}
	return m
}

// measureText reads "24% (95% interval 21–27%), baseline 8%".
func measureText(m *icp.AlertMeasure) string {
	if m.Unit == "share" {
		return fmt.Sprintf("%s (95%% interval %s), baseline %s", pct(m.Value), pctRange(m.Low, m.High), pct(m.Baseline))
	}
	return fmt.Sprintf("%s (95%% interval %s–%s), baseline %s", number(m.Value), number(m.Low), number(m.High), number(m.Baseline))
}

func trendValue(t *icp.AlertTrend, v float64) string {
	if t.Unit == "share" {
		return pct(v)
	}
	return fmt.Sprintf("%.2f", v)
}

// sparkline draws the values with the eight block characters, lowest to
// highest.
func sparkline(pts []icp.TrendPoint) string {
	const bars = "▁▂▃▄▅▆▇█"
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
	}
	runes := []rune(bars)
	var b strings.Builder
	for _, p := range pts {
		i := len(runes) / 2
		if hi > lo {
			i = int(math.Round((p.Value - lo) / (hi - lo) * float64(len(runes)-1)))
		}
		b.WriteRune(runes[i])
	}
	return b.String()
}

func titleCase(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return strings.ToUpper(string(r)) + s[n:]
}

// cut shortens s to at most n runes, ending with an ellipsis when cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// slackEscape escapes the three characters Slack's mrkdwn reads as markup
// (so that "<!channel>" in a value never pings anyone).
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// slackText is a Block Kit text object.
type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// slackBlock is a Block Kit layout block: header, section, context or
// actions.
type slackBlock struct {
	Type     string         `json:"type"`
	Text     *slackText     `json:"text,omitempty"`
	Fields   []slackText    `json:"fields,omitempty"`
	Elements []slackElement `json:"elements,omitempty"`
}

// slackElement is a context element (a text object) or a button.
type slackElement struct {
	Type string `json:"type"`
	Text any    `json:"text"`
	URL  string `json:"url,omitempty"`
}

// slackMessage is the body of a Slack incoming webhook.
type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

func (m message) slack() slackMessage {
	mrk := func(s string, n int) *slackText { return &slackText{Type: "mrkdwn", Text: cut(slackEscape(s), n)} }
	blocks := []slackBlock{
		{Type: "header", Text: &slackText{Type: "plain_text", Text: cut(m.severity+": "+m.title, slackHeaderMax)}},
		{Type: "section", Text: mrk(m.summary, slackSectionMax)},
	}
	if m.next != "" {
		blocks = append(blocks, slackBlock{Type: "section",
			Text: &slackText{Type: "mrkdwn", Text: cut("*"+m.nextLabel+"*\n"+slackEscape(m.next), slackSectionMax)}})
	}
	var fields []slackText
	for _, f := range m.facts[:min(len(m.facts), 10)] {
		fields = append(fields, slackText{Type: "mrkdwn", Text: cut("*"+slackEscape(f[0])+"*\n"+slackEscape(f[1]), slackFieldMax)})
	}
	if len(fields) > 0 {
		blocks = append(blocks, slackBlock{Type: "section", Fields: fields})
	}
	if m.trend != "" {
		blocks = append(blocks, slackBlock{Type: "context", Elements: []slackElement{{Type: "mrkdwn", Text: cut(slackEscape(m.trend), slackSectionMax)}}})
	}
	if m.link != "" {
		blocks = append(blocks, slackBlock{Type: "actions", Elements: []slackElement{{Type: "button",
			Text: slackText{Type: "plain_text", Text: cut("Open the dashboard", slackButtonMax)}, URL: m.link}}})
	}
	return slackMessage{Text: cut(slackEscape(m.severity+": "+m.title+". "+m.summary), slackSectionMax), Blocks: blocks}
}

// teamsMessage is the body of a Teams incoming webhook or Workflows
// trigger: a message with one Adaptive Card attachment.
type teamsMessage struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"`
	ContentURL  *string   `json:"contentUrl"`
	Content     teamsCard `json:"content"`
}

// teamsCard is an Adaptive Card (schema version 1.2, which Teams renders
// everywhere).
type teamsCard struct {
	Schema  string        `json:"$schema"`
	Type    string        `json:"type"`
	Version string        `json:"version"`
	Body    []teamsItem   `json:"body"`
	Actions []teamsAction `json:"actions,omitempty"`
}

// teamsItem is a TextBlock or a FactSet.
type teamsItem struct {
	Type     string      `json:"type"`
	Text     string      `json:"text,omitempty"`
	Wrap     bool        `json:"wrap,omitempty"`
	Weight   string      `json:"weight,omitempty"`
	Size     string      `json:"size,omitempty"`
	Color    string      `json:"color,omitempty"`
	IsSubtle bool        `json:"isSubtle,omitempty"`
	Facts    []teamsFact `json:"facts,omitempty"`
}

type teamsFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

type teamsAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

func (m message) teams() teamsMessage {
	color := "default"
	switch m.severity {
	case "Critical":
		color = "attention"
	case "Warning":
		color = "warning"
	case "Resolved":
		color = "good"
	case "Info":
		color = "accent"
	}
	body := []teamsItem{
		{Type: "TextBlock", Text: strings.ToUpper(m.severity), Weight: "bolder", Size: "small", Color: color},
		{Type: "TextBlock", Text: m.title, Weight: "bolder", Size: "medium", Wrap: true},
		{Type: "TextBlock", Text: m.summary, Wrap: true},
	}
	if m.next != "" {
		body = append(body,
			teamsItem{Type: "TextBlock", Text: m.nextLabel, Weight: "bolder", Wrap: true},
			teamsItem{Type: "TextBlock", Text: m.next, Wrap: true})
	}
	var facts []teamsFact
	for _, f := range m.facts {
		facts = append(facts, teamsFact{Title: f[0], Value: f[1]})
	}
	if len(facts) > 0 {
		body = append(body, teamsItem{Type: "FactSet", Facts: facts})
	}
	if m.trend != "" {
		body = append(body, teamsItem{Type: "TextBlock", Text: m.trend, Wrap: true, IsSubtle: true, Size: "small"})
	}
	card := teamsCard{Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.2", Body: body}
	if m.link != "" {
		card.Actions = []teamsAction{{Type: "Action.OpenUrl", Title: "Open the dashboard", URL: m.link}}
	}
	return teamsMessage{Type: "message", Attachments: []teamsAttachment{{
		ContentType: "application/vnd.microsoft.card.adaptive", Content: card}}}
}
