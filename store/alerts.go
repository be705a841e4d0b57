package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/icpengine/icp"
)

// Default alert policy values, used for zero fields of AlertPolicy.
const (
	DefaultCooldown       = 6 * time.Hour
	DefaultRepeatInterval = 24 * time.Hour
)

// AlertPolicy tunes deduplication in RaiseAlert.
type AlertPolicy struct {
	// Cooldown is how long after an alert was resolved a new raise for the
	// same group key is suppressed instead of opening a new alert. Zero means
	// DefaultCooldown (6h).
	Cooldown time.Duration
	// RepeatInterval is the least time between two notifications of the same
	// open alert. Zero means DefaultRepeatInterval (24h).
	RepeatInterval time.Duration
}

func (p AlertPolicy) withDefaults() AlertPolicy {
	if p.Cooldown <= 0 {
		p.Cooldown = DefaultCooldown
	}
	if p.RepeatInterval <= 0 {
		p.RepeatInterval = DefaultRepeatInterval
	}
	return p
}

// PayloadFunc builds the webhook payload of an alert that is to be notified.
type PayloadFunc func(icp.Alert) (json.RawMessage, error)

// alertColumns lists the columns scanAlert reads, in order.
const alertColumns = `id, group_key, kind, severity, status, summary, evidence, first_seen, last_seen,
	count, updated_by, updated_at, last_notified_at, title, subject, action, measure, trend, resolution,
	resolved_at, notified_severity`

// AutoResolvedBy is the UpdatedBy of an alert that ResolveQuietAlert
// resolved.
const AutoResolvedBy = "auto-resolve"

// RaiseAlert records one observation of the condition a.GroupKey names and
// reports whether it should be notified. GroupKey, Kind, Severity, Title,
// Subject, Summary, Action, Measure, Trend and Details of a are read; times
// come from the store's clock.
//
// At most one open or acknowledged alert exists per group key:
//   - none, and none resolved within p.Cooldown: a new open alert with a new
//     stable ID and Count 1 is stored; notify is true.
//   - one: its LastSeen and Count are updated, and its Severity and texts
//     become those of a, so that the alert always shows the latest
//     observation (the severity may fall as well as rise); notify is true
//     when p.RepeatInterval has passed since its last notification or the
//     severity rose above the one last notified.
//   - none, but one resolved within p.Cooldown: nothing is written and the
//     resolved alert is returned with notify false.
//
// The whole decision is one transaction, safe under concurrent calls from
// several processes.
func (s *Store) RaiseAlert(ctx context.Context, a icp.Alert, p AlertPolicy) (icp.Alert, bool, error) {
	return s.RaiseAlertWithDelivery(ctx, a, p, nil)
}

// RaiseAlertWithDelivery is RaiseAlert that, when notify is true and payload
// is not nil, enqueues payload(alert) in the webhook outbox in the same
// transaction, so a notification is never lost nor enqueued for a write that
// rolled back.
func (s *Store) RaiseAlertWithDelivery(ctx context.Context, a icp.Alert, p AlertPolicy, payload PayloadFunc) (icp.Alert, bool, error) {
	var v icp.ValidationError
	if strings.TrimSpace(a.GroupKey) == "" {
		v.Add("group_key", "is required")
	}
	if severityRank(a.Severity) == 0 {
		v.Add("severity", fmt.Sprintf("must be %q, %q or %q", icp.SeverityInfo, icp.SeverityWarning, icp.SeverityCritical))
	}
	var (
		enc alertJSON
		err error
	)
	if enc.details, err = encodeJSON(a.Details); err != nil {
		v.Add("details", "cannot be encoded as JSON: "+err.Error())
	}
	if enc.measure, err = encodeJSON(a.Measure); err != nil {
		v.Add("measure", "cannot be encoded as JSON: "+err.Error())
	}
	if enc.trend, err = encodeJSON(a.Trend); err != nil {
		v.Add("trend", "cannot be encoded as JSON: "+err.Error())
	}
	if err := v.Err(); err != nil {
		return icp.Alert{}, false, fmt.Errorf("raise alert: %w", err)
	}
	p = p.withDefaults()

	var (
		out    icp.Alert
		notify bool
	)
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, notify, err = s.raiseTx(ctx, tx, a, enc, p)
		if err != nil || !notify || payload == nil {
			return err
		}
		body, err := payload(out)
		if err != nil {
			return fmt.Errorf("build payload: %w", err)
		}
		return s.enqueueTx(ctx, tx, out.ID, body, s.now())
	})
	if err != nil {
		return icp.Alert{}, false, fmt.Errorf("raise alert %s: %w", a.GroupKey, err)
	}
	return out, notify, nil
}

// alertJSON holds the JSON columns of an alert, encoded (nil for NULL).
type alertJSON struct {
	details, measure, trend any
}

func (s *Store) raiseTx(ctx context.Context, tx *sql.Tx, a icp.Alert, enc alertJSON, p AlertPolicy) (icp.Alert, bool, error) {
	now := s.now()
	// Two passes at most: a lost race to insert leaves the winner's row to
	// update on the second pass.
	for range 2 {
		cur, last, err := s.scanAlert(tx.QueryRowContext(ctx, s.d.q(`SELECT `+alertColumns+` FROM alerts
			WHERE group_key = ? AND status <> 'resolved'`+s.d.forUpdate), a.GroupKey))
		switch {
		case err == nil:
			notify := !now.Before(last.at.Add(p.RepeatInterval)) || severityRank(a.Severity) > severityRank(last.severity)
			notified, notifiedSev := s.d.nullTimeArg(last.at), string(last.severity)
			if notify {
				notified, notifiedSev = s.d.timeArg(now), string(a.Severity)
			}
			_, err := tx.ExecContext(ctx, s.d.q(`UPDATE alerts SET last_seen = ?, count = count + 1, severity = ?,
				title = ?, subject = ?, summary = ?, action = ?, measure = ?, trend = ?, evidence = ?,
				updated_at = ?, last_notified_at = ?, notified_severity = ? WHERE id = ?`),
				s.d.timeArg(now), string(a.Severity), a.Title, a.Subject, a.Summary, a.Action, enc.measure, enc.trend,
				enc.details, s.d.timeArg(now), notified, notifiedSev, cur.ID)
			if err != nil {
				return icp.Alert{}, false, fmt.Errorf("update alert: %w", err)
			}
			got, err := s.alertTx(ctx, tx, cur.ID)
			return got, notify, err
		case !errors.Is(err, sql.ErrNoRows):
			return icp.Alert{}, false, fmt.Errorf("read open alert: %w", err)
		}

		resolved, _, err := s.scanAlert(tx.QueryRowContext(ctx, s.d.q(`SELECT `+alertColumns+` FROM alerts
			WHERE group_key = ? AND status = 'resolved' AND resolved_at >= ?
			ORDER BY resolved_at DESC, id LIMIT 1`), a.GroupKey, s.d.timeArg(now.Add(-p.Cooldown))))
		if err == nil {
			return resolved, false, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return icp.Alert{}, false, fmt.Errorf("read resolved alert: %w", err)
		}

		id, err := newAlertID()
		if err != nil {
			return icp.Alert{}, false, err
		}
		ts := s.d.timeArg(now)
		r, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO alerts (id, group_key, kind, severity, status, summary, evidence,
			first_seen, last_seen, count, updated_by, updated_at, last_notified_at, title, subject, action, measure, trend,
			notified_severity)
			VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, 1, '', ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (group_key) WHERE status <> 'resolved' DO NOTHING`),
			id, a.GroupKey, a.Kind, string(a.Severity), a.Summary, enc.details, ts, ts, ts, ts,
			a.Title, a.Subject, a.Action, enc.measure, enc.trend, string(a.Severity))
		if err != nil {
			return icp.Alert{}, false, fmt.Errorf("insert alert: %w", err)
		}
		n, err := r.RowsAffected()
		if err != nil {
			return icp.Alert{}, false, fmt.Errorf("insert alert: %w", err)
		}
		if n == 1 {
			got, err := s.alertTx(ctx, tx, id)
			return got, true, err
		}
	}
	return icp.Alert{}, false, fmt.Errorf("alert group %q keeps changing concurrently", a.GroupKey)
}

// ResolveQuietAlert resolves the open or acknowledged alert of groupKey when
// it was last raised before quietSince, that is when no process raised it
// while its condition was being found clear. The resolved alert gets
// UpdatedBy AutoResolvedBy, the resolution text and, when trend is not nil,
// the trend; when payload is not nil, payload(alert) is enqueued in the
// webhook outbox in the same transaction. It reports false, with no error,
// when there is no such alert or it was raised since quietSince.
func (s *Store) ResolveQuietAlert(ctx context.Context, groupKey string, quietSince time.Time, resolution string,
	trend *icp.AlertTrend, payload PayloadFunc) (icp.Alert, bool, error) {
	tj, err := encodeJSON(trend)
	if err != nil {
		return icp.Alert{}, false, fmt.Errorf("resolve alert %s: encode trend: %w", groupKey, err)
	}
	var (
		out      icp.Alert
		resolved bool
	)
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		cur, _, err := s.scanAlert(tx.QueryRowContext(ctx, s.d.q(`SELECT `+alertColumns+` FROM alerts
			WHERE group_key = ? AND status <> 'resolved'`+s.d.forUpdate), groupKey))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read open alert: %w", err)
		}
		if !cur.LastSeen.Before(normTime(quietSince)) {
			return nil
		}
		now := s.d.timeArg(s.now())
		query := `UPDATE alerts SET status = 'resolved', updated_by = ?, updated_at = ?, resolved_at = ?, resolution = ? WHERE id = ?`
		args := []any{AutoResolvedBy, now, now, resolution, cur.ID}
		if trend != nil {
			query = `UPDATE alerts SET status = 'resolved', updated_by = ?, updated_at = ?, resolved_at = ?, resolution = ?, trend = ? WHERE id = ?`
			args = []any{AutoResolvedBy, now, now, resolution, tj, cur.ID}
		}
		if _, err := tx.ExecContext(ctx, s.d.q(query), args...); err != nil {
			return fmt.Errorf("update alert: %w", err)
		}
		if out, err = s.alertTx(ctx, tx, cur.ID); err != nil {
			return err
		}
		resolved = true
		if payload == nil {
			return nil
		}
		body, err := payload(out)
		if err != nil {
			return fmt.Errorf("build payload: %w", err)
		}
		return s.enqueueTx(ctx, tx, out.ID, body, s.now())
	})
	if err != nil {
		return icp.Alert{}, false, fmt.Errorf("resolve alert %s: %w", groupKey, err)
	}
	return out, resolved, nil
}

// ActiveAlerts returns the open and acknowledged alerts, most recently seen
// first.
func (s *Store) ActiveAlerts(ctx context.Context) ([]icp.Alert, error) {
	out, err := s.listAlerts(ctx, `SELECT `+alertColumns+` FROM alerts WHERE status <> 'resolved' ORDER BY last_seen DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list active alerts: %w", err)
	}
	return out, nil
}

// Alerts returns alerts with the given status ("" for all), most recently
// seen first. A limit <= 0 returns them all.
func (s *Store) Alerts(ctx context.Context, status icp.AlertStatus, limit int) ([]icp.Alert, error) {
	query := `SELECT ` + alertColumns + ` FROM alerts`
	var args []any
	if status != "" {
		if !validStatus(status) {
			var v icp.ValidationError
			v.Add("status", fmt.Sprintf("unknown alert status %q", status))
			return nil, fmt.Errorf("list alerts: %w", v.Err())
		}
		query += ` WHERE status = ?`
		args = append(args, string(status))
	}
	query += ` ORDER BY last_seen DESC, id`
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	out, err := s.listAlerts(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

func (s *Store) listAlerts(ctx context.Context, query string, args ...any) ([]icp.Alert, error) {
	rows, err := s.rdb.QueryContext(ctx, s.d.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []icp.Alert
	for rows.Next() {
		a, _, err := s.scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Alert returns the alert with the given id, or an error matching
// icp.ErrNotFound.
func (s *Store) Alert(ctx context.Context, id string) (icp.Alert, error) {
	a, _, err := s.scanAlert(s.rdb.QueryRowContext(ctx, s.d.q(`SELECT `+alertColumns+` FROM alerts WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return icp.Alert{}, fmt.Errorf("alert %q: %w", id, icp.ErrNotFound)
	}
	if err != nil {
		return icp.Alert{}, fmt.Errorf("alert %q: %w", id, err)
	}
	return a, nil
}

// SetAlertStatus moves an alert to status on behalf of by. Open and
// acknowledged alerts may move to any status; a resolved alert is final, and
// a new raise after the cooldown opens a new alert. Setting the current
// status again changes nothing. It returns an error matching icp.ErrNotFound
// for an unknown id and icp.ErrInvalid for an unknown status or a move out of
// resolved.
func (s *Store) SetAlertStatus(ctx context.Context, id string, status icp.AlertStatus, by string) (icp.Alert, error) {
	if !validStatus(status) {
		var v icp.ValidationError
		v.Add("status", fmt.Sprintf("unknown alert status %q", status))
		return icp.Alert{}, fmt.Errorf("set alert %q status: %w", id, v.Err())
	}
	var out icp.Alert
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		cur, _, err := s.scanAlert(tx.QueryRowContext(ctx, s.d.q(`SELECT `+alertColumns+` FROM alerts WHERE id = ?`+s.d.forUpdate), id))
		if errors.Is(err, sql.ErrNoRows) {
			return icp.ErrNotFound
		}
		if err != nil {
			return err
		}
		if cur.Status == status {
			out = cur
			return nil
		}
		if cur.Status == icp.AlertResolved {
			return fmt.Errorf("%w: a resolved alert cannot become %s", icp.ErrInvalid, status)
		}
		now := s.d.timeArg(s.now())
		var resolved any
		if status == icp.AlertResolved {
			resolved = now
		}
		if _, err := tx.ExecContext(ctx, s.d.q(`UPDATE alerts SET status = ?, updated_by = ?, updated_at = ?, resolved_at = ? WHERE id = ?`),
			string(status), by, now, resolved, id); err != nil {
			return err
		}
		out, err = s.alertTx(ctx, tx, id)
		return err
	})
	if err != nil {
		return icp.Alert{}, fmt.Errorf("set alert %q status: %w", id, err)
	}
	return out, nil
}

func (s *Store) alertTx(ctx context.Context, tx *sql.Tx, id string) (icp.Alert, error) {
	a, _, err := s.scanAlert(tx.QueryRowContext(ctx, s.d.q(`SELECT `+alertColumns+` FROM alerts WHERE id = ?`), id))
	if err != nil {
		return icp.Alert{}, fmt.Errorf("read alert %s: %w", id, err)
	}
	return a, nil
}

type rowScanner interface {
	Scan(dest ...any) error
}

// notification is when an alert was last notified, and at which severity.
type notification struct {
	at       time.Time
	severity icp.Severity
}

// scanAlert reads the alertColumns of one row and returns the alert and its
// last notification.
func (s *Store) scanAlert(row rowScanner) (icp.Alert, notification, error) {
	var (
		a                                        icp.Alert
		sev, status, notifiedSev                 string
		details, measure, trend                  sql.NullString
		first, last, updated, notified, resolved dbTime
	)
	err := row.Scan(&a.ID, &a.GroupKey, &a.Kind, &sev, &status, &a.Summary, &details, &first, &last,
		&a.Count, &a.UpdatedBy, &updated, &notified, &a.Title, &a.Subject, &a.Action, &measure, &trend,
		&a.Resolution, &resolved, &notifiedSev)
	if err != nil {
		return icp.Alert{}, notification{}, err
	}
	a.Severity, a.Status = icp.Severity(sev), icp.AlertStatus(status)
	a.FirstSeen, a.LastSeen, a.UpdatedAt, a.ResolvedAt = first.T, last.T, updated.T, resolved.T
	for _, c := range []struct {
		name string
		col  sql.NullString
		dst  any
	}{{"details", details, &a.Details}, {"measure", measure, &a.Measure}, {"trend", trend, &a.Trend}} {
		if c.col.Valid && c.col.String != "" && c.col.String != "null" {
			if err := json.Unmarshal([]byte(c.col.String), c.dst); err != nil {
				return icp.Alert{}, notification{}, fmt.Errorf("decode %s of alert %s: %w", c.name, a.ID, err)
			}
		}
	}
	return a, notification{at: notified.T, severity: icp.Severity(notifiedSev)}, nil
}

// encodeJSON encodes v as a JSON column value, nil (NULL) for a nil map or
// pointer.
func encodeJSON(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return nil, nil
		}
	case *icp.AlertMeasure:
		if x == nil {
			return nil, nil
		}
	case *icp.AlertTrend:
		if x == nil {
			return nil, nil
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// newAlertID returns 16 random hex digits.
func newAlertID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("new alert id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func severityRank(s icp.Severity) int {
	switch s {
	case icp.SeverityInfo:
		return 1
	case icp.SeverityWarning:
		return 2
	case icp.SeverityCritical:
		return 3
	}
	return 0
}

func validStatus(s icp.AlertStatus) bool {
	return s == icp.AlertOpen || s == icp.AlertAcknowledged || s == icp.AlertResolved
}
