package watch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/drift"
	"github.com/icpengine/icp/emerging"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/store"
	"github.com/icpengine/icp/train"
	"github.com/icpengine/icp/watch"
)

// alertStore and modelAdapter connect the real store and a trained
// profile to the watcher, as cmd/serve does: the store raises alerts with
// its default policy, resolves with the watcher's payload function and is
// the outbox as it is.
type alertStore struct{ *store.Store }

func (a alertStore) RaiseAlert(ctx context.Context, al icp.Alert, p func(icp.Alert) (json.RawMessage, error)) (icp.Alert, bool, error) {
	return a.RaiseAlertWithDelivery(ctx, al, store.AlertPolicy{}, p)
}
func (a alertStore) ResolveQuietAlert(ctx context.Context, key string, since time.Time, note string, tr *icp.AlertTrend,
	p func(icp.Alert) (json.RawMessage, error)) (icp.Alert, bool, error) {
	return a.Store.ResolveQuietAlert(ctx, key, since, note, tr, p)
}

type modelAdapter struct{ p *profile.Profile }

func (m modelAdapter) Version() string { return m.p.Version }
func (m modelAdapter) Score(ctx context.Context, a icp.Account) (icp.Score, error) {
	return m.p.Score(ctx, a)
}
func (m modelAdapter) DriftRow(a icp.Account, s icp.Score) (drift.Row, error) {
	return m.p.DriftRow(a, s)
}
func (m modelAdapter) Reference() *drift.Reference { return m.p.Drift }
func (m modelAdapter) EmergingSegments(recent, earlier []icp.Account) ([]icp.EmergingSegment, error) {
	return emerging.Records(m.p, recent, earlier, emerging.Config{})
}

func newWatcher(t *testing.T, cfg watch.Config) (*watch.Watcher, *store.Store, *profile.Profile) {
	t.Helper()
	tab, _ := synth.Generate(synth.Config{Rows: 800, Seed: 3})
	p, err := train.Train(tab, features.Infer(tab, features.InferConfig{}), train.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), ":memory:", store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg.Store, cfg.Model = alertStore{st}, modelAdapter{p}
	w, err := watch.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w, st, p
}

func TestSign(t *testing.T) {
	// RFC 4231-style vector computed independently (HMAC-SHA256, key "key").
	got := watch.Sign([]byte("key"), []byte("The quick brown fox jumps over the lazy dog"))
	want := "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestBackoff(t *testing.T) {
	d, err := watch.NewDeliverer(watch.DelivererConfig{Outbox: alertStore{}, URL: "http://127.0.0.1:1", Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		attempts int
		lo, hi   time.Duration
	}{
		{1, 500 * time.Millisecond, time.Second},
		{2, time.Second, 2 * time.Second},
		{5, 8 * time.Second, 16 * time.Second},
		{10, 256 * time.Second, 512 * time.Second},
		{11, 5 * time.Minute, 10 * time.Minute},
		{40, 5 * time.Minute, 10 * time.Minute},
	}
	for _, tt := range tests {
		if got := d.Backoff(tt.attempts); got < tt.lo || got >= tt.hi {
			t.Errorf("Backoff(%d) = %v, want in [%v, %v)", tt.attempts, got, tt.lo, tt.hi)
		}
	}
	d2, _ := watch.NewDeliverer(watch.DelivererConfig{Outbox: alertStore{}, URL: "http://127.0.0.1:1", Seed: 7})
	d3, _ := watch.NewDeliverer(watch.DelivererConfig{Outbox: alertStore{}, URL: "http://127.0.0.1:1", Seed: 7})
	for i := 1; i < 20; i++ {
		if a, b := d2.Backoff(i), d3.Backoff(i); a != b {
			t.Fatalf("Backoff(%d) = %v and %v with the same seed, want equal", i, a, b)
		}
	}
}

func TestObserveScoreNeverBlocks(t *testing.T) {
	w, st, p := newWatcher(t, watch.Config{QueueSize: 2})
	acc := icp.Account{"industry": "SaaS", "employees": 120.0}
	sc, err := p.Score(context.Background(), acc)
	if err != nil {
		t.Fatal(err)
	}
	var accepted int
	for range 5 {
		if w.ObserveScore(icp.ScoredAccount{Account: acc, Score: sc.Score, Tier: sc.Tier, ModelVersion: sc.ModelVersion}) {
			accepted++
		}
	}
	if s := w.Stats(); accepted != 2 || s.Queued != 2 || s.Dropped != 3 {
		t.Errorf("ObserveScore on a full queue: accepted %d, stats %+v; want 2 queued, 3 dropped", accepted, s)
	}
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	logged, err := st.ScoredSince(context.Background(), time.Time{}, 0)
	if err != nil || len(logged) != 2 {
		t.Errorf("ScoredSince = %d rows, %v; want 2", len(logged), err)
	}
}

func TestEvaluateInsufficientData(t *testing.T) {
	w, st, _ := newWatcher(t, watch.Config{})
	rep, err := w.Evaluate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.EmergingStatus != drift.StatusInsufficient {
		t.Errorf("EmergingStatus = %q, want %q", rep.EmergingStatus, drift.StatusInsufficient)
	}
	for _, f := range rep.Features {
		if f.Status != drift.StatusInsufficient {
			t.Errorf("feature %s status %q with no traffic, want %q", f.Feature, f.Status, drift.StatusInsufficient)
		}
	}
	if alerts, _ := st.Alerts(context.Background(), "", 0); len(alerts) != 0 {
		t.Errorf("Evaluate without data raised %d alerts, want 0", len(alerts))
	}
	if _, err := st.LatestDriftReport(context.Background()); err != nil {
		t.Errorf("LatestDriftReport = %v, want the saved report", err)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	w, st, _ := newWatcher(t, watch.Config{Interval: 10 * time.Millisecond, FlushInterval: 5 * time.Millisecond})
	var hits atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer hook.Close()
	d, err := watch.NewDeliverer(watch.DelivererConfig{Outbox: st, URL: hook.URL, Poll: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- w.Run(ctx) }()
	go func() { done <- d.Run(ctx) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	for range 2 {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run after cancel = %v, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not stop after cancel")
		}
	}
}

// TestModelChangedRestartsWindows records outcomes, swaps the model, and
// checks that the performance window starts afresh while OnReport sees
// every report.
func TestModelChangedRestartsWindows(t *testing.T) {
	var reports atomic.Int64
	w, _, _ := newWatcher(t, watch.Config{OnReport: func(icp.WatchReport) { reports.Add(1) }})
	ctx := context.Background()
	tab, _ := synth.Generate(synth.Config{Rows: 120, Seed: 9})
	outs := make([]icp.Outcome, 0, tab.Rows())
	for i := range tab.Rows() {
		outs = append(outs, icp.Outcome{AccountID: fmt.Sprint("A-", i), Account: tab.Account(i), Won: i%3 == 0,
			CloseDate: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	}
	w.ObserveOutcomes(ctx, outs)
	before, err := w.Evaluate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if before.Performance.Outcomes != len(outs) {
		t.Fatalf("Performance.Outcomes = %d, want %d", before.Performance.Outcomes, len(outs))
	}
	w.ModelChanged()
	after, err := w.Evaluate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Performance.Outcomes != 0 {
		t.Errorf("Performance.Outcomes after ModelChanged = %d, want 0", after.Performance.Outcomes)
	}
	for _, k := range after.TierKPIs {
		if k.Deals != 0 {
			t.Errorf("tier %s has %d deals after ModelChanged, want 0", k.Tier, k.Deals)
		}
	}
	if got := reports.Load(); got != 2 {
		t.Errorf("OnReport called %d times, want 2", got)
	}
}
