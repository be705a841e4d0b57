package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// ErrSchemaNewer reports a database whose schema was migrated by a newer
// binary than this one. Open returns it wrapped; upgrade the binary instead of
// writing to such a database.
var ErrSchemaNewer = errors.New("database schema is newer than this binary")

// The backend names returned by Store.Backend.
const (
	BackendSQLite   = "sqlite"
	BackendPostgres = "postgres"
)

// busyTimeoutMillis is how long a SQLite connection waits for a lock held by
// another connection or process before it reports SQLITE_BUSY.
const busyTimeoutMillis = 5000

// Config tunes a Store. The zero value is ready to use.
type Config struct {
	// Logger receives migration and startup messages. Nil discards them.
	Logger *slog.Logger
	// Now is the clock used for recorded, seen, notified and updated times.
	// Nil means time.Now.
	Now func() time.Time
	// PoolSize bounds the PostgreSQL connection pool and the SQLite reader
	// pool. Zero means 10 for PostgreSQL and 4 for SQLite. SQLite always
	// writes through a single connection.
	PoolSize int
	// DeliveryLease is how long DueDeliveries hides the deliveries it returns
	// from other callers while they are being sent. Zero means one minute.
	DeliveryLease time.Duration
}

// Store is the persistence layer. It is safe for concurrent use, and several
// processes may share one database.
type Store struct {
	dsn     string
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	d       dialect
	wdb     db // transactions that write
	rdb     db // plain reads; the same pool as wdb except for a SQLite file
	lease   time.Duration
	closers []*sql.DB
}

// Open connects to the database named by dsn and applies pending migrations.
// A dsn starting with "postgres://" or "postgresql://" selects PostgreSQL;
// anything else is a SQLite file path (created if absent, with its parent
// directory) or ":memory:" for a private in-memory database. A SQLite path may
// also be a "file:" URI.
func Open(ctx context.Context, dsn string, cfg Config) (*Store, error) {
	s := &Store{dsn: dsn, cfg: cfg, log: cfg.Logger, now: cfg.Now, lease: cfg.DeliveryLease}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.lease <= 0 {
		s.lease = time.Minute
	}
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		err = s.openPostgres(ctx, dsn)
	} else {
		err = s.openSQLite(ctx, dsn)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	return s, nil
}

func (s *Store) openPostgres(ctx context.Context, dsn string) error {
	pc, err := pgx.ParseConfig(dsn)
	if err != nil {
		// The parse error may echo the DSN, password included; keep it out.
		return errors.New("parse postgres dsn: invalid connection string")
	}
	if pc.RuntimeParams == nil {
		pc.RuntimeParams = map[string]string{}
	}
	if v, ok := pc.RuntimeParams["synchronous_commit"]; !ok {
		// An acknowledged write must be on disk: never inherit an
		// asynchronous-commit server default.
		pc.RuntimeParams["synchronous_commit"] = "on"
	} else if v == "off" || v == "local" {
		s.log.Warn("store: synchronous_commit weakened by the DSN; acknowledged writes may be lost in a crash", "synchronous_commit", v)
	}
	db := stdlib.OpenDB(*pc)
	s.closers = append(s.closers, db)
	size := s.cfg.PoolSize
	if size <= 0 {
		size = 10
	}
	db.SetMaxOpenConns(size)
	db.SetMaxIdleConns(max(2, size/2))
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("connect postgres %s:%d/%s: %w", pc.Host, pc.Port, pc.Database, err)
	}
	s.d = postgresDialect()
	s.wdb, s.rdb = outageDB(db), outageDB(db)
	s.log.Info("store opened", "backend", BackendPostgres, "host", pc.Host, "port", pc.Port, "database", pc.Database)
	return nil
}

func (s *Store) openSQLite(ctx context.Context, dsn string) error {
	if dsn == "" {
		return errors.New("empty database path")
	}
	memory := dsn == ":memory:"
	base, sep := dsn, "?"
	switch {
	case strings.HasPrefix(dsn, "file:"):
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		memory = memory || strings.Contains(dsn, "mode=memory")
	case strings.ContainsAny(dsn, "?#"):
		return fmt.Errorf("sqlite path %q: contains '?' or '#'; use a file: URI", dsn)
	case !memory:
		if err := os.MkdirAll(filepath.Dir(dsn), 0o750); err != nil {
			return fmt.Errorf("create database directory: %w", err)
		}
	}
	busy := "_busy_timeout=" + strconv.Itoa(busyTimeoutMillis)
	writer := base + sep + busy + "&_foreign_keys=1&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate"
	wdb, err := sql.Open("sqlite", writer)
	if err != nil {
		return fmt.Errorf("open sqlite %s: %w", dsn, err)
	}
	s.closers = append(s.closers, wdb)
	// One writer connection: writers queue in Go instead of spinning on
	// SQLITE_BUSY, and a private :memory: database lives exactly as long as
	// its only connection.
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	s.d = sqliteDialect()
	s.wdb, s.rdb = outageDB(wdb), outageDB(wdb)
	if err := s.checkSQLitePragmas(ctx, memory); err != nil {
		return err
	}
	if !memory {
		rdb, err := sql.Open("sqlite", base+sep+busy+"&_foreign_keys=1&_query_only=1")
		if err != nil {
			return fmt.Errorf("open sqlite %s: %w", dsn, err)
		}
		s.closers = append(s.closers, rdb)
		size := s.cfg.PoolSize
		if size <= 0 {
			size = 4
		}
		rdb.SetMaxOpenConns(size)
		rdb.SetMaxIdleConns(size)
		s.rdb = outageDB(rdb)
	}
	s.log.Info("store opened", "backend", BackendSQLite, "path", dsn)
	return nil
}

// checkSQLitePragmas verifies that the DSN parameters took effect on the
// writer connection: a silently ignored parameter would weaken durability.
func (s *Store) checkSQLitePragmas(ctx context.Context, memory bool) error {
	checks := []struct {
		pragma, want string
	}{
		{"busy_timeout", strconv.Itoa(busyTimeoutMillis)},
		{"foreign_keys", "1"},
		{"synchronous", "2"},
		{"journal_mode", "wal"},
	}
	for _, c := range checks {
		if memory && c.pragma == "journal_mode" {
			continue // an in-memory database keeps its journal in memory
		}
		var got string
		if err := s.wdb.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			return fmt.Errorf("check sqlite pragma %s: %w", c.pragma, err)
		}
		if !strings.EqualFold(got, c.want) {
			return fmt.Errorf("check sqlite pragma %s: got %q, want %q", c.pragma, got, c.want)
		}
	}
	return nil
}

// Close releases the database connections.
func (s *Store) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i].Close(); err != nil {
			errs = append(errs, err)
		}
	}
	s.closers = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Ping checks that the database answers. Its error matches
// icp.ErrUnavailable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.wdb.PingContext(ctx); err != nil {
		return fmt.Errorf("ping store: %w", markUnavailable(err))
	}
	if s.rdb != s.wdb {
		if err := s.rdb.PingContext(ctx); err != nil {
			return fmt.Errorf("ping store: %w", markUnavailable(err))
		}
	}
	return nil
}

// Backend returns "sqlite" or "postgres".
func (s *Store) Backend() string { return s.d.name }

// writeTx runs fn in a write transaction (BEGIN IMMEDIATE in SQLite) and
// commits it. In PostgreSQL it retries fn a few times after a serialisation
// failure or a deadlock.
//
// An error that says the database is out of reach matches
// icp.ErrUnavailable (see unavailable), whichever statement met it.
func (s *Store) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	const attempts = 4
	var err error
	for i := range attempts {
		err = unavailable(s.writeTxOnce(ctx, fn))
		if err == nil || !s.retryable(err) || i == attempts-1 {
			return err
		}
		s.log.Debug("store: retrying transaction", "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(i+1) * 10 * time.Millisecond):
		}
	}
	return err
}

func (s *Store) writeTxOnce(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (s *Store) retryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Code == "40001" || pe.Code == "40P01" // serialization_failure, deadlock_detected
}

// dialect holds what differs between the SQL of the two backends. Queries are
// written with '?' placeholders and rebound for PostgreSQL.
type dialect struct {
	name string
	// dollar rebinds '?' placeholders to $1, $2, ...
	dollar bool
	// forUpdate is appended to a SELECT whose rows the transaction will
	// update. SQLite needs none: BEGIN IMMEDIATE already serialises writers.
	forUpdate string
	// skipLocked is appended to a SELECT that claims rows other workers may
	// be claiming at the same time.
	skipLocked string
}

func sqliteDialect() dialect {
	return dialect{name: BackendSQLite}
}

func postgresDialect() dialect {
	return dialect{name: BackendPostgres, dollar: true, forUpdate: " FOR UPDATE", skipLocked: " FOR UPDATE SKIP LOCKED"}
}

// q rebinds the placeholders of query for the dialect. Queries of this
// package never hold '?' inside a literal.
func (d dialect) q(query string) string {
	if !d.dollar {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// sqliteTimeLayout is fixed-width so that stored times sort as text.
const sqliteTimeLayout = "2006-01-02T15:04:05.000000Z"

// normTime is the stored form of t: UTC, truncated to microseconds.
func normTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// timeArg converts t to a query argument of the dialect.
func (d dialect) timeArg(t time.Time) any {
	t = normTime(t)
	if d.name == BackendSQLite {
		return t.Format(sqliteTimeLayout)
	}
	return t
}

// nullTimeArg is timeArg with the zero time stored as NULL.
func (d dialect) nullTimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return d.timeArg(t)
}

// dbTime scans a time column of either backend.
type dbTime struct {
	T     time.Time
	Valid bool
}

// Scan implements sql.Scanner.
func (t *dbTime) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*t = dbTime{}
		return nil
	case time.Time:
		*t = dbTime{T: normTime(v), Valid: true}
		return nil
	case string:
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	}
	return fmt.Errorf("scan time: unsupported type %T", v)
}

func (t *dbTime) parse(v string) error {
	p, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("scan time: %w", err)
	}
	*t = dbTime{T: normTime(p), Valid: true}
	return nil
}
