package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/icpengine/icp/store"
)

// buildServe compiles this command into a temporary directory.
func buildServe(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "serve")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		// The packages are already compiled for the race detector.
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startServe runs the binary and returns the process and its address.
func startServe(t *testing.T, bin string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--addr", "127.0.0.1:0", "--log-format", "json"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	var logs bytes.Buffer
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			logs.Write(sc.Bytes())
			logs.WriteByte('\n')
			mu.Unlock()
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				addrc <- line.Addr
			}
		}
	}()
	select {
	case addr := <-addrc:
		return cmd, addr
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("serve did not start:\n%s", logs.String())
	}
	return nil, ""
}

// postOutcome posts one outcome with an idempotency key and reports
// whether the server acknowledged it with a 2xx.
func postOutcome(client *http.Client, addr, id string) bool {
	body := fmt.Sprintf(`{"account_id":%q,"account":{"industry":"Logistics","employees":1500,"tech_stack":"snowflake;aws"},"outcome":"won","close_date":"2026-03-01","ltv_usd":1200.5,"sales_cycle_days":41}`, id)
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/outcomes", strings.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "key-"+id)
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode/100 == 2
}

func TestKillDuringWritesLosesNoAcknowledgedOutcome(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the serve binary; skipped with -short")
	}
	model := trainModel(t)
	bin := buildServe(t)
	backends := []struct {
		name, dsn string
	}{{"sqlite", filepath.Join(t.TempDir(), "icp.db")}}
	if url := os.Getenv("ICP_TEST_POSTGRES_URL"); url != "" {
		backends = append(backends, struct{ name, dsn string }{"postgres", url})
	} else {
		fmt.Println("notice: ICP_TEST_POSTGRES_URL is not set; the SIGKILL test runs against SQLite only (start PostgreSQL with: eval \"$(scripts/postgres-test-server.sh)\")")
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			var rb [6]byte
			rand.Read(rb[:])
			prefix := "KILL-" + hex.EncodeToString(rb[:]) + "-"
			const total = 1000
			ids := make([]string, total)
			for i := range ids {
				ids[i] = fmt.Sprintf("%s%04d", prefix, i)
			}
			client := &http.Client{Timeout: 5 * time.Second}

			cmd, addr := startServe(t, bin, "--model", model, "--db", be.dsn, "--allow-unauthenticated")
			acked := make(map[string]bool)
			var mu sync.Mutex
			done := make(chan int, 1)
			go func() {
				// Four writers, so that requests are in flight when the
				// kill lands.
				var wg sync.WaitGroup
				next := make(chan int)
				for range 4 {
					wg.Go(func() {
						for i := range next {
							if postOutcome(client, addr, ids[i]) {
								mu.Lock()
								acked[ids[i]] = true
								mu.Unlock()
							}
						}
					})
				}
				i := 0
				for ; i < total; i++ {
					mu.Lock()
					n := len(acked)
					mu.Unlock()
					if n >= 300 {
						break
					}
					next <- i
				}
				close(next)
				wg.Wait()
				done <- i
			}()
			// Kill as soon as 300 writes are acknowledged, with more in flight.
			deadline := time.Now().Add(20 * time.Second)
			for {
				mu.Lock()
				n := len(acked)
				mu.Unlock()
				if n >= 300 || time.Now().After(deadline) {
					break
				}
				time.Sleep(time.Millisecond)
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			sent := <-done
			mu.Lock()
			ackedBefore := len(acked)
			mu.Unlock()
			if ackedBefore < 300 {
				t.Fatalf("only %d writes acknowledged before the kill", ackedBefore)
			}

			// Restart on the same store; retry everything not acknowledged
			// with the same idempotency keys, then write the rest.
			cmd, addr = startServe(t, bin, "--model", model, "--db", be.dsn, "--allow-unauthenticated")
			for i := 0; i < total; i++ {
				if acked[ids[i]] {
					continue
				}
				if !postOutcome(client, addr, ids[i]) {
					t.Fatalf("write %s after restart not acknowledged", ids[i])
				}
			}
			// A retry of an acknowledged write is a replay, not a new row.
			if !postOutcome(client, addr, ids[0]) {
				t.Fatalf("replay of %s not acknowledged", ids[0])
			}
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()

			ctx := context.Background()
			st, err := store.Open(ctx, be.dsn, store.Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			outs, err := st.Outcomes(ctx, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 0)
			if err != nil {
				t.Fatal(err)
			}
			stored := make(map[string]int)
			for _, o := range outs {
				if strings.HasPrefix(o.AccountID, prefix) {
					stored[o.AccountID]++
				}
			}
			lost := 0
			for id := range acked {
				if stored[id] == 0 {
					lost++
				}
			}
			dups := 0
			for _, n := range stored {
				if n > 1 {
					dups++
				}
			}
			if lost != 0 || dups != 0 || len(stored) != total {
				t.Errorf("after SIGKILL and restart: %d acknowledged writes lost, %d duplicated, %d of %d stored; want 0, 0, %d",
					lost, dups, len(stored), total, total)
			}
			t.Logf("%s: killed after %d of %d writes were sent and %d acknowledged; none lost, none duplicated", be.name, sent, total, ackedBefore)
		})
	}
}
