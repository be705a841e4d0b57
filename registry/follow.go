package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/icpengine/icp"
)

// FollowerConfig configures a Follower.
type FollowerConfig struct {
	// Store holds the aliases and artifacts; Live is the replica's model.
	// Both are required.
	Store Store
	Live  *Live
	// Replica names this replica in the history (host and process, say).
	// It is required.
	Replica string
	// Interval is the time between two looks at the aliases. Zero means
	// two seconds: how long a promotion takes to reach every replica.
	Interval time.Duration
	// WarmUp is how many accounts a new version scores before it is
	// swapped in. Zero means DefaultWarmUp.
	WarmUp int
	// OnLoad is told of every load, after the swap (m set) or after the
	// failure (err set). Nil tells no one.
	OnLoad func(alias string, m *Model, err error)
	// Logger receives the swaps and the failures. Nil discards.
	Logger *slog.Logger
}

// Follower keeps a Live on the versions the store's aliases name.
type Follower struct {
	cfg FollowerConfig
	log *slog.Logger
	// failed remembers, per alias, the version that last failed to load,
	// so that it is not fetched again on every poll; a new promotion (or
	// a restart) tries again.
	failed map[string]string
	// previous is the champion last replaced, kept in memory so that a
	// rollback to it swaps at once: versions are immutable, so it needs
	// no second validation.
	previous *Model
}

// NewFollower returns a Follower. It fails when a required field is
// missing.
func NewFollower(cfg FollowerConfig) (*Follower, error) {
	if cfg.Store == nil || cfg.Live == nil || cfg.Replica == "" {
		return nil, errors.New("new follower: Store, Live and Replica are required")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 2 * time.Second
	}
	f := &Follower{cfg: cfg, log: cfg.Logger, failed: map[string]string{}}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	return f, nil
}

// Run calls Sync every Interval until ctx is done. Errors reaching the
// store are logged and retried at the next tick; the models in service
// stay.
func (f *Follower) Run(ctx context.Context) error {
	t := time.NewTicker(f.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := f.Sync(ctx); err != nil && ctx.Err() == nil {
				f.log.Warn("registry: follow the model aliases", "err", err)
			}
		}
	}
}

// Sync looks at the aliases once and loads what changed: a new champion
// is validated, warmed up and swapped in; a new shadow is set, a removed
// one cleared. A version that fails keeps the model in service, and the
// failure is logged and recorded. It returns an error only when the store
// cannot be read.
func (f *Follower) Sync(ctx context.Context) error {
	aliases, err := f.cfg.Store.ModelAliases(ctx)
	if err != nil {
		return fmt.Errorf("sync models: %w", err)
	}
	live := f.cfg.Live
	if sum := aliases[icp.AliasChampion]; sum != "" && sum != live.Current().Checksum {
		// The champion just replaced (a rollback) or the shadow (a
		// challenger promoted) is in memory already.
		var m *Model
		for _, c := range []*Model{f.previous, live.Shadow()} {
			if c != nil && c.Checksum == sum {
				m = c
			}
		}
		if m == nil {
			m = f.load(ctx, icp.AliasChampion, sum)
		}
		if m != nil {
			old := live.Swap(m)
			f.previous = old
			f.log.Info("registry: champion swapped", "checksum", m.Checksum, "model_version", m.Profile.Version,
				"replaced", old.Checksum)
			f.loaded(ctx, icp.AliasChampion, m, old.Checksum)
		}
	}
	sum := aliases[icp.AliasShadow]
	cur := live.Shadow()
	switch {
	case sum == "" && cur != nil:
		live.SetShadow(nil)
		f.log.Info("registry: shadow cleared", "checksum", cur.Checksum)
	case sum != "" && (cur == nil || cur.Checksum != sum):
		if m := f.load(ctx, icp.AliasShadow, sum); m != nil {
			live.SetShadow(m)
			f.log.Info("registry: shadow set", "checksum", m.Checksum, "model_version", m.Profile.Version)
			prev := ""
			if cur != nil {
				prev = cur.Checksum
			}
			f.loaded(ctx, icp.AliasShadow, m, prev)
		}
	}
	return nil
}

// load fetches and validates the version alias names, or records why it
// could not and returns nil.
func (f *Follower) load(ctx context.Context, alias, sum string) *Model {
	if f.failed[alias] == sum {
		return nil
	}
	m, err := loadStored(ctx, f.cfg.Store, sum, f.cfg.WarmUp)
	if err == nil {
		delete(f.failed, alias)
		return m
	}
	if ctx.Err() != nil {
		return nil // shutting down: not the model's fault
	}
	if errors.Is(err, icp.ErrUnavailable) {
		// The store, not the model: try again at the next poll.
		f.log.Warn("registry: fetch the model, will retry", "alias", alias, "checksum", sum, "err", err)
		return nil
	}
	f.failed[alias] = sum
	f.log.Error("registry: load failed, the model in service stays", "alias", alias, "checksum", sum, "err", err)
	f.record(ctx, icp.ModelEvent{Action: icp.ActionLoad, Alias: alias, Checksum: sum, Result: icp.ResultFailed, Detail: err.Error()})
	if f.cfg.OnLoad != nil {
		f.cfg.OnLoad(alias, nil, err)
	}
	return nil
}

// loaded records a successful load.
func (f *Follower) loaded(ctx context.Context, alias string, m *Model, prev string) {
	f.record(ctx, icp.ModelEvent{Action: icp.ActionLoad, Alias: alias, Checksum: m.Checksum, Previous: prev, Result: icp.ResultOK,
		Detail: "loaded by " + f.cfg.Replica})
	if f.cfg.OnLoad != nil {
		f.cfg.OnLoad(alias, m, nil)
	}
}

// record appends ev to the history; a store that cannot take it is logged,
// the swap stands.
func (f *Follower) record(ctx context.Context, ev icp.ModelEvent) {
	ev.Actor = f.cfg.Replica
	if _, err := f.cfg.Store.AppendModelEvent(ctx, ev); err != nil {
		f.log.Warn("registry: record the load in the history", "err", err)
	}
}
