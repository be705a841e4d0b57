// Command train learns an Ideal Customer Profile from a CRM export and
// writes the model artifact and the ICP report.
//
//	train --data accounts.csv --out models/2026q4 [--schema override.json]
//	      [--label ideal|won] [--ltv-quantile 0.25] [--seed 1] [--model-version NAME]
//	      [--outcomes-db path/to/icp.db|postgres://...]
//	      [--tier-shares 0.1,0.2,0.3 | --tier-lift 3,1.5,0.75 | --tier1-capacity N]
//	      [--tier-by score|value]
//	      [--previous models/2026q3/model.json] [--holdout-out split.csv]
//
// It writes model.json, report.md and report.html (self-contained, with
// inline SVG charts) into --out. With --outcomes-db the outcomes recorded
// by serve are added to the training data (the retraining loop). With
// --previous the segments that hold mostly the same accounts as the
// previous model's keep their IDs and names, and the report gains a
// "what changed since the previous model" section. --version prints the build information; the model's name is
// --model-version.
//
// Each step (reading the data, fitting each candidate model, the segment
// search, writing the report) is reported on standard error with its
// duration, and a step that runs long says so every half minute. On
// SIGINT or SIGTERM train stops at once and writes nothing: the three
// files are written to temporary files in --out and renamed into place
// only when all of them are complete. Exit status: 0 on success, 1 when
// the run failed or was interrupted, 2 for a bad command line.
//
// Before writing, the artifact is loaded as serve loads it (decoded,
// checked and warmed up), so that train never writes a model serve
// refuses. With --holdout-out the validation split is written as CSV, for
// scripts that fit other learners on the very same rows
// (scripts/compare-shared.sh).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/internal/cli"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/report"
	"github.com/icpengine/icp/store"
	"github.com/icpengine/icp/train"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(cli.Exit("train", err, os.Stderr))
}

// command describes train for --help and --version.
func command() *cli.Command {
	return &cli.Command{
		Name: "train",
		Summary: "train learns an Ideal Customer Profile from a CRM export with outcomes (won or lost, " +
			"close date, LTV, churn): which accounts win, as segments with readable rules, tiers, an " +
			"anti-ICP and a calibrated fit score. It writes model.json (the versioned, checksummed " +
			"artifact that serve and score load), report.md and report.html into --out, prints the " +
			"inferred schema and a summary on standard output, and reports each step with its " +
			"duration on standard error.",
		Usage: []string{
			"train --data FILE --out DIR [flags]",
			"train --accounts FILE --deals FILE [--churn FILE] --out DIR [flags]",
		},
		Example:     "train --data datasets/sample_accounts.csv --out models/2026q4",
		VersionHint: "name the model with --model-version NAME",
		Notes: "Exit status: 0 on success, 1 when the run failed or was interrupted (SIGINT, SIGTERM: " +
			"nothing is written), 2 for a bad command line.",
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := command()
	fs := cmd.FlagSet()
	var (
		data    = fs.String("data", "", "CSV, gzip CSV or Parquet `file` of accounts, one row per account (required, or --accounts)")
		out     = fs.String("out", "", "output `directory` for model.json, report.md and report.html (required)")
		schema  = fs.String("schema", "", "JSON `file` overriding inferred column roles")
		label   = fs.String("label", train.TargetIdeal, "what counts as a positive: ideal (won, not churned, LTV at or above --ltv-quantile of won accounts) or won")
		ltvQ    = fs.Float64("ltv-quantile", 0.25, "quantile of won accounts' LTV an ideal customer reaches; negative drops the LTV condition")
		holdout = fs.Float64("holdout", 0.2, "share of closed deals held out for validation: the newest by close date, or drawn at random within each outcome without close dates")
		seed    = fs.Uint64("seed", 1, "random seed; the same data and seed give a byte-identical artifact")
		version = fs.String("model-version", "", "model version `name` (default: derived from the artifact's content, m- and 12 hex digits)")
		quiet   = fs.Bool("quiet", false, "print only the summary, not the inferred schema")
		outDB   = fs.String("outcomes-db", "", "`store` (SQLite path or postgres:// URL) whose recorded outcomes are added to the training data")
		shares  = fs.String("tier-shares", "", "shares of training accounts in tiers 1, 2 and 3, e.g. 0.1,0.2,0.3 (the default)")
		lifts   = fs.String("tier-lift", "", "tier thresholds as multiples of the base rate on the calibrated score, e.g. 3,1.5,0.75")
		capac   = fs.Int("tier1-capacity", 0, "accounts sales can work per quarter: sizes tier 1 from the closed accounts per quarter")
		tierBy  = fs.String("tier-by", train.TierByScore, "what the tiers are set on: score (the calibrated score) or value (the expected value, score × predicted value; needs a value model)")
		prev    = fs.String("previous", "", "the previous model.json `file`, to report what changed")
		holdOut = fs.String("holdout-out", "", "CSV `file` receiving the validation split: each closed row's line, part, label, the holdout's probabilities and the feature values as the engine read them")
		tables  = addTableFlags(fs)
	)
	if err := cmd.Parse(fs, args, stdout, false); err != nil {
		return err
	}
	if *data == "" && *tables.accounts == "" || *out == "" {
		return cli.Usagef("--data and --out are required (or --accounts with --deals or --churn instead of --data)")
	}

	var tiers train.TierConfig
	var err error
	if tiers.Shares, err = triple("--tier-shares", *shares); err != nil {
		return &cli.UsageError{Err: err}
	}
	if tiers.Lift, err = triple("--tier-lift", *lifts); err != nil {
		return &cli.UsageError{Err: err}
	}
	tiers.Capacity = *capac
	if n := btoi(*shares != "") + btoi(*lifts != "") + btoi(*capac > 0); n > 1 {
		return cli.Usagef("--tier-shares, --tier-lift and --tier1-capacity are exclusive")
	}
	if *capac < 0 {
		return cli.Usagef("--tier1-capacity %d is negative", *capac)
	}
	pr := newProgress(stderr)
	var previous *profile.Profile
	if *prev != "" {
		if previous, err = profile.ReadFile(*prev); err != nil {
			return fmt.Errorf("--previous: %w", err)
		}
	}

	var o *features.Override
	if *schema != "" {
		if o, err = features.ReadOverride(*schema); err != nil {
			return err
		}
	}
	var t *datasets.Table
	var source string
	readWhat := "read " + *data
	if *data == "" {
		readWhat = "read and join " + *tables.accounts
	}
	var rd reading
	if err := pr.stepStatus(ctx, readWhat, rd.status, func() (done string, err error) {
		t, o, source, err = readTraining(&rd, *data, tables, o, stdout)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("read %d rows and %d columns from %s", t.Rows(), len(t.Columns), source), nil
	}); err != nil {
		return err
	}
	var s *features.Schema
	if err := pr.step(ctx, fmt.Sprintf("infer the roles of %d columns", len(t.Columns)), func() (string, error) {
		var err error
		s, err = features.InferWith(t, features.InferConfig{}, o)
		return "", err
	}); err != nil {
		return err
	}
	if !*quiet {
		fmt.Fprintf(stdout, "read %d rows and %d columns from %s\n\n", t.Rows(), len(t.Columns), source)
		s.WriteTable(stdout)
		fmt.Fprintln(stdout)
	}
	if *outDB != "" {
		if t, err = appendRecorded(ctx, t, s, *outDB, stdout, stderr); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return interrupted(ctx)
	}
	t = s.Clean(t)
	var split train.Split
	cfg := train.Config{
		Seed:            *seed,
		Version:         *version,
		Label:           train.LabelConfig{Target: *label, LTVQuantile: *ltvQ},
		HoldoutFraction: *holdout,
		Tiers:           tiers,
		Progress:        pr.report,
		Value:           train.ValueConfig{TierBy: *tierBy},
		Split:           &split,
	}
	if previous != nil {
		// Segments that hold mostly the same accounts keep their IDs and
		// names.
		cfg.Segments.Previous = previous.Segments
	}
	var p *profile.Profile
	if err := pr.run(ctx, func(ctx context.Context) (err error) {
		p, err = train.TrainContext(ctx, t, s, cfg)
		return err
	}); err != nil {
		return err
	}
	if *holdOut != "" {
		if err := writeSplit(*holdOut, t, p, &split); err != nil {
			return err
		}
	}
	var opts report.Options
	if previous != nil {
		if opts.Changes, err = report.Compare(p, previous, t); err != nil {
			return err
		}
	}
	modelPath := filepath.Join(*out, "model.json")
	reportPath := filepath.Join(*out, "report.md")
	htmlPath := filepath.Join(*out, "report.html")
	if err := pr.step(ctx, "write the model and the report to "+*out, func() (string, error) {
		return "", writeOutputs(ctx, *out, []output{
			{"model.json", p.Encode},
			{"report.md", func(w io.Writer) error { return report.WriteMarkdown(w, p, opts) }},
			{"report.html", func(w io.Writer) error { return report.WriteHTML(w, p, opts) }},
		})
	}); err != nil {
		return err
	}
	report.WriteSummary(stdout, p)
	fmt.Fprintf(stdout, "\nwrote %s, %s and %s\n", modelPath, reportPath, htmlPath)
	return nil
}

// interrupted is the error of a run stopped by SIGINT or SIGTERM (ctx
// done): it names the signal, and matches ctx's error.
func interrupted(ctx context.Context) error {
	if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
		return fmt.Errorf("interrupted, nothing written: %v: %w", cause, ctx.Err())
	}
	return fmt.Errorf("interrupted, nothing written: %w", ctx.Err())
}

// The progress of a long step on stderr: a first line once it has run for
// progressAfter, then one every progressEvery; every step's duration at
// its end.
const (
	progressAfter = 5 * time.Second
	progressEvery = 30 * time.Second
)

// progress reports the steps of a run on w: each step's outcome and
// duration when it ends ("train: fit gbm on 1600 older deals in 0.9s"),
// and for a step still running after the first wait, a line then and at
// every later interval ("train: segment search: 35s so far"). Steps come
// one at a time, from run or from train.Config.Progress.
type progress struct {
	w            io.Writer
	after, every time.Duration

	mu     sync.Mutex
	ends   map[string]func(string) // the steps begun through report
	closed bool                    // the run has stopped: report hears nothing more
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, after: progressAfter, every: progressEvery}
}

// begin starts reporting the step what and returns the function that
// ends it: it prints done (what when empty) with the duration, or, given
// "-", nothing (a failed step).
func (pr *progress) begin(what string) (end func(done string)) {
	return pr.beginStatus(what, nil)
}

// beginStatus is begin with status, when not nil, adding to every
// progress line how far the step has got ("45% of 260.1 MB read").
func (pr *progress) beginStatus(what string, status func() string) (end func(done string)) {
	start := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		wait := time.NewTimer(pr.after)
		defer wait.Stop()
		for {
			select {
			case <-stop:
				return
			case <-wait.C:
				so := time.Since(start).Round(time.Second).String() + " so far"
				if status != nil {
					if st := status(); st != "" {
						so += ", " + st
					}
				}
				pr.printf("train: %s: %s\n", what, so)
				wait.Reset(pr.every)
			}
		}
	})
	return func(done string) {
		close(stop)
		wg.Wait()
		if done == "-" {
			return
		}
		if done == "" {
			done = what
		}
		pr.printf("train: %s in %s\n", done, seconds(time.Since(start)))
	}
}

// report is train.Config.Progress.
func (pr *progress) report(step string, done bool) {
	pr.mu.Lock()
	if pr.closed {
		pr.mu.Unlock()
		return
	}
	if pr.ends == nil {
		pr.ends = make(map[string]func(string))
	}
	end, ok := pr.ends[step]
	delete(pr.ends, step)
	pr.mu.Unlock()
	if !done {
		end := pr.begin(step)
		pr.mu.Lock()
		pr.ends[step] = end
		pr.mu.Unlock()
		return
	}
	if ok {
		end("")
	}
}

// stopReports ends, silently, the steps begun through report and not
// done (the one that failed or was interrupted).
func (pr *progress) stopReports() {
	pr.mu.Lock()
	ends := pr.ends
	pr.ends, pr.closed = nil, true
	pr.mu.Unlock()
	for _, end := range ends {
		end("-")
	}
}

func (pr *progress) printf(format string, args ...any) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	fmt.Fprintf(pr.w, format, args...)
}

// step runs fn as the step what, reported as begin describes with fn's
// answer as the done text. Once ctx is done it returns at once, without
// waiting for fn, which may go on until the process exits: a run writes
// its files only after its last step, so nothing is left half written.
func (pr *progress) step(ctx context.Context, what string, fn func() (done string, err error)) error {
	return pr.stepStatus(ctx, what, nil, fn)
}

// stepStatus is step with the status of beginStatus.
func (pr *progress) stepStatus(ctx context.Context, what string, status func() string, fn func() (done string, err error)) error {
	end := pr.beginStatus(what, status)
	var done string
	err := pr.run(ctx, func(context.Context) (err error) {
		done, err = fn()
		return err
	})
	if err != nil {
		end("-")
		return err
	}
	end(done)
	return nil
}

// run runs fn in a goroutine and returns its error, or an interrupted
// error as soon as ctx is done.
func (pr *progress) run(ctx context.Context, fn func(ctx context.Context) error) error {
	errc := make(chan error, 1)
	go func() { errc <- fn(ctx) }()
	select {
	case err := <-errc:
		if err != nil {
			pr.stopReports()
			if ctx.Err() != nil {
				return interrupted(ctx)
			}
		}
		return err
	case <-ctx.Done():
		pr.stopReports()
		return interrupted(ctx)
	}
}

// seconds formats a duration for the progress lines: tenths of a second
// below a minute, whole seconds above.
func seconds(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// output is one file of a run: its name in the output directory and what
// writes it.
type output struct {
	name  string
	write func(io.Writer) error
}

// writeOutputs writes the files into dir, each to a temporary file of
// dir first, and renames them into place once all are written and ctx is
// not done: an interrupted or failed run leaves no partial file (and no
// directory it made, when that is empty).
func writeOutputs(ctx context.Context, dir string, files []output) (err error) {
	_, statErr := os.Stat(dir)
	made := errors.Is(statErr, os.ErrNotExist)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	temps := make([]string, 0, len(files))
	defer func() {
		if err == nil {
			return
		}
		for _, t := range temps {
			os.Remove(t)
		}
		if made {
			os.Remove(dir) // only when empty
		}
	}()
	for _, f := range files {
		tmp, err := writeTemp(dir, f)
		if tmp != "" {
			temps = append(temps, tmp)
		}
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return interrupted(ctx)
		}
	}
	for k, f := range files {
		if err := os.Rename(temps[k], filepath.Join(dir, f.name)); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(dir, f.name), err)
		}
	}
	return nil
}

// writeTemp writes f to a new temporary file of dir, synced and closed,
// and returns its path.
func writeTemp(dir string, f output) (string, error) {
	path := filepath.Join(dir, f.name)
	tmp, err := os.CreateTemp(dir, "."+f.name+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	name := tmp.Name()
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return name, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.write(tmp); err != nil {
		tmp.Close()
		return name, fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return name, fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return name, fmt.Errorf("write %s: %w", path, err)
	}
	return name, nil
}

// appendRecorded adds the outcomes stored in the database dsn to t.
// Records the table's schema cannot use are skipped, counted on stdout and
// named on stderr.
func appendRecorded(ctx context.Context, t *datasets.Table, s *features.Schema, dsn string, stdout, stderr io.Writer) (*datasets.Table, error) {
	st, err := store.Open(ctx, dsn, store.Config{})
	if err != nil {
		return nil, fmt.Errorf("outcomes db: %w", err)
	}
	defer st.Close()
	outs, err := st.Outcomes(ctx, time.Time{}, 0)
	if err != nil {
		return nil, fmt.Errorf("outcomes db: %w", err)
	}
	outs, skipped := usableOutcomes(s, outs)
	t, err = s.AppendOutcomes(t, outs)
	if err != nil {
		return nil, fmt.Errorf("outcomes db: %w", err)
	}
	fmt.Fprintf(stdout, "added %d recorded outcomes from the outcomes db", len(outs))
	if len(skipped) > 0 {
		fmt.Fprintf(stdout, ", skipped %d it cannot use (listed on stderr)", len(skipped))
		fmt.Fprintf(stderr, "train: skipped %d recorded outcomes this table's schema cannot use:\n", len(skipped))
		for k, why := range skipped {
			if k == maxSkippedListed {
				fmt.Fprintf(stderr, "  and %d more\n", len(skipped)-k)
				break
			}
			fmt.Fprintf(stderr, "  %s\n", why)
		}
	}
	fmt.Fprintln(stdout)
	return t, nil
}

// maxSkippedListed bounds the skipped outcomes named one by one.
const maxSkippedListed = 20

// usableOutcomes returns the recorded outcomes that s can add to a table,
// each checked on its own as AppendOutcomes checks them all, and for
// every other one a line naming it (account id, close date) and why. A
// store may hold records that the current table cannot use: written by an
// older server that checked less, or for columns this export no longer
// has; one of them must not fail the whole retraining.
func usableOutcomes(s *features.Schema, outs []icp.Outcome) ([]icp.Outcome, []string) {
	keep := make([]icp.Outcome, 0, len(outs))
	var skipped []string
	empty := &datasets.Table{}
	for i, o := range outs {
		_, err := s.AppendOutcomes(empty, outs[i:i+1])
		if err == nil {
			keep = append(keep, o)
			continue
		}
		why := err.Error()
		if verr, ok := errors.AsType[*icp.ValidationError](err); ok {
			var parts []string
			for _, f := range verr.Fields {
				parts = append(parts, strings.TrimPrefix(strings.TrimPrefix(f.Field, "outcomes[0]"), ".")+": "+f.Message)
			}
			why = strings.Join(parts, "; ")
		}
		day := "no close date"
		if !o.CloseDate.IsZero() {
			day = "closed " + o.CloseDate.UTC().Format(time.DateOnly)
		}
		skipped = append(skipped, fmt.Sprintf("account %q (%s): %s", o.AccountID, day, why))
	}
	return keep, skipped
}

// triple parses "a,b,c" into three numbers; "" gives zeros.
func triple(flagName, s string) ([3]float64, error) {
	var out [3]float64
	if s == "" {
		return out, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return out, fmt.Errorf("%s %q: want three comma-separated numbers", flagName, s)
	}
	for k, part := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return out, fmt.Errorf("%s %q: %q is not a non-negative number", flagName, s, part)
		}
		out[k] = v
	}
	return out, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
