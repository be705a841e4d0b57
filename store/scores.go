package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/icpengine/icp"
)

// scoreInsertChunk is how many scored accounts one INSERT statement carries
// (8 parameters each, far below both backends' parameter limits).
const scoreInsertChunk = 200

// LogScores appends scored accounts to the log in one transaction. A zero
// Time is set to the store's clock. A non-finite score or an account that
// cannot be encoded returns an *icp.ValidationError naming
// "scores[i].score" or "scores[i].account".
func (s *Store) LogScores(ctx context.Context, scored []icp.ScoredAccount) error {
	if len(scored) == 0 {
		return nil
	}
	var v icp.ValidationError
	accounts := make([]any, len(scored))
	for i, sa := range scored {
		if math.IsNaN(sa.Score) || math.IsInf(sa.Score, 0) {
			v.Add(fmt.Sprintf("scores[%d].score", i), "must be a finite number")
		}
		if sa.Account != nil {
			b, err := json.Marshal(sa.Account)
			if err != nil {
				v.Add(fmt.Sprintf("scores[%d].account", i), "cannot be encoded as JSON: "+err.Error())
				continue
			}
			accounts[i] = string(b)
		}
	}
	if err := v.Err(); err != nil {
		return fmt.Errorf("log scores: %w", err)
	}
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		for start := 0; start < len(scored); start += scoreInsertChunk {
			end := min(start+scoreInsertChunk, len(scored))
			var b strings.Builder
			b.WriteString(`INSERT INTO scored_accounts (scored_at, model_version, account_id, account, score, tier, segment_id) VALUES `)
			args := make([]any, 0, 7*(end-start))
			for i := start; i < end; i++ {
				if i > start {
					b.WriteString(", ")
				}
				b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
				sa := scored[i]
				at := sa.Time
				if at.IsZero() {
					at = now
				}
				args = append(args, s.d.timeArg(at), sa.ModelVersion, sa.AccountID, accounts[i], sa.Score, string(sa.Tier), sa.SegmentID)
			}
			if _, err := tx.ExecContext(ctx, s.d.q(b.String()), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("log scores: %w", err)
	}
	return nil
}

// ScoredSince returns the scored accounts logged at or after since, oldest
// first. A limit <= 0 returns them all.
func (s *Store) ScoredSince(ctx context.Context, since time.Time, limit int) ([]icp.ScoredAccount, error) {
	query := `SELECT scored_at, model_version, account_id, account, score, tier, segment_id
		FROM scored_accounts WHERE scored_at >= ? ORDER BY scored_at, id`
	args := []any{s.d.timeArg(since)}
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.rdb.QueryContext(ctx, s.d.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("read scored accounts: %w", err)
	}
	defer rows.Close()
	var out []icp.ScoredAccount
	for rows.Next() {
		var (
			sa      icp.ScoredAccount
			at      dbTime
			account sql.NullString
			tier    string
		)
		if err := rows.Scan(&at, &sa.ModelVersion, &sa.AccountID, &account, &sa.Score, &tier, &sa.SegmentID); err != nil {
			return nil, fmt.Errorf("read scored accounts: %w", err)
		}
		if sa.Account, err = decodeAccount(account); err != nil {
			return nil, fmt.Errorf("read scored accounts: %w", err)
		}
		sa.Time, sa.Tier = at.T, icp.Tier(tier)
		out = append(out, sa)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read scored accounts: %w", err)
	}
	return out, nil
}

// PruneScores deletes the scored accounts logged before the given time and
// returns how many it deleted.
func (s *Store) PruneScores(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM scored_accounts WHERE scored_at < ?`), s.d.timeArg(before))
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune scores: %w", err)
	}
	return n, nil
}

// SaveDriftReport stores a drift report computed at the given time and
// returns its id. The body must be valid JSON. PostgreSQL stores it as JSONB,
// which keeps its meaning but not its whitespace or key order.
func (s *Store) SaveDriftReport(ctx context.Context, at time.Time, modelVersion string, body json.RawMessage) (int64, error) {
	var v icp.ValidationError
	if at.IsZero() {
		v.Add("at", "is required")
	}
	if !json.Valid(body) {
		v.Add("body", "must be valid JSON")
	}
	if err := v.Err(); err != nil {
		return 0, fmt.Errorf("save drift report: %w", err)
	}
	var id int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, s.d.q(`INSERT INTO drift_reports (report_at, model_version, body) VALUES (?, ?, ?) RETURNING id`),
			s.d.timeArg(at), modelVersion, string(body)).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("save drift report: %w", err)
	}
	return id, nil
}

// LatestDriftReport returns the report with the latest time (the highest id
// among equal times). It returns an error matching icp.ErrNotFound when none
// is stored.
func (s *Store) LatestDriftReport(ctx context.Context) (icp.DriftReport, error) {
	var (
		r    icp.DriftReport
		at   dbTime
		body string
	)
	err := s.rdb.QueryRowContext(ctx, `SELECT id, report_at, model_version, body FROM drift_reports
		ORDER BY report_at DESC, id DESC LIMIT 1`).Scan(&r.ID, &at, &r.ModelVersion, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return icp.DriftReport{}, fmt.Errorf("latest drift report: %w", icp.ErrNotFound)
	}
	if err != nil {
		return icp.DriftReport{}, fmt.Errorf("latest drift report: %w", err)
	}
	r.At, r.Body = at.T, json.RawMessage(body)
	return r, nil
}
