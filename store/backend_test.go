package store

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpengine/icp"
)

func TestSQLitePragmas(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Backend() != BackendSQLite {
		t.Fatalf("Backend() = %q, want %q", s.Backend(), BackendSQLite)
	}
	tests := []struct {
		name   string
		db     *sql.DB
		pragma string
		want   string
	}{
		{"writer journal", s.wdb.DB, "journal_mode", "wal"},
		{"writer synchronous FULL", s.wdb.DB, "synchronous", "2"},
		{"writer foreign keys", s.wdb.DB, "foreign_keys", "1"},
		{"writer busy timeout", s.wdb.DB, "busy_timeout", "5000"},
		{"reader journal", s.rdb.DB, "journal_mode", "wal"},
		{"reader query only", s.rdb.DB, "query_only", "1"},
		{"reader busy timeout", s.rdb.DB, "busy_timeout", "5000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			if err := tt.db.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil || got != tt.want {
				t.Fatalf("PRAGMA %s = %q, %v, want %q", tt.pragma, got, err, tt.want)
			}
		})
	}
	if _, err := s.rdb.ExecContext(ctx, `DELETE FROM outcomes`); err == nil {
		t.Fatal("write through the reader pool succeeded, want a read-only error")
	}
}

// TestSQLiteImmediate checks that a write transaction takes the write lock
// at BEGIN (the _txlock=immediate DSN parameter), not at its first write.
func TestSQLiteImmediate(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "lock.db")
	s, err := Open(ctx, path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := sql.Open("sqlite", path+"?_busy_timeout=0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)

	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	// No statement has run in tx yet; an immediate transaction already holds
	// the write lock.
	if _, err := other.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'x', 'x')`); err == nil ||
		!strings.Contains(err.Error(), "locked") {
		t.Fatalf("write beside an open store transaction = %v, want database is locked", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := other.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = 999`); err != nil {
		t.Fatalf("write after rollback: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		name      string
		dsn       string
		wantIn    string
		notWantIn string
	}{
		{name: "empty", dsn: "", wantIn: "empty database path"},
		{name: "query in path", dsn: filepath.Join(t.TempDir(), "a.db?mode=ro"), wantIn: "file: URI"},
		{name: "bad postgres dsn", dsn: "postgres://user:s3cret@host:notaport/db", wantIn: "invalid connection string", notWantIn: "s3cret"},
		{name: "postgres refused", dsn: "postgres://user:s3cret@127.0.0.1:1/db?connect_timeout=2", wantIn: "connect postgres", notWantIn: "s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(ctx, tt.dsn, Config{})
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tt.dsn)
			}
			if !strings.Contains(err.Error(), tt.wantIn) || (tt.notWantIn != "" && strings.Contains(err.Error(), tt.notWantIn)) {
				t.Fatalf("Open(%q) = %v, want it to mention %q and not %q", tt.dsn, err, tt.wantIn, tt.notWantIn)
			}
		})
	}
}

func TestSQLiteFileURI(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "uri.db")
	s, err := Open(ctx, "file:"+path+"?cache=private", Config{})
	if err != nil {
		t.Fatalf("Open(file: URI): %v", err)
	}
	defer s.Close()
	if _, err := s.RecordOutcomes(ctx, "", []icp.Outcome{{AccountID: "a", CloseDate: t0}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not created at %s: %v", path, err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func TestPostgresSession(t *testing.T) {
	if os.Getenv(pgEnv) == "" {
		t.Skip("PostgreSQL store suite skipped: " + pgEnv + " not set; run scripts/postgres-test-server.sh")
	}
	ctx := t.Context()
	s := openPostgresTest(t)
	if s.Backend() != BackendPostgres {
		t.Fatalf("Backend() = %q, want %q", s.Backend(), BackendPostgres)
	}
	var sync string
	if err := s.wdb.QueryRowContext(ctx, `SHOW synchronous_commit`).Scan(&sync); err != nil || sync != "on" {
		t.Fatalf("synchronous_commit = %q, %v, want on", sync, err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// TestPostgresConcurrentMigrations starts several replicas on one empty
// schema at once: the advisory lock lets each migration run exactly once.
func TestPostgresConcurrentMigrations(t *testing.T) {
	if os.Getenv(pgEnv) == "" {
		t.Skip("PostgreSQL store suite skipped: " + pgEnv + " not set; run scripts/postgres-test-server.sh")
	}
	ctx := t.Context()
	first := openPostgresTest(t)
	// Empty the schema the first store migrated, then race four replicas.
	// Every table of the schema goes, so later migrations need no edit here.
	rows, err := first.wdb.QueryContext(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := first.wdb.ExecContext(ctx, "DROP TABLE "+strings.Join(tables, ", ")+" CASCADE"); err != nil {
		t.Fatal(err)
	}
	const replicas = 4
	var (
		wg   sync.WaitGroup
		errs = make([]error, replicas)
	)
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(ctx, first.dsn, Config{})
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Open: %v", err)
	}
	var n int
	if err := first.wdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(migrations()) {
		t.Fatalf("schema_migrations rows = %d, %v, want %d", n, err, len(migrations()))
	}
}

func TestDBTimeScan(t *testing.T) {
	want := time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
	tests := []struct {
		name string
		give any
	}{
		{"time in zone", want.In(time.FixedZone("X", 7200)).Add(789)},
		{"sqlite text", "2026-03-01T12:00:00.123456Z"},
		{"bytes", []byte("2026-03-01T14:00:00.123456+02:00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got dbTime
			if err := got.Scan(tt.give); err != nil || !got.Valid || !got.T.Equal(want) || got.T.Location() != time.UTC {
				t.Fatalf("Scan(%v) = %v, %v, want %v UTC", tt.give, got, err, want)
			}
		})
	}
	var got dbTime
	if err := got.Scan("yesterday"); err == nil {
		t.Fatal("Scan(\"yesterday\") succeeded, want an error")
	}
	if err := got.Scan(nil); err != nil || got.Valid {
		t.Fatalf("Scan(nil) = %v, %v, want invalid", got, err)
	}
}

func TestRebind(t *testing.T) {
	tests := []struct {
		give, want string
		d          dialect
	}{
		{"SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2", postgresDialect()},
		{"SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = ? AND c = ?", sqliteDialect()},
		{"SELECT 1", "SELECT 1", postgresDialect()},
	}
	for _, tt := range tests {
		if got := tt.d.q(tt.give); got != tt.want {
			t.Errorf("q(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}
