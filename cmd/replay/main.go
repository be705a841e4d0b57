// Command replay posts the closed deals of a CSV export to a running serve
// as recorded outcomes, in close-date order: a drifted stream for the demo,
// or a backfill.
//
//	replay --model models/demo/model.json --data stream.csv --url http://127.0.0.1:8080 [--batch 250] [--score=false]
//
// Each batch's accounts are first scored (POST /v1/score/batch), as a CRM
// scores its leads before their deals close, so that the drift monitor sees
// the stream's accounts as well as its outcomes; --score=false posts the
// outcomes only, for a backfill.
//
// The model's schema names the account and outcome columns. Every batch
// carries an Idempotency-Key derived from the file and the batch, so a
// replay that is run again stores nothing twice.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/profile"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "replay:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		modelPath = fs.String("model", "", "model artifact whose schema reads the file (required)")
		data      = fs.String("data", "", "CSV export of accounts with outcomes (required)")
		url       = fs.String("url", "http://127.0.0.1:8080", "base URL of serve")
		batch     = fs.Int("batch", 250, "outcomes per request")
		score     = fs.Bool("score", true, "score each batch's accounts before posting their outcomes")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *modelPath == "" || *data == "" {
		fs.Usage()
		return errors.New("--model and --data are required")
	}
	if *batch <= 0 {
		return fmt.Errorf("--batch %d: want a positive number", *batch)
	}
	p, err := profile.ReadFile(*modelPath)
	if err != nil {
		return err
	}
	t, err := datasets.ReadFile(*data, nil)
	if err != nil {
		return err
	}
	outs, err := p.Schema.TableOutcomes(t)
	if err != nil {
		return err
	}
	sort.SliceStable(outs, func(a, b int) bool { return outs[a].CloseDate.Before(outs[b].CloseDate) })
	client := &http.Client{Timeout: 60 * time.Second}
	stored, replayed, scored := 0, 0, 0
	for start := 0; start < len(outs); start += *batch {
		end := min(start+*batch, len(outs))
		if *score {
			n, err := scoreBatch(ctx, client, *url, p.Schema.ID, outs[start:end])
			if err != nil {
				return fmt.Errorf("score accounts %d-%d: %w", start, end, err)
			}
			scored += n
		}
		body, err := json.Marshal(map[string]any{"outcomes": requestShape(outs[start:end])})
		if err != nil {
			return fmt.Errorf("encode batch: %w", err)
		}
		sum := sha256.Sum256(body)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, *url+"/v1/outcomes", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "replay-"+hex.EncodeToString(sum[:12]))
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("post outcomes %d-%d: %w", start, end, err)
		}
		answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("post outcomes %d-%d: %s: %s", start, end, resp.Status, answer)
		}
		var res struct {
			Stored   int  `json:"stored"`
			Replayed bool `json:"replayed"`
		}
		if err := json.Unmarshal(answer, &res); err != nil {
			return fmt.Errorf("post outcomes %d-%d: decode answer: %w", start, end, err)
		}
		if res.Replayed {
			replayed += res.Stored
		} else {
			stored += res.Stored
		}
	}
	if *score {
		if _, err := fmt.Fprintf(stdout, "scored %d accounts\n", scored); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintf(stdout, "posted %d outcomes closed %s to %s: %d stored, %d already stored\n",
		len(outs), span(outs), *url, stored, replayed)
	return err
}

// scoreBatch posts the accounts of outs, with their id in the column idCol
// (none when empty), to POST /v1/score/batch without attributions, and
// returns how many were scored.
func scoreBatch(ctx context.Context, client *http.Client, url, idCol string, outs []icp.Outcome) (int, error) {
	accs := make([]icp.Account, len(outs))
	for i, o := range outs {
		acc := make(icp.Account, len(o.Account)+1)
		for k, v := range o.Account {
			acc[k] = v
		}
		if idCol != "" {
			acc[idCol] = o.AccountID
		}
		accs[i] = acc
	}
	body, err := json.Marshal(accs)
	if err != nil {
		return 0, fmt.Errorf("encode accounts: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/score/batch?attributions=false", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode/100 != 2 {
		return 0, fmt.Errorf("%s: %.500s", resp.Status, answer)
	}
	var res struct {
		Count int `json:"count"`
	}
	if err := json.Unmarshal(answer, &res); err != nil {
		return 0, fmt.Errorf("decode answer: %w", err)
	}
	return res.Count, nil
}

// requestShape renders outcomes as POST /v1/outcomes reads them.
func requestShape(outs []icp.Outcome) []map[string]any {
	out := make([]map[string]any, len(outs))
	for i, o := range outs {
		m := map[string]any{
			"account_id": o.AccountID, "account": o.Account,
			"outcome":    map[bool]string{true: "won", false: "lost"}[o.Won],
			"close_date": o.CloseDate.Format(time.DateOnly),
		}
		if o.Churned != nil {
			m["churned"] = *o.Churned
		}
		if o.LTVUSD != nil {
			m["ltv_usd"] = *o.LTVUSD
		}
		if o.CycleDays != nil {
			m["sales_cycle_days"] = *o.CycleDays
		}
		out[i] = m
	}
	return out
}

func span(outs []icp.Outcome) string {
	if len(outs) == 0 {
		return "(none)"
	}
	return outs[0].CloseDate.Format(time.DateOnly) + " to " + outs[len(outs)-1].CloseDate.Format(time.DateOnly)
}
