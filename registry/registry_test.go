package registry_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/registry"
	"github.com/icpengine/icp/store"
	"github.com/icpengine/icp/train"
)

// artifacts trains two small models on generated data (seeds 1 and 2) and
// returns their artifacts, trained once per test binary.
var artifacts = sync.OnceValues(func() ([2][]byte, error) {
	var out [2][]byte
	tab, _ := synth.Generate(synth.Config{Rows: 1500, Seed: 7})
	for i := range out {
		p, err := train.Train(tab, features.Infer(tab, features.InferConfig{}), train.Config{Seed: uint64(i + 1)})
		if err != nil {
			return out, err
		}
		var b bytes.Buffer
		if err := p.Encode(&b); err != nil {
			return out, err
		}
		out[i] = b.Bytes()
	}
	return out, nil
})

func twoArtifacts(t *testing.T) (a, b []byte) {
	t.Helper()
	arts, err := artifacts()
	if err != nil {
		t.Fatal(err)
	}
	return arts[0], arts[1]
}

// countingStore counts artifact fetches.
type countingStore struct {
	*store.Store
	fetches atomic.Int64
}

func (s *countingStore) ModelArtifact(ctx context.Context, sum string) ([]byte, error) {
	s.fetches.Add(1)
	return s.Store.ModelArtifact(ctx, sum)
}

func openStore(t *testing.T) *countingStore {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "icp.db"), store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &countingStore{Store: st}
}

// broken registers bytes that are not a valid artifact, as a version
// registered by another program would be, bypassing the registry's check.
func broken(t *testing.T, st *countingStore) string {
	t.Helper()
	rec := icp.ModelRecord{Checksum: "sha256:" + strings.Repeat("ab", 32), Version: "m-broken", RegisteredBy: "test"}
	if _, _, err := st.RegisterModel(t.Context(), rec, []byte(`{"format":"icp-model"}`)); err != nil {
		t.Fatal(err)
	}
	return rec.Checksum
}

func TestRegistryLifecycle(t *testing.T) {
	ctx := t.Context()
	a, b := twoArtifacts(t)
	st := openStore(t)
	r, err := registry.New(registry.Config{Store: st, WarmUp: 4})
	if err != nil {
		t.Fatal(err)
	}
	recA, created, err := r.Register(ctx, a, "ops")
	if err != nil || !created || !strings.HasPrefix(recA.Checksum, "sha256:") || !strings.Contains(recA.Summary, "ROC AUC") {
		t.Fatalf("Register(a) = %+v, %v, %v", recA, created, err)
	}
	if again, created, err := r.Register(ctx, a, "ops"); err != nil || created || again.Checksum != recA.Checksum {
		t.Fatalf("Register(a again) = %+v, %v, %v, want the same version, not created", again, created, err)
	}
	recB, _, err := r.Register(ctx, b, "ops")
	if err != nil || recB.Checksum == recA.Checksum {
		t.Fatalf("Register(b) = %+v, %v", recB, err)
	}
	for _, bad := range [][]byte{nil, []byte("{}"), bytes.Replace(a, []byte(`"seed": 1`), []byte(`"seed": 9`), 1)} {
		if _, _, err := r.Register(ctx, bad, "ops"); !errors.Is(err, icp.ErrInvalid) {
			t.Errorf("Register(%.20q) = %v, want ErrInvalid", bad, err)
		}
	}
	if list, _ := r.Models(ctx); len(list) != 2 {
		t.Fatalf("Models() = %d versions, want 2 (invalid artifacts are not stored)", len(list))
	}

	if ev, err := r.Promote(ctx, recA.Checksum[:15], "ops", "first"); err != nil || ev.Checksum != recA.Checksum {
		t.Fatalf("Promote(a) = %+v, %v", ev, err)
	}
	if ev, err := r.Promote(ctx, recB.Version, "ops", "q4"); err != nil || ev.Previous != recA.Checksum {
		t.Fatalf("Promote(b) = %+v, %v", ev, err)
	}
	bad := broken(t, st)
	if _, err := r.Promote(ctx, bad, "ops", ""); !errors.Is(err, icp.ErrInvalid) {
		t.Fatalf("Promote(broken) = %v, want ErrInvalid", err)
	}
	if al, _ := st.ModelAliases(ctx); al[icp.AliasChampion] != recB.Checksum {
		t.Fatalf("champion after a failed promotion = %s, want b kept", al[icp.AliasChampion])
	}
	hist, _ := r.History(ctx, 1)
	if len(hist) != 1 || hist[0].Action != icp.ActionPromote || hist[0].Result != icp.ResultFailed || hist[0].Detail == "" {
		t.Fatalf("latest history entry = %+v, want the failed promotion with its reason", hist)
	}
	if ev, err := r.Rollback(ctx, "ops", "bad week"); err != nil || ev.Checksum != recA.Checksum || ev.Previous != recB.Checksum {
		t.Fatalf("Rollback() = %+v, %v, want back to a", ev, err)
	}
	if _, err := r.Rollback(ctx, "ops", ""); !errors.Is(err, icp.ErrNotFound) {
		t.Fatalf("Rollback() past the first promotion = %v, want ErrNotFound", err)
	}
	if _, err := r.Shadow(ctx, recB.Checksum, "ops", "challenger"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Unshadow(ctx, "ops", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Promote(ctx, "m-unknown", "ops", ""); !errors.Is(err, icp.ErrNotFound) {
		t.Fatalf("Promote(unknown) = %v, want ErrNotFound", err)
	}
}

// replica is a registry holding versions a and b, a promoted, and a
// replica serving a with its follower, as serve wires them.
type replica struct {
	st   *countingStore
	reg  *registry.Registry
	a, b icp.ModelRecord
	live *registry.Live
	f    *registry.Follower
}

// newReplica builds a replica; lc and fc configure its Live and Follower
// (their Store, Live and WarmUp are set here, Replica defaults to
// replica-1).
func newReplica(t *testing.T, lc registry.LiveConfig, fc registry.FollowerConfig) *replica {
	t.Helper()
	ctx := t.Context()
	artA, artB := twoArtifacts(t)
	rp := &replica{st: openStore(t)}
	var err error
	if rp.reg, err = registry.New(registry.Config{Store: rp.st, WarmUp: 2}); err != nil {
		t.Fatal(err)
	}
	if rp.a, _, err = rp.reg.Register(ctx, artA, "ops"); err != nil {
		t.Fatal(err)
	}
	if rp.b, _, err = rp.reg.Register(ctx, artB, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := rp.reg.Promote(ctx, rp.a.Checksum, "ops", ""); err != nil {
		t.Fatal(err)
	}
	first, err := registry.Load(ctx, artA, 2)
	if err != nil {
		t.Fatal(err)
	}
	rp.live = registry.NewLive(first, lc)
	fc.Store, fc.Live, fc.WarmUp = rp.st, rp.live, 2
	if fc.Replica == "" {
		fc.Replica = "replica-1"
	}
	if rp.f, err = registry.NewFollower(fc); err != nil {
		t.Fatal(err)
	}
	return rp
}

func TestFollowerSwapsAndKeepsOldOnFailure(t *testing.T) {
	ctx := t.Context()
	var shadows []registry.ShadowResult
	var mu sync.Mutex
	var loads []string
	rp := newReplica(t, registry.LiveConfig{OnShadow: func(r registry.ShadowResult) {
		mu.Lock()
		shadows = append(shadows, r)
		mu.Unlock()
	}}, registry.FollowerConfig{OnLoad: func(alias string, m *registry.Model, err error) {
		if err != nil {
			loads = append(loads, alias+" failed")
			return
		}
		loads = append(loads, alias+" "+m.Checksum)
	}})
	st, r, recA, recB, live, f := rp.st, rp.reg, rp.a, rp.b, rp.live, rp.f
	if err := f.Sync(ctx); err != nil || len(loads) != 0 {
		t.Fatalf("Sync() on the served champion = %v, loads %v, want nothing to do", err, loads)
	}

	if _, err := r.Promote(ctx, recB.Checksum, "ops", ""); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := live.Current().Checksum; got != recB.Checksum {
		t.Fatalf("champion after Sync = %s, want %s", got, recB.Checksum)
	}
	s, err := live.Score(ctx, icp.Account{"industry": "SaaS"})
	if err != nil || s.ModelVersion != recB.Version {
		t.Fatalf("Score() after the swap = %q, %v, want version %s", s.ModelVersion, err, recB.Version)
	}

	// A version that cannot load, promoted behind the registry's back,
	// leaves b serving, is recorded once and not fetched again.
	bad := broken(t, st)
	if _, err := st.SetModelAlias(ctx, icp.AliasChampion, bad, icp.ActionPromote, "someone", ""); err != nil {
		t.Fatal(err)
	}
	before := st.fetches.Load()
	for range 3 {
		if err := f.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := live.Current().Checksum; got != recB.Checksum {
		t.Fatalf("champion after a failed load = %s, want b kept", got)
	}
	if n := st.fetches.Load() - before; n != 1 {
		t.Fatalf("artifact fetched %d times over 3 syncs, want once", n)
	}
	hist, _ := st.ModelHistory(ctx, 1)
	if hist[0].Action != icp.ActionLoad || hist[0].Result != icp.ResultFailed || hist[0].Actor != "replica-1" || hist[0].Checksum != bad {
		t.Fatalf("latest history entry = %+v, want replica-1's failed load", hist[0])
	}

	// Rolling back returns to b, and a shadow is scored off the request path.
	if _, err := r.Rollback(ctx, "ops", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Shadow(ctx, recA.Checksum, "ops", ""); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if live.Current().Checksum != recB.Checksum || live.Shadow() == nil || live.Shadow().Checksum != recA.Checksum {
		t.Fatalf("after rollback and shadow: champion %s, shadow %v", live.Current().Checksum, live.Shadow())
	}
	want := []string{"champion " + recB.Checksum, "champion failed", "shadow " + recA.Checksum}
	if strings.Join(loads, ",") != strings.Join(want, ",") {
		t.Fatalf("loads = %v, want %v", loads, want)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = live.RunShadow(sctx); close(done) }()
	champ, err := live.Score(ctx, icp.Account{"industry": "Retail", "employees": 40.0})
	if err != nil {
		t.Fatal(err)
	}
	for {
		mu.Lock()
		n := len(shadows)
		mu.Unlock()
		if n > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("no shadow result")
		default:
		}
	}
	cancel()
	<-done
	got := shadows[0]
	if got.Err != nil || got.Champion.ModelVersion != champ.ModelVersion || got.Shadow.ModelVersion != recA.Version {
		t.Fatalf("shadow result = champion %s, shadow %s, err %v", got.Champion.ModelVersion, got.Shadow.ModelVersion, got.Err)
	}
	if _, err := r.Unshadow(ctx, "ops", ""); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(ctx); err != nil || live.Shadow() != nil {
		t.Fatalf("shadow after Unshadow and Sync = %v, %v, want none", live.Shadow(), err)
	}
}

// TestLiveSwapUnderLoad swaps the champion 100 times while goroutines
// score: every call succeeds and is scored wholly by one of the two models.
func TestLiveSwapUnderLoad(t *testing.T) {
	ctx := t.Context()
	a, b := twoArtifacts(t)
	ma, err := registry.Load(ctx, a, 1)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := registry.Load(ctx, b, 1)
	if err != nil {
		t.Fatal(err)
	}
	live := registry.NewLive(ma, registry.LiveConfig{})
	// The same account scored by each model alone.
	acc := icp.Account{"industry": "SaaS", "employees": 180.0, "tech_stack": []any{"hubspot"}}
	want := map[string]float64{}
	for _, m := range []*registry.Model{ma, mb} {
		s, err := m.Profile.Score(ctx, acc)
		if err != nil {
			t.Fatal(err)
		}
		want[s.ModelVersion] = s.Score
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var calls atomic.Int64
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				s, err := live.Score(ctx, acc)
				if err != nil {
					errs <- err
					return
				}
				if w, ok := want[s.ModelVersion]; !ok || w != s.Score {
					errs <- errors.New("score " + s.ModelVersion + " does not match its model")
					return
				}
				calls.Add(1)
			}
		})
	}
	for i := range 100 {
		// Each swap waits for a call scored since the last one.
		for calls.Load() <= int64(i) && len(errs) == 0 {
			runtime.Gosched()
		}
		live.Swap([]*registry.Model{mb, ma}[i%2])
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if calls.Load() < 100 {
		t.Fatalf("%d calls scored during the swaps, want at least 100", calls.Load())
	}
}

// BenchmarkLoad measures what a replica does before a swap: decode, verify
// and warm up an artifact.
func BenchmarkLoad(b *testing.B) {
	arts, err := artifacts()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(arts[0])))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := registry.Load(context.Background(), arts[0], registry.DefaultWarmUp); err != nil {
			b.Fatal(err)
		}
	}
}

// TestValidatedAndPreviousAreNotLoadedAgain checks the two memories that
// make a rollback quick: the registry does not validate a version it
// validated before, and the follower swaps back to the champion it just
// replaced without fetching it.
func TestValidatedAndPreviousAreNotLoadedAgain(t *testing.T) {
	ctx := t.Context()
	rp := newReplica(t, registry.LiveConfig{}, registry.FollowerConfig{})
	st, r, recA, recB, live, f := rp.st, rp.reg, rp.a, rp.b, rp.live, rp.f
	first := live.Current()
	for _, sum := range []string{recB.Checksum, recA.Checksum} {
		if _, err := r.Promote(ctx, sum, "ops", ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := st.fetches.Load(); n != 0 {
		t.Fatalf("promotions of registered versions fetched %d artifacts, want 0 (validated at registration)", n)
	}
	if _, err := r.Promote(ctx, recB.Checksum, "ops", ""); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(ctx); err != nil || live.Current().Checksum != recB.Checksum {
		t.Fatalf("Sync() = %v, serving %s, want b", err, live.Current().Checksum)
	}
	if n := st.fetches.Load(); n != 1 {
		t.Fatalf("swap to b fetched %d artifacts, want 1", n)
	}
	if _, err := r.Rollback(ctx, "ops", ""); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(ctx); err != nil || live.Current() != first {
		t.Fatalf("Sync() after rollback = %v, serving %s, want the model replaced before", err, live.Current().Checksum)
	}
	if n := st.fetches.Load(); n != 1 {
		t.Fatalf("rollback fetched %d more artifacts, want none", n-1)
	}
}

// TestLiveScoreBatch checks that a Live is a batch scorer giving what the
// champion alone gives, and offers every scored account to a shadow.
func TestLiveScoreBatch(t *testing.T) {
	ctx := t.Context()
	a, b := twoArtifacts(t)
	ma, _ := registry.Load(ctx, a, 1)
	mb, _ := registry.Load(ctx, b, 1)
	live := registry.NewLive(ma, registry.LiveConfig{ShadowQueue: 8})
	live.SetShadow(mb)
	accs := []icp.Account{{"industry": "SaaS"}, {"employees": -5.0}, {"industry": "Retail", "employees": 40.0}}
	got := make([]icp.Score, len(accs))
	errs := make([]error, len(accs))
	if err := live.ScoreBatch(ctx, accs, true, got, errs); err != nil {
		t.Fatal(err)
	}
	for i, acc := range accs {
		want, werr := ma.Profile.Score(ctx, acc)
		if (werr == nil) != (errs[i] == nil) || werr == nil && (got[i].Score != want.Score || got[i].ModelVersion != live.ModelVersion()) {
			t.Errorf("ScoreBatch()[%d] = %v, %v; Score() = %v, %v", i, got[i].Score, errs[i], want.Score, werr)
		}
	}
	// Two accounts scored, two offered to the shadow's queue (nothing
	// drains it here, and it holds 8).
	if live.ShadowDropped() != 0 {
		t.Fatalf("ShadowDropped() = %d, want 0", live.ShadowDropped())
	}
	for range 4 {
		live.ScoreBatch(ctx, accs, false, got, errs)
	}
	if n := live.ShadowDropped(); n != 2 {
		t.Fatalf("ShadowDropped() = %d after 10 offers to a queue of 8, want 2", n)
	}
}

// TestPromotedShadowIsNotLoadedAgain shadows a challenger, then promotes
// it: the follower swaps in the model it already scores the shadow with.
func TestPromotedShadowIsNotLoadedAgain(t *testing.T) {
	ctx := t.Context()
	rp := newReplica(t, registry.LiveConfig{}, registry.FollowerConfig{})
	st, r, recB, live, f := rp.st, rp.reg, rp.b, rp.live, rp.f
	if _, err := r.Shadow(ctx, recB.Checksum, "ops", ""); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(ctx); err != nil || live.Shadow() == nil {
		t.Fatalf("Sync() = %v, shadow %v, want b", err, live.Shadow())
	}
	shadow := live.Shadow()
	if _, err := r.Promote(ctx, recB.Checksum, "ops", ""); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(ctx); err != nil || live.Current() != shadow {
		t.Fatalf("Sync() = %v, serving %s, want the shadow's model itself", err, live.Current().Checksum)
	}
	if n := st.fetches.Load(); n != 1 {
		t.Fatalf("%d artifacts fetched, want 1 (the shadow's)", n)
	}
}
