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
// replay that is run again stores nothing twice. When serve requires API
// keys, replay sends the key of --api-key, or of the environment variable
// ICP_API_KEY (which keeps it out of the process list), with the scopes
// score and outcomes.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/internal/cli"
	"github.com/icpengine/icp/profile"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	stop()
	os.Exit(cli.Exit("replay", err, os.Stderr))
}

// apiKeyEnv is the environment variable holding the API key.
const apiKeyEnv = "ICP_API_KEY"

// command describes replay for --help and --version.
func command() *cli.Command {
	return &cli.Command{
		Name: "replay",
		Summary: "replay posts the closed deals of a CSV export to a running serve as recorded " +
			"outcomes (POST /v1/outcomes), in close-date order, scoring each batch's accounts first " +
			"(POST /v1/score/batch) as a CRM scores its leads before their deals close: a drifted " +
			"stream for a demo, or a backfill. The model's schema reads the file. Every batch " +
			"carries an Idempotency-Key derived from its content, so a replay run again stores " +
			"nothing twice. With keys required, the key (scopes score and outcomes) comes from " +
			"--api-key or the environment variable " + apiKeyEnv + ".",
		Usage:   []string{"replay --model FILE --data FILE [--url URL] [--batch N] [--score=false]"},
		Example: "ICP_API_KEY=icp_... replay --model models/demo/model.json --data stream.csv --url http://127.0.0.1:8080",
		Notes:   "Exit status: 0 when every batch was stored, 1 when a request failed, 2 for a bad command line.",
	}
}

func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) error {
	cmd := command()
	fs := cmd.FlagSet()
	var (
		modelPath = fs.String("model", "", "model artifact `file` whose schema reads the data (required)")
		data      = fs.String("data", "", "CSV `file` of accounts with outcomes (required)")
		url       = fs.String("url", "http://127.0.0.1:8080", "base `URL` of serve")
		batch     = fs.Int("batch", 250, "outcomes per request")
		score     = fs.Bool("score", true, "score each batch's accounts before posting their outcomes")
		apiKey    = fs.String("api-key", "", "API `key` with the scopes score and outcomes (default $"+apiKeyEnv+", which keeps it out of the process list)")
	)
	if err := cmd.Parse(fs, args, stdout, false); err != nil {
		return err
	}
	if *modelPath == "" || *data == "" {
		return cli.Usagef("--model and --data are required")
	}
	if *batch <= 0 {
		return cli.Usagef("--batch %d: want a positive number", *batch)
	}
	key := *apiKey
	if key == "" && lookupEnv != nil {
		key, _ = lookupEnv(apiKeyEnv)
	}
	key = strings.TrimSpace(key)
	c := client{http: &http.Client{Timeout: 60 * time.Second}, url: strings.TrimRight(*url, "/"), key: key}
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
	stored, replayed, scored := 0, 0, 0
	for start := 0; start < len(outs); start += *batch {
		end := min(start+*batch, len(outs))
		if *score {
			n, err := c.scoreBatch(ctx, p.Schema.ID, outs[start:end])
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
		answer, err := c.post(ctx, "/v1/outcomes", body, 1<<20, "Idempotency-Key", "replay-"+hex.EncodeToString(sum[:12]))
		if err != nil {
			return fmt.Errorf("post outcomes %d-%d: %w", start, end, err)
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

// client posts to serve's API with the API key, when there is one.
type client struct {
	http *http.Client
	url  string // without a final slash
	key  string
}

// post sends a JSON body to path and returns the answer's body, at most
// limit bytes; an answer other than 2xx is an error carrying its body.
// header holds extra header names and values.
func (c client) post(ctx context.Context, path string, body []byte, limit int64, header ...string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k := 0; k+1 < len(header); k += 2 {
		req.Header.Set(header[k], header[k+1])
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, limit))
	switch {
	case resp.StatusCode == http.StatusUnauthorized && c.key == "":
		return nil, fmt.Errorf("%s: serve requires an API key: pass --api-key or set %s (scopes score and outcomes)", resp.Status, apiKeyEnv)
	case resp.StatusCode/100 != 2:
		return nil, fmt.Errorf("%s: %.500s", resp.Status, answer)
	}
	return answer, nil
}

// scoreBatch posts the accounts of outs, with their id in the column idCol
// (none when empty), to POST /v1/score/batch without attributions, and
// returns how many were scored.
func (c client) scoreBatch(ctx context.Context, idCol string, outs []icp.Outcome) (int, error) {
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
	answer, err := c.post(ctx, "/v1/score/batch?attributions=false", body, 16<<20)
	if err != nil {
		return 0, err
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
