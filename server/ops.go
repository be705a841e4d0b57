package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/server/dashboard"
)

// defaultMaxBatch is the batch size cap of POST /v1/outcomes when
// OpsConfig.MaxBatch is zero.
const defaultMaxBatch = 1000

// idempotencyHeader makes an outcome write safe to retry.
const idempotencyHeader = "Idempotency-Key"

// errNoStore answers the outcome, drift and alert routes of a server
// started without a store.
var errNoStore = fmt.Errorf("no store configured: %w", icp.ErrUnavailable)

// OutcomeRecorder stores a batch of outcomes durably before it returns. A
// non-empty idempotencyKey makes the write safe to retry: a repeat with the
// same batch returns the first result with Replayed set, and with another
// batch an error matching icp.ErrConflict.
type OutcomeRecorder interface {
	RecordOutcomes(ctx context.Context, idempotencyKey string, outcomes []icp.Outcome) (icp.RecordResult, error)
}

// OutcomeObserver is told about outcomes once they are stored (the drift
// watcher). It must return quickly.
type OutcomeObserver interface {
	ObserveOutcomes(ctx context.Context, outcomes []icp.Outcome)
}

// ScoreObserver is offered every account scored; it must never block.
type ScoreObserver interface {
	ObserveScore(sa icp.ScoredAccount) bool
}

// DriftSource returns the latest drift report, or an error matching
// icp.ErrNotFound when none has been made yet.
type DriftSource interface {
	LatestDriftReport(ctx context.Context) (icp.DriftReport, error)
}

// AlertService lists alerts and moves them through their review.
type AlertService interface {
	// Alerts returns the alerts with the given status ("" for all), most
	// recently seen first; limit <= 0 means all.
	Alerts(ctx context.Context, status icp.AlertStatus, limit int) ([]icp.Alert, error)
	// SetAlertStatus moves an alert, returning icp.ErrNotFound for an
	// unknown id and icp.ErrInvalid for a move out of resolved.
	SetAlertStatus(ctx context.Context, id string, status icp.AlertStatus, by string) (icp.Alert, error)
}

// OpsConfig wires the outcome, drift, alert and dashboard routes. Every
// field is optional: a route whose dependency is nil answers 503 "no store
// configured", so clients see the same API on every server.
type OpsConfig struct {
	Outcomes OutcomeRecorder
	// Observer is told about stored outcomes; nil tells no one.
	Observer OutcomeObserver
	// Scores is offered every scored account; nil offers them to no one.
	Scores ScoreObserver
	Drift  DriftSource
	Alerts AlertService
	// ICP summarizes the served model for the dashboard, asked on every
	// page so that a swapped model shows at once; nil shows none.
	ICP func() *dashboard.ICPSummary
	// Channels gives the dashboard the recent outcomes by channel, asked
	// on every page; nil, or a nil summary, shows none (the model has no
	// channel column).
	Channels func(ctx context.Context) (*dashboard.ChannelSummary, error)
	// MaxBatch caps the outcomes of one POST /v1/outcomes. Zero means 1000.
	MaxBatch int
}

// registerOps adds the outcome, drift, alert and dashboard routes.
func (s *Server) registerOps(e *gin.Engine) {
	if s.ops.MaxBatch <= 0 {
		s.ops.MaxBatch = defaultMaxBatch
	}
	e.POST("/v1/outcomes", s.handle(s.handleOutcomes))
	e.GET("/v1/drift", s.handle(s.handleDrift))
	e.GET("/v1/alerts", s.handle(s.handleAlerts))
	e.POST("/v1/alerts/:id/acknowledge", s.handle(s.handleAlertStatus(icp.AlertAcknowledged)))
	e.POST("/v1/alerts/:id/resolve", s.handle(s.handleAlertStatus(icp.AlertResolved)))
	s.registerDashboard(e)
}

// observeScore offers a successful score to the ScoreObserver.
func (s *Server) observeScore(acc icp.Account, sc *icp.Score) {
	if s.ops.Scores == nil {
		return
	}
	seg := ""
	if sc.Segment != nil {
		seg = sc.Segment.ID
	}
	s.ops.Scores.ObserveScore(icp.ScoredAccount{
		Time: s.now(), ModelVersion: sc.ModelVersion, AccountID: sc.AccountID,
		Account: acc, Score: sc.Score, Tier: sc.Tier, SegmentID: seg,
	})
}

// handleOutcomes records one outcome or a batch.
func (s *Server) handleOutcomes(c *gin.Context) error {
	if s.ops.Outcomes == nil {
		return errNoStore
	}
	body, err := readBody(c.Request, s.maxBody)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	check := func(acc icp.Account) error { return s.checkAccount(ctx, acc) }
	outs, err := decodeOutcomes(body, s.ops.MaxBatch, check)
	if err != nil {
		return err
	}
	res, err := s.ops.Outcomes.RecordOutcomes(ctx, c.GetHeader(idempotencyHeader), outs)
	if err != nil {
		return fmt.Errorf("record outcomes: %w", err)
	}
	status := http.StatusCreated
	if res.Replayed {
		status = http.StatusOK
	} else if s.ops.Observer != nil {
		s.ops.Observer.ObserveOutcomes(context.WithoutCancel(ctx), outs)
	}
	return s.writeJSON(c, status, res)
}

// handleDrift answers the latest drift report.
func (s *Server) handleDrift(c *gin.Context) error {
	if s.ops.Drift == nil {
		return errNoStore
	}
	r, err := s.ops.Drift.LatestDriftReport(c.Request.Context())
	if err != nil {
		return fmt.Errorf("drift report: %w", err)
	}
	return s.writeJSON(c, http.StatusOK, r)
}

// alertsBody is the answer of GET /v1/alerts.
type alertsBody struct {
	Alerts []icp.Alert `json:"alerts"`
}

// handleAlerts lists alerts, optionally filtered by ?status= and cut by
// ?limit=.
func (s *Server) handleAlerts(c *gin.Context) error {
	if s.ops.Alerts == nil {
		return errNoStore
	}
	var v icp.ValidationError
	status := icp.AlertStatus(c.Query("status"))
	switch status {
	case "", icp.AlertOpen, icp.AlertAcknowledged, icp.AlertResolved:
	default:
		v.Add("status", "must be open, acknowledged or resolved")
	}
	limit := 0
	if q := c.Query("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 0 {
			v.Add("limit", "must be a whole number >= 0")
		}
		limit = n
	}
	if err := v.Err(); err != nil {
		return err
	}
	alerts, err := s.ops.Alerts.Alerts(c.Request.Context(), status, limit)
	if err != nil {
		return fmt.Errorf("list alerts: %w", err)
	}
	if alerts == nil {
		alerts = []icp.Alert{}
	}
	return s.writeJSON(c, http.StatusOK, alertsBody{Alerts: alerts})
}

// maxByLen bounds the "by" name of a status change.
const maxByLen = 200

// handleAlertStatus moves an alert to status; the optional JSON body
// {"by": "name"} names who did it.
func (s *Server) handleAlertStatus(status icp.AlertStatus) func(*gin.Context) error {
	return func(c *gin.Context) error {
		by, err := s.readBy(c)
		if err != nil {
			return err
		}
		a, err := s.ops.Alerts.SetAlertStatus(c.Request.Context(), c.Param("id"), status, by)
		if err != nil {
			return fmt.Errorf("set alert status: %w", err)
		}
		return s.writeJSON(c, http.StatusOK, a)
	}
}

// readBy reads the optional {"by": "name"} body of an alert's status
// change, once the alerts store is known to be there.
func (s *Server) readBy(c *gin.Context) (string, error) {
	if s.ops.Alerts == nil {
		return "", errNoStore
	}
	body, err := readBody(c.Request, s.maxBody)
	if err != nil {
		return "", err
	}
	return decodeBy(body)
}

// decodeBy reads the optional {"by": "name"} body of a status change.
func decodeBy(body []byte) (string, error) {
	if skipSpace(body, 0) == len(body) {
		return "", nil
	}
	by, _, err := decodeStringField(body, "by", maxByLen)
	return by, err
}

// decodeStringField reads a body that is one JSON object holding at most
// the string field name, of at most maxLen characters (no limit when
// maxLen is 0). It returns the value trimmed of spaces and whether the
// field was there; any other field, or a value that is not a string, is a
// validation error naming the field.
func decodeStringField(body []byte, name string, maxLen int) (string, bool, error) {
	fields, err := decodeObject(body)
	if err != nil {
		return "", false, err
	}
	var v icp.ValidationError
	val := ""
	for k, raw := range fields {
		if k != name {
			v.Add(k, "unknown field")
			continue
		}
		if err := json.Unmarshal(raw, &val); err != nil {
			v.Add(name, "must be a string")
		} else if maxLen > 0 && utf8.RuneCountInString(val) > maxLen {
			v.Add(name, fmt.Sprintf("must be at most %d characters", maxLen))
		}
	}
	_, ok := fields[name]
	sortFieldErrors(v.Fields)
	return strings.TrimSpace(val), ok, v.Err()
}

// decodeObject checks that body is one JSON object and returns its fields.
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	if !utf8.Valid(body) {
		return nil, &bodyError{Offset: invalidUTF8Offset(body), Msg: "request body is not valid UTF-8"}
	}
	if !json.Valid(body) {
		return nil, diagnose(body)
	}
	start := skipSpace(body, 0)
	if body[start] != '{' {
		return nil, &bodyError{Offset: int64(start), Msg: "want a JSON object, got " + kindOf(body[start])}
	}
	if path, dup := duplicateKey(body); dup {
		return nil, duplicateError(path)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("decode object: %w", err)
	}
	return m, nil
}

// decodeOutcomes parses the body of POST /v1/outcomes: one outcome object,
// an array of them, or {"outcomes": [...]}. Every problem is a field error;
// in a batch, fields are named "outcomes[3].close_date". A repeated key
// anywhere in the body is refused. check, when not nil, validates each
// outcome's account as the scorer does (see AccountChecker), so that the
// route stores only accounts POST /v1/score would take, with the same
// messages ("outcomes[3].account.employees: must not be negative"); an
// error of check that is not an *icp.ValidationError is returned as it is.
func decodeOutcomes(body []byte, maxBatch int, check func(icp.Account) error) ([]icp.Outcome, error) {
	if !utf8.Valid(body) {
		return nil, &bodyError{Offset: invalidUTF8Offset(body), Msg: "request body is not valid UTF-8"}
	}
	if !json.Valid(body) {
		return nil, diagnose(body)
	}
	start := skipSpace(body, 0)
	if path, dup := duplicateKey(body); dup {
		if body[start] == '[' {
			path = "outcomes" + path
		}
		return nil, duplicateError(path)
	}
	var (
		raws  []json.RawMessage
		batch = true
	)
	switch body[start] {
	case '[':
		if err := json.Unmarshal(body, &raws); err != nil {
			return nil, fmt.Errorf("decode outcomes: %w", err)
		}
	case '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, fmt.Errorf("decode outcomes: %w", err)
		}
		if list, ok := m["outcomes"]; ok && len(m) == 1 {
			if err := json.Unmarshal(list, &raws); err != nil {
				var v icp.ValidationError
				v.Add("outcomes", "must be an array of outcome objects")
				return nil, v.Err()
			}
		} else {
			raws, batch = []json.RawMessage{json.RawMessage(body[start:])}, false
		}
	default:
		return nil, &bodyError{Offset: int64(start), Msg: "want an outcome object or an array of them, got " + kindOf(body[start])}
	}
	var v icp.ValidationError
	switch {
	case len(raws) == 0:
		v.Add("outcomes", "must hold at least one outcome")
		return nil, v.Err()
	case len(raws) > maxBatch:
		v.Add("outcomes", fmt.Sprintf("must hold at most %d outcomes, got %d", maxBatch, len(raws)))
		return nil, v.Err()
	}
	outs := make([]icp.Outcome, len(raws))
	for i, raw := range raws {
		prefix := ""
		if batch {
			prefix = "outcomes[" + strconv.Itoa(i) + "]."
		}
		o, err := decodeOutcome(raw, prefix, &v, check)
		if err != nil {
			return nil, fmt.Errorf("check %saccount: %w", prefix, err)
		}
		outs[i] = o
	}
	return outs, v.Err()
}

// minCloseYear is the earliest year of a close date: a year before it is a
// placeholder (0001-01-01 is the zero date of many systems), not a deal.
const minCloseYear = 1900

// decodeOutcome parses one outcome object, adding its problems to v with
// field names starting with prefix. It returns an error only when check
// fails other than with field errors.
func decodeOutcome(raw json.RawMessage, prefix string, v *icp.ValidationError, check func(icp.Account) error) (icp.Outcome, error) {
	var o icp.Outcome
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		v.Add(strings.TrimSuffix(prefix, "."), "must be an outcome object")
		if prefix == "" {
			v.Fields[len(v.Fields)-1].Field = "outcome"
		}
		return o, nil
	}
	var fields []icp.FieldError
	add := func(name, msg string) { fields = append(fields, icp.FieldError{Field: prefix + name, Message: msg}) }
	isNull := func(r json.RawMessage) bool { return string(r) == "null" }
	seenOutcome := false
	for k, r := range m {
		switch k {
		case "account_id":
			if err := json.Unmarshal(r, &o.AccountID); err != nil || strings.TrimSpace(o.AccountID) == "" {
				add(k, "must be a non-empty string")
			}
		case "account":
			if isNull(r) {
				continue
			}
			acc, err := decodeAccount(r)
			var fe *icp.ValidationError
			switch {
			case errors.As(err, &fe):
				for _, f := range fe.Fields {
					add("account."+f.Field, f.Message)
				}
			case err != nil:
				add(k, "must be an object of account fields")
				continue
			}
			o.Account = acc
			if check == nil {
				continue
			}
			// The fields that passed the decoder go to the scorer's
			// validation, as POST /v1/score sends them.
			if err := check(acc); err != nil {
				if !errors.As(err, &fe) {
					return o, err
				}
				for _, f := range fe.Fields {
					add("account."+f.Field, f.Message)
				}
			}
		case "outcome":
			seenOutcome = true
			var s string
			_ = json.Unmarshal(r, &s)
			switch strings.ToLower(s) {
			case "won":
				o.Won = true
			case "lost":
			default:
				add(k, `must be "won" or "lost"`)
			}
		case "churned":
			if isNull(r) {
				continue
			}
			var b bool
			if err := json.Unmarshal(r, &b); err != nil {
				add(k, "must be true, false or null")
				continue
			}
			o.Churned = &b
		case "close_date":
			var s string
			if err := json.Unmarshal(r, &s); err != nil {
				add(k, "must be a date string such as 2026-03-01")
				continue
			}
			t, err := icp.ParseDate(s)
			if err != nil {
				add(k, fmt.Sprintf("must be a date such as 2026-03-01, got %q", truncateKey(s)))
				continue
			}
			if t.Year() < minCloseYear {
				add(k, fmt.Sprintf("must be a real close date, on or after %d-01-01, got %q", minCloseYear, truncateKey(s)))
				continue
			}
			o.CloseDate = t
		case "ltv_usd", "sales_cycle_days":
			if isNull(r) {
				continue
			}
			var f float64
			if err := json.Unmarshal(r, &f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
				add(k, "must be a finite number >= 0 or null")
				continue
			}
			if k == "ltv_usd" {
				o.LTVUSD = &f
			} else {
				o.CycleDays = &f
			}
		default:
			add(k, "unknown field")
		}
	}
	if _, ok := m["account_id"]; !ok {
		add("account_id", "is required")
	}
	if !seenOutcome {
		add("outcome", `is required ("won" or "lost")`)
	}
	if _, ok := m["close_date"]; !ok {
		add("close_date", "is required")
	}
	sortFieldErrors(fields)
	v.Fields = append(v.Fields, fields...)
	return o, nil
}

// sortFieldErrors orders field errors by field then message, so that
// answers do not depend on map order.
func sortFieldErrors(f []icp.FieldError) {
	for i := 1; i < len(f); i++ {
		for j := i; j > 0 && (f[j].Field < f[j-1].Field || f[j].Field == f[j-1].Field && f[j].Message < f[j-1].Message); j-- {
			f[j], f[j-1] = f[j-1], f[j]
		}
	}
}
