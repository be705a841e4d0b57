// Command icpbench measures the trainer and the scorer on one CSV, the way
// the scikit-learn reference benchmark measures its models, and prints one
// JSON line per model kind: fit seconds on the time-ordered training split,
// batch prediction cost, single-account scoring latency with attributions
// (serve's code path), and holdout metrics of the calibrated scores.
// scripts/bench-compare.sh runs it beside the reference and prints the
// comparison.
//
//	icpbench --data accounts.csv [--models logistic,gbm] [--label won] [--seed 1]
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/internal/cli"
	"github.com/icpengine/icp/train"
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	os.Exit(cli.Exit("icpbench", err, os.Stderr))
}

// command describes icpbench for --help and --version.
func command() *cli.Command {
	return &cli.Command{
		Name: "icpbench",
		Summary: "icpbench measures the trainer and the scorer on one CSV file the way the scikit-learn " +
			"reference benchmark measures its models, and prints one JSON line per model kind: the fit " +
			"time on the time-ordered training split (the oldest 80% of closed deals), the batch " +
			"scoring cost per row, the latency of scoring one account with attributions (serve's code " +
			"path) and the holdout metrics. scripts/bench-compare.sh runs it beside the reference.",
		Usage:   []string{"icpbench --data FILE [--models logistic,gbm] [--label won|ideal] [flags]"},
		Example: "icpbench --data datasets/sample_accounts.csv --models gbm",
		Notes:   "Exit status: 0 on success, 1 when the run failed, 2 for a bad command line.",
	}
}

// result is one JSON line; the names follow the reference benchmark's.
type result struct {
	Dataset       string  `json:"dataset"`
	Model         string  `json:"model"`
	Rows          int     `json:"rows"`
	NTest         int     `json:"n_test"`
	Features      int     `json:"n_features"`
	LoadS         float64 `json:"load_s"`
	FitS          float64 `json:"fit_s"`
	TrainS        float64 `json:"train_total_s"`
	Rounds        int     `json:"rounds,omitempty"`
	BatchUSPerRow float64 `json:"pipeline_us_per_row"`
	SingleP50     float64 `json:"single_row_us_p50"`
	SingleP99     float64 `json:"single_row_us_p99"`
	AUC           float64 `json:"auc"`
	PRAUC         float64 `json:"pr_auc"`
	LogLoss       float64 `json:"logloss"`
	Brier         float64 `json:"brier"`
	// RawLogLoss is the log loss of the logistic function of the margin,
	// before calibration; the other metrics score the calibrated
	// probabilities, as serve answers them.
	RawLogLoss float64 `json:"raw_logloss"`
	// ValueModel says whether a value model was fitted (--value), so that
	// the scores, and their cost, include the expected value.
	ValueModel bool `json:"value_model"`
}

func run(args []string, stdout, stderr io.Writer) error {
	cmd := command()
	fs := cmd.FlagSet()
	var (
		data   = fs.String("data", "", "CSV `file` of accounts (required)")
		models = fs.String("models", "logistic,gbm", "comma-separated model kinds, each measured on its own")
		label  = fs.String("label", train.TargetWon, "label target: won (as the reference) or ideal")
		seed   = fs.Uint64("seed", 1, "random seed")
		single = fs.Int("single", 200, "accounts scored one at a time for the latency figures")
		value  = fs.Bool("value", false, "also fit the value model where the table has a value outcome, so that scores carry the expected value and its attributions (the reference fits a classifier only)")
	)
	if err := cmd.Parse(fs, args, stdout, false); err != nil {
		return err
	}
	if *data == "" {
		return cli.Usagef("--data is required")
	}
	if *single < 1 {
		return cli.Usagef("--single %d: want 1 or more", *single)
	}
	start := time.Now()
	t, err := datasets.ReadFile(*data, nil)
	if err != nil {
		return err
	}
	load := time.Since(start)
	s := features.Infer(t, features.InferConfig{})
	hold := newest(t, s, 0.2)
	accounts := make([]icp.Account, min(*single, hold.Rows()))
	for i := range accounts {
		accounts[i] = hold.Account(i)
	}
	for _, kind := range strings.Split(*models, ",") {
		var tm train.Timings
		p, err := train.Train(t, s, train.Config{
			Seed: *seed, Label: train.LabelConfig{Target: *label},
			Models: train.ModelConfig{Kinds: []string{kind}}, Timings: &tm,
			Value: train.ValueConfig{Disable: !*value},
		})
		if err != nil {
			return err
		}
		r := result{Dataset: *data, Model: kind, Rows: t.Rows(), NTest: hold.Rows(), Features: p.Encoder.Width,
			LoadS: load.Seconds(), FitS: tm.Fit[kind].Seconds(), TrainS: tm.Total.Seconds()}
		c := p.Validation.Candidates[0]
		r.Rounds = c.Rounds
		r.AUC, r.PRAUC, r.LogLoss, r.Brier = c.Calibrated.ROCAUC, c.Calibrated.PRAUC, c.Calibrated.LogLoss, c.Calibrated.Brier
		r.RawLogLoss = c.Holdout.LogLoss
		r.ValueModel = p.HasValueModel()

		// Batch: encode and score the newest fifth, no attributions; best of 3.
		best := time.Duration(1<<63 - 1)
		for range 3 {
			start := time.Now()
			if _, err := p.Predict(hold); err != nil {
				return err
			}
			best = min(best, time.Since(start))
		}
		r.BatchUSPerRow = float64(best.Microseconds()) / float64(hold.Rows())

		// One account at a time through Score, as serve calls it.
		ctx := context.Background()
		for _, acc := range accounts[:min(10, len(accounts))] {
			if _, err := p.Score(ctx, acc); err != nil {
				return err
			}
		}
		lat := make([]float64, len(accounts))
		for i, acc := range accounts {
			start := time.Now()
			if _, err := p.Score(ctx, acc); err != nil {
				return err
			}
			lat[i] = float64(time.Since(start).Nanoseconds()) / 1e3
		}
		sort.Float64s(lat)
		r.SingleP50, r.SingleP99 = lat[len(lat)/2], lat[(len(lat)*99)/100]
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(b))
	}
	return nil
}

// newest returns the rows with the newest close dates (frac of them), as
// the time-ordered holdout holds them.
func newest(t *datasets.Table, s *features.Schema, frac float64) *datasets.Table {
	rows := make([]int, t.Rows())
	for i := range rows {
		rows[i] = i
	}
	if c := t.Column(s.Outcomes.CloseDate); c != nil && c.Kind == datasets.Date {
		sort.SliceStable(rows, func(a, b int) bool { return c.Num[rows[a]] < c.Num[rows[b]] })
	}
	n := int(frac * float64(len(rows)))
	return t.Take(rows[len(rows)-n:])
}
