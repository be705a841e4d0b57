package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/icpengine/icp"
)

// maxIdempotencyKey bounds the length of an idempotency key in bytes.
const maxIdempotencyKey = 255

// storedResult is what an idempotency key keeps of its write's result:
// an icp.RecordResult with the outcome ids, which the API does not answer.
type storedResult struct {
	Stored   int     `json:"stored"`
	Replayed bool    `json:"replayed"`
	IDs      []int64 `json:"ids"`
}

// RecordOutcomes stores a batch of outcomes in one transaction. An outcome
// needs an account id and a close date; a zero RecordedAt is set to the
// store's clock. Invalid input returns an *icp.ValidationError naming fields
// such as "outcomes[3].account_id".
//
// With a non-empty idempotencyKey the SHA-256 of the batch's canonical JSON
// is stored with the key: a retry with the same key and the same batch
// returns the original result with Replayed set and writes nothing, and the
// same key with a different batch returns an error matching icp.ErrConflict.
func (s *Store) RecordOutcomes(ctx context.Context, idempotencyKey string, outcomes []icp.Outcome) (icp.RecordResult, error) {
	accounts, err := validateOutcomes(idempotencyKey, outcomes)
	if err != nil {
		return icp.RecordResult{}, fmt.Errorf("record outcomes: %w", err)
	}
	var hash string
	if idempotencyKey != "" {
		if hash, err = batchHash(outcomes); err != nil {
			return icp.RecordResult{}, fmt.Errorf("record outcomes: %w", err)
		}
	}
	var res icp.RecordResult
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		res = icp.RecordResult{}
		now := s.now()
		if idempotencyKey != "" {
			r, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO idempotency_keys (idem_key, body_sha256, result, created_at)
				VALUES (?, ?, ?, ?) ON CONFLICT (idem_key) DO NOTHING`),
				idempotencyKey, hash, `{}`, s.d.timeArg(now))
			if err != nil {
				return fmt.Errorf("claim idempotency key: %w", err)
			}
			n, err := r.RowsAffected()
			if err != nil {
				return fmt.Errorf("claim idempotency key: %w", err)
			}
			if n == 0 {
				return s.replay(ctx, tx, idempotencyKey, hash, &res)
			}
		}
		ins := s.d.q(`INSERT INTO outcomes (account_id, account, won, churned, close_date, ltv_usd, cycle_days, recorded_at, idem_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
		stmt, err := tx.PrepareContext(ctx, ins)
		if err != nil {
			return fmt.Errorf("prepare insert: %w", err)
		}
		defer stmt.Close()
		res.IDs = make([]int64, len(outcomes))
		for i, o := range outcomes {
			recorded := o.RecordedAt
			if recorded.IsZero() {
				recorded = now
			}
			var key any
			if idempotencyKey != "" {
				key = idempotencyKey
			}
			err := stmt.QueryRowContext(ctx, strings.TrimSpace(o.AccountID), accounts[i], o.Won, nullBool(o.Churned),
				s.d.timeArg(o.CloseDate), nullFloat(o.LTVUSD), nullFloat(o.CycleDays), s.d.timeArg(recorded), key,
			).Scan(&res.IDs[i])
			if err != nil {
				return fmt.Errorf("insert outcomes[%d]: %w", i, err)
			}
		}
		res.Stored = len(outcomes)
		if idempotencyKey != "" {
			body, err := json.Marshal(storedResult(res))
			if err != nil {
				return fmt.Errorf("encode result: %w", err)
			}
			if _, err := tx.ExecContext(ctx, s.d.q(`UPDATE idempotency_keys SET result = ? WHERE idem_key = ?`), string(body), idempotencyKey); err != nil {
				return fmt.Errorf("save idempotent result: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return icp.RecordResult{}, fmt.Errorf("record outcomes: %w", err)
	}
	return res, nil
}

// replay loads the stored result of an idempotency key into res, or reports a
// conflict when the key was used with a different batch.
func (s *Store) replay(ctx context.Context, tx *sql.Tx, key, hash string, res *icp.RecordResult) error {
	var stored, result string
	err := tx.QueryRowContext(ctx, s.d.q(`SELECT body_sha256, result FROM idempotency_keys WHERE idem_key = ?`), key).Scan(&stored, &result)
	if err != nil {
		return fmt.Errorf("read idempotency key: %w", err)
	}
	if stored != hash {
		return fmt.Errorf("idempotency key %q was used with a different body: %w", key, icp.ErrConflict)
	}
	if err := json.Unmarshal([]byte(result), (*storedResult)(res)); err != nil {
		return fmt.Errorf("decode idempotent result: %w", err)
	}
	res.Replayed = true
	return nil
}

// validateOutcomes checks the batch and returns each outcome's account as
// JSON (nil when absent).
func validateOutcomes(key string, outcomes []icp.Outcome) ([]any, error) {
	var v icp.ValidationError
	if len(key) > maxIdempotencyKey {
		v.Add("idempotency_key", fmt.Sprintf("must be at most %d bytes", maxIdempotencyKey))
	}
	if len(outcomes) == 0 {
		v.Add("outcomes", "must hold at least one outcome")
	}
	accounts := make([]any, len(outcomes))
	for i, o := range outcomes {
		field := func(name string) string { return fmt.Sprintf("outcomes[%d].%s", i, name) }
		if strings.TrimSpace(o.AccountID) == "" {
			v.Add(field("account_id"), "is required")
		}
		if o.CloseDate.IsZero() {
			v.Add(field("close_date"), "is required")
		} else if y := o.CloseDate.UTC().Year(); y < 1 || y > 9999 {
			v.Add(field("close_date"), "must fall in years 1 to 9999")
		}
		if y := o.RecordedAt.UTC().Year(); !o.RecordedAt.IsZero() && (y < 1 || y > 9999) {
			v.Add(field("recorded_at"), "must fall in years 1 to 9999")
		}
		if o.LTVUSD != nil && (math.IsNaN(*o.LTVUSD) || math.IsInf(*o.LTVUSD, 0) || *o.LTVUSD < 0) {
			v.Add(field("ltv_usd"), "must be a finite number >= 0")
		}
		if o.CycleDays != nil && (math.IsNaN(*o.CycleDays) || math.IsInf(*o.CycleDays, 0) || *o.CycleDays < 0) {
			v.Add(field("sales_cycle_days"), "must be a finite number >= 0")
		}
		if o.Account != nil {
			b, err := json.Marshal(o.Account)
			if err != nil {
				v.Add(field("account"), "cannot be encoded as JSON: "+err.Error())
			} else {
				accounts[i] = string(b)
			}
		}
	}
	return accounts, v.Err()
}

// batchHash is the hex SHA-256 of the canonical JSON of a batch: times in UTC
// at microsecond precision, map keys sorted (encoding/json sorts them).
func batchHash(outcomes []icp.Outcome) (string, error) {
	canon := make([]icp.Outcome, len(outcomes))
	for i, o := range outcomes {
		o.CloseDate = normTime(o.CloseDate)
		if !o.RecordedAt.IsZero() {
			o.RecordedAt = normTime(o.RecordedAt)
		}
		canon[i] = o
	}
	b, err := json.Marshal(canon)
	if err != nil {
		return "", fmt.Errorf("encode batch: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Outcomes returns the outcomes closed at or after since, ordered by close
// date then id. A limit <= 0 returns them all.
func (s *Store) Outcomes(ctx context.Context, since time.Time, limit int) ([]icp.Outcome, error) {
	query := `SELECT account_id, account, won, churned, close_date, ltv_usd, cycle_days, recorded_at
		FROM outcomes WHERE close_date >= ? ORDER BY close_date, id`
	args := []any{s.d.timeArg(since)}
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.rdb.QueryContext(ctx, s.d.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("read outcomes: %w", err)
	}
	defer rows.Close()
	var out []icp.Outcome
	for rows.Next() {
		var (
			o                 icp.Outcome
			account           sql.NullString
			churned           sql.NullBool
			ltv, cycle        sql.NullFloat64
			closeAt, recorded dbTime
		)
		if err := rows.Scan(&o.AccountID, &account, &o.Won, &churned, &closeAt, &ltv, &cycle, &recorded); err != nil {
			return nil, fmt.Errorf("read outcomes: %w", err)
		}
		if o.Account, err = decodeAccount(account); err != nil {
			return nil, fmt.Errorf("read outcomes: account %s: %w", o.AccountID, err)
		}
		if churned.Valid {
			o.Churned = &churned.Bool
		}
		if ltv.Valid {
			o.LTVUSD = &ltv.Float64
		}
		if cycle.Valid {
			o.CycleDays = &cycle.Float64
		}
		o.CloseDate, o.RecordedAt = closeAt.T, recorded.T
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read outcomes: %w", err)
	}
	return out, nil
}

// OutcomeCount returns how many outcomes are stored.
func (s *Store) OutcomeCount(ctx context.Context) (int64, error) {
	var n int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM outcomes`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count outcomes: %w", err)
	}
	return n, nil
}

func decodeAccount(v sql.NullString) (icp.Account, error) {
	if !v.Valid || v.String == "" || v.String == "null" {
		return nil, nil
	}
	var a icp.Account
	if err := json.Unmarshal([]byte(v.String), &a); err != nil {
		return nil, err
	}
	return a, nil
}

func nullBool(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

func nullFloat(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// PruneIdempotencyKeys forgets the idempotency keys first used before the
// given time and returns how many it forgot; a retry with a forgotten key is
// stored again. The outcomes themselves are kept.
func (s *Store) PruneIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM idempotency_keys WHERE created_at < ?`), s.d.timeArg(before))
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune idempotency keys: %w", err)
	}
	return n, nil
}
