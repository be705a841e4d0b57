package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/server"
)

// staticKeys verifies the keys of a fixed table: "Bearer <token>" to the
// principal with id token and every scope.
type staticKeys map[string]bool

func (k staticKeys) VerifyKey(_ context.Context, presented string) (icp.Principal, error) {
	if !k[presented] {
		return icp.Principal{}, fmt.Errorf("key: %w", icp.ErrUnauthenticated)
	}
	return icp.Principal{KeyID: presented, Name: presented, Scopes: icp.Scopes()}, nil
}

// slowStream opens a stream to the batch route on its own connection and
// sends its header and one byte; the body then stays open. It returns the
// connection and a reader of the answer.
func slowStream(t *testing.T, addr, key string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /v1/score/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n", key)
	return conn, bufio.NewReader(conn)
}

// TestSlowStreamsOfOneKey reproduces the second finding of the outside
// test: 256 NDJSON streams from one key, each sending a byte a second,
// held every MaxInFlight slot and the server answered 503 to everyone.
// Now the key gets MaxStreamsPerKey streams and a 429 for the others,
// another key keeps getting 200, and the streams held open are ended once
// they fall below the minimum rate.
func TestSlowStreamsOfOneKey(t *testing.T) {
	p := trainProfile(t)
	s, err := server.New(server.Config{
		Scorer: p, Keys: staticKeys{"attacker": true, "customer": true},
		MaxInFlight: 256, MaxStreamsPerKey: 8,
		StreamMinRate: 64, StreamRateGrace: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	addr := strings.TrimPrefix(ts.URL, "http://")

	const streams = 256
	type opened struct {
		conn net.Conn
		rd   *bufio.Reader
	}
	held := make([]opened, streams)
	for i := range held {
		held[i].conn, held[i].rd = slowStream(t, addr, "attacker")
		defer held[i].conn.Close()
	}
	// The status of every stream: 429 at once for all but 8.
	statuses := make([]int, streams)
	var wg sync.WaitGroup
	for i := range held {
		wg.Go(func() {
			_ = held[i].conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			resp, err := http.ReadResponse(held[i].rd, nil)
			if err == nil {
				statuses[i] = resp.StatusCode
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	refused := 0
	for _, st := range statuses {
		if st == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused != streams-8 {
		t.Fatalf("%d of %d streams of one key refused with 429, want %d", refused, streams, streams-8)
	}

	// Another key is served while the 8 streams are held.
	score := func() int {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v1/score", strings.NewReader(account("C-1")))
		req.Header.Set("Authorization", "Bearer customer")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 50 {
		if got := score(); got != http.StatusOK {
			t.Fatalf("request %d of another key: status %d, want 200", i, got)
		}
	}
	// The same key cannot open a ninth stream while its eight are held.
	conn, rd := slowStream(t, addr, "attacker")
	resp, err := http.ReadResponse(rd, nil)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("ninth stream: %v, %v; want 429 with Retry-After", resp, err)
	}
	conn.Close()

	// The held streams send nothing more: after the grace they fall below
	// 64 bytes a second and are ended, which frees their slots.
	deadline := time.Now().Add(10 * time.Second)
	for i := range held {
		if statuses[i] == http.StatusTooManyRequests {
			continue
		}
		_ = held[i].conn.SetReadDeadline(deadline)
		resp, err := http.ReadResponse(held[i].rd, nil)
		if err != nil {
			t.Fatalf("held stream %d: %v, want an answer ending it", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "less than 64 bytes a second") {
			t.Fatalf("held stream %d: %d %s, want 408 naming the minimum rate", i, resp.StatusCode, body)
		}
	}
	conn, rd = slowStream(t, addr, "attacker")
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if resp, err := http.ReadResponse(rd, nil); err == nil {
		t.Fatalf("a new stream once the slow ones ended: status %d, want it accepted and waiting", resp.StatusCode)
	}
}

// TestSlowStreamAfterAnswer checks that a stream whose answer has begun
// and whose client then stalls ends with an error line naming the rate.
func TestSlowStreamAfterAnswer(t *testing.T) {
	p := trainProfile(t)
	s, err := server.New(server.Config{Scorer: p, AllowUnauthenticated: true,
		StreamMinRate: 1024, StreamRateGrace: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v1/score/batch?attributions=false", pr)
	req.Header.Set("Content-Type", "application/x-ndjson")
	go func() {
		fmt.Fprintln(pw, account("A-1"))
		// Then nothing: the client stalls with the body open.
	}()
	defer pw.Close()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	if resp.StatusCode != http.StatusOK || len(lines) != 2 || !strings.Contains(lines[1], `"error":"timeout"`) ||
		!strings.Contains(lines[1], "less than 1024 bytes a second") {
		t.Fatalf("answer %d:\n%s\nwant the score, then an end line naming the rate", resp.StatusCode, body)
	}
}
