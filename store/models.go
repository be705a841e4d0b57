package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/icpengine/icp"
)

// The model registry: immutable versions keyed by checksum, aliases that
// name the versions in use, and an append-only history of every change and
// every replica's load. The store checks the shape of what it keeps; that
// an artifact decodes and scores is checked before it gets here (package
// registry).

// checksumPattern is the form of an artifact checksum.
var checksumPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// maxActorLen and maxDetailLen bound the free text of the history.
const (
	maxActorLen  = 200
	maxDetailLen = 2000
)

// validAlias reports whether a is one of the registry's aliases.
func validAlias(a string) bool { return a == icp.AliasChampion || a == icp.AliasShadow }

// RegisterModel stores an artifact as a new version and records it in the
// history. rec gives Checksum, Version, Summary and RegisteredBy; Size and
// RegisteredAt are set here. Registering a checksum already stored keeps
// the first record and its bytes, returned with created false; the history
// still notes the attempt. A version name already stored for another
// checksum is refused with an error matching icp.ErrConflict.
func (s *Store) RegisterModel(ctx context.Context, rec icp.ModelRecord, artifact []byte) (out icp.ModelRecord, created bool, err error) {
	var v icp.ValidationError
	if !checksumPattern.MatchString(rec.Checksum) {
		v.Add("checksum", "must be sha256: and 64 lower-case hex digits")
	}
	if rec.Version == "" || len(rec.Version) > 200 || !utf8.ValidString(rec.Version) {
		v.Add("version", "must be 1-200 characters")
	}
	if len(artifact) == 0 {
		v.Add("artifact", "must not be empty")
	}
	checkActor(&v, rec.RegisteredBy)
	if err := v.Err(); err != nil {
		return icp.ModelRecord{}, false, fmt.Errorf("register model: %w", err)
	}
	rec.Size = int64(len(artifact))
	rec.RegisteredAt = normTime(s.now())
	rec.Aliases = nil
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*) FROM model_versions WHERE checksum = ?`), rec.Checksum).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			// A version name names one artifact: another artifact may not
			// take a name in use (a forged file passing for the champion).
			if s.d.name == BackendPostgres {
				// Concurrent registrations of one name wait for each other.
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "model_version:"+rec.Version); err != nil {
					return err
				}
			}
			var other string
			err := tx.QueryRowContext(ctx, s.d.q(`SELECT checksum FROM model_versions WHERE version = ? LIMIT 1`), rec.Version).Scan(&other)
			switch {
			case err == nil:
				return fmt.Errorf("version %q names another artifact already (%s): %w", rec.Version, other, icp.ErrConflict)
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
			created = true
			if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO model_versions
				(checksum, version, artifact, size, summary, registered_at, registered_by) VALUES (?, ?, ?, ?, ?, ?, ?)`),
				rec.Checksum, rec.Version, artifact, rec.Size, rec.Summary, s.d.timeArg(rec.RegisteredAt), rec.RegisteredBy); err != nil {
				return err
			}
			return s.appendEventID(ctx, tx, &icp.ModelEvent{Actor: rec.RegisteredBy, Action: icp.ActionRegister,
				Checksum: rec.Checksum, Result: icp.ResultOK, Detail: rec.Version})
		}
		// The checksum covers the profile, not its layout: the same model
		// re-indented has the same identity, and the first bytes stay.
		return s.appendEventID(ctx, tx, &icp.ModelEvent{Actor: rec.RegisteredBy, Action: icp.ActionRegister,
			Checksum: rec.Checksum, Result: icp.ResultOK, Detail: "already registered"})
	})
	if err != nil {
		return icp.ModelRecord{}, false, fmt.Errorf("register model %s: %w", rec.Checksum, err)
	}
	// The version is stored: reading its record back must not fail
	// because the caller's deadline passes now, or the caller would be
	// told of an error for a write that took place.
	out, err = s.Model(context.WithoutCancel(ctx), rec.Checksum)
	return out, created, err
}

// checkActor adds a field error when actor is not 1-200 characters.
func checkActor(v *icp.ValidationError, actor string) {
	if n := utf8.RuneCountInString(strings.TrimSpace(actor)); n == 0 || n > maxActorLen || !utf8.ValidString(actor) {
		v.Add("actor", "must be 1-200 characters")
	}
}

// modelColumns lists the columns scanModel reads, in order.
const modelColumns = `checksum, version, size, summary, registered_at, registered_by`

// Model returns the record of one version, or an error matching
// icp.ErrNotFound.
func (s *Store) Model(ctx context.Context, checksum string) (icp.ModelRecord, error) {
	m, err := scanModel(s.rdb.QueryRowContext(ctx, s.d.q(`SELECT `+modelColumns+` FROM model_versions WHERE checksum = ?`), checksum))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return icp.ModelRecord{}, fmt.Errorf("model %s: %w", checksum, icp.ErrNotFound)
	case err != nil:
		return icp.ModelRecord{}, fmt.Errorf("model %s: %w", checksum, err)
	}
	aliases, err := s.ModelAliases(ctx)
	if err != nil {
		return icp.ModelRecord{}, err
	}
	m.Aliases = aliasesOf(aliases, m.Checksum)
	return m, nil
}

// Models returns every registered version, newest first, with the aliases
// that name each.
func (s *Store) Models(ctx context.Context) ([]icp.ModelRecord, error) {
	aliases, err := s.ModelAliases(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+modelColumns+` FROM model_versions ORDER BY registered_at DESC, checksum`)
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	defer rows.Close()
	var out []icp.ModelRecord
	for rows.Next() {
		m, err := scanModel(rows)
		if err != nil {
			return nil, fmt.Errorf("list models: %w", err)
		}
		m.Aliases = aliasesOf(aliases, m.Checksum)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	return out, nil
}

// aliasesOf returns the sorted aliases naming checksum.
func aliasesOf(aliases map[string]string, checksum string) []string {
	out := []string{}
	for a, c := range aliases {
		if c == checksum {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

func scanModel(r interface{ Scan(...any) error }) (icp.ModelRecord, error) {
	var (
		m  icp.ModelRecord
		at dbTime
	)
	if err := r.Scan(&m.Checksum, &m.Version, &m.Size, &m.Summary, &at, &m.RegisteredBy); err != nil {
		return icp.ModelRecord{}, err
	}
	m.RegisteredAt = at.T
	return m, nil
}

// ModelArtifact returns the stored artifact of a version, or an error
// matching icp.ErrNotFound.
func (s *Store) ModelArtifact(ctx context.Context, checksum string) ([]byte, error) {
	var b []byte
	err := s.rdb.QueryRowContext(ctx, s.d.q(`SELECT artifact FROM model_versions WHERE checksum = ?`), checksum).Scan(&b)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("model artifact %s: %w", checksum, icp.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("model artifact %s: %w: %w", checksum, icp.ErrUnavailable, err)
	}
	return b, nil
}

// ResolveModel finds the version ref names: a whole checksum, at least 8
// hex digits of one (with or without "sha256:"), or a model version (m-...,
// or the name given to train --model-version). It returns an error
// matching icp.ErrNotFound when none matches and icp.ErrInvalid when ref
// is too short or names several versions.
func (s *Store) ResolveModel(ctx context.Context, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	hex := strings.TrimPrefix(ref, "sha256:")
	var (
		query string
		args  []any
	)
	switch {
	case len(hex) >= 8 && len(hex) <= 64 && isLowerHex(hex):
		// Digits of a checksum, or a version name that looks like them.
		query, args = `SELECT checksum FROM model_versions WHERE checksum LIKE ? OR version = ? ORDER BY checksum LIMIT 2`, []any{"sha256:" + hex + "%", ref}
	case ref != "" && !strings.HasPrefix(ref, "sha256:") && len(ref) <= 200:
		query, args = `SELECT checksum FROM model_versions WHERE version = ? ORDER BY checksum LIMIT 2`, []any{ref}
	default:
		return "", fmt.Errorf("resolve model %q: want a checksum, 8 or more of its hex digits, or a model version: %w", ref, icp.ErrInvalid)
	}
	rows, err := s.rdb.QueryContext(ctx, s.d.q(query), args...)
	if err != nil {
		return "", fmt.Errorf("resolve model %q: %w", ref, err)
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return "", fmt.Errorf("resolve model %q: %w", ref, err)
		}
		found = append(found, c)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("resolve model %q: %w", ref, err)
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("resolve model %q: no registered version: %w", ref, icp.ErrNotFound)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("resolve model %q: names several versions (%s, %s, ...): give more digits: %w", ref, found[0], found[1], icp.ErrInvalid)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// ModelAliases returns each alias in use and the checksum it names. It is
// one small query, made to be polled by every replica.
func (s *Store) ModelAliases(ctx context.Context) (map[string]string, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT alias, checksum FROM model_aliases`)
	if err != nil {
		return nil, fmt.Errorf("model aliases: %w: %w", icp.ErrUnavailable, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var a, c string
		if err := rows.Scan(&a, &c); err != nil {
			return nil, fmt.Errorf("model aliases: %w", err)
		}
		out[a] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("model aliases: %w", err)
	}
	return out, nil
}

// SetModelAlias points alias at the version checksum (an empty checksum
// removes the alias) and records the move in the history, in one
// transaction. action is what the history calls the move (promote, shadow,
// unshadow). It returns the history entry.
func (s *Store) SetModelAlias(ctx context.Context, alias, checksum string, action icp.ModelAction, actor, detail string) (icp.ModelEvent, error) {
	var v icp.ValidationError
	if !validAlias(alias) {
		v.Add("alias", fmt.Sprintf("unknown alias %q", alias))
	}
	if checksum != "" && !checksumPattern.MatchString(checksum) {
		v.Add("checksum", "must be sha256: and 64 lower-case hex digits")
	}
	checkActor(&v, actor)
	if err := v.Err(); err != nil {
		return icp.ModelEvent{}, fmt.Errorf("set model alias: %w", err)
	}
	var ev icp.ModelEvent
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		prev, err := s.aliasTx(ctx, tx, alias)
		if err != nil {
			return err
		}
		if checksum != "" {
			var n int
			if err := tx.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*) FROM model_versions WHERE checksum = ?`), checksum).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("model %s is not registered: %w", checksum, icp.ErrNotFound)
			}
		}
		if err := s.moveAlias(ctx, tx, alias, prev, checksum, actor); err != nil {
			return err
		}
		ev = icp.ModelEvent{Actor: actor, Action: action, Alias: alias, Checksum: checksum, Previous: prev,
			Result: icp.ResultOK, Detail: detail}
		return s.appendEventID(ctx, tx, &ev)
	})
	if err != nil {
		return icp.ModelEvent{}, fmt.Errorf("%s %s: %w", action, alias, err)
	}
	return ev, nil
}

// RollbackModelAlias points alias back at the version it named before the
// latest promotion of its current version, and records the move. Rolling
// back again walks further back through the promotions. It returns an
// error matching icp.ErrNotFound when there is nothing to roll back to.
func (s *Store) RollbackModelAlias(ctx context.Context, alias, actor, detail string) (icp.ModelEvent, error) {
	var v icp.ValidationError
	if !validAlias(alias) {
		v.Add("alias", fmt.Sprintf("unknown alias %q", alias))
	}
	checkActor(&v, actor)
	if err := v.Err(); err != nil {
		return icp.ModelEvent{}, fmt.Errorf("rollback: %w", err)
	}
	var ev icp.ModelEvent
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.aliasTx(ctx, tx, alias)
		if err != nil {
			return err
		}
		if cur == "" {
			return fmt.Errorf("no %s to roll back: %w", alias, icp.ErrNotFound)
		}
		// The promotion that made cur the alias's version says what it
		// replaced.
		var target string
		err = tx.QueryRowContext(ctx, s.d.q(`SELECT previous FROM model_events
			WHERE alias = ? AND action IN (?, ?) AND checksum = ? AND result = ?
			ORDER BY id DESC LIMIT 1`),
			alias, string(icp.ActionPromote), string(icp.ActionShadow), cur, icp.ResultOK).Scan(&target)
		switch {
		case errors.Is(err, sql.ErrNoRows) || err == nil && target == "":
			return fmt.Errorf("%s %s has no earlier version to roll back to: %w", alias, cur, icp.ErrNotFound)
		case err != nil:
			return err
		}
		if err := s.moveAlias(ctx, tx, alias, cur, target, actor); err != nil {
			return err
		}
		ev = icp.ModelEvent{Actor: actor, Action: icp.ActionRollback, Alias: alias, Checksum: target, Previous: cur,
			Result: icp.ResultOK, Detail: detail}
		return s.appendEventID(ctx, tx, &ev)
	})
	if err != nil {
		return icp.ModelEvent{}, fmt.Errorf("rollback %s: %w", alias, err)
	}
	return ev, nil
}

// aliasTx returns the checksum alias names ("" for none), locking its row
// in PostgreSQL for the rest of tx.
func (s *Store) aliasTx(ctx context.Context, tx *sql.Tx, alias string) (string, error) {
	var c string
	err := tx.QueryRowContext(ctx, s.d.q(`SELECT checksum FROM model_aliases WHERE alias = ?`+s.d.forUpdate), alias).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return c, err
}

// moveAlias points alias, which named prev, at checksum ("" removes it).
func (s *Store) moveAlias(ctx context.Context, tx *sql.Tx, alias, prev, checksum, actor string) error {
	var err error
	switch {
	case checksum == "":
		_, err = tx.ExecContext(ctx, s.d.q(`DELETE FROM model_aliases WHERE alias = ?`), alias)
	case prev == "":
		_, err = tx.ExecContext(ctx, s.d.q(`INSERT INTO model_aliases (alias, checksum, updated_at, updated_by) VALUES (?, ?, ?, ?)`),
			alias, checksum, s.d.timeArg(s.now()), actor)
		if err != nil && isUniqueViolation(err) {
			// Another writer created the alias between the read and the
			// insert (PostgreSQL cannot lock a missing row).
			return fmt.Errorf("%s changed concurrently, try again: %w", alias, icp.ErrConflict)
		}
	default:
		_, err = tx.ExecContext(ctx, s.d.q(`UPDATE model_aliases SET checksum = ?, updated_at = ?, updated_by = ? WHERE alias = ?`),
			checksum, s.d.timeArg(s.now()), actor, alias)
	}
	return err
}

// AppendModelEvent adds ev to the history (its ID and At are set here) and
// returns it: what a replica records when it loads a version or fails to.
func (s *Store) AppendModelEvent(ctx context.Context, ev icp.ModelEvent) (icp.ModelEvent, error) {
	var v icp.ValidationError
	checkActor(&v, ev.Actor)
	switch ev.Action {
	case icp.ActionRegister, icp.ActionPromote, icp.ActionRollback, icp.ActionShadow, icp.ActionUnshadow, icp.ActionLoad:
	default:
		v.Add("action", fmt.Sprintf("unknown action %q", ev.Action))
	}
	if ev.Alias != "" && !validAlias(ev.Alias) {
		v.Add("alias", fmt.Sprintf("unknown alias %q", ev.Alias))
	}
	if ev.Result != icp.ResultOK && ev.Result != icp.ResultFailed {
		v.Add("result", fmt.Sprintf("want %s or %s", icp.ResultOK, icp.ResultFailed))
	}
	if err := v.Err(); err != nil {
		return icp.ModelEvent{}, fmt.Errorf("append model event: %w", err)
	}
	err := s.writeTx(ctx, func(tx *sql.Tx) error { return s.appendEventID(ctx, tx, &ev) })
	if err != nil {
		return icp.ModelEvent{}, fmt.Errorf("append model event: %w", err)
	}
	return ev, nil
}

// appendEventID adds ev to the history within tx, setting its ID and At.
// Over-long free text is cut, not refused: the history must record what
// happened even when a loader's error message is long.
func (s *Store) appendEventID(ctx context.Context, tx *sql.Tx, ev *icp.ModelEvent) error {
	ev.At = normTime(s.now())
	ev.Detail = truncateRunes(ev.Detail, maxDetailLen)
	ev.Actor = truncateRunes(ev.Actor, maxActorLen)
	const insert = `INSERT INTO model_events (at, actor, action, alias, checksum, previous, result, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	args := []any{s.d.timeArg(ev.At), ev.Actor, string(ev.Action), ev.Alias, ev.Checksum, ev.Previous, ev.Result, ev.Detail}
	if s.d.name == BackendPostgres {
		return tx.QueryRowContext(ctx, s.d.q(insert+` RETURNING id`), args...).Scan(&ev.ID)
	}
	res, err := tx.ExecContext(ctx, insert, args...)
	if err != nil {
		return err
	}
	ev.ID, err = res.LastInsertId()
	return err
}

// truncateRunes returns s cut to at most n runes, valid UTF-8.
func truncateRunes(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// ModelHistory returns the latest limit entries of the history, newest
// first; limit <= 0 means all.
func (s *Store) ModelHistory(ctx context.Context, limit int) ([]icp.ModelEvent, error) {
	q := `SELECT id, at, actor, action, alias, checksum, previous, result, detail FROM model_events ORDER BY id DESC`
	var args []any
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.rdb.QueryContext(ctx, s.d.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("model history: %w", err)
	}
	defer rows.Close()
	var out []icp.ModelEvent
	for rows.Next() {
		var (
			ev     icp.ModelEvent
			at     dbTime
			action string
		)
		if err := rows.Scan(&ev.ID, &at, &ev.Actor, &action, &ev.Alias, &ev.Checksum, &ev.Previous, &ev.Result, &ev.Detail); err != nil {
			return nil, fmt.Errorf("model history: %w", err)
		}
		ev.At, ev.Action = at.T, icp.ModelAction(action)
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("model history: %w", err)
	}
	return out, nil
}
