// Command ceiling is a benchmark tool, not part of the engine: the smallest
// gin server that does what POST /v1/score must do at the least, so that
// scripts/load-bench.sh can put serve's throughput next to a ceiling
// measured on the same machine in the same run.
//
//	ceiling [--addr 127.0.0.1:8090]
//
// POST /v1/score reads the body, decodes it as a JSON object with
// encoding/json and answers a constant score. It has no middleware, no
// validation, no model, no logging and no authentication.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/icpengine/icp/internal/cli"
)

func main() {
	gin.SetMode(gin.ReleaseMode)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, nil)
	stop()
	os.Exit(cli.Exit("ceiling", err, os.Stderr))
}

// command describes ceiling for --help and --version.
func command() *cli.Command {
	return &cli.Command{
		Name: "ceiling",
		Summary: "ceiling is a benchmark tool, not part of the engine: the smallest gin server that does " +
			"what POST /v1/score must do at the least (read the body, decode it as a JSON object, " +
			"answer a constant score), with no middleware, validation, model, logging or " +
			"authentication, so that scripts/load-bench.sh can put serve's throughput next to a " +
			"ceiling measured on the same machine in the same run. It serves until SIGINT or SIGTERM.",
		Usage:   []string{"ceiling [--addr HOST:PORT]"},
		Example: "ceiling --addr 127.0.0.1:8090",
		Notes:   "Exit status: 0 after a clean stop, 1 when it cannot listen, 2 for a bad command line.",
	}
}

// constantScore is the answer to every request.
const constantScore = `{"model_version":"ceiling","score":0.5,"tier":"tier2"}`

// handler returns the engine with the one route.
func handler() http.Handler {
	e := gin.New()
	e.POST("/v1/score", func(c *gin.Context) {
		body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, 1<<20))
		if err != nil {
			c.Data(http.StatusRequestEntityTooLarge, "application/json", []byte(`{"error":"body too large"}`))
			return
		}
		var acc map[string]any
		if err := json.Unmarshal(body, &acc); err != nil {
			c.Data(http.StatusBadRequest, "application/json", []byte(`{"error":"malformed request body"}`))
			return
		}
		c.Data(http.StatusOK, "application/json; charset=utf-8", []byte(constantScore))
	})
	return e
}

// run serves until ctx is done; ready, when not nil, receives the address.
func run(ctx context.Context, args []string, stdout io.Writer, ready chan<- string) error {
	cmd := command()
	fs := cmd.FlagSet()
	addr := fs.String("addr", "127.0.0.1:8090", "listen `address`")
	if err := cmd.Parse(fs, args, stdout, false); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: handler(), ReadHeaderTimeout: 5 * time.Second}
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
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
