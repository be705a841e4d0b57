package watch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/drift"
	"github.com/icpengine/icp/model"
)

// Store is what the watcher needs from persistence.
type Store interface {
	// LogScores appends sampled scored accounts to the log.
	LogScores(ctx context.Context, scored []icp.ScoredAccount) error
	// SaveDriftReport stores a report body.
	SaveDriftReport(ctx context.Context, at time.Time, modelVersion string, body json.RawMessage) (int64, error)
	// RaiseAlert records one observation of a.GroupKey, deduplicated, and
	// when the alert is to be notified enqueues payload(alert) for the
	// webhook in the same transaction. It reports whether it notified.
	RaiseAlert(ctx context.Context, a icp.Alert, payload func(icp.Alert) (json.RawMessage, error)) (icp.Alert, bool, error)
	// ActiveAlerts lists the open and acknowledged alerts.
	ActiveAlerts(ctx context.Context) ([]icp.Alert, error)
	// ResolveQuietAlert resolves the active alert of groupKey unless it
	// was raised at or after quietSince, records resolution and trend
	// (when not nil), and enqueues payload(alert) in the same transaction.
	// It reports whether it resolved one.
	ResolveQuietAlert(ctx context.Context, groupKey string, quietSince time.Time, resolution string, trend *icp.AlertTrend,
		payload func(icp.Alert) (json.RawMessage, error)) (icp.Alert, bool, error)
}

// Model is what the watcher needs from the trained model.
type Model interface {
	// Version names the model.
	Version() string
	// Score scores one account.
	Score(ctx context.Context, acc icp.Account) (icp.Score, error)
	// DriftRow returns the monitor's view of one scored account.
	DriftRow(acc icp.Account, s icp.Score) (drift.Row, error)
	// Reference is the drift reference of the model (nil for none).
	Reference() *drift.Reference
	// EmergingSegments clusters the recent winners the model does not
	// cover and tests each group against the earlier winners.
	EmergingSegments(recent, earlier []icp.Account) ([]icp.EmergingSegment, error)
}

// Config configures a Watcher. Store and Model are required; every other
// field has a documented zero-value default.
type Config struct {
	Store Store
	Model Model
	// Logger receives errors of the background work. Nil discards them.
	Logger *slog.Logger
	// Interval is the time between evaluations in Run. Zero means a minute.
	Interval time.Duration
	// FlushInterval is the longest a sampled score waits before it is
	// logged. Zero means a second.
	FlushInterval time.Duration
	// QueueSize bounds the queue of scored accounts. Zero means 4096.
	QueueSize int
	// SampleRate is the share of scored accounts kept, in (0, 1]. Zero
	// means 1.
	SampleRate float64
	// MaxSamplesPerInterval caps the accounts kept per Interval. Zero means
	// 10,000.
	MaxSamplesPerInterval int
	// Monitor configures the drift monitor.
	Monitor drift.MonitorConfig
	// MinEmergingWinners is the fewest recent winners the emerging-segment
	// search runs on. Zero means the monitor's MinWinners (30).
	MinEmergingWinners int
	// EmergingAlpha is the p-value below which an emerging segment is
	// alerted on. Zero means 1e-5.
	EmergingAlpha float64
	// BaselineWinners is how many earlier winners (those that left the
	// monitor's winner window) are kept as the baseline of the
	// emerging-segment test. Zero means 1000.
	BaselineWinners int
	// MinBaselineWinners is the fewest earlier winners the test needs;
	// with fewer, groups are listed but not alerted on. Zero means 100.
	MinBaselineWinners int
	// ResolveAfter is how long the condition of an open or acknowledged
	// alert must have been found clear, at every evaluation, before the
	// watcher resolves it (with a notification). An evaluation without
	// enough data to judge starts the wait again, so does a restart, and an
	// alert raised meanwhile by another replica is not resolved. Zero means
	// an hour; a negative value never resolves alerts.
	ResolveAfter time.Duration
	// TrendPoints is how many evaluations an alert's trend keeps. Zero
	// means 12.
	TrendPoints int
	// OnReport is given each report Evaluate makes (to set gauges); it
	// must return quickly. Nil gives it to no one.
	OnReport func(icp.WatchReport)
	// Seed seeds the sampling.
	Seed uint64
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Watcher feeds the drift monitor and raises alerts. Its methods are safe
// for concurrent use.
type Watcher struct {
	cfg Config
	log *slog.Logger
	now func() time.Time
	// monitor is replaced when the model changes (see ModelChanged).
	monitor atomic.Pointer[drift.Monitor]
	queue   chan icp.ScoredAccount

	queued, dropped, sampled, logged, outcomes, winners atomic.Int64

	// evalMu serializes Evaluate, whose alert state (trends, clear) is
	// read and written across store calls.
	evalMu sync.Mutex

	mu       sync.Mutex // guards the fields below
	rng      *rand.Rand
	kept     int // samples kept in the current interval
	pending  []icp.ScoredAccount
	recent   []sample // ring of the monitor's window, as the alerts describe it
	recHead  int
	wins     []winner // ring of the latest winners
	winHead  int
	base     []winner // ring of earlier winners, the baseline
	baseHead int
	tierKPIs map[icp.Tier]*icp.TierKPI
	perf     []scored // ring of the latest recorded outcomes, scored
	perfHead int
	// trends holds the latest values of each signal, and clear the time
	// from which each active alert's condition has been found clear at
	// every evaluation.
	trends map[string]*trend
	clear  map[string]time.Time
	evals  int // evaluations made, for pruning trends
}

// trend is the ring of one signal's latest values.
type trend struct {
	points []icp.TrendPoint
	metric string
	last   int // the evaluation that added the newest point
}

// scored is one recorded outcome as the current model scores its account.
type scored struct {
	score float64
	won   bool
}

// perfWindow is how many of the latest recorded outcomes Performance is
// measured on, and minPerfOutcomes the fewest it is measured on.
const (
	perfWindow      = 2000
	minPerfOutcomes = 100
)

type winner struct {
	id     string
	acc    icp.Account
	closed time.Time
	// score is the fit score the model gave when the outcome arrived.
	score float64
}

// New returns a watcher. It fails when Store or Model is nil.
func New(cfg Config) (*Watcher, error) {
	if cfg.Store == nil || cfg.Model == nil {
		return nil, errors.New("new watcher: Store and Model are required")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = time.Second
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 4096
	}
	if cfg.SampleRate <= 0 || cfg.SampleRate > 1 {
		cfg.SampleRate = 1
	}
	if cfg.MaxSamplesPerInterval <= 0 {
		cfg.MaxSamplesPerInterval = 10000
	}
	if cfg.Monitor.WindowSize <= 0 {
		cfg.Monitor.WindowSize = 1000
	}
	if cfg.Monitor.WinnerWindow <= 0 {
		cfg.Monitor.WinnerWindow = 200
	}
	if cfg.Monitor.MinWinners <= 0 {
		cfg.Monitor.MinWinners = 30
	}
	if cfg.MinEmergingWinners <= 0 {
		cfg.MinEmergingWinners = cfg.Monitor.MinWinners
	}
	if cfg.EmergingAlpha <= 0 || cfg.EmergingAlpha >= 1 {
		cfg.EmergingAlpha = 1e-5
	}
	if cfg.BaselineWinners <= 0 {
		cfg.BaselineWinners = 1000
	}
	if cfg.MinBaselineWinners <= 0 {
		cfg.MinBaselineWinners = 100
	}
	if cfg.ResolveAfter == 0 {
		cfg.ResolveAfter = time.Hour
	}
	if cfg.TrendPoints <= 0 {
		cfg.TrendPoints = 12
	}
	w := &Watcher{
		cfg:      cfg,
		log:      cfg.Logger,
		now:      cfg.Now,
		queue:    make(chan icp.ScoredAccount, cfg.QueueSize),
		rng:      rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		tierKPIs: make(map[icp.Tier]*icp.TierKPI),
		trends:   make(map[string]*trend),
		clear:    make(map[string]time.Time),
	}
	w.monitor.Store(drift.NewMonitor(cfg.Model.Reference(), cfg.Monitor))
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.now == nil {
		w.now = time.Now
	}
	return w, nil
}

// ModelChanged starts the model's windows afresh after the served model
// was swapped: drift is measured against the new model's reference, and
// the tier counts and performance against its scores, which the old
// model's are not comparable with; the trends and the clear runs of the
// alerts start again too. The winners kept for the emerging-segment search
// are accounts, not scores, and stay.
func (w *Watcher) ModelChanged() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.monitor.Store(drift.NewMonitor(w.cfg.Model.Reference(), w.cfg.Monitor))
	w.tierKPIs = make(map[icp.Tier]*icp.TierKPI)
	w.perf, w.perfHead = nil, 0
	w.recent, w.recHead = nil, 0
	w.trends = make(map[string]*trend)
	w.clear = make(map[string]time.Time)
}

// ObserveScore offers one scored account to the watcher without blocking:
// it reports false when the queue is full and the account was dropped.
func (w *Watcher) ObserveScore(sa icp.ScoredAccount) bool {
	select {
	case w.queue <- sa:
		w.queued.Add(1)
		return true
	default:
		w.dropped.Add(1)
		return false
	}
}

// Stats returns the counters.
func (w *Watcher) Stats() icp.WatchStats {
	return icp.WatchStats{
		Queued: w.queued.Load(), Dropped: w.dropped.Load(),
		Sampled: w.sampled.Load(), Logged: w.logged.Load(),
		Outcomes: w.outcomes.Load(), Winners: w.winners.Load(),
	}
}

// Run drains the queue, logs samples and evaluates every Interval until ctx
// is done. It returns nil after a cancellation, once the last samples are
// logged (with a short grace of its own).
func (w *Watcher) Run(ctx context.Context) error {
	eval := time.NewTicker(w.cfg.Interval)
	defer eval.Stop()
	flush := time.NewTicker(w.cfg.FlushInterval)
	defer flush.Stop()
	for {
		select {
		case <-ctx.Done():
			w.drain()
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			err := w.Flush(fctx)
			cancel()
			if err != nil {
				w.log.Warn("watch: log scores at shutdown", slog.Any("err", err))
			}
			return nil
		case sa := <-w.queue:
			w.take(sa)
		case <-flush.C:
			if err := w.Flush(ctx); err != nil && ctx.Err() == nil {
				w.log.Warn("watch: log scores", slog.Any("err", err))
			}
		case <-eval.C:
			if _, err := w.Evaluate(ctx); err != nil && ctx.Err() == nil {
				w.log.Warn("watch: evaluate drift", slog.Any("err", err))
			}
		}
	}
}

// drain takes what is in the queue now.
func (w *Watcher) drain() {
	for {
		select {
		case sa := <-w.queue:
			w.take(sa)
		default:
			return
		}
	}
}

// take samples one scored account into the monitor and the pending log.
func (w *Watcher) take(sa icp.ScoredAccount) {
	w.mu.Lock()
	keep := w.kept < w.cfg.MaxSamplesPerInterval && (w.cfg.SampleRate >= 1 || w.rng.Float64() < w.cfg.SampleRate)
	if keep {
		w.kept++
		w.pending = append(w.pending, sa)
	}
	w.mu.Unlock()
	if !keep {
		return
	}
	w.sampled.Add(1)
	row, err := w.cfg.Model.DriftRow(sa.Account, icp.Score{Score: sa.Score, Tier: sa.Tier})
	if err != nil {
		return // an account the model could not read was not scored either
	}
	w.monitor.Load().Observe(row)
	w.mu.Lock()
	s := sample{at: sa.Time, score: sa.Score, tier: sa.Tier}
	if len(w.recent) < w.cfg.Monitor.WindowSize {
		w.recent = append(w.recent, s)
	} else {
		w.recent[w.recHead] = s
		w.recHead = (w.recHead + 1) % len(w.recent)
	}
	w.mu.Unlock()
}

// Flush takes what is queued and writes the pending samples to the log.
func (w *Watcher) Flush(ctx context.Context) error {
	w.drain()
	w.mu.Lock()
	batch := w.pending
	w.pending = nil
	w.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := w.cfg.Store.LogScores(ctx, batch); err != nil {
		return err
	}
	w.logged.Add(int64(len(batch)))
	return nil
}

// ObserveOutcomes feeds outcomes the store has acknowledged: each account
// with fields is scored with the current model for the tier KPIs, and each
// win feeds the ICP drift test and the emerging-segment search. Accounts
// the model cannot read are skipped.
func (w *Watcher) ObserveOutcomes(ctx context.Context, outs []icp.Outcome) {
	for _, o := range outs {
		w.outcomes.Add(1)
		if len(o.Account) == 0 {
			continue
		}
		s, err := w.cfg.Model.Score(ctx, o.Account)
		if err != nil {
			continue
		}
		closed := o.CloseDate
		if closed.IsZero() {
			closed = o.RecordedAt
		}
		w.mu.Lock()
		k := w.tierKPIs[s.Tier]
		if k == nil {
			k = &icp.TierKPI{Tier: s.Tier}
			w.tierKPIs[s.Tier] = k
		}
		k.Deals++
		if len(w.perf) < perfWindow {
			w.perf = append(w.perf, scored{s.Score, o.Won})
		} else {
			w.perf[w.perfHead] = scored{s.Score, o.Won}
			w.perfHead = (w.perfHead + 1) % perfWindow
		}
		if o.Won {
			k.Won++
			win := winner{id: o.AccountID, acc: o.Account, closed: closed, score: s.Score}
			if len(w.wins) < w.cfg.Monitor.WinnerWindow {
				w.wins = append(w.wins, win)
			} else {
				old := w.wins[w.winHead]
				w.wins[w.winHead] = win
				w.winHead = (w.winHead + 1) % len(w.wins)
				if len(w.base) < w.cfg.BaselineWinners {
					w.base = append(w.base, old)
				} else {
					w.base[w.baseHead] = old
					w.baseHead = (w.baseHead + 1) % len(w.base)
				}
			}
		}
		w.mu.Unlock()
		if o.Won {
			w.winners.Add(1)
			w.monitor.Load().ObserveWinner(s.Score, s.Tier)
		}
	}
}

// Evaluate runs the drift monitor and the emerging-segment search now,
// grades every signal, saves the report, raises the alerts of the drifting
// signals and resolves the alerts whose condition has been clear for
// Config.ResolveAfter. It returns the report even when saving, raising or
// resolving failed, with the error. Evaluations run one at a time.
func (w *Watcher) Evaluate(ctx context.Context) (icp.WatchReport, error) {
	w.evalMu.Lock()
	defer w.evalMu.Unlock()
	now := w.now()
	w.mu.Lock()
	w.kept = 0
	wins := make([]winner, 0, len(w.wins))
	wins = append(wins, w.wins[w.winHead:]...)
	wins = append(wins, w.wins[:w.winHead]...)
	base := make([]icp.Account, 0, len(w.base))
	for _, b := range w.base[w.baseHead:] {
		base = append(base, b.acc)
	}
	for _, b := range w.base[:w.baseHead] {
		base = append(base, b.acc)
	}
	recent := make([]sample, 0, len(w.recent))
	recent = append(recent, w.recent[w.recHead:]...)
	recent = append(recent, w.recent[:w.recHead]...)
	kpis := make([]icp.TierKPI, 0, 4)
	for _, t := range icp.Tiers() {
		k := icp.TierKPI{Tier: t}
		if p := w.tierKPIs[t]; p != nil {
			k = *p
		}
		if k.Deals > 0 {
			k.WinRate = float64(k.Won) / float64(k.Deals)
		}
		kpis = append(kpis, k)
	}
	perf := append([]scored(nil), w.perf...)
	w.mu.Unlock()

	mon := w.monitor.Load()
	rep := icp.WatchReport{DriftResult: mon.Evaluate(now), ModelVersion: w.cfg.Model.Version(), TierKPIs: kpis,
		Performance: performance(perf, kpis)}
	var errs []error
	em, err := w.emerging(&rep, wins, base)
	if err != nil {
		errs = append(errs, err)
	}
	var snap *drift.Window
	ec := &evalContext{now: now, ref: w.cfg.Model.Reference(), recent: recent, winners: wins, alpha: w.cfg.EmergingAlpha,
		window: func() drift.Window {
			if snap == nil {
				s := mon.Snapshot()
				snap = &s
			}
			return *snap
		}}
	minWindow := w.cfg.Monitor.Drift.MinWindow
	if minWindow <= 0 {
		minWindow = 200 // drift.Config's default
	}
	sigs, alerts := compose(&rep, em, ec, minWindow)
	rep.Signals = sigs
	trends := w.record(sigs, now)
	for i := range alerts {
		alerts[i].Trend = trends[alerts[i].GroupKey]
	}
	rep.Stats = w.Stats()
	if w.cfg.OnReport != nil {
		w.cfg.OnReport(rep)
	}

	body, err := json.Marshal(rep)
	if err != nil {
		return rep, fmt.Errorf("evaluate: encode report: %w", err)
	}
	if _, err := w.cfg.Store.SaveDriftReport(ctx, now, rep.ModelVersion, body); err != nil {
		errs = append(errs, err)
	}
	for _, a := range alerts {
		if _, _, err := w.cfg.Store.RaiseAlert(ctx, a, Payload); err != nil {
			errs = append(errs, err)
		}
	}
	if err := w.resolveCleared(ctx, &rep, trends, now); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return rep, fmt.Errorf("evaluate: %w", err)
	}
	return rep, nil
}

// emerging runs the emerging-segment search on the recent winners against
// the earlier ones, fills the report's emerging fields and returns each
// group with its status.
func (w *Watcher) emerging(rep *icp.WatchReport, wins []winner, base []icp.Account) ([]emergingVerdict, error) {
	if len(wins) < w.cfg.MinEmergingWinners {
		rep.EmergingStatus = drift.StatusInsufficient
		rep.EmergingDetail = fmt.Sprintf("%d recent winners, need %d", len(wins), w.cfg.MinEmergingWinners)
		return nil, nil
	}
	accs := make([]icp.Account, len(wins))
	for i, x := range wins {
		accs[i] = x.acc
	}
	em, err := w.cfg.Model.EmergingSegments(accs, base)
	if err != nil {
		err = fmt.Errorf("emerging segments: %w", err)
	}
	for i := range em {
		em[i].AccountIDs = make([]string, 0, len(em[i].Members))
		for _, m := range em[i].Members {
			if m >= 0 && m < len(wins) {
				em[i].AccountIDs = append(em[i].AccountIDs, wins[m].id)
			}
		}
		sort.Strings(em[i].AccountIDs)
		if em[i].Winners == 0 {
			em[i].Winners = len(wins)
		}
	}
	rep.Emerging = em
	out := make([]emergingVerdict, len(em))
	var alerted int
	enough := len(base) >= w.cfg.MinBaselineWinners
	for i, e := range em {
		out[i] = emergingVerdict{e: e, status: drift.StatusWatch}
		switch {
		case !enough:
			out[i].status = drift.StatusInsufficient
		case e.PValue < w.cfg.EmergingAlpha:
			out[i].status = drift.StatusDrift
			alerted++
		}
	}
	switch {
	case len(em) == 0:
		rep.EmergingStatus = drift.StatusStable
		rep.EmergingDetail = fmt.Sprintf("no uncovered group among the last %d winners", len(wins))
	case !enough:
		rep.EmergingStatus = drift.StatusInsufficient
		rep.EmergingDetail = fmt.Sprintf("%d uncovered group(s) among the last %d winners; %d earlier winners to compare with, need %d",
			len(em), len(wins), len(base), w.cfg.MinBaselineWinners)
	case alerted == 0:
		rep.EmergingStatus = drift.StatusWatch
		rep.EmergingDetail = fmt.Sprintf("%d uncovered group(s) among the last %d winners, none grown against %d earlier winners (p >= %.2g)", len(em), len(wins), len(base), w.cfg.EmergingAlpha)
	default:
		rep.EmergingStatus = drift.StatusDrift
		rep.EmergingDetail = fmt.Sprintf("%d new segment(s) among the last %d winners (p < %.2g)", alerted, len(wins), w.cfg.EmergingAlpha)
	}
	return out, err
}

// record adds each tested signal's value to its trend, forgets the trends
// of signals not seen for TrendPoints evaluations, and returns a copy of
// every trend by group key.
func (w *Watcher) record(sigs []icp.WatchSignal, now time.Time) map[string]*icp.AlertTrend {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.evals++
	for _, s := range sigs {
		if s.Status == drift.StatusInsufficient {
			continue
		}
		t := w.trends[s.Key]
		if t == nil || t.metric != s.Metric {
			t = &trend{metric: s.Metric}
			w.trends[s.Key] = t
		}
		t.points = append(t.points, icp.TrendPoint{Time: now, Value: s.Value})
		if len(t.points) > w.cfg.TrendPoints {
			t.points = append(t.points[:0], t.points[len(t.points)-w.cfg.TrendPoints:]...)
		}
		t.last = w.evals
	}
	out := make(map[string]*icp.AlertTrend, len(w.trends))
	for k, t := range w.trends {
		if w.evals-t.last >= w.cfg.TrendPoints {
			delete(w.trends, k)
			continue
		}
		out[k] = trendOf(t)
	}
	return out
}

// trendOf copies a trend into an alert's, with its label and reference
// levels.
func trendOf(t *trend) *icp.AlertTrend {
	at := &icp.AlertTrend{Points: append([]icp.TrendPoint(nil), t.points...)}
	switch t.metric {
	case MetricPSI:
		at.Label, at.Warning, at.Critical = "shift size (PSI)", psiModerate, psiLarge
	case MetricShare:
		at.Label, at.Unit = "share of recent won deals", "share"
	case MetricMissing:
		at.Label, at.Unit = "share of scored accounts without a value", "share"
	}
	return at
}

// verdict is what an evaluation says of an alert's condition.
type verdict int

const (
	verdictUnknown verdict = iota // not evaluated, or too little data
	verdictClear                  // evaluated and not drifting
	verdictRaised                 // drifting: the alert was raised again
)

// verdicts reads the verdict of every group key an evaluation judged;
// emerging-segment keys it did not list are clear when the search ran with
// a baseline.
func verdicts(rep *icp.WatchReport) func(key string) verdict {
	by := make(map[string]verdict, len(rep.Signals))
	for _, s := range rep.Signals {
		switch s.Status {
		case drift.StatusDrift:
			by[s.Key] = verdictRaised
		case drift.StatusStable, drift.StatusWatch:
			by[s.Key] = verdictClear
		}
	}
	searched := rep.EmergingStatus != "" && rep.EmergingStatus != drift.StatusInsufficient
	return func(key string) verdict {
		if v, ok := by[key]; ok {
			return v
		}
		if searched && strings.HasPrefix(key, KindEmergingSegment+":") {
			return verdictClear
		}
		return verdictUnknown
	}
}

// resolveCleared resolves the active alerts whose condition has been found
// clear at every evaluation for ResolveAfter.
func (w *Watcher) resolveCleared(ctx context.Context, rep *icp.WatchReport, trends map[string]*icp.AlertTrend, now time.Time) error {
	if w.cfg.ResolveAfter < 0 {
		return nil
	}
	active, err := w.cfg.Store.ActiveAlerts(ctx)
	if err != nil {
		return fmt.Errorf("resolve cleared alerts: %w", err)
	}
	judge := verdicts(rep)
	type due struct {
		key   string
		since time.Time
	}
	var todo []due
	w.mu.Lock()
	keep := make(map[string]time.Time, len(active))
	for _, a := range active {
		if judge(a.GroupKey) == verdictClear {
			// The run starts again when another replica raised the alert
			// since it began.
			since, ok := w.clear[a.GroupKey]
			if !ok || !a.LastSeen.Before(since) {
				since = now
			}
			keep[a.GroupKey] = since
			if now.Sub(since) >= w.cfg.ResolveAfter {
				todo = append(todo, due{a.GroupKey, since})
			}
		}
	}
	w.clear = keep
	w.mu.Unlock()

	var errs []error
	for _, d := range todo {
		note := fmt.Sprintf("Resolved on its own: the condition has been clear at every evaluation since %s UTC (%s).",
			d.since.UTC().Format("2 Jan 2006 15:04"), now.Sub(d.since).Round(time.Second))
		_, _, err := w.cfg.Store.ResolveQuietAlert(ctx, d.key, d.since, note, trends[d.key], Payload)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		w.mu.Lock()
		delete(w.clear, d.key)
		w.mu.Unlock()
	}
	return errors.Join(errs...)
}

// The events of a webhook payload.
const (
	EventAlert    = "alert"
	EventResolved = "resolved"
)

// PayloadEvent is the body of a webhook notification.
type PayloadEvent struct {
	// Event is EventAlert for a new, repeated or escalated alert and
	// EventResolved for one that resolved itself.
	Event string    `json:"event"`
	Alert icp.Alert `json:"alert"`
}

// Payload builds the webhook body of an alert:
// {"event":"alert","alert":{...}}, or "resolved" for a resolved alert.
func Payload(a icp.Alert) (json.RawMessage, error) {
	ev := EventAlert
	if a.Status == icp.AlertResolved {
		ev = EventResolved
	}
	return json.Marshal(PayloadEvent{Event: ev, Alert: a})
}

// performance measures the scores of recorded outcomes: ROC AUC, and
// whether the win rate falls from tier to tier (kpis, best tier first).
// Below minPerfOutcomes outcomes, or with one class only, it reports
// insufficient data.
func performance(perf []scored, kpis []icp.TierKPI) icp.ModelPerformance {
	p := icp.ModelPerformance{Outcomes: len(perf)}
	y, s := make([]float64, len(perf)), make([]float64, len(perf))
	for i, o := range perf {
		s[i] = o.score
		if o.won {
			y[i] = 1
			p.Won++
		}
	}
	if len(perf) < minPerfOutcomes || p.Won == 0 || p.Won == len(perf) {
		p.Status = drift.StatusInsufficient
		p.Detail = fmt.Sprintf("%d recorded outcomes (%d won); need %d of both classes", len(perf), p.Won, minPerfOutcomes)
		return p
	}
	p.ROCAUC = model.ROCAUC(y, s, nil)
	p.TiersFalling = true
	last := math.Inf(1)
	for _, k := range kpis {
		if k.Deals == 0 {
			continue
		}
		if k.WinRate > last {
			p.TiersFalling = false
		}
		last = k.WinRate
	}
	p.Status = drift.StatusStable
	p.Detail = fmt.Sprintf("ROC AUC %.3f on the last %d recorded outcomes", p.ROCAUC, len(perf))
	if !p.TiersFalling {
		p.Status = drift.StatusWatch
		p.Detail += "; the win rate does not fall from tier to tier"
	}
	return p
}
