package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// The load generator of the reliability tests runs in a process of its
// own (this test binary started again with loadgenEnv set), so that the
// load and the server under test do not share a Go runtime: a pause of
// one is not hidden in, or added to, the other.
const loadgenEnv = "ICP_LOADGEN"

// loadResult is what the load generator prints on standard output.
type loadResult struct {
	Requests int      `json:"requests"`
	Failures int      `json:"failures"`
	P50      float64  `json:"p50_ms"`
	P99      float64  `json:"p99_ms"`
	Errors   []string `json:"errors"`
}

// loadgenMain sends POST requests to $ICP_LOADGEN_URL with the body
// $ICP_LOADGEN_BODY and the API key $ICP_LOADGEN_KEY over $ICP_LOADGEN_CONNS
// keep-alive connections until SIGTERM, then prints a loadResult. A
// request fails unless it is answered 200.
func loadgenMain() int {
	url, body, key := os.Getenv("ICP_LOADGEN_URL"), []byte(os.Getenv("ICP_LOADGEN_BODY")), os.Getenv("ICP_LOADGEN_KEY")
	conns, err := strconv.Atoi(os.Getenv("ICP_LOADGEN_CONNS"))
	if err != nil || conns < 1 {
		fmt.Fprintln(os.Stderr, "loadgen: ICP_LOADGEN_CONNS must be a positive integer")
		return 2
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	client := &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	var (
		mu   sync.Mutex
		res  loadResult
		lats []time.Duration
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	for range conns {
		wg.Go(func() {
			var mine []time.Duration
			fails, errs := 0, []string{}
			for {
				select {
				case <-done:
					mu.Lock()
					lats = append(lats, mine...)
					res.Failures += fails
					if len(res.Errors) < 5 {
						res.Errors = append(res.Errors, errs...)
					}
					mu.Unlock()
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if key != "" {
					req.Header.Set("Authorization", "Bearer "+key)
				}
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					fails++
					if len(errs) < 2 {
						errs = append(errs, err.Error())
					}
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(start))
				if resp.StatusCode != http.StatusOK {
					fails++
					if len(errs) < 2 {
						errs = append(errs, fmt.Sprintf("%d %s", resp.StatusCode, b))
					}
				}
			}
		})
	}
	<-stop
	close(done)
	wg.Wait()
	slices.Sort(lats)
	res.Requests = len(lats) + res.Failures
	if n := len(lats); n > 0 {
		res.P50 = float64(lats[n/2]) / 1e6
		res.P99 = float64(lats[min(n-1, n*99/100)]) / 1e6
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return 1
	}
	return 0
}
