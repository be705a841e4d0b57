package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/server"
	"github.com/icpengine/icp/store"
	"github.com/icpengine/icp/watch"
)

// opsOptions are the flags of the outcome, drift and alert features.
type opsOptions struct {
	db            *string
	webhookURL    *string
	webhookSecret *string
	driftInterval *time.Duration
	sampleRate    *float64
	maxBatch      *int
}

func opsFlags(fs *flag.FlagSet) opsOptions {
	return opsOptions{
		db:            fs.String("db", "", "store for outcomes, drift reports and alerts: a SQLite path or a postgres:// URL (empty: scoring only)"),
		webhookURL:    fs.String("webhook-url", "", "URL that receives alert notifications (needs --db)"),
		webhookSecret: fs.String("webhook-secret-file", "", "file holding the webhook HMAC secret"),
		driftInterval: fs.Duration("drift-interval", time.Minute, "time between drift evaluations"),
		sampleRate:    fs.Float64("sample-rate", 1, "share of scored accounts kept for drift and the score log, in (0, 1]"),
		maxBatch:      fs.Int("max-batch", 1000, "most outcomes in one POST /v1/outcomes"),
	}
}

// ops is the running outcome, drift and alert machinery.
type ops struct {
	cfg   server.OpsConfig
	st    *store.Store
	stop  context.CancelFunc
	wg    sync.WaitGroup
	ready func(ctx context.Context) error
}

// startOps opens the store and starts the drift watcher and the webhook
// deliverer. Without --db it returns an empty configuration: the routes
// then answer 503 "no store configured".
func startOps(ctx context.Context, o opsOptions, p *profile.Profile, logger *slog.Logger) (*ops, error) {
	r := &ops{cfg: server.OpsConfig{ICP: icpSummary(p), MaxBatch: *o.maxBatch}, stop: func() {}}
	if *o.db == "" {
		if *o.webhookURL != "" {
			return nil, errors.New("--webhook-url needs --db")
		}
		return r, nil
	}
	if *o.sampleRate <= 0 || *o.sampleRate > 1 {
		return nil, fmt.Errorf("--sample-rate %v: want a share in (0, 1]", *o.sampleRate)
	}
	if *o.driftInterval <= 0 {
		return nil, fmt.Errorf("--drift-interval %v: want a positive duration", *o.driftInterval)
	}
	var secret []byte
	if *o.webhookSecret != "" {
		b, err := os.ReadFile(*o.webhookSecret)
		if err != nil {
			return nil, fmt.Errorf("read webhook secret: %w", err)
		}
		secret = []byte(strings.TrimSpace(string(b)))
		if len(secret) == 0 {
			return nil, fmt.Errorf("webhook secret file %s is empty", *o.webhookSecret)
		}
	}
	st, err := store.Open(ctx, *o.db, store.Config{Logger: logger})
	if err != nil {
		return nil, err
	}
	sa := storeAdapter{st: st, notify: *o.webhookURL != ""}
	w, err := watch.New(watch.Config{
		Store: sa, Model: modelAdapter{p: p, cfg: profile.EmergingConfig{Seed: p.Seed}},
		Logger: logger, Interval: *o.driftInterval, SampleRate: *o.sampleRate, Seed: p.Seed,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	if err := replayOutcomes(ctx, st, w); err != nil {
		st.Close()
		return nil, err
	}
	r.st = st
	r.cfg.Outcomes, r.cfg.Observer, r.cfg.Scores = sa, w, w
	r.cfg.Drift, r.cfg.Alerts = sa, sa
	r.ready = st.Ping
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.stop = cancel
	r.wg.Go(func() { _ = w.Run(wctx) })
	if *o.webhookURL != "" {
		d, err := watch.NewDeliverer(watch.DelivererConfig{Outbox: sa, URL: *o.webhookURL, Secret: secret, Seed: p.Seed, Logger: logger})
		if err != nil {
			cancel()
			r.wg.Wait()
			st.Close()
			return nil, err
		}
		r.wg.Go(func() { _ = d.Run(wctx) })
	}
	logger.Info("store open", "backend", st.Backend(), "drift_interval", o.driftInterval.String(), "webhook", *o.webhookURL != "")
	return r, nil
}

// Close stops the watcher and the deliverer and closes the store.
func (r *ops) Close() error {
	r.stop()
	r.wg.Wait()
	if r.st != nil {
		return r.st.Close()
	}
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
