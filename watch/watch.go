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
	"sync"
	"sync/atomic"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/drift"
	"github.com/icpengine/icp/model"
)

// KindEmergingSegment is the kind of emerging-segment alerts.
const KindEmergingSegment = "emerging_segment"

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

	mu       sync.Mutex // guards the fields below
	rng      *rand.Rand
	kept     int // samples kept in the current interval
	pending  []icp.ScoredAccount
	wins     []winner // ring of the latest winners
	winHead  int
	base     []winner // ring of earlier winners, the baseline
	baseHead int
	tierKPIs map[icp.Tier]*icp.TierKPI
	perf     []scored // ring of the latest recorded outcomes, scored
	perfHead int
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
	id  string
	acc icp.Account
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
	w := &Watcher{
		cfg:      cfg,
		log:      cfg.Logger,
		now:      cfg.Now,
		queue:    make(chan icp.ScoredAccount, cfg.QueueSize),
		rng:      rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		tierKPIs: make(map[icp.Tier]*icp.TierKPI),
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
// model's are not comparable with. The winners kept for the emerging-
// segment search are accounts, not scores, and stay.
func (w *Watcher) ModelChanged() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.monitor.Store(drift.NewMonitor(w.cfg.Model.Reference(), w.cfg.Monitor))
	w.tierKPIs = make(map[icp.Tier]*icp.TierKPI)
	w.perf, w.perfHead = nil, 0
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
			win := winner{id: o.AccountID, acc: o.Account}
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
// saves the report and raises its alerts. It returns the report even when
// saving or raising failed, with the error.
func (w *Watcher) Evaluate(ctx context.Context) (icp.WatchReport, error) {
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

	rep := icp.WatchReport{DriftResult: w.monitor.Load().Evaluate(now), ModelVersion: w.cfg.Model.Version(), TierKPIs: kpis,
		Performance: performance(perf, kpis)}
	alerts := drift.Alerts(&rep.DriftResult)
	var errs []error
	if len(wins) < w.cfg.MinEmergingWinners {
		rep.EmergingStatus = drift.StatusInsufficient
		rep.EmergingDetail = fmt.Sprintf("%d recent winners, need %d", len(wins), w.cfg.MinEmergingWinners)
	} else {
		accs := make([]icp.Account, len(wins))
		for i, x := range wins {
			accs[i] = x.acc
		}
		em, err := w.cfg.Model.EmergingSegments(accs, base)
		if err != nil {
			errs = append(errs, fmt.Errorf("emerging segments: %w", err))
		}
		for i := range em {
			em[i].AccountIDs = make([]string, 0, len(em[i].Members))
			for _, m := range em[i].Members {
				if m >= 0 && m < len(wins) {
					em[i].AccountIDs = append(em[i].AccountIDs, wins[m].id)
				}
			}
			sort.Strings(em[i].AccountIDs)
		}
		rep.Emerging = em
		var alerted int
		enough := len(base) >= w.cfg.MinBaselineWinners
		for _, e := range em {
			if enough && e.PValue < w.cfg.EmergingAlpha {
				alerted++
				alerts = append(alerts, emergingAlert(e, w.cfg.EmergingAlpha, now))
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
	if err := errors.Join(errs...); err != nil {
		return rep, fmt.Errorf("evaluate: %w", err)
	}
	return rep, nil
}

// emergingAlert is the alert candidate of one emerging segment.
func emergingAlert(e icp.EmergingSegment, alpha float64, now time.Time) icp.Alert {
	sev := icp.SeverityWarning
	if e.Winners > 0 && 5*e.Count >= e.Winners || e.PValue < alpha/1000 {
		sev = icp.SeverityCritical
	}
	ids := e.AccountIDs
	if len(ids) > 50 {
		ids = ids[:50]
	}
	return icp.Alert{
		GroupKey: KindEmergingSegment + ":" + e.Key,
		Kind:     KindEmergingSegment,
		Severity: sev,
		Status:   icp.AlertOpen,
		Summary:  "Emerging segment: " + e.Description,
		Evidence: map[string]any{
			"count": e.Count, "winners": e.Winners, "outside": e.Outside,
			"traits": e.Traits, "account_ids": ids,
			"observed_share": e.Observed, "expected_share": e.Expected, "baseline_winners": e.Baseline,
			"p_value": e.PValue, "alpha": alpha,
		},
		FirstSeen: now, LastSeen: now, UpdatedAt: now, Count: 1,
	}
}

// PayloadEvent is the body of a webhook notification.
type PayloadEvent struct {
	// Event is "alert".
	Event string    `json:"event"`
	Alert icp.Alert `json:"alert"`
}

// Payload builds the webhook body of an alert: {"event":"alert","alert":{...}}.
func Payload(a icp.Alert) (json.RawMessage, error) {
	return json.Marshal(PayloadEvent{Event: "alert", Alert: a})
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
