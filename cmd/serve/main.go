// Command serve loads a trained ICP model and answers scoring requests.
//
//	serve --model models/2026q4/model.json --db icp.db|postgres://... [--addr 127.0.0.1:8080]
//	      [--log-format text|json] [--webhook-url URL --webhook-secret-file FILE]
//	      [--drift-interval 1m] [--sample-rate 1] [--debug-addr 127.0.0.1:6060]
//	serve --model models/2026q4/model.json --allow-unauthenticated   (local demo, no store)
//
// The store (--db) holds the API keys, and the outcomes (POST /v1/outcomes),
// drift reports and alerts (GET /v1/drift, GET /v1/alerts, the /dashboard);
// with --webhook-url alerts are delivered signed with the secret read from
// --webhook-secret-file.
//
// It refuses to start when the artifact is missing, corrupted or tampered
// with, and says why. It also refuses to start without authentication:
// either --db names a store holding at least one active API key (made with
// icpctl keys create), or --allow-unauthenticated turns authentication off,
// which it logs as a warning.
//
// Limits, all flags: --max-body-bytes (413), --request-timeout (a request
// not answered in time gets a 503), --max-in-flight (503 with Retry-After
// beyond it), --rate-limit and --rate-burst per API key (429 with
// Retry-After), and the HTTP server's --read-header-timeout,
// --read-timeout, --write-timeout and --idle-timeout. Prometheus metrics
// are served at /metrics from a registry made here. --debug-addr, off by
// default, serves the Go runtime profiles (net/http/pprof, under
// /debug/pprof/) on a listener of its own, which must be a loopback address
// since profiles reveal the process's internals. On SIGTERM or SIGINT it turns /readyz to 503, stops
// accepting connections and finishes the requests in flight.
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
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/server"
)

func main() {
	// gin's mode is process-wide; release mode stops its debug route dump.
	gin.SetMode(gin.ReleaseMode)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr, nil)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "serve:", err)
		}
		os.Exit(2)
	}
}

// run serves until ctx is done. When ready is not nil it receives the
// listening address once the server accepts connections (for tests).
func run(ctx context.Context, args []string, stderr io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		modelPath = fs.String("model", "", "model artifact written by train (required)")
		addr      = fs.String("addr", "127.0.0.1:8080", "listen address")
		logFormat = fs.String("log-format", "text", "log format: text or json")
		maxBody   = fs.Int64("max-body-bytes", 1<<20, "largest accepted request body")
		grace     = fs.Duration("shutdown-grace", 20*time.Second, "time allowed for requests in flight at shutdown")
		debugAddr = fs.String("debug-addr", "", "loopback address serving Go runtime profiles at /debug/pprof/ (empty: off)")
		opsOpts   = opsFlags(fs)
		lim       = limitFlags(fs)
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *modelPath == "" {
		fs.Usage()
		return errors.New("--model is required")
	}
	var logger *slog.Logger
	switch *logFormat {
	case "text":
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	case "json":
		logger = slog.New(slog.NewJSONHandler(stderr, nil))
	default:
		return fmt.Errorf("--log-format %q: want text or json", *logFormat)
	}

	if *debugAddr != "" {
		_, stopDebug, err := serveDebug(*debugAddr, logger)
		if err != nil {
			return err
		}
		defer stopDebug()
	}

	p, err := profile.ReadFile(*modelPath)
	if err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	o, err := startOps(ctx, opsOpts, p, logger)
	if err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	defer o.Close()
	cfg := server.Config{Scorer: p, ICP: p, Logger: logger, MaxBodyBytes: *maxBody, Ready: o.ready, Ops: o.cfg}
	if err := lim.wire(ctx, &cfg, o.st, logger); err != nil {
		return err
	}
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}
	cfg.Metrics.ModelReloaded(server.ReloadSuccess)
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
	sum, err := p.Checksum()
	if err != nil {
		return err
	}
	// The checksum is the artifact's identity: operators match it with the
	// file they meant to deploy.
	logger.Info("serving", "addr", ln.Addr().String(), "model_version", p.Version, "model", *modelPath, "checksum", sum)
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
	logger.Info("shutting down", "grace", grace.String())
	srv.Drain()
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
		return "", nil, fmt.Errorf("--debug-addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", nil, fmt.Errorf("--debug-addr %q: want a loopback address such as 127.0.0.1:6060", addr)
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
