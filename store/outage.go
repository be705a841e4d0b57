package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/icpengine/icp"
)

// An outage of the database (PostgreSQL stopped or restarting, the
// network gone, a SQLite file locked or its disk full) is not a bug of the
// caller's request: every error the store returns for one matches
// icp.ErrUnavailable, which the server answers 503 with Retry-After. The
// store reaches the database only through db, whose methods mark such
// errors, so that every query, present and future, is covered.

// outageError is a database error that means the database is out of reach
// for now. It matches icp.ErrUnavailable and unwraps to the driver's error.
type outageError struct{ err error }

func (e *outageError) Error() string { return "database unavailable: " + e.err.Error() }

func (e *outageError) Unwrap() error { return e.err }

// Is reports whether target is icp.ErrUnavailable.
func (e *outageError) Is(target error) bool { return target == icp.ErrUnavailable }

// unavailable returns err marked as an outage when it is one (see
// isOutage), and err itself otherwise.
func unavailable(err error) error {
	if err == nil || errors.Is(err, icp.ErrUnavailable) || !isOutage(err) {
		return err
	}
	return &outageError{err: err}
}

// isOutage reports whether err says the database cannot be reached or
// cannot take work for now, as opposed to a refusal of the statement (a
// constraint, a type, a syntax error) or the caller's own deadline.
func isOutage(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ENOSPC) {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if pgconn.SafeToRetry(err) {
		// pgx failed before sending anything: a closed or broken
		// connection ("conn closed").
		return true
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"),                           // insufficient resources
			strings.HasPrefix(pe.Code, "58"),                           // system error (I/O)
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // shutdown, crash, cannot connect now
			return true
		}
		return false
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		switch se.Code() & 0xff { // the primary code of an extended one
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
			sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_READONLY:
			return true
		}
		return false
	}
	// database/sql's own error for a closed pool is not exported.
	return strings.Contains(err.Error(), "sql: database is closed")
}

// db is a connection pool whose errors are marked as outages where they
// are (see unavailable): *sql.DB with the methods the store queries
// through wrapped. Transactions are marked where they end (writeTx).
type db struct{ *sql.DB }

func (d db) QueryContext(ctx context.Context, query string, args ...any) (*rows, error) {
	r, err := d.DB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, unavailable(err)
	}
	return &rows{r}, nil
}

func (d db) QueryRowContext(ctx context.Context, query string, args ...any) *row {
	return &row{d.DB.QueryRowContext(ctx, query, args...)}
}

func (d db) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := d.DB.ExecContext(ctx, query, args...)
	return res, unavailable(err)
}

func (d db) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	tx, err := d.DB.BeginTx(ctx, opts)
	return tx, unavailable(err)
}

func (d db) PingContext(ctx context.Context) error { return unavailable(d.DB.PingContext(ctx)) }

// rows is *sql.Rows with its errors marked.
type rows struct{ *sql.Rows }

func (r *rows) Scan(dest ...any) error { return unavailable(r.Rows.Scan(dest...)) }

func (r *rows) Err() error { return unavailable(r.Rows.Err()) }

// row is *sql.Row with its error marked.
type row struct{ *sql.Row }

func (r *row) Scan(dest ...any) error { return unavailable(r.Row.Scan(dest...)) }

// outageDB wraps a pool as db.
func outageDB(p *sql.DB) db { return db{p} }

// markUnavailable marks any error of a ping as an outage: a database that
// does not answer a ping is unavailable, whatever the driver says.
func markUnavailable(err error) error {
	if errors.Is(err, icp.ErrUnavailable) {
		return err
	}
	return &outageError{err: err}
}
