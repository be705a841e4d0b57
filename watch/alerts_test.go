package watch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/drift"
	"github.com/icpengine/icp/store"
	"github.com/icpengine/icp/watch"
)

// population draws accounts: industries SaaS, Fintech, Retail and Logistics
// (40/30/20/10% by default), a snowflake tag, log-normal employees and a
// uniform fit score. The fields change one aspect each.
type population struct {
	logistics  float64 // share of Logistics; 0 means 10%
	biotech    float64 // share of an industry the reference never saw
	snowflake  float64 // share with the tag; 0 means 20%
	employees  float64 // multiplies employees; 0 means 1
	missing    float64 // share of accounts without employees
	scoreShift float64 // added to the score, clamped to [0, 1]
}

func (p population) account(rng *rand.Rand, id string) icp.Account {
	logistics, snow, mul := p.logistics, p.snowflake, p.employees
	if logistics == 0 {
		logistics = 0.1
	}
	if snow == 0 {
		snow = 0.2
	}
	if mul == 0 {
		mul = 1
	}
	acc := icp.Account{"account_id": id}
	u := rng.Float64()
	switch rest := (1 - logistics) / 0.9; {
	case u < p.biotech:
		acc["industry"] = "Biotech"
	case u < p.biotech+logistics*(1-p.biotech):
		acc["industry"] = "Logistics"
	case u < p.biotech+(logistics+0.4*rest)*(1-p.biotech):
		acc["industry"] = "SaaS"
	case u < p.biotech+(logistics+0.7*rest)*(1-p.biotech):
		acc["industry"] = "Fintech"
	default:
		acc["industry"] = "Retail"
	}
	acc["snowflake"] = rng.Float64() < snow
	if rng.Float64() >= p.missing {
		acc["employees"] = math.Round(mul * math.Exp(5+rng.NormFloat64()))
	}
	acc["score"] = math.Min(1, math.Max(0, rng.Float64()+p.scoreShift))
	return acc
}

// winnerScore draws the fit score of a won deal: 0.4 to 1 normally, the
// whole range when outside is set.
func winnerScore(rng *rand.Rand, outside bool) float64 {
	if outside {
		return rng.Float64()
	}
	return 0.4 + 0.6*rng.Float64()
}

func tierOf(s float64) icp.Tier {
	switch {
	case s >= 0.7:
		return icp.Tier1
	case s >= 0.5:
		return icp.Tier2
	case s >= 0.3:
		return icp.Tier3
	}
	return icp.NonFit
}

// fakeModel scores an account by its "score" field and reads its drift row
// from its fields, against a reference drawn from the default population.
type fakeModel struct {
	ref      *drift.Reference
	mu       sync.Mutex
	emerging []icp.EmergingSegment
}

func newFakeModel() *fakeModel {
	rng := rand.New(rand.NewPCG(1, 2))
	var (
		emp             []float64
		ind, snow       []string
		scores, winners []float64
	)
	tiers := map[icp.Tier]float64{}
	const n = 5000
	var p population
	for i := range n {
		a := p.account(rng, fmt.Sprint(i))
		v, ok := a["employees"].(float64)
		if !ok {
			v = math.NaN()
		}
		emp = append(emp, v)
		ind = append(ind, a["industry"].(string))
		snow = append(snow, fmt.Sprint(a["snowflake"]))
		s := a["score"].(float64)
		scores = append(scores, s)
		tiers[tierOf(s)] += 1.0 / n
	}
	outside := 0
	for range 2000 {
		s := winnerScore(rng, false)
		winners = append(winners, s)
		if t := tierOf(s); t == icp.Tier3 || t == icp.NonFit {
			outside++
		}
	}
	sc, ws := drift.NewNumericRef("score", scores), drift.NewNumericRef("winner_score", winners)
	ref := &drift.Reference{
		Numeric: []drift.NumericRef{drift.NewNumericRef("employees", emp)},
		Categorical: []drift.CategoricalRef{drift.NewCategoricalRef("industry", ind),
			drift.NewCategoricalRef("tech_stack has snowflake", snow)},
		Score: &sc, Tiers: tiers, WinnerScores: &ws, ExpectedOutsideShare: float64(outside) / 2000,
	}
	ref.Sort()
	return &fakeModel{ref: ref}
}

func (m *fakeModel) Version() string { return "fake-1" }

func (m *fakeModel) Score(_ context.Context, acc icp.Account) (icp.Score, error) {
	s, ok := acc["score"].(float64)
	if !ok {
		return icp.Score{}, fmt.Errorf("no score: %w", icp.ErrInvalid)
	}
	return icp.Score{Score: s, Tier: tierOf(s), ModelVersion: m.Version()}, nil
}

func (m *fakeModel) DriftRow(acc icp.Account, s icp.Score) (drift.Row, error) {
	row := drift.Row{Num: map[string]float64{}, Cat: map[string]string{}, Score: s.Score, Tier: s.Tier}
	if v, ok := acc["employees"].(float64); ok {
		row.Num["employees"] = v
	}
	if v, ok := acc["industry"].(string); ok {
		row.Cat["industry"] = v
	}
	if v, ok := acc["snowflake"].(bool); ok {
		row.Cat["tech_stack has snowflake"] = fmt.Sprint(v)
	}
	return row, nil
}

func (m *fakeModel) Reference() *drift.Reference { return m.ref }

func (m *fakeModel) EmergingSegments(recent, _ []icp.Account) ([]icp.EmergingSegment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := append([]icp.EmergingSegment(nil), m.emerging...)
	for i := range out {
		out[i].Winners = len(recent)
	}
	return out, nil
}

// clock is an injected clock shared by the watcher and the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var start = time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC)

// fakeWatcher is a watcher over a fake model and an in-memory store on one
// injected clock.
func fakeWatcher(t *testing.T, m *fakeModel, cfg watch.Config) (*watch.Watcher, *store.Store, *clock) {
	t.Helper()
	c := &clock{t: start}
	st, err := store.Open(context.Background(), ":memory:", store.Config{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg.Store, cfg.Model, cfg.Now = alertStore{st}, m, c.Now
	if cfg.Monitor.WinnerWindow == 0 {
		cfg.Monitor.WinnerWindow = 100
	}
	if cfg.MinBaselineWinners == 0 {
		cfg.MinBaselineWinners = 20
	}
	w, err := watch.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w, st, c
}

// traffic scores n accounts of p, one a second, through the watcher.
func traffic(t *testing.T, w *watch.Watcher, m *fakeModel, c *clock, p population, n int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	for i := range n {
		acc := p.account(rng, fmt.Sprintf("T-%d-%d", seed, i))
		s, _ := m.Score(context.Background(), acc)
		c.Advance(time.Second)
		for !w.ObserveScore(icp.ScoredAccount{Time: c.Now(), Account: acc, Score: s.Score, Tier: s.Tier, ModelVersion: s.ModelVersion}) {
			if err := w.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// wins records n won deals closed a day apart, outside the ICP as often as
// for any account when outside is set.
func wins(w *watch.Watcher, n int, outside bool, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 9))
	outs := make([]icp.Outcome, n)
	for i := range outs {
		id := fmt.Sprintf("W-%d-%d", seed, i)
		acc := population{}.account(rng, id)
		acc["score"] = winnerScore(rng, outside)
		outs[i] = icp.Outcome{AccountID: id, Account: acc, Won: true, CloseDate: start.AddDate(0, 0, i-n)}
	}
	w.ObserveOutcomes(context.Background(), outs)
}

// statistics are words that belong in an alert's details, not its text.
var statistics = regexp.MustCompile(`\bp ?=|\bPSI\b|\bKS\b|Wasserstein|Cohen|chi-square|binomial|feature_drift|icp_drift|emerging_segment|W-\d+-\d+`)

func TestAlertsForLeadership(t *testing.T) {
	emerging := icp.EmergingSegment{Key: "industry=Logistics,tech_stack:snowflake", Name: "Logistics on snowflake",
		Description: "30 of the last 100 wins are Logistics, snowflake", Count: 30, Observed: 0.3, Expected: 0.05,
		Baseline: 100, PValue: 1e-9, Traits: []string{"industry is Logistics", "tech stack includes snowflake"}}
	tests := []struct {
		name      string
		give      population
		outside   bool
		emerging  []icp.EmergingSegment
		want      map[string]icp.Severity // group key -> severity
		wantTitle map[string]string       // group key -> part of the title
		wantText  map[string]string       // group key -> part of the summary or action
	}{
		{
			name: "nothing changed",
			want: map[string]icp.Severity{},
		},
		{
			name:      "large industry shift",
			give:      population{logistics: 0.35},
			want:      map[string]icp.Severity{"feature_drift:industry": icp.SeverityCritical},
			wantTitle: map[string]string{"feature_drift:industry": "Industry: more Logistics accounts"},
			wantText:  map[string]string{"feature_drift:industry": "Ask marketing"},
		},
		{
			// A shift the test is sure of but PSI calls small: a warning,
			// never critical.
			name:      "small industry shift",
			give:      population{logistics: 0.16},
			want:      map[string]icp.Severity{"feature_drift:industry": icp.SeverityWarning},
			wantTitle: map[string]string{"feature_drift:industry": "more Logistics"},
			wantText:  map[string]string{"feature_drift:industry": "a small shift in industry"},
		},
		{
			name:      "new industry values",
			give:      population{biotech: 0.3},
			want:      map[string]icp.Severity{"feature_drift:industry": icp.SeverityCritical},
			wantTitle: map[string]string{"feature_drift:industry": "Industry has values the model never saw"},
			wantText:  map[string]string{"feature_drift:industry": "“Biotech”"},
		},
		{
			name:      "tag",
			give:      population{snowflake: 0.5},
			want:      map[string]icp.Severity{"feature_drift:tech_stack has snowflake": icp.SeverityCritical},
			wantTitle: map[string]string{"feature_drift:tech_stack has snowflake": "More accounts with snowflake in their tech stack"},
		},
		{
			name:      "employees missing",
			give:      population{missing: 0.4},
			want:      map[string]icp.Severity{"feature_drift:employees": icp.SeverityCritical},
			wantTitle: map[string]string{"feature_drift:employees": "More accounts arrive without employees"},
			wantText:  map[string]string{"feature_drift:employees": "Check the data feed"},
		},
		{
			name:      "larger companies",
			give:      population{employees: 3},
			want:      map[string]icp.Severity{"feature_drift:employees": icp.SeverityCritical},
			wantTitle: map[string]string{"feature_drift:employees": "Employees is up among scored accounts"},
			wantText:  map[string]string{"feature_drift:employees": "The median employees of the last 1,000 scored accounts is"},
		},
		{
			name: "lower scores",
			give: population{scoreShift: -0.3},
			want: map[string]icp.Severity{"score_drift:score": icp.SeverityCritical, "tier_mix_drift:tier_mix": icp.SeverityCritical},
			wantTitle: map[string]string{"score_drift:score": "Incoming accounts score lower than in training",
				"tier_mix_drift:tier_mix": "Fewer incoming accounts reach Tier 1"},
			wantText: map[string]string{"tier_mix_drift:tier_mix": "Tell sales operations"},
		},
		{
			name:    "wins outside the ICP",
			outside: true,
			want: map[string]icp.Severity{"icp_drift:winners_outside": icp.SeverityCritical,
				"icp_drift:winner_scores": icp.SeverityCritical},
			wantTitle: map[string]string{"icp_drift:winners_outside": "More wins are coming from outside the ICP",
				"icp_drift:winner_scores": "Recent wins score lower than past wins"},
			wantText: map[string]string{"icp_drift:winners_outside": "Review the ICP"},
		},
		{
			name:      "emerging segment",
			emerging:  []icp.EmergingSegment{emerging},
			want:      map[string]icp.Severity{"emerging_segment:" + emerging.Key: icp.SeverityCritical},
			wantTitle: map[string]string{"emerging_segment:" + emerging.Key: "A new kind of customer is winning: Logistics on snowflake"},
			wantText:  map[string]string{"emerging_segment:" + emerging.Key: "30 of the last 100 won deals (30%, 95% interval 22–40%)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newFakeModel()
			m.emerging = tt.emerging
			w, st, c := fakeWatcher(t, m, watch.Config{})
			traffic(t, w, m, c, tt.give, 1000, 3)
			wins(w, 200, tt.outside, 4)
			rep, err := w.Evaluate(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			checkAlerts(t, st, rep, tt.want, tt.wantTitle, tt.wantText)
		})
	}
}

// checkAlerts checks that the open alerts are those wanted, written for
// people, with the severity of their signal in the report.
func checkAlerts(t *testing.T, st *store.Store, rep icp.WatchReport, want map[string]icp.Severity, wantTitle, wantText map[string]string) {
	t.Helper()
	alerts, err := st.Alerts(context.Background(), icp.AlertOpen, 0)
	if err != nil {
		t.Fatal(err)
	}
	signals := map[string]icp.WatchSignal{}
	for _, s := range rep.Signals {
		signals[s.Key] = s
	}
	got := map[string]icp.Severity{}
	for _, a := range alerts {
		got[a.GroupKey] = a.Severity
		s, ok := signals[a.GroupKey]
		if !ok || s.Severity != a.Severity {
			t.Errorf("alert %s severity %s, its signal %+v: want the same severity", a.GroupKey, a.Severity, s)
		}
		if a.Title == "" || a.Summary == "" || a.Action == "" || a.Subject == "" {
			t.Errorf("alert %s = title %q, subject %q, summary %q, action %q; want all four", a.GroupKey, a.Title, a.Subject, a.Summary, a.Action)
		}
		for _, text := range []string{a.Title, a.Summary, a.Action} {
			if bad := statistics.FindString(text); bad != "" {
				t.Errorf("alert %s text %q mentions %q, want it in the details only", a.GroupKey, text, bad)
			}
		}
		if a.Details["group_key"] != a.GroupKey {
			t.Errorf("alert %s details = %v, want its group key among them", a.GroupKey, a.Details)
		}
		if m := a.Measure; m != nil && !(m.Low <= m.Value && m.Value <= m.High) {
			t.Errorf("alert %s measure %+v, want Low <= Value <= High", a.GroupKey, *m)
		}
		if a.Trend == nil || len(a.Trend.Points) != 1 || a.Trend.Points[0].Value != s.Value {
			t.Errorf("alert %s trend = %+v, want one point of value %v", a.GroupKey, a.Trend, s.Value)
		}
		if sub, ok := wantTitle[a.GroupKey]; ok && !strings.Contains(a.Title, sub) {
			t.Errorf("alert %s title = %q, want it to contain %q", a.GroupKey, a.Title, sub)
		}
		if sub, ok := wantText[a.GroupKey]; ok && !strings.Contains(a.Summary+" "+a.Action, sub) {
			t.Errorf("alert %s summary %q, action %q; want %q in them", a.GroupKey, a.Summary, a.Action, sub)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("open alerts = %v, want %v", got, want)
		for _, a := range alerts {
			t.Logf("%s [%s] %s: %s (%v)", a.GroupKey, a.Severity, a.Title, a.Summary, a.Details["detail"])
		}
	}
	for _, s := range rep.Signals {
		if _, alerted := got[s.Key]; alerted != (s.Severity == icp.SeverityWarning || s.Severity == icp.SeverityCritical) {
			t.Errorf("signal %+v: alerted %v, want an alert exactly for warning and critical", s, alerted)
		}
	}
	b, err := json.Marshal(rep)
	if err != nil || !strings.Contains(string(b), `"signals":[`) {
		t.Errorf("report JSON = %.200s, %v; want its signals", b, err)
	}
}

// TestAutoResolve drifts industry, then sends the training population
// again: the alert resolves itself once its condition has been clear for
// ResolveAfter at every evaluation, on the injected clock, with a
// notification. An evaluation without data, or a raise by another replica,
// starts the wait again.
func TestAutoResolve(t *testing.T) {
	const key = "feature_drift:industry"
	tests := []struct {
		name string
		// interrupt runs before the evaluation at step 3 of the clear run.
		interrupt func(t *testing.T, w *watch.Watcher, st *store.Store)
		// wantStep is the step of the clear run (0 is its first clear
		// evaluation) whose evaluation resolves the alert. A step takes 15
		// minutes: 10 of waiting and 300 accounts scored a second apart.
		wantStep int
	}{
		{name: "clear for an hour", wantStep: 4},
		{
			name:      "the model changed",
			interrupt: func(t *testing.T, w *watch.Watcher, _ *store.Store) { w.ModelChanged() },
			wantStep:  3 + 1 + 4, // 3 has no data, 4 starts the run again
		},
		{
			name: "another replica raised it",
			interrupt: func(t *testing.T, _ *watch.Watcher, st *store.Store) {
				if _, _, err := st.RaiseAlert(context.Background(), icp.Alert{GroupKey: key, Kind: watch.KindFeatureDrift,
					Severity: icp.SeverityWarning, Summary: "seen by another replica"}, store.AlertPolicy{}); err != nil {
					t.Fatal(err)
				}
			},
			wantStep: 3 + 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			m := newFakeModel()
			w, st, c := fakeWatcher(t, m, watch.Config{Monitor: drift.MonitorConfig{WindowSize: 300}, TrendPoints: 5})
			traffic(t, w, m, c, population{logistics: 0.4}, 300, 1)
			if _, err := w.Evaluate(ctx); err != nil {
				t.Fatal(err)
			}
			alerts, err := st.ActiveAlerts(ctx)
			if err != nil || len(alerts) != 1 || alerts[0].GroupKey != key {
				t.Fatalf("after drift: active alerts %+v, %v; want %s", alerts, err, key)
			}
			id := alerts[0].ID
			var firstClear time.Time
			for step := 0; step <= tt.wantStep; step++ {
				c.Advance(10 * time.Minute)
				if step == 3 && tt.interrupt != nil {
					tt.interrupt(t, w, st)
				}
				if !(step == 3 && tt.name == "the model changed") {
					traffic(t, w, m, c, population{}, 300, uint64(10+step))
				}
				if _, err := w.Evaluate(ctx); err != nil {
					t.Fatal(err)
				}
				if step == 0 {
					firstClear = c.Now()
				}
				a, err := st.Alert(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if resolved := a.Status == icp.AlertResolved; resolved != (step == tt.wantStep) {
					t.Fatalf("step %d (%v after the first clear evaluation): status %s, want resolved only at step %d",
						step, c.Now().Sub(firstClear), a.Status, tt.wantStep)
				}
				if step < tt.wantStep {
					continue
				}
				if a.UpdatedBy != store.AutoResolvedBy || !strings.HasPrefix(a.Resolution, "Resolved on its own") || !a.ResolvedAt.Equal(c.Now()) {
					t.Errorf("resolved alert = by %q, resolution %q at %v; want auto-resolve now", a.UpdatedBy, a.Resolution, a.ResolvedAt)
				}
				if a.Trend == nil || len(a.Trend.Points) != 5 || !a.Trend.Points[4].Time.Equal(c.Now()) || a.Trend.Points[4].Value >= 0.1 {
					t.Errorf("resolved alert trend = %+v, want the 5 latest points ending with a small PSI now", a.Trend)
				}
			}
			due, err := st.DueDeliveries(ctx, c.Now(), 0)
			if err != nil || len(due) < 2 {
				t.Fatalf("deliveries = %d, %v; want the alert and its resolution", len(due), err)
			}
			var ev watch.PayloadEvent
			if err := json.Unmarshal(due[len(due)-1].Payload, &ev); err != nil || ev.Event != watch.EventResolved || ev.Alert.ID != id {
				t.Errorf("last delivery = %s, %v; want the resolution of %s", due[len(due)-1].Payload, err, id)
			}
		})
	}
}

func TestResolveAfterNegativeNeverResolves(t *testing.T) {
	ctx := context.Background()
	m := newFakeModel()
	w, st, c := fakeWatcher(t, m, watch.Config{Monitor: drift.MonitorConfig{WindowSize: 300}, ResolveAfter: -1})
	traffic(t, w, m, c, population{logistics: 0.4}, 300, 1)
	if _, err := w.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	for step := range 10 {
		c.Advance(time.Hour)
		traffic(t, w, m, c, population{}, 300, uint64(10+step))
		if _, err := w.Evaluate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if active, err := st.ActiveAlerts(ctx); err != nil || len(active) != 1 {
		t.Errorf("active alerts after 10 clear hours with ResolveAfter < 0 = %d, %v; want 1", len(active), err)
	}
}
