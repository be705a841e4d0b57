package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/icpengine/icp"
)

// maxKeyNameLen is the longest API key name, in characters.
const maxKeyNameLen = 200

// apiKeyColumns lists the columns scanAPIKey reads, in order.
const apiKeyColumns = `id, prefix, hash, name, scopes, created_at, revoked_at, last_used_at`

// CreateAPIKey stores a new API key record and returns it with its ID and
// CreatedAt set. Only Prefix, Hash, Name and Scopes of k are read: the
// prefix must be 4-32 ASCII letters or digits, the hash 64 lower-case hex
// digits (a SHA-256), the name 1-200 characters and the scopes known and
// not repeated. A prefix already in use gives an error matching
// icp.ErrConflict; bad fields give an *icp.ValidationError.
func (s *Store) CreateAPIKey(ctx context.Context, k icp.APIKey) (icp.APIKey, error) {
	var v icp.ValidationError
	if !validKeyPrefix(k.Prefix) {
		v.Add("prefix", "must be 4-32 ASCII letters or digits")
	}
	if !validSHA256Hex(k.Hash) {
		v.Add("hash", "must be 64 lower-case hex digits")
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(k.Name)); n == 0 || n > maxKeyNameLen || !utf8.ValidString(k.Name) {
		v.Add("name", "must be 1-200 characters")
	}
	if len(k.Scopes) == 0 {
		v.Add("scopes", "must name at least one scope")
	}
	for i, sc := range k.Scopes {
		switch {
		case !sc.Valid():
			v.Add(fmt.Sprintf("scopes[%d]", i), fmt.Sprintf("unknown scope %q", sc))
		case slices.Contains(k.Scopes[:i], sc):
			v.Add(fmt.Sprintf("scopes[%d]", i), fmt.Sprintf("repeated scope %q", sc))
		}
	}
	if err := v.Err(); err != nil {
		return icp.APIKey{}, fmt.Errorf("create api key: %w", err)
	}
	id, err := newAlertID()
	if err != nil {
		return icp.APIKey{}, fmt.Errorf("create api key: %w", err)
	}
	out := icp.APIKey{
		ID:        "key_" + id,
		Prefix:    k.Prefix,
		Hash:      k.Hash,
		Name:      k.Name,
		Scopes:    sortScopes(k.Scopes),
		CreatedAt: normTime(s.now()),
	}
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*) FROM api_keys WHERE prefix = ?`), out.Prefix).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("prefix %s is in use: %w", out.Prefix, icp.ErrConflict)
		}
		_, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO api_keys (`+apiKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)`),
			out.ID, out.Prefix, out.Hash, out.Name, joinScopes(out.Scopes), s.d.timeArg(out.CreatedAt))
		if err != nil && isUniqueViolation(err) {
			// A concurrent create took the prefix between the check and the insert.
			return fmt.Errorf("prefix %s is in use: %w", out.Prefix, icp.ErrConflict)
		}
		return err
	})
	if err != nil {
		return icp.APIKey{}, fmt.Errorf("create api key %s: %w", k.Name, err)
	}
	return out, nil
}

// ListAPIKeys returns every API key record, revoked ones included, oldest
// first (ties broken by ID).
func (s *Store) ListAPIKeys(ctx context.Context) ([]icp.APIKey, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	var keys []icp.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return keys, nil
}

// LookupAPIKey returns the record of the key with the given visible prefix,
// revoked or not, or an error matching icp.ErrNotFound. A failing database
// gives an error matching icp.ErrUnavailable.
func (s *Store) LookupAPIKey(ctx context.Context, prefix string) (icp.APIKey, error) {
	k, err := scanAPIKey(s.rdb.QueryRowContext(ctx, s.d.q(`SELECT `+apiKeyColumns+` FROM api_keys WHERE prefix = ?`), prefix))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return icp.APIKey{}, fmt.Errorf("lookup api key %s: %w", prefix, icp.ErrNotFound)
	case err != nil:
		return icp.APIKey{}, fmt.Errorf("lookup api key %s: %w: %w", prefix, icp.ErrUnavailable, err)
	}
	return k, nil
}

// RevokeAPIKey revokes the key with the given ID from now on. Revoking a
// revoked key keeps its first revocation time. An unknown ID gives an error
// matching icp.ErrNotFound.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) (icp.APIKey, error) {
	var out icp.APIKey
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.d.q(`UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`),
			s.d.timeArg(s.now()), id); err != nil {
			return err
		}
		var err error
		out, err = scanAPIKey(tx.QueryRowContext(ctx, s.d.q(`SELECT `+apiKeyColumns+` FROM api_keys WHERE id = ?`), id))
		if errors.Is(err, sql.ErrNoRows) {
			return icp.ErrNotFound
		}
		return err
	})
	if err != nil {
		return icp.APIKey{}, fmt.Errorf("revoke api key %s: %w", id, err)
	}
	return out, nil
}

// TouchAPIKey records that the key with the given ID was used at t. It never
// moves LastUsedAt backwards. An unknown ID gives an error matching
// icp.ErrNotFound.
func (s *Store) TouchAPIKey(ctx context.Context, id string, t time.Time) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.q(`UPDATE api_keys SET last_used_at = ?
			WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`),
			s.d.timeArg(t), id, s.d.timeArg(t))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*) FROM api_keys WHERE id = ?`), id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return icp.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("touch api key %s: %w", id, err)
	}
	return nil
}

// scanAPIKey reads one row of apiKeyColumns.
func scanAPIKey(row interface{ Scan(dest ...any) error }) (icp.APIKey, error) {
	var (
		k                         icp.APIKey
		scopes                    string
		created, revoked, lastUse dbTime
	)
	if err := row.Scan(&k.ID, &k.Prefix, &k.Hash, &k.Name, &scopes, &created, &revoked, &lastUse); err != nil {
		return icp.APIKey{}, err
	}
	for sc := range strings.SplitSeq(scopes, ",") {
		if sc != "" {
			k.Scopes = append(k.Scopes, icp.Scope(sc))
		}
	}
	k.CreatedAt = created.T
	if revoked.Valid {
		k.RevokedAt = revoked.T
	}
	if lastUse.Valid {
		k.LastUsedAt = lastUse.T
	}
	return k, nil
}

// sortScopes returns a copy of scopes in the order of icp.Scopes.
func sortScopes(scopes []icp.Scope) []icp.Scope {
	out := make([]icp.Scope, 0, len(scopes))
	for _, sc := range icp.Scopes() {
		if slices.Contains(scopes, sc) {
			out = append(out, sc)
		}
	}
	return out
}

func joinScopes(scopes []icp.Scope) string {
	parts := make([]string, len(scopes))
	for i, sc := range scopes {
		parts[i] = string(sc)
	}
	return strings.Join(parts, ",")
}

func validKeyPrefix(p string) bool {
	if len(p) < 4 || len(p) > 32 {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func validSHA256Hex(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// isUniqueViolation reports whether err is a unique-constraint violation of
// either backend.
func isUniqueViolation(err error) bool {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}
