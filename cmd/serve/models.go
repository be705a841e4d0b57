package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/registry"
	"github.com/icpengine/icp/server"
	"github.com/icpengine/icp/store"
	"github.com/icpengine/icp/watch"
)

// modelOptions are the flags of the model registry.
type modelOptions struct {
	path        string
	replica     string
	poll        time.Duration
	warmUp      int
	maxArtifact int64
}

// modelFlags defines the flags of modelOptions on fs.
func modelFlags(fs *flag.FlagSet) *modelOptions {
	o := &modelOptions{}
	fs.StringVar(&o.path, "model", "", "model artifact written by train: served as is without --db; with --db, registered and promoted only when the store has no champion yet")
	fs.StringVar(&o.replica, "replica", "", "this replica's name in the model history (default host:pid)")
	fs.DurationVar(&o.poll, "model-poll", 2*time.Second, "how often the store's champion and shadow are checked for a new version")
	fs.IntVar(&o.warmUp, "warm-up", registry.DefaultWarmUp, "accounts a new model version scores, and checks, before it serves")
	fs.Int64Var(&o.maxArtifact, "max-artifact-bytes", 0, "largest model artifact accepted by POST /v1/admin/models (0: the server's default)")
	return o
}

// replicaName is --replica, or host:pid.
func (o *modelOptions) replicaName() string {
	if o.replica != "" {
		return o.replica
	}
	host, err := os.Hostname()
	if err != nil {
		host = "serve"
	}
	return host + ":" + strconv.Itoa(os.Getpid())
}

// initialModel returns the model to start with. Without a store it is the
// --model file. With one it is the store's champion; --model is then only
// a bootstrap, registered and promoted when the store has no champion, so
// that a replica started with an old file never turns the fleet back.
func (o *modelOptions) initialModel(ctx context.Context, st *store.Store, reg *registry.Registry, replica string, logger *slog.Logger) (*registry.Model, error) {
	var file []byte
	if o.path != "" {
		b, err := os.ReadFile(o.path)
		if err != nil {
			return nil, fmt.Errorf("read model: %w", err)
		}
		file = b
	}
	if st == nil {
		if file == nil {
			return nil, errors.New("--model is required without --db")
		}
		m, err := registry.Load(ctx, file, o.warmUp)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.path, err)
		}
		return m, nil
	}
	aliases, err := st.ModelAliases(ctx)
	if err != nil {
		return nil, err
	}
	champ := aliases[icp.AliasChampion]
	if champ == "" {
		if file == nil {
			return nil, errors.New("the store has no champion model: pass --model FILE to register and promote one, " +
				"or run icpctl models register --db DB --file FILE --promote")
		}
		rec, _, err := reg.Register(ctx, file, replica)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.path, err)
		}
		if _, err := reg.Promote(ctx, rec.Checksum, replica, "first champion, from serve --model "+o.path); err != nil {
			return nil, err
		}
		champ = rec.Checksum
		logger.Info("registered and promoted the first champion", "checksum", champ, "model", o.path)
	}
	b, err := st.ModelArtifact(ctx, champ)
	if err != nil {
		return nil, err
	}
	m, err := registry.Load(ctx, b, o.warmUp)
	if err != nil {
		return nil, fmt.Errorf("champion %s: %w", champ, err)
	}
	if file != nil {
		// Only the identity matters here: the file is not served.
		if _, sum, err := profile.DecodeBytes(file); err == nil && sum != m.Checksum {
			logger.Warn("--model is not the store's champion and is not served; promote it with icpctl models promote or POST /v1/admin/models/promote",
				"model", o.path, "file_checksum", sum, "champion", m.Checksum)
		}
	}
	return m, nil
}

// served reports what live serves, for GET /v1/admin/models.
func served(live *registry.Live) func() server.ServedModels {
	one := func(m *registry.Model) server.ServedModel {
		return server.ServedModel{Checksum: m.Checksum, Version: m.Profile.Version, LoadedAt: m.LoadedAt}
	}
	return func() server.ServedModels {
		out := server.ServedModels{Champion: one(live.Current())}
		if sh := live.Shadow(); sh != nil {
			s := one(sh)
			out.Shadow = &s
		}
		return out
	}
}

// shadowReporter logs and counts each shadow comparison.
func shadowReporter(m *server.Metrics, logger *slog.Logger) func(registry.ShadowResult) {
	return func(r registry.ShadowResult) {
		if r.Err != nil {
			m.ShadowScored(server.ShadowError, 1, 0)
			logger.Warn("shadow score failed", "account_id", r.Champion.AccountID, "err", r.Err)
			return
		}
		result := server.ShadowAgree
		if r.Shadow.Tier != r.Champion.Tier {
			result = server.ShadowDisagree
		}
		m.ShadowScored(result, 1, math.Abs(r.Shadow.Score-r.Champion.Score))
		logger.Info("shadow score", "account_id", r.Champion.AccountID,
			"champion_version", r.Champion.ModelVersion, "champion_score", r.Champion.Score, "champion_tier", r.Champion.Tier,
			"shadow_version", r.Shadow.ModelVersion, "shadow_score", r.Shadow.Score, "shadow_tier", r.Shadow.Tier)
	}
}

// driftGauges sets the drift gauges of /metrics from each drift report:
// the PSI of every feature, the fit score and the tier mix, and the
// severity of their signal, the one package watch grades for the alerts
// and the dashboard too.
func driftGauges(m *server.Metrics) func(icp.WatchReport) {
	return func(rep icp.WatchReport) {
		m.ResetDrift()
		psi := make(map[string]float64, len(rep.Features)+2)
		for _, f := range rep.Features {
			psi[f.Feature] = f.PSI
		}
		for _, f := range []*icp.FeatureDrift{rep.Score, rep.TierMix} {
			if f != nil {
				psi[f.Feature] = f.PSI
			}
		}
		for _, s := range rep.Signals {
			switch s.Kind {
			case watch.KindFeatureDrift, watch.KindScoreDrift, watch.KindTierMixDrift:
				m.SetDriftGauge(s.Feature, psi[s.Feature])
				m.SetDriftStatus(s.Feature, s.Severity)
			}
		}
	}
}
