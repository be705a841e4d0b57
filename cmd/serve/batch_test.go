package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRunBatchFlags checks that the batch flags reach the server: a JSON
// array over --max-score-batch is refused with the limit, and an NDJSON
// stream of the same accounts is scored line by line.
func TestRunBatchFlags(t *testing.T) {
	model := trainModel(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--model", model, "--addr", "127.0.0.1:0", "--allow-unauthenticated",
			"--max-score-batch", "2", "--max-batch-bytes", "4096", "--max-stream-bytes", "65536", "--stream-timeout", "-1s"}, io.Discard, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run ended early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	acc := `{"account_id":"A-1","industry":"SaaS","employees":120}`
	post := func(ct, body string) (int, []byte) {
		resp, err := http.Post("http://"+addr+"/v1/score/batch", ct, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	code, body := post("application/json", "["+acc+","+acc+","+acc+"]")
	var refusal struct {
		Error string `json:"error"`
		Limit int64  `json:"limit"`
	}
	if err := json.Unmarshal(body, &refusal); code != http.StatusRequestEntityTooLarge || err != nil || refusal.Limit != 2 {
		t.Errorf("3 accounts over --max-score-batch 2: %d %s, want 413 with limit 2", code, body)
	}
	code, body = post("application/x-ndjson", acc+"\n"+acc+"\n"+acc+"\n")
	lines := 0
	for sc := bufio.NewScanner(strings.NewReader(string(body))); sc.Scan(); lines++ {
		if !strings.Contains(sc.Text(), `"model_version":"m-`) {
			t.Errorf("answer line %q names no model version", sc.Text())
		}
	}
	if code != http.StatusOK || lines != 3 {
		t.Errorf("NDJSON of 3 accounts: %d with %d lines, want 200 with 3", code, lines)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run after cancel = %v", err)
	}
}
