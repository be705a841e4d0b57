package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/icpengine/icp"
)

// maxDeliveryError bounds the stored text of a delivery failure in bytes.
const maxDeliveryError = 1024

// EnqueueDelivery adds a notification of an alert to the outbox, due at once.
// The payload must be valid JSON and is delivered byte for byte. Prefer
// RaiseAlertWithDelivery, which enqueues in the same transaction as the
// alert write.
func (s *Store) EnqueueDelivery(ctx context.Context, alertID string, payload json.RawMessage) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		return s.enqueueTx(ctx, tx, alertID, payload, s.now())
	})
	if err != nil {
		return fmt.Errorf("enqueue delivery for alert %q: %w", alertID, err)
	}
	return nil
}

func (s *Store) enqueueTx(ctx context.Context, tx *sql.Tx, alertID string, payload json.RawMessage, now time.Time) error {
	if !json.Valid(payload) {
		var v icp.ValidationError
		v.Add("payload", "must be valid JSON")
		return v.Err()
	}
	var n int
	if err := tx.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*) FROM alerts WHERE id = ?`), alertID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("alert %q: %w", alertID, icp.ErrNotFound)
	}
	ts := s.d.timeArg(now)
	_, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO deliveries (alert_id, payload, created_at, attempts, next_attempt_at, last_error)
		VALUES (?, ?, ?, 0, ?, '')`), alertID, string(payload), ts, ts)
	return err
}

// DueDeliveries claims up to limit undelivered notifications whose next
// attempt is at or before now, oldest due first. Claimed deliveries are
// hidden from other callers for Config.DeliveryLease (their NextAttempt moves
// to now plus the lease), so replicas polling together do not send the same
// one at once; settle each with MarkDelivered or MarkFailed. A delivery whose
// sender dies before settling it becomes due again when the lease ends. A
// limit <= 0 means 100.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]icp.Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []icp.Delivery
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, s.d.q(`SELECT id, alert_id, payload, attempts, next_attempt_at, last_error, created_at
			FROM deliveries WHERE delivered_at IS NULL AND next_attempt_at <= ?
			ORDER BY next_attempt_at, id LIMIT ?`+s.d.skipLocked), s.d.timeArg(now), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			var (
				d             icp.Delivery
				payload       string
				next, created dbTime
			)
			if err := rows.Scan(&d.ID, &d.AlertID, &payload, &d.Attempts, &next, &d.LastError, &created); err != nil {
				rows.Close()
				return err
			}
			d.Payload, d.NextAttempt, d.CreatedAt = json.RawMessage(payload), next.T, created.T
			out = append(out, d)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		leaseEnd := now.Add(s.lease)
		args := []any{s.d.timeArg(leaseEnd)}
		marks := make([]string, len(out))
		for i, d := range out {
			marks[i] = "?"
			args = append(args, d.ID)
		}
		_, err = tx.ExecContext(ctx, s.d.q(`UPDATE deliveries SET next_attempt_at = ? WHERE id IN (`+strings.Join(marks, ", ")+`)`), args...)
		if err != nil {
			return err
		}
		for i := range out {
			out[i].NextAttempt = normTime(leaseEnd)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("due deliveries: %w", err)
	}
	return slices.Clip(out), nil
}

// MarkDelivered records that a delivery succeeded; it will not be returned
// again. It returns an error matching icp.ErrNotFound for an unknown id.
func (s *Store) MarkDelivered(ctx context.Context, id int64) error {
	err := s.settle(ctx, id, `UPDATE deliveries SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL`, s.d.timeArg(s.now()), id)
	if err != nil {
		return fmt.Errorf("mark delivery %d delivered: %w", id, err)
	}
	return nil
}

// MarkFailed records a failed attempt: Attempts grows by one, LastError is
// set to errMsg (cut to 1 KiB) and the delivery becomes due again at
// nextAttempt. It returns an error matching icp.ErrNotFound for an unknown id.
func (s *Store) MarkFailed(ctx context.Context, id int64, nextAttempt time.Time, errMsg string) error {
	if len(errMsg) > maxDeliveryError {
		errMsg = strings.ToValidUTF8(errMsg[:maxDeliveryError], "")
	}
	err := s.settle(ctx, id, `UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?
		WHERE id = ? AND delivered_at IS NULL`, s.d.timeArg(nextAttempt), errMsg, id)
	if err != nil {
		return fmt.Errorf("mark delivery %d failed: %w", id, err)
	}
	return nil
}

// PendingDeliveries returns how many deliveries are not delivered yet.
func (s *Store) PendingDeliveries(ctx context.Context) (int64, error) {
	var n int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE delivered_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending deliveries: %w", err)
	}
	return n, nil
}

func (s *Store) settle(ctx context.Context, id int64, query string, args ...any) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, s.d.q(query), args...)
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			var exists int
			if err := tx.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*) FROM deliveries WHERE id = ?`), id).Scan(&exists); err != nil {
				return err
			}
			if exists == 0 {
				return icp.ErrNotFound
			}
		}
		return nil
	})
}
