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
	count, updated_by, updated_at, last_notified_at`

// RaiseAlert records one observation of the condition a.GroupKey names and
// reports whether it should be notified. Only GroupKey, Kind, Severity,
// Summary and Evidence of a are read; times come from the store's clock.
//
// At most one open or acknowledged alert exists per group key:
//   - none, and none resolved within p.Cooldown: a new open alert with a new
//     stable ID and Count 1 is stored; notify is true.
//   - one: its LastSeen, Count, Summary and Evidence are updated and its
//     Severity escalated (never lowered); notify is true when p.RepeatInterval
//     has passed since its last notification or the severity rose.
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
	evidence, err := encodeEvidence(a.Evidence)
	if err != nil {
		v.Add("evidence", "cannot be encoded as JSON: "+err.Error())
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
		out, notify, err = s.raiseTx(ctx, tx, a, evidence, p)
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

func (s *Store) raiseTx(ctx context.Context, tx *sql.Tx, a icp.Alert, evidence any, p AlertPolicy) (icp.Alert, bool, error) {
	now := s.now()
	// Two passes at most: a lost race to insert leaves the winner's row to
	// update on the second pass.
	for range 2 {
		cur, last, err := s.scanAlert(tx.QueryRowContext(ctx, s.d.q(`SELECT `+alertColumns+` FROM alerts
			WHERE group_key = ? AND status <> 'resolved'`+s.d.forUpdate), a.GroupKey))
		switch {
		case err == nil:
			notify := !now.Before(last.Add(p.RepeatInterval)) || severityRank(a.Severity) > severityRank(cur.Severity)
			sev := cur.Severity
			if severityRank(a.Severity) > severityRank(sev) {
				sev = a.Severity
			}
			notified := s.d.nullTimeArg(last)
			if notify {
				notified = s.d.timeArg(now)
			}
			_, err := tx.ExecContext(ctx, s.d.q(`UPDATE alerts SET last_seen = ?, count = count + 1, severity = ?,
				summary = ?, evidence = ?, updated_at = ?, last_notified_at = ? WHERE id = ?`),
				s.d.timeArg(now), string(sev), a.Summary, evidence, s.d.timeArg(now), notified, cur.ID)
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
			first_seen, last_seen, count, updated_by, updated_at, last_notified_at)
			VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, 1, '', ?, ?)
			ON CONFLICT (group_key) WHERE status <> 'resolved' DO NOTHING`),
			id, a.GroupKey, a.Kind, string(a.Severity), a.Summary, evidence, ts, ts, ts, ts)
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
	rows, err := s.rdb.QueryContext(ctx, s.d.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	var out []icp.Alert
	for rows.Next() {
		a, _, err := s.scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("list alerts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
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

// scanAlert reads the alertColumns of one row and returns the alert and its
// last notification time.
func (s *Store) scanAlert(row rowScanner) (icp.Alert, time.Time, error) {
	var (
		a                              icp.Alert
		sev, status                    string
		evidence                       sql.NullString
		first, last, updated, notified dbTime
	)
	err := row.Scan(&a.ID, &a.GroupKey, &a.Kind, &sev, &status, &a.Summary, &evidence, &first, &last,
		&a.Count, &a.UpdatedBy, &updated, &notified)
	if err != nil {
		return icp.Alert{}, time.Time{}, err
	}
	a.Severity, a.Status = icp.Severity(sev), icp.AlertStatus(status)
	a.FirstSeen, a.LastSeen, a.UpdatedAt = first.T, last.T, updated.T
	if evidence.Valid && evidence.String != "" && evidence.String != "null" {
		if err := json.Unmarshal([]byte(evidence.String), &a.Evidence); err != nil {
			return icp.Alert{}, time.Time{}, fmt.Errorf("decode evidence of alert %s: %w", a.ID, err)
		}
	}
	return a, notified.T, nil
}

func encodeEvidence(e map[string]any) (any, error) {
	if e == nil {
		return nil, nil
	}
	b, err := json.Marshal(e)
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
