package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/icpengine/icp/auth"
	"github.com/icpengine/icp/internal/cli"
	"github.com/icpengine/icp/server"
	"github.com/icpengine/icp/store"
)

// limitOptions are the flags of authentication, limits and metrics.
type limitOptions struct {
	allowUnauth       bool
	keyCacheTTL       time.Duration
	requestTimeout    time.Duration
	maxInFlight       int
	rateLimit         float64
	rateBurst         int
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	writeTimeout      time.Duration
	idleTimeout       time.Duration
	maxBatch          int
	maxBatchBytes     int64
	maxStreamBytes    int64
	streamTimeout     time.Duration
	maxStreamsPerKey  int
	streamMinRate     float64
	streamRateGrace   time.Duration
	uploadTimeout     time.Duration
}

// limitFlags defines the flags of limitOptions on fs. The flags that set a
// server.Config field mean what the field means: zero is the server's
// default (see server.Config), and negative turns a deadline or bound off.
func limitFlags(fs *flag.FlagSet) *limitOptions {
	o := &limitOptions{}
	fs.BoolVar(&o.allowUnauth, "allow-unauthenticated", false, "serve every route without an API key (local demo only)")
	fs.DurationVar(&o.keyCacheTTL, "key-cache-ttl", 10*time.Second, "how long a verified API key is trusted before the store is asked again (bounds how late a revocation takes effect)")
	fs.DurationVar(&o.requestTimeout, "request-timeout", 0, "deadline of one request; later answers become 503 (0: the server's default; negative: none)")
	fs.IntVar(&o.maxInFlight, "max-in-flight", 0, "requests handled at once before answering 503 with Retry-After (0: the server's default; negative: no bound)")
	fs.Float64Var(&o.rateLimit, "rate-limit", 0, "requests per second allowed to each API key, 0 for no limit")
	fs.IntVar(&o.rateBurst, "rate-burst", 0, "requests a key may send at once above --rate-limit (0: the rate rounded up)")
	fs.DurationVar(&o.readHeaderTimeout, "read-header-timeout", 5*time.Second, "time allowed to read a request's headers")
	fs.DurationVar(&o.readTimeout, "read-timeout", 15*time.Second, "time allowed to read a whole request")
	fs.DurationVar(&o.writeTimeout, "write-timeout", 30*time.Second, "time allowed from the end of the headers to the end of the answer")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", 120*time.Second, "time a keep-alive connection may stay idle")
	fs.IntVar(&o.maxBatch, "max-score-batch", 0, "accounts in one JSON array of POST /v1/score/batch; more get 413 (send NDJSON or CSV) (0: the server's default)")
	fs.Int64Var(&o.maxBatchBytes, "max-batch-bytes", 0, "largest JSON array body of POST /v1/score/batch (0: the server's default)")
	fs.Int64Var(&o.maxStreamBytes, "max-stream-bytes", 0, "largest NDJSON or CSV body of POST /v1/score/batch (0: the server's default)")
	fs.DurationVar(&o.streamTimeout, "stream-timeout", 0, "deadline of one NDJSON or CSV stream, in place of --request-timeout, --read-timeout and --write-timeout (0: the server's default; negative: none)")
	fs.IntVar(&o.maxStreamsPerKey, "max-streams-per-key", 0, "NDJSON or CSV streams one API key may have open at once; more get 429 (0: the server's default; negative: no bound)")
	fs.Float64Var(&o.streamMinRate, "stream-min-rate", 0, "least average rate, in bytes a second, at which a stream's client must send once --stream-rate-grace has passed (0: the server's default; negative: none)")
	fs.DurationVar(&o.streamRateGrace, "stream-rate-grace", 0, "wait a stream's client is allowed before --stream-min-rate applies (0: the server's default)")
	fs.DurationVar(&o.uploadTimeout, "upload-timeout", 0, "deadline of a model upload to POST /v1/admin/models, in place of --request-timeout and the HTTP read and write deadlines (0: the server's default, sized to --max-artifact-bytes; negative: none)")
	return o
}

// wire fills the authentication, limit and metrics fields of cfg. The API
// keys are checked against st, the store opened for --db (nil without
// one). It refuses to go on without authentication unless
// --allow-unauthenticated was given.
func (o *limitOptions) wire(ctx context.Context, cfg *server.Config, st *store.Store, logger *slog.Logger) error {
	if o.rateLimit < 0 {
		return cli.Usagef("--rate-limit %v: want 0 (no limit) or more", o.rateLimit)
	}
	if o.maxBatch < 0 || o.maxBatchBytes < 0 || o.maxStreamBytes < 0 {
		return cli.Usagef("--max-score-batch %d, --max-batch-bytes %d, --max-stream-bytes %d: want positive limits (0: the server's defaults)",
			o.maxBatch, o.maxBatchBytes, o.maxStreamBytes)
	}
	cfg.RequestTimeout, cfg.MaxInFlight = o.requestTimeout, o.maxInFlight
	cfg.RateLimit, cfg.RateBurst = o.rateLimit, o.rateBurst
	cfg.MaxBatch, cfg.MaxBatchBytes, cfg.MaxStreamBytes = o.maxBatch, o.maxBatchBytes, o.maxStreamBytes
	cfg.StreamTimeout = o.streamTimeout
	cfg.MaxStreamsPerKey, cfg.StreamMinRate, cfg.StreamRateGrace = o.maxStreamsPerKey, o.streamMinRate, o.streamRateGrace
	cfg.UploadTimeout = o.uploadTimeout

	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return fmt.Errorf("register go metrics: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return fmt.Errorf("register process metrics: %w", err)
	}
	m, err := server.NewMetrics(reg)
	if err != nil {
		return err
	}
	cfg.Metrics = m

	active := 0
	if st != nil {
		keys, err := st.ListAPIKeys(ctx)
		if err != nil {
			return fmt.Errorf("refusing to start: %w", err)
		}
		for _, k := range keys {
			if !k.Revoked() {
				active++
			}
		}
	}
	switch {
	case o.allowUnauth:
		cfg.AllowUnauthenticated = true
		if active > 0 {
			logger.Warn("--allow-unauthenticated: the API keys in the store are not checked", "active_keys", active)
		}
	case st == nil:
		return errors.New("refusing to start: no API keys to check: pass --db with a store holding keys " +
			"(icpctl keys create --db FILE --name NAME --scopes score), or --allow-unauthenticated for a local demo")
	case active == 0:
		return errors.New("refusing to start: the store holds no active API key: create one with " +
			"icpctl keys create --db DB --name NAME --scopes score, or pass --allow-unauthenticated for a local demo")
	default:
		cfg.Keys = auth.NewVerifier(st, auth.VerifierConfig{CacheTTL: o.keyCacheTTL, Logger: logger})
		logger.Info("api keys checked", "active_keys", active, "key_cache_ttl", o.keyCacheTTL.String())
	}
	return nil
}
