//go:build reliability

// The reliability tests run serve as a process under load. They are behind
// the reliability build tag, outside the race detector's run, because
// latency figures under the race detector mean nothing:
//
//	go test -tags reliability -run 'HotSwap|SIGTERM' -count 1 ./cmd/serve
//
// ICP_RELIABILITY_SWAPS (default 100) and ICP_RELIABILITY_STEADY (default
// 5s, the steady-load window) set the size of the hot-swap test; .ci/run
// runs it with a shorter steady window.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/icpengine/icp"
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

// startLoad starts the load generator process against addr.
func startLoad(t *testing.T, addr, key string, conns int) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), loadgenEnv+"=1",
		"ICP_LOADGEN_URL=http://"+addr+"/v1/score", "ICP_LOADGEN_KEY="+key, "ICP_LOADGEN_CONNS="+strconv.Itoa(conns),
		`ICP_LOADGEN_BODY={"account_id":"L-1","industry":"SaaS","employees":180,"annual_revenue_usd":24000000,"country":"US","tech_stack":["hubspot","aws"],"web_visits_30d":140,"trial_users":6}`)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

// stopLoad stops the load generator and returns its result.
func stopLoad(t *testing.T, cmd *exec.Cmd, out *strings.Builder) loadResult {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("load generator: %v: %s", err, out.String())
	}
	var r loadResult
	if err := json.Unmarshal([]byte(out.String()), &r); err != nil {
		t.Fatalf("load generator printed %q: %v", out.String(), err)
	}
	return r
}

// servingChecksum is the champion a replica has in memory.
func servingChecksum(t *testing.T, addr, key string) string {
	t.Helper()
	code, b := do(t, http.MethodGet, "http://"+addr+"/v1/admin/models", key, "")
	var list struct {
		Serving struct {
			Champion struct{ Checksum string } `json:"champion"`
		} `json:"serving"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &list) != nil {
		t.Fatalf("GET /v1/admin/models = %d %s", code, b)
	}
	return list.Serving.Champion.Checksum
}

// holdConns keeps idle connections (that send nothing) and slow-header
// connections (that send a request's headers a byte a second) open to
// addr until the returned function is called; a connection the server
// closes (its header timeout) is dialled again. It returns how many were
// dialled again.
func holdConns(t *testing.T, addr string, idle, slow int) func() int {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	redials := 0
	hold := func(slowHeaders bool) {
		defer wg.Done()
		for first := true; ; first = false {
			select {
			case <-done:
				return
			default:
			}
			if !first {
				mu.Lock()
				redials++
				mu.Unlock()
			}
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			head := []byte("POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
			for k := 0; ; k++ {
				if slowHeaders {
					if _, err := conn.Write(head[k%len(head) : k%len(head)+1]); err != nil {
						break
					}
				}
				select {
				case <-done:
					conn.Close()
					return
				case <-time.After(time.Second):
				}
				if !slowHeaders {
					// An idle connection learns it was closed by reading.
					conn.SetReadDeadline(time.Now().Add(time.Millisecond))
					if _, err := conn.Read(make([]byte, 1)); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
						break
					}
				}
			}
			conn.Close()
		}
	}
	for i := range idle + slow {
		wg.Add(1)
		go hold(i >= idle)
	}
	return func() int {
		close(done)
		wg.Wait()
		return redials
	}
}

// TestHotSwapUnderLoad promotes three versions in turn 100 times through
// the admin API while a separate process keeps 8 connections scoring, and
// 500 idle and 200 slow-header connections are held open: no
// request fails, and the p99 latency during the swaps stays within twice
// the steady p99 measured just before. With three versions in turn, none
// is the champion the replica just replaced, so every swap loads,
// validates and warms up an artifact from the store.
func TestHotSwapUnderLoad(t *testing.T) {
	swaps := envInt("ICP_RELIABILITY_SWAPS", 100)
	steady := envDuration("ICP_RELIABILITY_STEADY", 5*time.Second)
	modelA := writeModel(t, 1)
	bin := buildServe(t)
	db := storeBackends(t)[0].dsn
	keys := addKeys(t, db, []icp.Scope{icp.ScopeAdmin}, []icp.Scope{icp.ScopeScore})
	admin, scorer := keys[0], keys[1]
	srv, addr := startServe(t, bin, "--db", db, "--model", modelA, "--model-poll", "20ms", "--drain-delay", "0",
		"--drift-interval", "1h", "--replica", "swap-test")
	defer stopServe(srv)
	sums := []string{servingChecksum(t, addr, admin)}
	for _, seed := range []uint64{2, 3} {
		art, err := os.ReadFile(writeModel(t, seed))
		if err != nil {
			t.Fatal(err)
		}
		code, b := do(t, http.MethodPost, "http://"+addr+"/v1/admin/models", admin, string(art))
		var reg struct{ Model icp.ModelRecord }
		if code != http.StatusCreated || json.Unmarshal(b, &reg) != nil {
			t.Fatalf("register = %d %s", code, b)
		}
		sums = append(sums, reg.Model.Checksum)
	}

	const conns = 8
	load, out := startLoad(t, addr, scorer, conns)
	time.Sleep(steady / 5) // connections warm
	stopLoad(t, load, out)
	load, out = startLoad(t, addr, scorer, conns)
	time.Sleep(steady)
	base := stopLoad(t, load, out)

	idle, slow := envInt("ICP_RELIABILITY_IDLE", 500), envInt("ICP_RELIABILITY_SLOW_HEADERS", 200)
	stopHeld := holdConns(t, addr, idle, slow)
	load, out = startLoad(t, addr, scorer, conns)
	start := time.Now()
	for i := range swaps {
		want := sums[(i+1)%len(sums)]
		if code, b := do(t, http.MethodPost, "http://"+addr+"/v1/admin/models/promote", admin, `{"model":"`+want+`"}`); code != http.StatusOK {
			stopLoad(t, load, out)
			t.Fatalf("promote %d = %d %s", i, code, b)
		}
		for servingChecksum(t, addr, admin) != want {
			if time.Since(start) > 5*time.Minute {
				stopLoad(t, load, out)
				t.Fatalf("swap %d not served after %v", i, time.Since(start))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	took := time.Since(start)
	swapping := stopLoad(t, load, out)
	redials := stopHeld()
	t.Logf("steady: %d requests in %v, p50 %.2f ms, p99 %.2f ms, %d failed", base.Requests, steady, base.P50, base.P99, base.Failures)
	t.Logf("during the swaps %d idle and %d slow-header connections were held open (%d dialled again after the server closed them)", idle, slow, redials)
	t.Logf("%d swaps in %v: %d requests, p50 %.2f ms, p99 %.2f ms (%.2fx steady), %d failed", swaps, took.Round(time.Millisecond),
		swapping.Requests, swapping.P50, swapping.P99, swapping.P99/base.P99, swapping.Failures)
	if base.Failures != 0 || swapping.Failures != 0 {
		t.Fatalf("failed requests: %d steady, %d during swaps (%v %v), want 0", base.Failures, swapping.Failures, base.Errors, swapping.Errors)
	}
	if swapping.P99 > 2*base.P99 {
		t.Errorf("p99 during swaps %.2f ms > 2x steady p99 %.2f ms", swapping.P99, base.P99)
	}
	if n := reloads(t, addr, "success"); n < swaps {
		t.Errorf("icp_model_reloads_total{result=success} = %d, want at least %d", n, swaps)
	}
}

// TestSIGTERMWithRequestsInFlight holds 1,000 scoring requests inside the
// server (their bodies half sent), sends SIGTERM, checks that /readyz
// answers 503 at once while the listener still accepts, then lets the
// requests finish: every one is answered 200, and the process exits
// within 25 s.
func TestSIGTERMWithRequestsInFlight(t *testing.T) {
	const inFlight = 1000
	model := writeModel(t, 1)
	bin := buildServe(t)
	srv, addr := startServe(t, bin, "--model", model, "--allow-unauthenticated", "--max-in-flight", "2000",
		"--request-timeout", "60s", "--drain-delay", "1s", "--shutdown-grace", "20s")
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	defer func() {
		srv.Process.Kill()
	}()

	body := `{"account_id":"T-1","industry":"SaaS","employees":180,"tech_stack":["hubspot"]}`
	half := len(body) / 2
	head := fmt.Sprintf("POST /v1/score HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", addr, len(body))
	conns := make([]net.Conn, inFlight)
	for i := range conns {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, head+body[:half]); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns[i] = c
	}
	// Wait until the server holds all of them.
	deadline := time.Now().Add(20 * time.Second)
	for inFlightGauge(t, addr) < inFlight {
		if time.Now().After(deadline) {
			t.Fatalf("server holds %d requests, want %d", inFlightGauge(t, addr), inFlight)
		}
		time.Sleep(10 * time.Millisecond)
	}

	term := time.Now()
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// /readyz turns 503 at once, on a new connection: the listener stays
	// open for the drain delay.
	for {
		code, _ := do(t, http.MethodGet, "http://"+addr+"/readyz", "", "")
		if code == http.StatusServiceUnavailable {
			break
		}
		if time.Since(term) > 500*time.Millisecond {
			t.Fatalf("/readyz = %d %v after SIGTERM, want 503 at once", code, time.Since(term))
		}
	}
	t.Logf("/readyz answered 503 %v after SIGTERM", time.Since(term).Round(time.Microsecond))

	var wg sync.WaitGroup
	var mu sync.Mutex
	failures := map[string]int{}
	for _, c := range conns {
		wg.Go(func() {
			c.SetDeadline(time.Now().Add(20 * time.Second))
			status := "write error"
			if _, err := io.WriteString(c, body[half:]); err == nil {
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					status = "read error: " + err.Error()
				} else {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = strconv.Itoa(resp.StatusCode)
				}
			}
			if status != "200" {
				mu.Lock()
				failures[status]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(failures) != 0 {
		t.Fatalf("requests in flight at SIGTERM that failed, by status: %v; want none", failures)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("serve exited with %v, want 0", err)
		}
		t.Logf("all %d requests answered 200; serve exited %v after SIGTERM", inFlight, time.Since(term).Round(time.Millisecond))
	case <-time.After(25*time.Second - time.Since(term)):
		t.Fatal("serve still running 25 s after SIGTERM")
	}
}

// inFlightGauge reads icp_http_requests_in_flight from /metrics.
func inFlightGauge(t *testing.T, addr string) int {
	t.Helper()
	code, b := do(t, http.MethodGet, "http://"+addr+"/metrics", "", "")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", code)
	}
	m := regexp.MustCompile(`(?m)^icp_http_requests_in_flight (\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no icp_http_requests_in_flight in /metrics")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}
