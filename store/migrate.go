package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
)

// migration is one step of the schema. Versions are dense and increasing;
// a released migration is never edited, only followed by a new one.
type migration struct {
	version  int
	name     string
	sqlite   []string
	postgres []string
}

// migrations returns the schema history, oldest first.
func migrations() []migration {
	return []migration{
		{
			version: 1,
			name:    "outcomes and idempotency keys",
			sqlite: []string{
				`CREATE TABLE outcomes (
					id INTEGER PRIMARY KEY AUTOINCREMENT,
					account_id TEXT NOT NULL,
					account TEXT,
					won INTEGER NOT NULL,
					churned INTEGER,
					close_date TEXT NOT NULL,
					ltv_usd REAL,
					cycle_days REAL,
					recorded_at TEXT NOT NULL,
					idem_key TEXT
				)`,
				`CREATE INDEX outcomes_close_date ON outcomes (close_date, id)`,
				`CREATE TABLE idempotency_keys (
					idem_key TEXT PRIMARY KEY,
					body_sha256 TEXT NOT NULL,
					result TEXT NOT NULL,
					created_at TEXT NOT NULL
				)`,
			},
			postgres: []string{
				`CREATE TABLE outcomes (
					id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
					account_id TEXT NOT NULL,
					account JSONB,
					won BOOLEAN NOT NULL,
					churned BOOLEAN,
					close_date TIMESTAMPTZ NOT NULL,
					ltv_usd DOUBLE PRECISION,
					cycle_days DOUBLE PRECISION,
					recorded_at TIMESTAMPTZ NOT NULL,
					idem_key TEXT
				)`,
				`CREATE INDEX outcomes_close_date ON outcomes (close_date, id)`,
				`CREATE TABLE idempotency_keys (
					idem_key TEXT PRIMARY KEY,
					body_sha256 TEXT NOT NULL,
					result JSONB NOT NULL,
					created_at TIMESTAMPTZ NOT NULL
				)`,
			},
		},
		{
			version: 2,
			name:    "scored account log",
			sqlite: []string{
				`CREATE TABLE scored_accounts (
					id INTEGER PRIMARY KEY AUTOINCREMENT,
					scored_at TEXT NOT NULL,
					model_version TEXT NOT NULL,
					account_id TEXT NOT NULL,
					account TEXT,
					score REAL NOT NULL,
					tier TEXT NOT NULL,
					segment_id TEXT NOT NULL
				)`,
				`CREATE INDEX scored_accounts_scored_at ON scored_accounts (scored_at, id)`,
			},
			postgres: []string{
				`CREATE TABLE scored_accounts (
					id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
					scored_at TIMESTAMPTZ NOT NULL,
					model_version TEXT NOT NULL,
					account_id TEXT NOT NULL,
					account JSONB,
					score DOUBLE PRECISION NOT NULL,
					tier TEXT NOT NULL,
					segment_id TEXT NOT NULL
				)`,
				`CREATE INDEX scored_accounts_scored_at ON scored_accounts (scored_at, id)`,
			},
		},
		{
			version: 3,
			name:    "drift reports",
			sqlite: []string{
				`CREATE TABLE drift_reports (
					id INTEGER PRIMARY KEY AUTOINCREMENT,
					report_at TEXT NOT NULL,
					model_version TEXT NOT NULL,
					body TEXT NOT NULL
				)`,
				`CREATE INDEX drift_reports_at ON drift_reports (report_at, id)`,
			},
			postgres: []string{
				`CREATE TABLE drift_reports (
					id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
					report_at TIMESTAMPTZ NOT NULL,
					model_version TEXT NOT NULL,
					body JSONB NOT NULL
				)`,
				`CREATE INDEX drift_reports_at ON drift_reports (report_at, id)`,
			},
		},
		{
			version: 4,
			name:    "alerts",
			sqlite: []string{
				`CREATE TABLE alerts (
					id TEXT PRIMARY KEY,
					group_key TEXT NOT NULL,
					kind TEXT NOT NULL,
					severity TEXT NOT NULL,
					status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
					summary TEXT NOT NULL,
					evidence TEXT,
					first_seen TEXT NOT NULL,
					last_seen TEXT NOT NULL,
					count INTEGER NOT NULL,
					updated_by TEXT NOT NULL,
					updated_at TEXT NOT NULL,
					last_notified_at TEXT,
					resolved_at TEXT
				)`,
				`CREATE UNIQUE INDEX alerts_one_active ON alerts (group_key) WHERE status <> 'resolved'`,
				`CREATE INDEX alerts_group_resolved ON alerts (group_key, resolved_at)`,
				`CREATE INDEX alerts_last_seen ON alerts (last_seen)`,
			},
			postgres: []string{
				`CREATE TABLE alerts (
					id TEXT PRIMARY KEY,
					group_key TEXT NOT NULL,
					kind TEXT NOT NULL,
					severity TEXT NOT NULL,
					status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
					summary TEXT NOT NULL,
					evidence JSONB,
					first_seen TIMESTAMPTZ NOT NULL,
					last_seen TIMESTAMPTZ NOT NULL,
					count INTEGER NOT NULL,
					updated_by TEXT NOT NULL,
					updated_at TIMESTAMPTZ NOT NULL,
					last_notified_at TIMESTAMPTZ,
					resolved_at TIMESTAMPTZ
				)`,
				`CREATE UNIQUE INDEX alerts_one_active ON alerts (group_key) WHERE status <> 'resolved'`,
				`CREATE INDEX alerts_group_resolved ON alerts (group_key, resolved_at)`,
				`CREATE INDEX alerts_last_seen ON alerts (last_seen)`,
			},
		},
		{
			version: 5,
			name:    "webhook outbox",
			// The payload is TEXT in both backends so that receivers get
			// exactly the bytes that were enqueued.
			sqlite: []string{
				`CREATE TABLE deliveries (
					id INTEGER PRIMARY KEY AUTOINCREMENT,
					alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
					payload TEXT NOT NULL,
					created_at TEXT NOT NULL,
					attempts INTEGER NOT NULL DEFAULT 0,
					next_attempt_at TEXT NOT NULL,
					last_error TEXT NOT NULL DEFAULT '',
					delivered_at TEXT
				)`,
				`CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE delivered_at IS NULL`,
				`CREATE INDEX deliveries_alert ON deliveries (alert_id)`,
			},
			postgres: []string{
				`CREATE TABLE deliveries (
					id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
					alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
					payload TEXT NOT NULL,
					created_at TIMESTAMPTZ NOT NULL,
					attempts INTEGER NOT NULL DEFAULT 0,
					next_attempt_at TIMESTAMPTZ NOT NULL,
					last_error TEXT NOT NULL DEFAULT '',
					delivered_at TIMESTAMPTZ
				)`,
				`CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE delivered_at IS NULL`,
				`CREATE INDEX deliveries_alert ON deliveries (alert_id)`,
			},
		},
		{
			version: 6,
			name:    "api keys",
			// Only the key's visible prefix and its SHA-256 are stored;
			// scopes are a comma-separated list.
			sqlite: []string{
				`CREATE TABLE api_keys (
					id TEXT PRIMARY KEY,
					prefix TEXT NOT NULL UNIQUE,
					hash TEXT NOT NULL,
					name TEXT NOT NULL,
					scopes TEXT NOT NULL,
					created_at TEXT NOT NULL,
					revoked_at TEXT,
					last_used_at TEXT
				)`,
			},
			postgres: []string{
				`CREATE TABLE api_keys (
					id TEXT PRIMARY KEY,
					prefix TEXT NOT NULL UNIQUE,
					hash TEXT NOT NULL,
					name TEXT NOT NULL,
					scopes TEXT NOT NULL,
					created_at TIMESTAMPTZ NOT NULL,
					revoked_at TIMESTAMPTZ,
					last_used_at TIMESTAMPTZ
				)`,
			},
		},
		{
			version: 7,
			name:    "model registry",
			// Versions are immutable and the history is append-only; the
			// triggers make the database refuse anything else, whoever
			// writes to it. The artifact is stored whole so that replicas
			// sharing a PostgreSQL need no shared file system.
			sqlite: []string{
				`CREATE TABLE model_versions (
					checksum TEXT PRIMARY KEY,
					version TEXT NOT NULL,
					artifact BLOB NOT NULL,
					size INTEGER NOT NULL,
					summary TEXT NOT NULL,
					registered_at TEXT NOT NULL,
					registered_by TEXT NOT NULL
				)`,
				`CREATE TABLE model_aliases (
					alias TEXT PRIMARY KEY,
					checksum TEXT NOT NULL REFERENCES model_versions (checksum),
					updated_at TEXT NOT NULL,
					updated_by TEXT NOT NULL
				)`,
				`CREATE TABLE model_events (
					id INTEGER PRIMARY KEY AUTOINCREMENT,
					at TEXT NOT NULL,
					actor TEXT NOT NULL,
					action TEXT NOT NULL,
					alias TEXT NOT NULL,
					checksum TEXT NOT NULL,
					previous TEXT NOT NULL,
					result TEXT NOT NULL,
					detail TEXT NOT NULL
				)`,
				`CREATE INDEX model_events_alias ON model_events (alias, action, id)`,
				`CREATE TRIGGER model_versions_immutable BEFORE UPDATE ON model_versions
				BEGIN SELECT RAISE(ABORT, 'model versions are immutable'); END`,
				`CREATE TRIGGER model_versions_kept BEFORE DELETE ON model_versions
				BEGIN SELECT RAISE(ABORT, 'model versions are immutable'); END`,
				`CREATE TRIGGER model_events_no_update BEFORE UPDATE ON model_events
				BEGIN SELECT RAISE(ABORT, 'the model history is append-only'); END`,
				`CREATE TRIGGER model_events_no_delete BEFORE DELETE ON model_events
				BEGIN SELECT RAISE(ABORT, 'the model history is append-only'); END`,
			},
			postgres: []string{
				`CREATE TABLE model_versions (
					checksum TEXT PRIMARY KEY,
					version TEXT NOT NULL,
					artifact BYTEA NOT NULL,
					size BIGINT NOT NULL,
					summary TEXT NOT NULL,
					registered_at TIMESTAMPTZ NOT NULL,
					registered_by TEXT NOT NULL
				)`,
				`CREATE TABLE model_aliases (
					alias TEXT PRIMARY KEY,
					checksum TEXT NOT NULL REFERENCES model_versions (checksum),
					updated_at TIMESTAMPTZ NOT NULL,
					updated_by TEXT NOT NULL
				)`,
				`CREATE TABLE model_events (
					id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
					at TIMESTAMPTZ NOT NULL,
					actor TEXT NOT NULL,
					action TEXT NOT NULL,
					alias TEXT NOT NULL,
					checksum TEXT NOT NULL,
					previous TEXT NOT NULL,
					result TEXT NOT NULL,
					detail TEXT NOT NULL
				)`,
				`CREATE INDEX model_events_alias ON model_events (alias, action, id)`,
				`CREATE OR REPLACE FUNCTION model_registry_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$`,
				`CREATE TRIGGER model_versions_immutable BEFORE UPDATE OR DELETE ON model_versions
				FOR EACH ROW EXECUTE FUNCTION model_registry_refuse()`,
				`CREATE TRIGGER model_events_append_only BEFORE UPDATE OR DELETE ON model_events
				FOR EACH ROW EXECUTE FUNCTION model_registry_refuse()`,
			},
		},
		{
			version: 8,
			name:    "alert text for leadership",
			// The evidence column keeps its name and holds icp.Alert.Details.
			// notified_severity is the severity of the last notification, so
			// that only a rise above it notifies again early.
			sqlite: []string{
				`ALTER TABLE alerts ADD COLUMN title TEXT NOT NULL DEFAULT ''`,
				`ALTER TABLE alerts ADD COLUMN subject TEXT NOT NULL DEFAULT ''`,
				`ALTER TABLE alerts ADD COLUMN action TEXT NOT NULL DEFAULT ''`,
				`ALTER TABLE alerts ADD COLUMN measure TEXT`,
				`ALTER TABLE alerts ADD COLUMN trend TEXT`,
				`ALTER TABLE alerts ADD COLUMN resolution TEXT NOT NULL DEFAULT ''`,
				`ALTER TABLE alerts ADD COLUMN notified_severity TEXT NOT NULL DEFAULT ''`,
				`UPDATE alerts SET notified_severity = severity WHERE last_notified_at IS NOT NULL`,
			},
			postgres: []string{
				`ALTER TABLE alerts ADD COLUMN title TEXT NOT NULL DEFAULT ''`,
				`ALTER TABLE alerts ADD COLUMN subject TEXT NOT NULL DEFAULT ''`,
				`ALTER TABLE alerts ADD COLUMN action TEXT NOT NULL DEFAULT ''`,
				`ALTER TABLE alerts ADD COLUMN measure JSONB`,
				`ALTER TABLE alerts ADD COLUMN trend JSONB`,
				`ALTER TABLE alerts ADD COLUMN resolution TEXT NOT NULL DEFAULT ''`,
				`ALTER TABLE alerts ADD COLUMN notified_severity TEXT NOT NULL DEFAULT ''`,
				`UPDATE alerts SET notified_severity = severity WHERE last_notified_at IS NOT NULL`,
			},
		},
	}
}

// SchemaVersion returns the highest migration version applied to the
// database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := s.rdb.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return int(v.Int64), nil
}

// migrate creates the migration table, refuses a schema newer than the
// binary, and applies each pending migration in its own transaction.
func (s *Store) migrate(ctx context.Context) error {
	all := migrations()
	known := all[len(all)-1].version
	var applied []int
	err := s.migrationTx(ctx, func(tx *sql.Tx) error {
		create := `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY,
			name TEXT NOT NULL,
			applied_at TEXT NOT NULL
		)`
		if s.d.name == BackendPostgres {
			create = `CREATE TABLE IF NOT EXISTS schema_migrations (
				version INTEGER PRIMARY KEY,
				name TEXT NOT NULL,
				applied_at TIMESTAMPTZ NOT NULL
			)`
		}
		if _, err := tx.ExecContext(ctx, create); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var err error
		applied, err = appliedVersions(ctx, tx)
		return err
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if len(applied) > 0 && applied[len(applied)-1] > known {
		return fmt.Errorf("migrate: database is at version %d, this binary knows up to %d: %w",
			applied[len(applied)-1], known, ErrSchemaNewer)
	}
	for _, m := range all {
		if slices.Contains(applied, m.version) {
			continue
		}
		ran := false
		err := s.migrationTx(ctx, func(tx *sql.Tx) error {
			// Another replica may have applied it while we waited for the lock.
			var n int
			if err := tx.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			stmts := m.sqlite
			if s.d.name == BackendPostgres {
				stmts = m.postgres
			}
			for _, stmt := range stmts {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				m.version, m.name, s.d.timeArg(s.now()))
			ran = err == nil
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: version %d (%s): %w", m.version, m.name, err)
		}
		if ran {
			s.log.Info("store: applied migration", "version", m.version, "name", m.name, "backend", s.d.name)
		}
	}
	return nil
}

// migrationTx runs fn in a write transaction that, in PostgreSQL, first takes
// a transaction-scoped advisory lock for the current schema, so that replicas
// starting together apply each migration once.
func (s *Store) migrationTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.writeTxOnce(ctx, func(tx *sql.Tx) error {
		if s.d.name == BackendPostgres {
			// 457 is this package's lock class; the second key is the schema.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(457, hashtext(COALESCE(current_schema(), '')))`); err != nil {
				return fmt.Errorf("take migration lock: %w", err)
			}
		}
		return fn(tx)
	})
}

func appliedVersions(ctx context.Context, tx *sql.Tx) ([]int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		vs = append(vs, v)
	}
	return vs, rows.Err()
}
