// Command serve answers scoring requests with a trained ICP model.
//
//	serve --db icp.db|postgres://... [--model models/2026q4/model.json] [--addr 127.0.0.1:8080]
//	      [--log-format text|json] [--webhook-url URL --webhook-secret-file FILE]
//	      [--drift-interval 1m] [--sample-rate 1] [--model-poll 2s] [--replica NAME]
//	      [--debug-addr 127.0.0.1:6060]
//	serve --model models/2026q4/model.json --allow-unauthenticated   (local demo, no store)
//
// The store (--db) holds the API keys, the model registry, and the
// outcomes (POST /v1/outcomes), drift reports and alerts (GET /v1/drift,
// GET /v1/alerts, the /dashboard); with --webhook-url alerts are delivered
// signed with the secret read from --webhook-secret-file.
//
// With a store, serve scores with the registry's champion and follows it:
// every --model-poll it checks the champion and shadow aliases, and loads,
// validates and warms up a new version before swapping it in atomically; a
// version that fails to load leaves the old one serving, and the failure is
// logged, counted in /metrics and recorded in the registry's history under
// --replica. --model is then only a bootstrap: registered and promoted when
// the store has no champion yet, ignored (with a warning) otherwise, so a
// replica started with an old file never turns the fleet back. Operators
// promote and roll back with icpctl models or POST /v1/admin/models/...
// Without a store, --model is served as is.
//
// It refuses to start when the model is missing, corrupted or tampered
// with, and says why. It also refuses to start without authentication:
// either --db names a store holding at least one active API key (made with
// icpctl keys create), or --allow-unauthenticated turns authentication off,
// which it logs as a warning. Browsers sign in to the /dashboard with a
// key holding the dashboard (or read) scope; the session lasts
// --session-ttl, and its cookie is marked Secure behind a TLS-terminating
// proxy only with --trust-forwarded-proto.
//
// Limits, all flags: --max-body-bytes (413), --max-artifact-bytes (the
// model upload), --request-timeout (a request not answered in time gets a
// 503), --max-in-flight (503 with Retry-After beyond it), --rate-limit and
// --rate-burst per API key (429 with Retry-After), and the HTTP server's
// --read-header-timeout, --read-timeout, --write-timeout and
// --idle-timeout. POST /v1/score/batch has its own: --max-score-batch
// accounts and --max-batch-bytes for a JSON array, --max-stream-bytes and
// --stream-timeout for NDJSON and CSV streams. A limit flag that sets a
// server.Config field means what the field means: 0 is the server's
// default (see server.Config), and a negative deadline or bound turns it
// off. Prometheus metrics are served at /metrics from a registry made
// here. --debug-addr, off by default, serves the Go runtime profiles
// (net/http/pprof, under /debug/pprof/) on a listener of its own, which
// must be a loopback address since profiles reveal the process's
// internals.
//
// On SIGTERM or SIGINT it turns /readyz to 503 at once and stops keeping
// connections alive, keeps serving for --drain-delay so that load balancers
// move away, then closes the listener and lets the requests in flight
// finish within --shutdown-grace.
//
// Every flag is also an environment variable, ICP_ and the flag's name in
// capitals with _ for - (--db is ICP_DB, --max-body-bytes is
// ICP_MAX_BODY_BYTES); a flag on the command line wins. A PostgreSQL URL
// with its password can so stay off the command line; it is never logged.
// The first log line names the variables used, never their values. Exit
// status: 0 after a clean stop, 1 when serve refuses to start or fails, 2
// for a bad command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/internal/cli"
	"github.com/icpengine/icp/registry"
	"github.com/icpengine/icp/server"
)

func main() {
	// gin's mode is process-wide; release mode stops its debug route dump.
	gin.SetMode(gin.ReleaseMode)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := serve(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr, nil)
	stop()
	os.Exit(cli.Exit("serve", err, os.Stderr))
}

// envPrefix starts the environment variable of every flag: --db is ICP_DB.
const envPrefix = "ICP_"

// command describes serve for --help and --version; lookupEnv (nil for
// none) gives the flags their environment variables.
func command(lookupEnv func(string) (string, bool)) *cli.Command {
	return &cli.Command{
		Name: "serve",
		Summary: "serve answers scoring calls with a trained ICP model: POST /v1/score and " +
			"/v1/score/batch give each account a fit score, a tier, the ICP segment whose rule it " +
			"matches, the anti-ICP rule it matches and per-column attributions; GET /v1/icp gives the " +
			"whole ICP. With --db (a SQLite file, or a postgres:// URL shared by several replicas) it " +
			"also checks API keys, serves the registry's champion and follows its promotions, records " +
			"outcomes, watches for drift, raises alerts (delivered to --webhook-url) and serves the " +
			"leadership dashboard. Every flag can also be set by an environment variable, ICP_ and " +
			"the flag's name in capitals with _ for -, e.g. ICP_DB for --db; a flag on the command " +
			"line wins, and secrets such as a PostgreSQL password stay off it.",
		Usage: []string{
			"serve --db DB [--model FILE] [--addr HOST:PORT] [flags]",
			"serve --model FILE --allow-unauthenticated   (a local demo, no store)",
		},
		Example: "icpctl keys create --db icp.db --name crm-sync --scopes score,outcomes\n" +
			"serve --model models/2026q4/model.json --db icp.db --addr 127.0.0.1:8080",
		Notes: "On SIGTERM or SIGINT serve answers 503 on /readyz, keeps serving for --drain-delay, " +
			"then finishes the requests in flight within --shutdown-grace. Exit status: 0 after a clean " +
			"stop, 1 when it refuses to start or fails, 2 for a bad command line.",
		Env: &cli.Env{Prefix: envPrefix, Lookup: lookupEnv},
	}
}

// options are serve's flags.
type options struct {
	addr, logFormat, debugAddr *string
	maxBody                    *int64
	grace, drainFor            *time.Duration
	gcPercent                  *int
	models                     *modelOptions
	ops                        opsOptions
	lim                        *limitOptions
	sessions                   *sessionOptions
}

// defineFlags defines every flag of serve on fs.
func defineFlags(fs *flag.FlagSet) *options {
	return &options{
		addr:      fs.String("addr", "127.0.0.1:8080", "listen `address`"),
		logFormat: fs.String("log-format", "text", "log format: text or json"),
		maxBody:   fs.Int64("max-body-bytes", 0, "largest accepted request body (0: the server's default)"),
		grace:     fs.Duration("shutdown-grace", 20*time.Second, "time allowed for requests in flight at shutdown"),
		drainFor:  fs.Duration("drain-delay", 2*time.Second, "time between SIGTERM and closing the listener, while /readyz answers 503 so that load balancers stop routing here"),
		gcPercent: fs.Int("gc-percent", 400, "garbage collector target (runtime/debug.SetGCPercent), unless the GOGC environment variable is set; 0 keeps Go's default of 100"),
		debugAddr: fs.String("debug-addr", "", "loopback `address` serving Go runtime profiles at /debug/pprof/ (empty: off)"),
		models:    modelFlags(fs),
		ops:       opsFlags(fs),
		lim:       limitFlags(fs),
		sessions:  sessionFlags(fs),
	}
}

// run is serve without environment variables, the help written to
// stderr: what the tests run.
func run(ctx context.Context, args []string, stderr io.Writer, ready chan<- string) error {
	return serve(ctx, args, nil, stderr, stderr, ready)
}

// serve serves until ctx is done. lookupEnv reads the flags' environment
// variables (nil: none); stdout receives --help and --version. When ready
// is not nil it receives the listening address once the server accepts
// connections (for tests).
func serve(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer, ready chan<- string) error {
	cmd := command(lookupEnv)
	fs := cmd.FlagSet()
	opts := defineFlags(fs)
	if err := cmd.Parse(fs, args, stdout, false); err != nil {
		return err
	}
	var (
		addr, logFormat, debugAddr = opts.addr, opts.logFormat, opts.debugAddr
		maxBody, grace, drainFor   = opts.maxBody, opts.grace, opts.drainFor
		gcPercent                  = opts.gcPercent
		models, opsOpts, lim       = opts.models, opts.ops, opts.lim
		sessions                   = opts.sessions
	)
	// The live heap is small (the model and the requests in flight) while
	// scoring allocates a few KiB per account, so with Go's default of 100
	// the collector runs every few MiB: under batch load that is about a
	// fifth of the CPU. A higher target trades tens of MiB for it.
	if *gcPercent > 0 && os.Getenv("GOGC") == "" {
		debug.SetGCPercent(*gcPercent)
	}
	if models.path == "" && *opsOpts.db == "" {
		return cli.Usagef("--model is required without --db")
	}
	var logger *slog.Logger
	switch *logFormat {
	case "text":
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	case "json":
		logger = slog.New(slog.NewJSONHandler(stderr, nil))
	default:
		return cli.Usagef("--log-format %q: want text or json", *logFormat)
	}

	if len(cmd.EnvUsed) > 0 {
		logger.Info("flags from the environment", "variables", strings.Join(cmd.EnvUsed, ","))
	}

	if *debugAddr != "" {
		_, stopDebug, err := serveDebug(*debugAddr, logger)
		if err != nil {
			return err
		}
		defer stopDebug()
	}

	st, err := opsOpts.openStore(ctx, logger)
	if err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	if st != nil {
		defer st.Close()
	}
	replica := models.replicaName()
	var reg *registry.Registry
	if st != nil {
		if reg, err = registry.New(registry.Config{Store: st, WarmUp: models.warmUp}); err != nil {
			return err
		}
	}
	first, err := models.initialModel(ctx, st, reg, replica, logger)
	if err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	cfg := server.Config{Logger: logger, MaxBodyBytes: *maxBody, MaxArtifactBytes: models.maxArtifact}
	if reg != nil {
		cfg.Models = reg
	}
	if err := lim.wire(ctx, &cfg, st, logger); err != nil {
		return err
	}
	if cfg.Sessions, err = sessions.config(); err != nil {
		return err
	}
	cfg.Metrics.ModelReloaded(server.ReloadSuccess)
	cfg.Metrics.SetServing(icp.AliasChampion, first.Checksum, first.Profile.Version)
	live := registry.NewLive(first, registry.LiveConfig{
		OnShadow:     shadowReporter(cfg.Metrics, logger),
		OnShadowDrop: func() { cfg.Metrics.ShadowScored(server.ShadowDropped, 1, 0) },
	})
	cfg.Scorer, cfg.ICP, cfg.Serving = live, icpDocument{live}, served(live)
	o, err := startOps(ctx, opsOpts, st, live, cfg.Metrics, logger)
	if err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	defer o.Close()
	cfg.Ops, cfg.Ready = o.cfg, o.ready
	if st != nil {
		if err := o.follow(st, live, replica, models, cfg.Metrics, logger); err != nil {
			return err
		}
	}
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: lim.readHeaderTimeout,
		ReadTimeout:       lim.readTimeout,
		WriteTimeout:      lim.writeTimeout,
		IdleTimeout:       lim.idleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// The checksum is the artifact's identity: operators match it with the
	// file they meant to deploy.
	logger.Info("serving", "addr", ln.Addr().String(), "model_version", first.Profile.Version, "checksum", first.Checksum, "replica", replica)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Not ready at once, but still serving for the drain delay: a load
	// balancer polling /readyz moves traffic away before the listener
	// closes, and connections are not kept alive, so clients reconnect
	// elsewhere.
	logger.Info("draining", "drain_delay", drainFor.String(), "grace", grace.String())
	srv.Drain()
	hs.SetKeepAlivesEnabled(false)
	select {
	case <-time.After(*drainFor):
	case err := <-errc:
		return err
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// serveDebug serves net/http/pprof's handlers at addr, which must be a
// loopback address, and returns the address it listens on and the function
// that closes the listener.
// The handlers are registered on a mux of their own, never on
// http.DefaultServeMux, and are not reachable through the API's listener.
func serveDebug(addr string, logger *slog.Logger) (string, func(), error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", nil, cli.Usagef("--debug-addr %q: %v", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", nil, cli.Usagef("--debug-addr %q: want a loopback address such as 127.0.0.1:6060", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("--debug-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warn("debug listener stopped", slog.Any("err", err))
		}
	}()
	logger.Info("serving profiles", "addr", ln.Addr().String())
	return ln.Addr().String(), func() { _ = hs.Close() }, nil
}
