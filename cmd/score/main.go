// Command score scores a file of accounts with a trained model and writes
// a file of scores, for a CRM import or a warehouse load.
//
//	score --model models/2026q4/model.json --data accounts.csv --out scores.csv
//	      [--errors errors.csv] [--attributions 3] [--keep "Account Name,Owner"]
//	      [--workers N] [--chunk 4096] [--progress auto|bar|lines|off]
//
// The input is CSV, gzip-compressed CSV, Parquet or NDJSON (one JSON
// object a line), told apart by its first bytes; "-" reads standard
// input (not Parquet). The output is Parquet when its name ends in
// .parquet, gzip-compressed CSV for .gz, CSV otherwise; "-" writes CSV to
// standard output. The file is read in chunks and scored on every core in
// memory that does not grow with it.
//
// Each output row holds account_id, model_version, score, percentile,
// tier, segment and anti_icp (rule ids, empty when none), then, when the
// model has a value model, expected_value and predicted_value; then with
// --attributions N the N largest attributions (attrK_feature, attrK_value,
// attrK_contribution on the log-odds scale) and, with a value model, the N
// largest of the expected value (ev_attrK_feature, ev_attrK_value,
// ev_attrK_contribution, in the unit of the value column); then the --keep
// columns as they are in the input. Columns the model never saw are ignored and
// named once in the summary. A row that cannot be read (a value of the
// wrong type, a negative count, a malformed line) is left out of the
// scores and written to --errors with its line and field; the run goes
// on. Progress goes to standard error: a bar on a terminal, a line every
// few seconds otherwise, with rows per second.
//
// Exit status: 0 when every row was scored, 1 when some rows failed or the
// run failed, 2 for a usage error.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/icpengine/icp/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(cli.Exit("score", err, os.Stderr))
}

// errRowsFailed is run's answer when the run finished but some rows could
// not be scored: they are listed in the errors file and counted on
// standard error, so the exit status (1) says the rest.
var errRowsFailed = fmt.Errorf("some rows failed: %w", cli.ErrReported)
