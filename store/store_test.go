package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpengine/icp"
)

// pgEnv names the environment variable holding the PostgreSQL test server
// URL; scripts/postgres-test-server.sh prints it.
const pgEnv = "ICP_TEST_POSTGRES_URL"

// t0 is the start of the simulated clock of the tests.
var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// fakeClock is a settable clock safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// withClock installs clock in a store that no goroutine uses yet.
func withClock(s *Store, c *fakeClock) *Store {
	s.now = c.Now
	s.cfg.Now = c.Now
	return s
}

// reopen opens the database of s again with the same configuration, or
// returns nil for a private in-memory database, which cannot be reopened.
func reopen(t *testing.T, s *Store) *Store {
	t.Helper()
	if s.dsn == ":memory:" {
		return nil
	}
	s2, err := Open(t.Context(), s.dsn, s.cfg)
	if err != nil {
		t.Fatalf("Open(%q) again: %v", s.dsn, err)
	}
	t.Cleanup(func() { s2.Close() })
	return s2
}

func TestSQLiteFile(t *testing.T) {
	t.Parallel()
	runStoreSuite(t, func(t *testing.T) *Store {
		t.Helper()
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "sub", "icp.db"), Config{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestSQLiteMemory(t *testing.T) {
	t.Parallel()
	runStoreSuite(t, func(t *testing.T) *Store {
		t.Helper()
		s, err := Open(t.Context(), ":memory:", Config{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestPostgres(t *testing.T) {
	if os.Getenv(pgEnv) == "" {
		fmt.Println("PostgreSQL store suite skipped: " + pgEnv + " not set; run scripts/postgres-test-server.sh")
		t.Skip("PostgreSQL store suite skipped: " + pgEnv + " not set; run scripts/postgres-test-server.sh")
	}
	t.Parallel()
	runStoreSuite(t, func(t *testing.T) *Store { return openPostgresTest(t) })
}

// openPostgresTest opens a store in a new, uniquely named schema of the test
// server and drops the schema when the test ends.
func openPostgresTest(t testing.TB) *Store {
	t.Helper()
	url := os.Getenv(pgEnv)
	admin, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatalf("connect %s: %v", pgEnv, err)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "icp_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	s, err := Open(context.Background(), url+sep+"search_path="+schema, Config{})
	if err != nil {
		t.Fatalf("Open postgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// runStoreSuite runs the behavioural tests of the store against fresh
// databases made by open.
func runStoreSuite(t *testing.T, open func(t *testing.T) *Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, open func(t *testing.T) *Store)
	}{
		{"Migrations", testMigrations},
		{"OutcomeValidation", testOutcomeValidation},
		{"OutcomeRoundTrip", testOutcomeRoundTrip},
		{"Idempotency", testIdempotency},
		{"IdempotencyConcurrent", testIdempotencyConcurrent},
		{"OutcomeOrdering", testOutcomeOrdering},
		{"ScoreLog", testScoreLog},
		{"DriftReports", testDriftReports},
		{"AlertSustained48h", testAlertSustained},
		{"AlertSeverity", testAlertSeverity},
		{"AlertCooldown", testAlertCooldown},
		{"AlertConcurrentRaise", testAlertConcurrentRaise},
		{"AlertStatus", testAlertStatus},
		{"AlertText", testAlertText},
		{"AlertResolveQuiet", testAlertResolveQuiet},
		{"Outbox", testOutbox},
		{"OutboxConcurrentClaims", testOutboxConcurrentClaims},
		{"Durability", testDurability},
		{"ConcurrentWriters", testConcurrentWriters},
		{"APIKeys", testAPIKeys},
		{"APIKeyValidation", testAPIKeyValidation},
		{"ModelRegistry", testModelRegistry},
		{"ModelRegistryValidation", testModelRegistryValidation},
		{"ModelRegistryAppendOnly", testModelRegistryAppendOnly},
		{"ModelConcurrentPromote", testModelConcurrentPromote},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open) })
	}
}

func testMigrations(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	s := open(t)
	want := migrations()[len(migrations())-1].version
	if got, err := s.SchemaVersion(ctx); err != nil || got != want {
		t.Fatalf("SchemaVersion() = %d, %v, want %d, nil", got, err, want)
	}
	// Running the migrations again is a no-op.
	if err := s.migrate(ctx); err != nil {
		t.Fatalf("migrate() again: %v", err)
	}
	var n int
	if err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != want {
		t.Fatalf("schema_migrations rows = %d, %v, want %d", n, err, want)
	}
	if _, err := s.RecordOutcomes(ctx, "", []icp.Outcome{{AccountID: "a1", CloseDate: t0}}); err != nil {
		t.Fatalf("RecordOutcomes: %v", err)
	}
	if s2 := reopen(t, s); s2 != nil {
		if got, err := s2.OutcomeCount(ctx); err != nil || got != 1 {
			t.Fatalf("OutcomeCount() after reopen = %d, %v, want 1", got, err)
		}
		if s3 := reopen(t, s); s3 == nil {
			t.Fatal("third open failed")
		}
	}
	// A schema from a newer binary is refused.
	if _, err := s.wdb.ExecContext(ctx, s.d.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
		want+100, "from the future", s.d.timeArg(t0)); err != nil {
		t.Fatal(err)
	}
	if err := s.migrate(ctx); !errors.Is(err, ErrSchemaNewer) {
		t.Fatalf("migrate() with version %d = %v, want ErrSchemaNewer", want+100, err)
	}
	if s.dsn != ":memory:" {
		if s4, err := Open(ctx, s.dsn, s.cfg); !errors.Is(err, ErrSchemaNewer) {
			if s4 != nil {
				s4.Close()
			}
			t.Fatalf("Open() of a newer schema = %v, want ErrSchemaNewer", err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func fieldNames(err error) []string {
	var v *icp.ValidationError
	if !errors.As(err, &v) {
		return nil
	}
	var names []string
	for _, f := range v.Fields {
		names = append(names, f.Field)
	}
	return names
}

func testOutcomeValidation(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	s := open(t)
	good := icp.Outcome{AccountID: "acme", CloseDate: t0, Won: true}
	tests := []struct {
		name string
		key  string
		give []icp.Outcome
		want []string
	}{
		{name: "empty batch", give: nil, want: []string{"outcomes"}},
		{
			name: "missing fields",
			give: []icp.Outcome{good, {AccountID: "  ", CloseDate: t0}, {AccountID: "b"}, good},
			want: []string{"outcomes[1].account_id", "outcomes[2].close_date"},
		},
		{
			name: "bad numbers",
			give: []icp.Outcome{
				{AccountID: "a", CloseDate: t0, LTVUSD: ptr(math.NaN())},
				{AccountID: "b", CloseDate: t0, CycleDays: ptr(-3.0)},
				{AccountID: "c", CloseDate: t0, LTVUSD: ptr(math.Inf(1))},
			},
			want: []string{"outcomes[0].ltv_usd", "outcomes[1].sales_cycle_days", "outcomes[2].ltv_usd"},
		},
		{
			name: "unencodable account",
			give: []icp.Outcome{good, {AccountID: "x", CloseDate: t0, Account: icp.Account{"employees": math.Inf(-1)}}},
			want: []string{"outcomes[1].account"},
		},
		{
			name: "long key",
			key:  strings.Repeat("k", maxIdempotencyKey+1),
			give: []icp.Outcome{good},
			want: []string{"idempotency_key"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.RecordOutcomes(ctx, tt.key, tt.give)
			if !errors.Is(err, icp.ErrInvalid) {
				t.Fatalf("RecordOutcomes() error = %v, want ErrInvalid", err)
			}
			if got := fieldNames(err); !slices.Equal(got, tt.want) {
				t.Fatalf("RecordOutcomes() fields = %v, want %v", got, tt.want)
			}
		})
	}
	if n, err := s.OutcomeCount(ctx); err != nil || n != 0 {
		t.Fatalf("OutcomeCount() after rejected batches = %d, %v, want 0", n, err)
	}
}

func testOutcomeRoundTrip(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	s := open(t)
	clock := newFakeClock(t0.Add(time.Hour))
	withClock(s, clock)
	paris := time.FixedZone("CET", 3600)
	give := []icp.Outcome{
		{
			AccountID: "acme",
			Account:   icp.Account{"industry": "fintech", "employees": 250.0, "tags": []any{"crm", "sso"}, "region": nil},
			Won:       true,
			Churned:   ptr(false),
			CloseDate: time.Date(2025, 12, 1, 10, 30, 0, 123456789, paris),
			LTVUSD:    ptr(125000.5),
			CycleDays: ptr(42.0),
		},
		{AccountID: "globex", Won: false, CloseDate: t0, RecordedAt: t0.Add(-time.Minute)},
	}
	res, err := s.RecordOutcomes(ctx, "", give)
	if err != nil {
		t.Fatalf("RecordOutcomes: %v", err)
	}
	if res.Stored != 2 || res.Replayed || len(res.IDs) != 2 || res.IDs[0] >= res.IDs[1] {
		t.Fatalf("RecordOutcomes() = %+v, want 2 increasing ids", res)
	}
	got, err := s.Outcomes(ctx, time.Time{}, 0)
	if err != nil {
		t.Fatalf("Outcomes: %v", err)
	}
	want := []icp.Outcome{give[0], give[1]}
	want[0].CloseDate = time.Date(2025, 12, 1, 9, 30, 0, 123456000, time.UTC)
	want[0].RecordedAt = clock.Now()
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Fatalf("Outcomes() = %s, want %s", gotJSON, wantJSON)
	}
	if got[0].CloseDate.Location() != time.UTC {
		t.Fatalf("Outcomes()[0].CloseDate location = %v, want UTC", got[0].CloseDate.Location())
	}
}

func testIdempotency(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	s := open(t)
	batch := []icp.Outcome{
		{AccountID: "a", CloseDate: t0, Won: true, Account: icp.Account{"b": 1.0, "a": "x"}},
		{AccountID: "b", CloseDate: t0.Add(time.Hour)},
	}
	first, err := s.RecordOutcomes(ctx, "key-1", batch)
	if err != nil {
		t.Fatalf("RecordOutcomes(key-1): %v", err)
	}
	// The same batch with the same instants in another zone is the same body.
	retry := slices.Clone(batch)
	retry[1].CloseDate = retry[1].CloseDate.In(time.FixedZone("EST", -5*3600))
	tests := []struct {
		name    string
		key     string
		give    []icp.Outcome
		want    icp.RecordResult
		wantErr error
		count   int64
	}{
		{name: "replay", key: "key-1", give: batch, want: icp.RecordResult{Stored: 2, Replayed: true, IDs: first.IDs}, count: 2},
		{name: "replay other zone", key: "key-1", give: retry, want: icp.RecordResult{Stored: 2, Replayed: true, IDs: first.IDs}, count: 2},
		{name: "conflict", key: "key-1", give: batch[:1], wantErr: icp.ErrConflict, count: 2},
		{name: "conflict changed field", key: "key-1", give: []icp.Outcome{batch[0], {AccountID: "b", CloseDate: t0.Add(time.Hour), Won: true}}, wantErr: icp.ErrConflict, count: 2},
		{name: "new key", key: "key-2", give: batch[:1], want: icp.RecordResult{Stored: 1}, count: 3},
		{name: "no key", give: batch[:1], want: icp.RecordResult{Stored: 1}, count: 4},
		{name: "no key again", give: batch[:1], want: icp.RecordResult{Stored: 1}, count: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.RecordOutcomes(ctx, tt.key, tt.give)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("RecordOutcomes(%q) error = %v, want %v", tt.key, err, tt.wantErr)
				}
			} else {
				if err != nil {
					t.Fatalf("RecordOutcomes(%q): %v", tt.key, err)
				}
				if got.Stored != tt.want.Stored || got.Replayed != tt.want.Replayed || len(got.IDs) != tt.want.Stored {
					t.Fatalf("RecordOutcomes(%q) = %+v, want %+v", tt.key, got, tt.want)
				}
				if tt.want.IDs != nil && !slices.Equal(got.IDs, tt.want.IDs) {
					t.Fatalf("RecordOutcomes(%q).IDs = %v, want %v", tt.key, got.IDs, tt.want.IDs)
				}
			}
			if n, err := s.OutcomeCount(ctx); err != nil || n != tt.count {
				t.Fatalf("OutcomeCount() = %d, %v, want %d", n, err, tt.count)
			}
		})
	}
}

func testIdempotencyConcurrent(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	stores := []*Store{open(t)}
	if s2 := reopen(t, stores[0]); s2 != nil {
		stores = append(stores, s2)
	}
	batch := []icp.Outcome{{AccountID: "a", CloseDate: t0}, {AccountID: "b", CloseDate: t0}}
	const clients = 6
	results := make([]icp.RecordResult, clients)
	errs := make([]error, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = stores[i%len(stores)].RecordOutcomes(ctx, "same-key", batch)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent RecordOutcomes: %v", err)
	}
	fresh := 0
	for _, r := range results {
		if !r.Replayed {
			fresh++
		}
		if !slices.Equal(r.IDs, results[0].IDs) || r.Stored != 2 {
			t.Fatalf("RecordOutcomes() results differ: %+v vs %+v", r, results[0])
		}
	}
	if fresh != 1 {
		t.Fatalf("%d of %d concurrent retries stored the batch, want 1", fresh, clients)
	}
	if n, err := stores[0].OutcomeCount(ctx); err != nil || n != 2 {
		t.Fatalf("OutcomeCount() = %d, %v, want 2", n, err)
	}
	// Forgetting the key lets the same body be stored again.
	if n, err := stores[0].PruneIdempotencyKeys(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("PruneIdempotencyKeys() = %d, %v, want 1", n, err)
	}
	if r, err := stores[0].RecordOutcomes(ctx, "same-key", batch); err != nil || r.Replayed {
		t.Fatalf("RecordOutcomes() after prune = %+v, %v, want a fresh write", r, err)
	}
}

func testOutboxConcurrentClaims(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	stores := []*Store{open(t)}
	for range 2 {
		if s2 := reopen(t, stores[0]); s2 != nil {
			stores = append(stores, s2)
		}
	}
	a, _, err := stores[0].RaiseAlert(ctx, driftAlert("claims", icp.SeverityInfo, nil), AlertPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	const total = 30
	for i := range total {
		if err := stores[0].EnqueueDelivery(ctx, a.ID, json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Now().Add(time.Minute)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		claims = map[int64]int{}
		errs   []error
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%len(stores)]
			for {
				ds, err := s.DueDeliveries(ctx, at, 4)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				for _, d := range ds {
					claims[d.ID]++
				}
				mu.Unlock()
				if err != nil || len(ds) == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("DueDeliveries: %v", err)
	}
	if len(claims) != total {
		t.Fatalf("claimed %d distinct deliveries, want %d", len(claims), total)
	}
	for id, n := range claims {
		if n != 1 {
			t.Fatalf("delivery %d claimed %d times within its lease, want once", id, n)
		}
	}
}

func testOutcomeOrdering(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	s := open(t)
	days := []int{5, 1, 3, 1, 4, 2, 3}
	for i, d := range days {
		o := icp.Outcome{AccountID: fmt.Sprintf("acct-%d", i), CloseDate: t0.AddDate(0, 0, d)}
		if _, err := s.RecordOutcomes(ctx, "", []icp.Outcome{o}); err != nil {
			t.Fatalf("RecordOutcomes: %v", err)
		}
	}
	tests := []struct {
		name  string
		since time.Time
		limit int
		want  []string
	}{
		{"all", time.Time{}, 0, []string{"acct-1", "acct-3", "acct-5", "acct-2", "acct-6", "acct-4", "acct-0"}},
		{"since day 3", t0.AddDate(0, 0, 3), 0, []string{"acct-2", "acct-6", "acct-4", "acct-0"}},
		{"limit", time.Time{}, 3, []string{"acct-1", "acct-3", "acct-5"}},
		{"since and limit", t0.AddDate(0, 0, 2), 2, []string{"acct-5", "acct-2"}},
		{"future", t0.AddDate(1, 0, 0), 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Outcomes(ctx, tt.since, tt.limit)
			if err != nil {
				t.Fatalf("Outcomes: %v", err)
			}
			var ids []string
			for _, o := range got {
				ids = append(ids, o.AccountID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Fatalf("Outcomes(%v, %d) = %v, want %v", tt.since, tt.limit, ids, tt.want)
			}
		})
	}
}

func testScoreLog(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	s := open(t)
	clock := newFakeClock(t0)
	withClock(s, clock)
	const n = 450 // more than two insert chunks
	batch := make([]icp.ScoredAccount, n)
	for i := range batch {
		batch[i] = icp.ScoredAccount{
			Time:         t0.Add(time.Duration(n-i) * time.Minute), // reverse order
			ModelVersion: "v1",
			AccountID:    fmt.Sprintf("acct-%03d", i),
			Account:      icp.Account{"employees": float64(i)},
			Score:        float64(i) / n,
			Tier:         icp.Tier2,
			SegmentID:    "seg-1",
		}
	}
	batch[0].Time = time.Time{} // takes the clock: t0
	if err := s.LogScores(ctx, batch); err != nil {
		t.Fatalf("LogScores: %v", err)
	}
	if err := s.LogScores(ctx, []icp.ScoredAccount{{Score: math.NaN()}}); !errors.Is(err, icp.ErrInvalid) ||
		!slices.Equal(fieldNames(err), []string{"scores[0].score"}) {
		t.Fatalf("LogScores(NaN) = %v, want scores[0].score invalid", err)
	}
	all, err := s.ScoredSince(ctx, time.Time{}, 0)
	if err != nil || len(all) != n {
		t.Fatalf("ScoredSince() = %d rows, %v, want %d", len(all), err, n)
	}
	if all[0].AccountID != "acct-000" || !all[0].Time.Equal(t0) {
		t.Fatalf("ScoredSince()[0] = %s at %v, want acct-000 at %v", all[0].AccountID, all[0].Time, t0)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Time.Before(all[i-1].Time) {
			t.Fatalf("ScoredSince() not ordered at %d: %v after %v", i, all[i].Time, all[i-1].Time)
		}
	}
	last := all[n-1]
	if last.AccountID != "acct-001" || last.Tier != icp.Tier2 || last.SegmentID != "seg-1" ||
		last.Account["employees"] != 1.0 || math.Abs(last.Score-1.0/n) > 1e-12 {
		t.Fatalf("ScoredSince()[last] = %+v, want acct-001 round-tripped", last)
	}
	page, err := s.ScoredSince(ctx, t0.Add(100*time.Minute), 10)
	if err != nil || len(page) != 10 || !page[0].Time.Equal(t0.Add(100*time.Minute)) {
		t.Fatalf("ScoredSince(t0+100m, 10) = %d rows, %v", len(page), err)
	}
	deleted, err := s.PruneScores(ctx, t0.Add(101*time.Minute))
	if err != nil || deleted != 101 { // t0 itself plus minutes 1..100
		t.Fatalf("PruneScores() = %d, %v, want 101", deleted, err)
	}
	rest, err := s.ScoredSince(ctx, time.Time{}, 0)
	if err != nil || len(rest) != n-101 {
		t.Fatalf("ScoredSince() after prune = %d rows, %v, want %d", len(rest), err, n-101)
	}
}

func testDriftReports(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	s := open(t)
	if _, err := s.LatestDriftReport(ctx); !errors.Is(err, icp.ErrNotFound) {
		t.Fatalf("LatestDriftReport() on empty store = %v, want ErrNotFound", err)
	}
	if _, err := s.SaveDriftReport(ctx, t0, "v1", json.RawMessage(`{"psi":`)); !errors.Is(err, icp.ErrInvalid) {
		t.Fatalf("SaveDriftReport(bad JSON) = %v, want ErrInvalid", err)
	}
	reports := []struct {
		at   time.Time
		body string
	}{
		{t0.Add(2 * time.Hour), `{"psi":0.2,"n":2}`},
		{t0, `{"psi":0.1,"n":1}`},
		{t0.Add(2 * time.Hour), `{"psi":0.3,"n":3}`},
	}
	var lastID int64
	for _, r := range reports {
		id, err := s.SaveDriftReport(ctx, r.at, "v7", json.RawMessage(r.body))
		if err != nil {
			t.Fatalf("SaveDriftReport: %v", err)
		}
		lastID = id
	}
	got, err := s.LatestDriftReport(ctx)
	if err != nil {
		t.Fatalf("LatestDriftReport: %v", err)
	}
	var body map[string]float64
	if err := json.Unmarshal(got.Body, &body); err != nil {
		t.Fatalf("LatestDriftReport().Body = %s: %v", got.Body, err)
	}
	if got.ID != lastID || !got.At.Equal(t0.Add(2*time.Hour)) || got.ModelVersion != "v7" || body["n"] != 3 {
		t.Fatalf("LatestDriftReport() = %+v (%s), want id %d with n=3", got, got.Body, lastID)
	}
}

func driftAlert(group string, sev icp.Severity, details map[string]any) icp.Alert {
	return icp.Alert{
		GroupKey: group,
		Kind:     "feature_drift",
		Severity: sev,
		Summary:  "distribution of " + group + " shifted",
		Details:  details,
	}
}

func alertPayload(a icp.Alert) (json.RawMessage, error) {
	return json.Marshal(map[string]any{"alert_id": a.ID, "count": a.Count, "severity": a.Severity})
}

func testAlertSustained(t *testing.T, open func(t *testing.T) *Store) {
	const step = 5 * time.Minute
	tests := []struct {
		name       string
		policy     AlertPolicy
		hours      int
		groups     []string
		wantNotify int // per group, ticks 0..hours*12 inclusive
	}{
		{
			name:       "default policy over 48h",
			policy:     AlertPolicy{},
			hours:      48,
			groups:     []string{"feature_drift:employees", "score_drift:global"},
			wantNotify: 3, // hours 0, 24 and 48
		},
		{
			name:       "repeat 6h over 24h",
			policy:     AlertPolicy{RepeatInterval: 6 * time.Hour},
			hours:      24,
			groups:     []string{"feature_drift:industry"},
			wantNotify: 5, // hours 0, 6, 12, 18 and 24
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			s := open(t)
			clock := newFakeClock(t0)
			withClock(s, clock)
			repeat := tt.policy.withDefaults().RepeatInterval
			steps := tt.hours * 12
			groups := tt.groups
			ids := map[string]string{}
			notifies := map[string]int{}
			for i := 0; i <= steps; i++ {
				clock.Set(t0.Add(time.Duration(i) * step))
				for _, g := range groups {
					a, notify, err := s.RaiseAlertWithDelivery(ctx, driftAlert(g, icp.SeverityWarning, map[string]any{"psi": 0.3, "tick": i}), tt.policy, alertPayload)
					if err != nil {
						t.Fatalf("RaiseAlert(%s) at tick %d: %v", g, i, err)
					}
					wantNotify := time.Duration(i)*step%repeat == 0
					if notify != wantNotify {
						t.Fatalf("RaiseAlert(%s) at tick %d notify = %v, want %v", g, i, notify, wantNotify)
					}
					if notify {
						notifies[g]++
					}
					if ids[g] == "" {
						ids[g] = a.ID
					} else if a.ID != ids[g] {
						t.Fatalf("RaiseAlert(%s) at tick %d id = %s, want stable %s", g, i, a.ID, ids[g])
					}
					if a.Count != i+1 || a.Status != icp.AlertOpen || !a.LastSeen.Equal(clock.Now()) || !a.FirstSeen.Equal(t0) {
						t.Fatalf("RaiseAlert(%s) at tick %d = count %d status %s seen %v..%v", g, i, a.Count, a.Status, a.FirstSeen, a.LastSeen)
					}
				}
			}
			openAlerts, err := s.Alerts(ctx, icp.AlertOpen, 0)
			if err != nil {
				t.Fatalf("Alerts: %v", err)
			}
			if len(openAlerts) != len(groups) {
				t.Fatalf("Alerts(open) = %d alerts, want %d", len(openAlerts), len(groups))
			}
			for _, g := range groups {
				if notifies[g] != tt.wantNotify {
					t.Errorf("%s notified %d times, want %d", g, notifies[g], tt.wantNotify)
				}
				a, err := s.Alert(ctx, ids[g])
				if err != nil || a.Details["tick"] != float64(steps) || a.GroupKey != g {
					t.Errorf("Alert(%s) = %+v, %v, want latest evidence", ids[g], a, err)
				}
			}
			if n, err := s.PendingDeliveries(ctx); err != nil || n != int64(tt.wantNotify*len(groups)) {
				t.Errorf("PendingDeliveries() = %d, %v, want %d", n, err, tt.wantNotify*len(groups))
			}
		})
	}
}

func testAlertSeverity(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	s := open(t)
	clock := newFakeClock(t0)
	withClock(s, clock)
	tests := []struct {
		give       icp.Severity
		wantSev    icp.Severity
		wantNotify bool
	}{
		{icp.SeverityWarning, icp.SeverityWarning, true},
		{icp.SeverityWarning, icp.SeverityWarning, false},
		{icp.SeverityCritical, icp.SeverityCritical, true},  // escalation notifies
		{icp.SeverityWarning, icp.SeverityWarning, false},   // follows the latest observation
		{icp.SeverityCritical, icp.SeverityCritical, false}, // already notified as critical
		{icp.SeverityInfo, icp.SeverityInfo, false},
	}
	for i, tt := range tests {
		clock.Advance(time.Minute)
		a, notify, err := s.RaiseAlert(ctx, driftAlert("g", tt.give, nil), AlertPolicy{})
		if err != nil || a.Severity != tt.wantSev || notify != tt.wantNotify || a.Count != i+1 {
			t.Fatalf("RaiseAlert(%s) #%d = %s notify %v count %d, %v; want %s notify %v",
				tt.give, i, a.Severity, notify, a.Count, err, tt.wantSev, tt.wantNotify)
		}
	}
	_, _, err := s.RaiseAlert(ctx, icp.Alert{Severity: "loud"}, AlertPolicy{})
	if got := fieldNames(err); !slices.Equal(got, []string{"group_key", "severity"}) {
		t.Fatalf("RaiseAlert(invalid) fields = %v (%v), want [group_key severity]", got, err)
	}
}

func testAlertCooldown(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	s := open(t)
	clock := newFakeClock(t0)
	withClock(s, clock)
	p := AlertPolicy{Cooldown: 6 * time.Hour}
	first, notify, err := s.RaiseAlert(ctx, driftAlert("g", icp.SeverityWarning, nil), p)
	if err != nil || !notify {
		t.Fatalf("RaiseAlert() = %v, %v, want notify", notify, err)
	}
	clock.Advance(time.Hour)
	resolvedAt := clock.Now()
	if _, err := s.SetAlertStatus(ctx, first.ID, icp.AlertResolved, "cro@example.com"); err != nil {
		t.Fatalf("SetAlertStatus(resolved): %v", err)
	}
	tests := []struct {
		name       string
		at         time.Time
		wantStatus icp.AlertStatus
		wantSameID bool
		wantNotify bool
	}{
		{"just after resolve", resolvedAt.Add(time.Minute), icp.AlertResolved, true, false},
		{"end of cooldown", resolvedAt.Add(6 * time.Hour), icp.AlertResolved, true, false},
		{"after cooldown", resolvedAt.Add(6*time.Hour + time.Second), icp.AlertOpen, false, true},
		{"new alert dedupes", resolvedAt.Add(7 * time.Hour), icp.AlertOpen, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Set(tt.at)
			a, notify, err := s.RaiseAlert(ctx, driftAlert("g", icp.SeverityWarning, nil), p)
			if err != nil {
				t.Fatalf("RaiseAlert: %v", err)
			}
			if a.Status != tt.wantStatus || (a.ID == first.ID) != tt.wantSameID || notify != tt.wantNotify {
				t.Fatalf("RaiseAlert() = id %s status %s notify %v, want status %s same id %v notify %v",
					a.ID, a.Status, notify, tt.wantStatus, tt.wantSameID, tt.wantNotify)
			}
		})
	}
	all, err := s.Alerts(ctx, "", 0)
	if err != nil || len(all) != 2 {
		t.Fatalf("Alerts() = %d, %v, want 2 (one resolved, one open)", len(all), err)
	}
	if all[0].Status != icp.AlertOpen || all[0].Count != 2 || all[1].ID != first.ID || all[1].Count != 1 {
		t.Fatalf("Alerts() = %+v, want the new open alert (count 2) then the resolved one (count 1)", all)
	}
}

func testAlertConcurrentRaise(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	stores := []*Store{open(t)}
	if s2 := reopen(t, stores[0]); s2 != nil {
		stores = append(stores, s2) // a second "replica" on the same database
	}
	const workers = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		ids     = map[string]int{}
		notices int
		errs    []error
	)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[i%len(stores)]
			a, notify, err := s.RaiseAlertWithDelivery(ctx, driftAlert("race", icp.SeverityCritical, nil), AlertPolicy{}, alertPayload)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			ids[a.ID]++
			if notify {
				notices++
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("RaiseAlert errors: %v", errs)
	}
	if len(ids) != 1 || notices != 1 {
		t.Fatalf("concurrent RaiseAlert ids = %v, notifications = %d, want one id and one notification", ids, notices)
	}
	all, err := stores[0].Alerts(ctx, "", 0)
	if err != nil || len(all) != 1 || all[0].Count != workers {
		t.Fatalf("Alerts() = %+v, %v, want one alert with count %d", all, err, workers)
	}
	if n, err := stores[0].PendingDeliveries(ctx); err != nil || n != 1 {
		t.Fatalf("PendingDeliveries() = %d, %v, want 1", n, err)
	}
}

func testAlertStatus(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	s := open(t)
	clock := newFakeClock(t0)
	withClock(s, clock)
	tests := []struct {
		name    string
		path    []icp.AlertStatus // moves made before the one under test
		give    icp.AlertStatus
		wantErr error
	}{
		{name: "open to acknowledged", give: icp.AlertAcknowledged},
		{name: "open to resolved", give: icp.AlertResolved},
		{name: "open to open", give: icp.AlertOpen},
		{name: "acknowledged to open", path: []icp.AlertStatus{icp.AlertAcknowledged}, give: icp.AlertOpen},
		{name: "acknowledged to resolved", path: []icp.AlertStatus{icp.AlertAcknowledged}, give: icp.AlertResolved},
		{name: "resolved to resolved", path: []icp.AlertStatus{icp.AlertResolved}, give: icp.AlertResolved},
		{name: "resolved to acknowledged", path: []icp.AlertStatus{icp.AlertResolved}, give: icp.AlertAcknowledged, wantErr: icp.ErrInvalid},
		{name: "resolved to open", path: []icp.AlertStatus{icp.AlertAcknowledged, icp.AlertResolved}, give: icp.AlertOpen, wantErr: icp.ErrInvalid},
		{name: "unknown status", give: "snoozed", wantErr: icp.ErrInvalid},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Advance(time.Minute)
			a, _, err := s.RaiseAlert(ctx, driftAlert(fmt.Sprintf("status-%d", i), icp.SeverityInfo, nil), AlertPolicy{})
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range tt.path {
				if a, err = s.SetAlertStatus(ctx, a.ID, st, "setup"); err != nil {
					t.Fatalf("SetAlertStatus(%s): %v", st, err)
				}
			}
			clock.Advance(time.Minute)
			got, err := s.SetAlertStatus(ctx, a.ID, tt.give, "vp-sales")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("SetAlertStatus(%s) error = %v, want %v", tt.give, err, tt.wantErr)
				}
				if after, _ := s.Alert(ctx, a.ID); after.Status != a.Status {
					t.Fatalf("status after rejected move = %s, want %s", after.Status, a.Status)
				}
				return
			}
			if err != nil {
				t.Fatalf("SetAlertStatus(%s): %v", tt.give, err)
			}
			if got.Status != tt.give {
				t.Fatalf("SetAlertStatus(%s).Status = %s", tt.give, got.Status)
			}
			if a.Status != tt.give && (got.UpdatedBy != "vp-sales" || !got.UpdatedAt.Equal(clock.Now())) {
				t.Fatalf("SetAlertStatus(%s) updated by %q at %v, want vp-sales at %v", tt.give, got.UpdatedBy, got.UpdatedAt, clock.Now())
			}
			stored, err := s.Alert(ctx, a.ID)
			if err != nil || stored.Status != tt.give || stored.UpdatedBy != got.UpdatedBy {
				t.Fatalf("Alert(%s) = %+v, %v, want status %s", a.ID, stored, err, tt.give)
			}
		})
	}
	if _, err := s.SetAlertStatus(ctx, "0000000000000000", icp.AlertResolved, "x"); !errors.Is(err, icp.ErrNotFound) {
		t.Fatalf("SetAlertStatus(unknown id) = %v, want ErrNotFound", err)
	}
	if _, err := s.Alert(ctx, "nope"); !errors.Is(err, icp.ErrNotFound) {
		t.Fatalf("Alert(unknown id) = %v, want ErrNotFound", err)
	}
	if _, err := s.Alerts(ctx, "snoozed", 0); !errors.Is(err, icp.ErrInvalid) {
		t.Fatalf("Alerts(snoozed) = %v, want ErrInvalid", err)
	}
	resolved, err := s.Alerts(ctx, icp.AlertResolved, 0)
	if err != nil || len(resolved) != 5 {
		t.Fatalf("Alerts(resolved) = %d, %v, want 5", len(resolved), err)
	}
	limited, err := s.Alerts(ctx, "", 2)
	if err != nil || len(limited) != 2 || limited[0].LastSeen.Before(limited[1].LastSeen) {
		t.Fatalf("Alerts(\"\", 2) = %+v, %v, want the 2 most recently seen", limited, err)
	}
}

func testOutbox(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	s := open(t)
	clock := newFakeClock(t0)
	withClock(s, clock)
	s.lease = 2 * time.Minute
	a, _, err := s.RaiseAlert(ctx, driftAlert("outbox", icp.SeverityWarning, nil), AlertPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	payload := json.RawMessage(`{"z": 1,  "alert_id": "` + a.ID + `"}`)
	if err := s.EnqueueDelivery(ctx, a.ID, payload); err != nil {
		t.Fatalf("EnqueueDelivery: %v", err)
	}
	if err := s.EnqueueDelivery(ctx, "missing", payload); !errors.Is(err, icp.ErrNotFound) {
		t.Fatalf("EnqueueDelivery(unknown alert) = %v, want ErrNotFound", err)
	}
	if err := s.EnqueueDelivery(ctx, a.ID, json.RawMessage(`{`)); !errors.Is(err, icp.ErrInvalid) {
		t.Fatalf("EnqueueDelivery(bad JSON) = %v, want ErrInvalid", err)
	}
	now := t0
	due := func(at time.Time, want int) []icp.Delivery {
		t.Helper()
		got, err := s.DueDeliveries(ctx, at, 10)
		if err != nil || len(got) != want {
			t.Fatalf("DueDeliveries(%v) = %d, %v, want %d", at.Sub(t0), len(got), err, want)
		}
		return got
	}
	d := due(now, 1)[0]
	if string(d.Payload) != string(payload) || d.AlertID != a.ID || d.Attempts != 0 || !d.CreatedAt.Equal(t0) {
		t.Fatalf("DueDeliveries()[0] = %+v (%s), want the enqueued payload byte for byte", d, d.Payload)
	}
	due(now, 0) // leased to the first caller
	if err := s.MarkFailed(ctx, d.ID, now.Add(time.Minute), "receiver said 503"); err != nil {
		t.Fatalf("MarkFailed: %v", err)
	}
	due(now.Add(59*time.Second), 0)
	d = due(now.Add(time.Minute), 1)[0]
	if d.Attempts != 1 || d.LastError != "receiver said 503" {
		t.Fatalf("retried delivery = %+v, want 1 attempt with the error", d)
	}
	// The worker dies without settling: the lease ends and it is due again.
	due(now.Add(2*time.Minute), 0)
	d = due(now.Add(3*time.Minute), 1)[0]
	if err := s.MarkFailed(ctx, d.ID, now.Add(4*time.Minute), strings.Repeat("é", 2*maxDeliveryError)); err != nil {
		t.Fatalf("MarkFailed(long): %v", err)
	}
	d = due(now.Add(4*time.Minute), 1)[0]
	if d.Attempts != 2 || len(d.LastError) > maxDeliveryError || !strings.HasPrefix(d.LastError, "éé") {
		t.Fatalf("delivery after long error = attempts %d, error of %d bytes", d.Attempts, len(d.LastError))
	}
	if err := s.MarkDelivered(ctx, d.ID); err != nil {
		t.Fatalf("MarkDelivered: %v", err)
	}
	if err := s.MarkDelivered(ctx, d.ID); err != nil {
		t.Fatalf("MarkDelivered again: %v", err)
	}
	due(now.Add(24*time.Hour), 0)
	if n, err := s.PendingDeliveries(ctx); err != nil || n != 0 {
		t.Fatalf("PendingDeliveries() = %d, %v, want 0", n, err)
	}
	if err := s.MarkDelivered(ctx, 987654); !errors.Is(err, icp.ErrNotFound) {
		t.Fatalf("MarkDelivered(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.MarkFailed(ctx, 987654, now, "x"); !errors.Is(err, icp.ErrNotFound) {
		t.Fatalf("MarkFailed(unknown) = %v, want ErrNotFound", err)
	}
	// Several due deliveries come oldest first, up to the limit.
	for i := range 3 {
		clock.Set(t0.Add(time.Duration(10+i) * time.Hour))
		if err := s.EnqueueDelivery(ctx, a.ID, json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.DueDeliveries(ctx, t0.Add(20*time.Hour), 2)
	if err != nil || len(got) != 2 || string(got[0].Payload) != `{"n":0}` || string(got[1].Payload) != `{"n":1}` {
		t.Fatalf("DueDeliveries(limit 2) = %+v, %v, want n=0 then n=1", got, err)
	}
}

func testDurability(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	s := open(t)
	if s.dsn == ":memory:" {
		t.Skip("a private in-memory database does not outlive its store")
	}
	clock := newFakeClock(t0)
	withClock(s, clock)
	batch := []icp.Outcome{{AccountID: "durable", CloseDate: t0, Won: true, LTVUSD: ptr(9.5)}}
	res, err := s.RecordOutcomes(ctx, "durable-key", batch)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.LogScores(ctx, []icp.ScoredAccount{{Time: t0, AccountID: "durable", Score: 0.75, Tier: icp.Tier1}}); err != nil {
		t.Fatal(err)
	}
	a, _, err := s.RaiseAlertWithDelivery(ctx, driftAlert("durable", icp.SeverityCritical, map[string]any{"psi": 0.4}), AlertPolicy{}, alertPayload)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveDriftReport(ctx, t0, "v1", json.RawMessage(`{"ok":true}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s2 := reopen(t, s)
	withClock(s2, clock)
	outs, err := s2.Outcomes(ctx, time.Time{}, 0)
	if err != nil || len(outs) != 1 || outs[0].AccountID != "durable" || *outs[0].LTVUSD != 9.5 {
		t.Fatalf("Outcomes() after reopen = %+v, %v", outs, err)
	}
	replay, err := s2.RecordOutcomes(ctx, "durable-key", batch)
	if err != nil || !replay.Replayed || !slices.Equal(replay.IDs, res.IDs) {
		t.Fatalf("RecordOutcomes() replay after reopen = %+v, %v, want replay of %v", replay, err, res.IDs)
	}
	scores, err := s2.ScoredSince(ctx, time.Time{}, 0)
	if err != nil || len(scores) != 1 || scores[0].Score != 0.75 {
		t.Fatalf("ScoredSince() after reopen = %+v, %v", scores, err)
	}
	got, err := s2.Alert(ctx, a.ID)
	if err != nil || got.Details["psi"] != 0.4 || got.Severity != icp.SeverityCritical {
		t.Fatalf("Alert() after reopen = %+v, %v", got, err)
	}
	if r, err := s2.LatestDriftReport(ctx); err != nil || !strings.Contains(string(r.Body), "true") {
		t.Fatalf("LatestDriftReport() after reopen = %+v, %v", r, err)
	}
	if d, err := s2.DueDeliveries(ctx, t0, 0); err != nil || len(d) != 1 || d[0].AlertID != a.ID {
		t.Fatalf("DueDeliveries() after reopen = %+v, %v", d, err)
	}
}

func testConcurrentWriters(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	s := open(t)
	// Each writer gets its own store on the same database where possible,
	// like separate processes, so SQLite's busy handling is exercised.
	stores := []*Store{s}
	for range 3 {
		if s2 := reopen(t, s); s2 != nil {
			stores = append(stores, s2)
		}
	}
	const writers, perWriter = 4, 100
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ids  = map[int64]bool{}
		errs []error
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := stores[w%len(stores)]
			for i := range perWriter {
				res, err := st.RecordOutcomes(ctx, fmt.Sprintf("w%d-%d", w, i), []icp.Outcome{
					{AccountID: fmt.Sprintf("w%d-%d", w, i), CloseDate: t0.Add(time.Duration(i) * time.Hour), Won: i%2 == 0},
				})
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					for _, id := range res.IDs {
						ids[id] = true
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d writes failed, first: %v", len(errs), errs[0])
	}
	if len(ids) != writers*perWriter {
		t.Fatalf("distinct ids = %d, want %d", len(ids), writers*perWriter)
	}
	if n, err := s.OutcomeCount(ctx); err != nil || n != writers*perWriter {
		t.Fatalf("OutcomeCount() = %d, %v, want %d", n, err, writers*perWriter)
	}
}

func testAlertText(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	s := open(t)
	clock := newFakeClock(t0)
	withClock(s, clock)
	give := icp.Alert{
		GroupKey: "feature_drift:industry", Kind: "feature_drift", Severity: icp.SeverityWarning,
		Title: "More Logistics accounts", Subject: "Industry", Summary: "Logistics is 24% of scored accounts",
		Action:  "Ask marketing whether targeting changed.",
		Measure: &icp.AlertMeasure{Label: "share of Logistics", Unit: "share", Value: 0.24, Low: 0.21, High: 0.27, Baseline: 0.08},
		Trend: &icp.AlertTrend{Label: "shift size (PSI)", Warning: 0.1, Critical: 0.25,
			Points: []icp.TrendPoint{{Time: t0.Add(-time.Minute), Value: 0.05}, {Time: t0, Value: 0.12}}},
		Details: map[string]any{"psi": 0.12},
	}
	a, _, err := s.RaiseAlert(ctx, give, AlertPolicy{})
	if err != nil {
		t.Fatalf("RaiseAlert: %v", err)
	}
	got, err := s.Alert(ctx, a.ID)
	if err != nil {
		t.Fatalf("Alert: %v", err)
	}
	if got.Title != give.Title || got.Subject != give.Subject || got.Action != give.Action || got.Summary != give.Summary ||
		!reflect.DeepEqual(got.Measure, give.Measure) || got.Details["psi"] != 0.12 || got.Trend == nil ||
		len(got.Trend.Points) != 2 || !got.Trend.Points[1].Time.Equal(t0) || got.Trend.Points[1].Value != 0.12 || got.Trend.Critical != 0.25 {
		t.Fatalf("Alert() = %+v (measure %+v, trend %+v), want the texts, measure and trend raised", got, got.Measure, got.Trend)
	}
	// A later raise replaces every text, and a nil measure clears it.
	clock.Advance(time.Minute)
	next := give
	next.Title, next.Summary, next.Measure, next.Severity = "Fewer SaaS accounts", "SaaS is 10%", nil, icp.SeverityCritical
	a2, notify, err := s.RaiseAlert(ctx, next, AlertPolicy{})
	if err != nil || !notify || a2.ID != a.ID || a2.Title != next.Title || a2.Summary != next.Summary || a2.Measure != nil ||
		a2.Severity != icp.SeverityCritical || !a2.ResolvedAt.IsZero() {
		t.Fatalf("RaiseAlert(update) = %+v, notify %v, %v; want the new texts on the same alert, notified", a2, notify, err)
	}
}

func testAlertResolveQuiet(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	s := open(t)
	clock := newFakeClock(t0)
	withClock(s, clock)
	p := AlertPolicy{Cooldown: time.Hour}
	a, _, err := s.RaiseAlertWithDelivery(ctx, driftAlert("g", icp.SeverityWarning, nil), p, alertPayload)
	if err != nil {
		t.Fatalf("RaiseAlert: %v", err)
	}
	if _, _, err := s.RaiseAlert(ctx, driftAlert("other", icp.SeverityWarning, nil), p); err != nil {
		t.Fatalf("RaiseAlert(other): %v", err)
	}
	active, err := s.ActiveAlerts(ctx)
	if err != nil || len(active) != 2 {
		t.Fatalf("ActiveAlerts() = %d alerts, %v, want 2", len(active), err)
	}
	trend := &icp.AlertTrend{Label: "psi", Points: []icp.TrendPoint{{Time: t0, Value: 0.3}, {Time: t0.Add(time.Hour), Value: 0.01}}}
	tests := []struct {
		name         string
		key          string
		at           time.Time
		quietSince   time.Time
		wantResolved bool
	}{
		{"raised at the start of the quiet run", "g", t0.Add(time.Hour), t0, false},
		{"unknown key", "nothing", t0.Add(time.Hour), t0.Add(time.Minute), false},
		{"quiet since after the last raise", "g", t0.Add(time.Hour), t0.Add(time.Minute), true},
		{"already resolved", "g", t0.Add(2 * time.Hour), t0.Add(time.Minute), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Set(tt.at)
			got, resolved, err := s.ResolveQuietAlert(ctx, tt.key, tt.quietSince, "cleared for an hour", trend, alertPayload)
			if err != nil || resolved != tt.wantResolved {
				t.Fatalf("ResolveQuietAlert(%s, %v) = %v, %v; want %v", tt.key, tt.quietSince, resolved, err, tt.wantResolved)
			}
			if !resolved {
				return
			}
			if got.ID != a.ID || got.Status != icp.AlertResolved || got.UpdatedBy != AutoResolvedBy ||
				got.Resolution != "cleared for an hour" || !got.ResolvedAt.Equal(tt.at) || got.Trend == nil || len(got.Trend.Points) != 2 {
				t.Fatalf("ResolveQuietAlert() = %+v, want alert %s resolved now by %s with the trend", got, a.ID, AutoResolvedBy)
			}
		})
	}
	if n, err := s.PendingDeliveries(ctx); err != nil || n != 2 {
		t.Errorf("PendingDeliveries() = %d, %v, want 2 (the raise and the resolution)", n, err)
	}
	active, err = s.ActiveAlerts(ctx)
	if err != nil || len(active) != 1 || active[0].GroupKey != "other" {
		t.Fatalf("ActiveAlerts() after resolve = %+v, %v, want only other", active, err)
	}
	// The cooldown applies to an alert that resolved itself.
	clock.Set(t0.Add(90 * time.Minute))
	if got, notify, err := s.RaiseAlert(ctx, driftAlert("g", icp.SeverityWarning, nil), p); err != nil || notify || got.ID != a.ID {
		t.Fatalf("RaiseAlert within the cooldown = %s notify %v, %v; want the resolved alert, quiet", got.ID, notify, err)
	}
	clock.Set(t0.Add(3 * time.Hour))
	if got, notify, err := s.RaiseAlert(ctx, driftAlert("g", icp.SeverityWarning, nil), p); err != nil || !notify || got.ID == a.ID {
		t.Fatalf("RaiseAlert after the cooldown = %s notify %v, %v; want a new alert", got.ID, notify, err)
	}
}
