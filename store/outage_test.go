package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/icpengine/icp"
)

func TestUnavailable(t *testing.T) {
	tests := []struct {
		name string
		give error
		want bool
	}{
		{"bad connection", fmt.Errorf("begin: %w", driver.ErrBadConn), true},
		{"connection done", sql.ErrConnDone, true},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"unexpected EOF", fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"connection exception", &pgconn.PgError{Code: "08006"}, true},
		{"pool closed", errors.New("sql: database is closed"), true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"no rows", sql.ErrNoRows, false},
		{"the caller's deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), false},
		{"canceled", context.Canceled, false},
		{"validation", fmt.Errorf("record: %w", icp.ErrInvalid), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := unavailable(tt.give)
			if got := errors.Is(err, icp.ErrUnavailable); got != tt.want {
				t.Errorf("unavailable(%v) matches ErrUnavailable = %v, want %v", tt.give, got, tt.want)
			}
			if !errors.Is(err, tt.give) {
				t.Errorf("unavailable(%v) = %v, which no longer matches the driver's error", tt.give, err)
			}
		})
	}
	if unavailable(nil) != nil {
		t.Error("unavailable(nil) != nil")
	}
}

// TestClosedStoreIsUnavailable checks the error of a store whose database
// is gone (here, closed): every read and write matches ErrUnavailable.
func TestClosedStoreIsUnavailable(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "icp.db"), Config{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ctx := t.Context()
	_, werr := s.RecordOutcomes(ctx, "", []icp.Outcome{{AccountID: "A", CloseDate: s.now()}})
	_, rerr := s.Models(ctx)
	_, aerr := s.Alerts(ctx, "", 10)
	for _, err := range []error{werr, rerr, aerr, s.Ping(ctx)} {
		if !errors.Is(err, icp.ErrUnavailable) {
			t.Errorf("a closed store answered %v, want an error matching ErrUnavailable", err)
		}
	}
}
