package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/internal/cli"
	"github.com/icpengine/icp/registry"
	"github.com/icpengine/icp/server"
	"github.com/icpengine/icp/server/dashboard"
	"github.com/icpengine/icp/store"
	"github.com/icpengine/icp/watch"
)

// opsOptions are the flags of the outcome, drift and alert features.
type opsOptions struct {
	db            *string
	webhookURL    *string
	webhookSecret *string
	webhookFormat *string
	dashboardURL  *string
	resolveAfter  *time.Duration
	driftInterval *time.Duration
	sampleRate    *float64
	maxBatch      *int
}

func opsFlags(fs *flag.FlagSet) opsOptions {
	return opsOptions{
		db:            fs.String("db", "", "`store` of API keys, models, outcomes, drift reports and alerts: a SQLite path or a postgres:// URL (empty: scoring only, without keys)"),
		webhookURL:    fs.String("webhook-url", "", "URL that receives alert notifications (needs --db)"),
		webhookSecret: fs.String("webhook-secret-file", "", "file holding the webhook HMAC secret (generic format only)"),
		webhookFormat: fs.String("webhook-format", watch.FormatGeneric, "what the webhook receives: generic (signed JSON), slack (incoming-webhook message) or teams (Adaptive Card)"),
		dashboardURL:  fs.String("dashboard-url", "", "public URL of the dashboard, linked from Slack and Teams messages"),
		resolveAfter:  fs.Duration("alert-resolve-after", time.Hour, "time an alert's condition must stay clear before it resolves itself (negative: never)"),
		driftInterval: fs.Duration("drift-interval", time.Minute, "time between drift evaluations"),
		sampleRate:    fs.Float64("sample-rate", 1, "share of scored accounts kept for drift and the score log, in (0, 1]"),
		maxBatch:      fs.Int("max-batch", 0, "most outcomes in one POST /v1/outcomes (0: the server's default)"),
	}
}

// ops is the running outcome, drift, alert and model-following machinery.
type ops struct {
	cfg   server.OpsConfig
	w     *watch.Watcher // nil without a store
	stop  context.CancelFunc
	wg    sync.WaitGroup
	wctx  context.Context
	ready func(ctx context.Context) error
}

// openStore opens the store named by --db, or returns nil without one.
func (o opsOptions) openStore(ctx context.Context, logger *slog.Logger) (*store.Store, error) {
	if *o.db == "" {
		return nil, nil
	}
	return store.Open(ctx, *o.db, store.Config{Logger: logger})
}

// startOps starts the drift watcher, the webhook deliverer and the shadow
// scorer. Without a store (st nil) it returns an empty configuration: the
// routes then answer 503 "no store configured".
func startOps(ctx context.Context, o opsOptions, st *store.Store, live *registry.Live, m *server.Metrics, logger *slog.Logger) (*ops, error) {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r := &ops{cfg: server.OpsConfig{ICP: func() *dashboard.ICPSummary { return icpSummary(live.Current().Profile) }, MaxBatch: *o.maxBatch},
		stop: cancel, wctx: wctx}
	r.wg.Go(func() { _ = live.RunShadow(wctx) })
	if st == nil {
		if *o.webhookURL != "" {
			r.Close()
			return nil, cli.Usagef("--webhook-url needs --db")
		}
		return r, nil
	}
	r.cfg.Channels = recentChannels(st, liveProfile(live), time.Now)
	if err := r.startWatch(o, st, live, m, logger); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// startWatch starts the drift watcher and the webhook deliverer.
func (r *ops) startWatch(o opsOptions, st *store.Store, live *registry.Live, m *server.Metrics, logger *slog.Logger) error {
	if *o.sampleRate <= 0 || *o.sampleRate > 1 {
		return cli.Usagef("--sample-rate %v: want a share in (0, 1]", *o.sampleRate)
	}
	if *o.driftInterval <= 0 {
		return cli.Usagef("--drift-interval %v: want a positive duration", *o.driftInterval)
	}
	if !slices.Contains(watch.Formats(), *o.webhookFormat) {
		return cli.Usagef("--webhook-format %q: want one of %s", *o.webhookFormat, strings.Join(watch.Formats(), ", "))
	}
	if *o.webhookFormat != watch.FormatGeneric && *o.webhookSecret != "" {
		return cli.Usagef("--webhook-secret-file signs the generic format only; a %s webhook URL is its own secret", *o.webhookFormat)
	}
	var secret []byte
	if *o.webhookSecret != "" {
		b, err := os.ReadFile(*o.webhookSecret)
		if err != nil {
			return fmt.Errorf("read webhook secret: %w", err)
		}
		secret = []byte(strings.TrimSpace(string(b)))
		if len(secret) == 0 {
			return fmt.Errorf("webhook secret file %s is empty", *o.webhookSecret)
		}
	}
	seed := live.Current().Profile.Seed
	w, err := watch.New(watch.Config{
		Store: alertStore{Store: st, notify: *o.webhookURL != ""}, Model: modelAdapter{live: live}, OnReport: driftGauges(m),
		Logger: logger, Interval: *o.driftInterval, SampleRate: *o.sampleRate, Seed: seed, ResolveAfter: *o.resolveAfter,
	})
	if err != nil {
		return err
	}
	if err := replayOutcomes(r.wctx, st, w); err != nil {
		return err
	}
	r.w = w
	r.cfg.Outcomes, r.cfg.Observer, r.cfg.Scores = st, w, w
	r.cfg.Drift, r.cfg.Alerts = st, st
	r.ready = st.Ping
	r.wg.Go(func() { _ = w.Run(r.wctx) })
	if *o.webhookURL != "" {
		d, err := watch.NewDeliverer(watch.DelivererConfig{Outbox: st, URL: *o.webhookURL, Format: *o.webhookFormat,
			Link: *o.dashboardURL, Secret: secret, Seed: seed, Logger: logger})
		if err != nil {
			return err
		}
		r.wg.Go(func() { _ = d.Run(r.wctx) })
	}
	logger.Info("store open", "backend", st.Backend(), "drift_interval", o.driftInterval.String(), "webhook", *o.webhookURL != "",
		"webhook_format", *o.webhookFormat)
	return nil
}

// follow starts the follower that keeps live on the store's champion and
// shadow. A swapped champion restarts the watcher's model windows.
func (r *ops) follow(st *store.Store, live *registry.Live, replica string, mo *modelOptions, m *server.Metrics, logger *slog.Logger) error {
	f, err := registry.NewFollower(registry.FollowerConfig{
		Store: st, Live: live, Replica: replica, Interval: mo.poll, WarmUp: mo.warmUp, Logger: logger,
		OnLoad: func(alias string, lm *registry.Model, err error) {
			if err != nil {
				m.ModelReloaded(server.ReloadFailure)
				return
			}
			m.ModelReloaded(server.ReloadSuccess)
			m.SetServing(alias, lm.Checksum, lm.Profile.Version)
			if alias == icp.AliasChampion && r.w != nil {
				m.ResetDrift()
				r.w.ModelChanged()
			}
		},
	})
	if err != nil {
		return err
	}
	r.wg.Go(func() { _ = f.Run(r.wctx) })
	return nil
}

// Close stops the watcher, the deliverer, the shadow scorer and the
// follower.
func (r *ops) Close() error {
	r.stop()
	r.wg.Wait()
	return nil
}

// replayDays and replayMax bound the stored outcomes replayed into the
// watcher at startup, so that its winner windows (the ICP drift test and
// the emerging-segment baseline) survive a restart.
const (
	replayDays = 365
	replayMax  = 2000
)

// replayOutcomes feeds the watcher the latest stored outcomes.
func replayOutcomes(ctx context.Context, st *store.Store, w *watch.Watcher) error {
	outs, err := st.Outcomes(ctx, time.Now().AddDate(0, 0, -replayDays), 0)
	if err != nil {
		return fmt.Errorf("replay outcomes: %w", err)
	}
	if len(outs) > replayMax {
		outs = outs[len(outs)-replayMax:]
	}
	w.ObserveOutcomes(ctx, outs)
	return nil
}
