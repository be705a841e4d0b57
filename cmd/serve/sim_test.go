package main

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/registry"
	"github.com/icpengine/icp/store"
	"github.com/icpengine/icp/train"
	"github.com/icpengine/icp/watch"
)

// clock is a settable clock shared by the store, the watcher and the
// deliverer of a simulation.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// receiver is a webhook endpoint that checks signatures, fails every
// request while down() is true, and counts the accepted notifications per
// alert id.
type receiver struct {
	secret []byte
	down   func() bool

	mu       sync.Mutex
	accepted map[string]int
	refused  int
	badSig   int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !hmac.Equal([]byte(req.Header.Get(watch.SignatureHeader)), []byte(watch.Sign(r.secret, body))) {
		r.badSig++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if r.down() {
		r.refused++
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	var ev watch.PayloadEvent
	if err := json.Unmarshal(body, &ev); err != nil || ev.Alert.ID != req.Header.Get(watch.AlertIDHeader) {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	r.accepted[ev.Alert.ID]++
	w.WriteHeader(http.StatusNoContent)
}

// driftedAccounts returns the generated accounts with every company eight
// times larger and twice as old: sustained feature drift.
func driftedAccounts(t *testing.T, s *features.Schema, rows int) []icp.Account {
	t.Helper()
	tab, _ := synth.Generate(synth.Config{Rows: rows, Seed: 99})
	outs, err := s.TableOutcomes(tab)
	if err != nil {
		t.Fatal(err)
	}
	accs := make([]icp.Account, len(outs))
	for i, o := range outs {
		a := o.Account
		for _, k := range []string{"employees", "annual_revenue_usd"} {
			if v, ok := a[k].(float64); ok {
				a[k] = v * 8
			}
		}
		accs[i] = a
	}
	return accs
}

func TestSustainedDriftOneAlertPerGroup(t *testing.T) {
	ctx := context.Background()
	p := trainProfile(t, 1500, 2)
	clk := &clock{t: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}
	st, err := store.Open(ctx, ":memory:", store.Config{Now: clk.Now, DeliveryLease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A repeat interval longer than the simulation: every alert is
	// notified exactly once.
	sa := alertStore{Store: st, notify: true, policy: store.AlertPolicy{RepeatInterval: 72 * time.Hour}}
	w, err := watch.New(watch.Config{Store: sa, Model: modelAdapter{live: liveOf(t, p)}, Now: clk.Now,
		Interval: 15 * time.Minute, QueueSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	start := clk.Now()
	// The receiver is down for the first three hours.
	rcv := &receiver{secret: []byte("s3cret"), accepted: make(map[string]int),
		down: func() bool { return clk.Now().Before(start.Add(3 * time.Hour)) }}
	hook := httptest.NewServer(rcv)
	defer hook.Close()
	d, err := watch.NewDeliverer(watch.DelivererConfig{Outbox: sa, URL: hook.URL, Secret: rcv.secret, Now: clk.Now, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}

	accs := driftedAccounts(t, p.Schema, 3000)
	next := 0
	const steps = 48 * 4 // 48 hours, one evaluation every 15 minutes
	for step := 0; step < steps; step++ {
		for range 50 {
			acc := accs[next%len(accs)]
			next++
			sc, err := p.Score(ctx, acc)
			if err != nil {
				t.Fatalf("Score: %v", err)
			}
			if !w.ObserveScore(icp.ScoredAccount{Time: clk.Now(), ModelVersion: sc.ModelVersion, Account: acc, Score: sc.Score, Tier: sc.Tier}) {
				t.Fatal("ObserveScore dropped an account from a queue with room")
			}
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatalf("Flush: %v", err)
		}
		if _, err := w.Evaluate(ctx); err != nil {
			t.Fatalf("Evaluate: %v", err)
		}
		if _, _, err := d.Flush(ctx); err != nil {
			t.Fatalf("deliver: %v", err)
		}
		clk.Advance(15 * time.Minute)
	}
	// Let the last backoff run out.
	for range 8 {
		clk.Advance(15 * time.Minute)
		if _, _, err := d.Flush(ctx); err != nil {
			t.Fatalf("deliver: %v", err)
		}
	}

	alerts, err := st.Alerts(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) == 0 {
		t.Fatal("48 hours of drift raised no alert")
	}
	groups := make(map[string]int)
	var featureAlerts []string
	for _, a := range alerts {
		if a.Status != icp.AlertOpen {
			t.Errorf("alert %s status %s, want open", a.GroupKey, a.Status)
		}
		groups[a.GroupKey]++
		if strings.HasPrefix(a.GroupKey, "feature_drift:") {
			featureAlerts = append(featureAlerts, a.GroupKey)
		}
	}
	for g, n := range groups {
		if n != 1 {
			t.Errorf("group %s has %d alerts, want 1", g, n)
		}
	}
	if !contains(featureAlerts, "feature_drift:employees") {
		t.Errorf("feature alerts = %v, want feature_drift:employees among them", featureAlerts)
	}
	for _, a := range alerts {
		if a.Count < steps/2 {
			t.Errorf("alert %s seen %d times, want it sustained (>= %d)", a.GroupKey, a.Count, steps/2)
		}
		if got := rcv.accepted[a.ID]; got != 1 {
			t.Errorf("webhook received alert %s (%s) %d times, want 1", a.ID, a.GroupKey, got)
		}
	}
	if len(rcv.accepted) != len(alerts) {
		t.Errorf("webhook received %d alert ids, want %d", len(rcv.accepted), len(alerts))
	}
	if rcv.refused == 0 || rcv.badSig != 0 {
		t.Errorf("webhook refused %d attempts with %d bad signatures, want > 0 and 0", rcv.refused, rcv.badSig)
	}
	if n, err := st.PendingDeliveries(ctx); err != nil || n != 0 {
		t.Errorf("PendingDeliveries = %d, %v; want 0", n, err)
	}
	t.Logf("%d alerts (%d feature) over 48 simulated hours; webhook refused %d attempts, then accepted each alert once",
		len(alerts), len(featureAlerts), rcv.refused)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// trainProfile trains on a generated table.
// liveOf serves p, as serve does.
func liveOf(t *testing.T, p *profile.Profile) *registry.Live {
	t.Helper()
	sum, err := p.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	return registry.NewLive(&registry.Model{Profile: p, Checksum: sum, LoadedAt: time.Now()}, registry.LiveConfig{})
}

func trainProfile(t *testing.T, rows int, seed uint64) *profile.Profile {
	t.Helper()
	tab, _ := synth.Generate(synth.Config{Rows: rows, Seed: seed})
	p, err := train.Train(tab, features.Infer(tab, features.InferConfig{}), train.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEmergingSegmentAlert(t *testing.T) {
	ctx := context.Background()
	from := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	// The model learns from the deals closed before the segment appeared,
	// which are the same with and without it.
	gen := synth.Config{Rows: 6000, Seed: 21, Emerging: true, EmergingFrom: from}
	tab, _ := synth.Generate(gen)
	s := features.Infer(tab, features.InferConfig{})
	var older []int
	for i, d := range tab.Column("close_date").Num {
		if d < float64(from.Unix())/86400 {
			older = append(older, i)
		}
	}
	p, err := train.Train(tab.Take(older), s, train.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, emerging := range []bool{true, false} {
		name := map[bool]string{true: "emerging", false: "control"}[emerging]
		t.Run(name, func(t *testing.T) {
			gen := gen
			gen.Emerging = emerging
			stream, truth := synth.Generate(gen)
			outs, err := s.TableOutcomes(stream)
			if err != nil || len(outs) != len(truth) {
				t.Fatalf("TableOutcomes = %d outcomes, %v; want %d", len(outs), err, len(truth))
			}
			// Replay the deals closed from six months before `from` on,
			// day by day, in close date order: the earlier ones are the
			// history a serve restarted at `from` would replay.
			var idx []int
			for i, o := range outs {
				if !o.CloseDate.Before(from.AddDate(0, -6, 0)) {
					idx = append(idx, i)
				}
			}
			sort.SliceStable(idx, func(a, b int) bool { return outs[idx[a]].CloseDate.Before(outs[idx[b]].CloseDate) })

			clk := &clock{t: from}
			st, err := store.Open(ctx, ":memory:", store.Config{Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			sa := alertStore{Store: st}
			w, err := watch.New(watch.Config{Store: sa, Model: modelAdapter{live: liveOf(t, p)}, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			var window []bool // the winner window: is each recent winner emerging?
			fired := map[string]time.Time{}
			var firstFull, lastEval time.Time
			var emergingAlerts []icp.Alert
			for j := 0; j < len(idx); {
				day := outs[idx[j]].CloseDate
				var batch []icp.Outcome
				for ; j < len(idx) && outs[idx[j]].CloseDate.Equal(day); j++ {
					batch = append(batch, outs[idx[j]])
					if outs[idx[j]].Won {
						window = append(window, truth[idx[j]].Segment == synth.SegmentEmerging)
						if len(window) > 200 {
							window = window[1:]
						}
					}
				}
				clk.mu.Lock()
				clk.t = day.Add(18 * time.Hour)
				clk.mu.Unlock()
				if _, err := st.RecordOutcomes(ctx, "", batch); err != nil {
					t.Fatal(err)
				}
				w.ObserveOutcomes(ctx, batch)
				// The history before `from` is only replayed; from then on
				// the watcher evaluates once a week.
				if day.Before(from) || day.Sub(lastEval) < 7*24*time.Hour {
					continue
				}
				lastEval = day
				if _, err := w.Evaluate(ctx); err != nil {
					t.Fatalf("Evaluate: %v", err)
				}
				alerts, err := st.Alerts(ctx, "", 0)
				if err != nil {
					t.Fatal(err)
				}
				emergingAlerts = emergingAlerts[:0]
				for _, a := range alerts {
					if _, ok := fired[a.GroupKey]; !ok {
						fired[a.GroupKey] = day
					}
					if a.Kind == watch.KindEmergingSegment {
						emergingAlerts = append(emergingAlerts, a)
					}
				}
				n := 0
				for _, e := range window {
					if e {
						n++
					}
				}
				if n >= 30 && firstFull.IsZero() {
					firstFull = day
					if !emerging {
						t.Fatal("control stream holds emerging winners")
					}
					break
				}
			}
			if !emerging {
				for _, a := range emergingAlerts {
					t.Errorf("control stream raised an emerging segment alert %q, want none", a.Summary)
				}
				return
			}
			if firstFull.IsZero() {
				t.Fatal("the winner window never held 30 emerging wins")
			}
			// By the first window with 30 emerging wins, an open
			// emerging-segment alert names the segment's traits.
			var named *icp.Alert
			for i, a := range emergingAlerts {
				if strings.Contains(a.Summary, "Logistics") && strings.Contains(a.Summary, "snowflake") && strings.Contains(a.Summary, "employees") {
					named = &emergingAlerts[i]
				}
			}
			if named == nil {
				for _, a := range emergingAlerts {
					t.Logf("emerging alert: %s", a.Summary)
				}
				t.Fatalf("no emerging-segment alert naming Logistics, snowflake and employees by %v, the first window with 30 emerging wins", firstFull.Format(time.DateOnly))
			}
			if p, _ := named.Details["p_value"].(float64); p >= 1e-5 {
				t.Errorf("emerging alert details %v, want p_value < 1e-5", named.Details)
			}
			t.Logf("first window with 30 emerging wins: %s; emerging-segment alert %s first raised %s: %s",
				firstFull.Format(time.DateOnly), named.GroupKey, fired[named.GroupKey].Format(time.DateOnly), named.Summary)
		})
	}
}
