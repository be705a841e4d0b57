// Command train learns an Ideal Customer Profile from a CRM export and
// writes the model artifact and the ICP report.
//
//	train --data accounts.csv --out models/2026q4 [--schema override.json]
//	      [--label ideal|won] [--ltv-quantile 0.25] [--seed 1] [--version NAME]
//	      [--outcomes-db path/to/icp.db|postgres://...]
//	      [--tier-shares 0.1,0.2,0.3 | --tier-lift 3,1.5,0.75 | --tier1-capacity N]
//	      [--previous models/2026q3/model.json] [--holdout-out split.csv]
//
// It writes model.json, report.md and report.html (self-contained, with
// inline SVG charts) into --out. With --outcomes-db the outcomes recorded
// by serve are added to the training data (the retraining loop). With
// --previous the report gains a "what changed since the previous model"
// section. Before writing, the artifact is loaded as serve loads it
// (decoded, checked and warmed up), so that train never writes a model
// serve refuses. With --holdout-out the validation split is written as
// CSV, for scripts that fit other learners on the very same rows
// (scripts/compare-shared.sh).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/registry"
	"github.com/icpengine/icp/report"
	"github.com/icpengine/icp/store"
	"github.com/icpengine/icp/train"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			msg := err.Error()
			if !strings.HasPrefix(msg, "train: ") {
				msg = "train: " + msg // errors of package train name it already
			}
			fmt.Fprintln(os.Stderr, msg)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		data    = fs.String("data", "", "CSV export of accounts (required)")
		out     = fs.String("out", "", "output directory for model.json and report.md (required)")
		schema  = fs.String("schema", "", "JSON file overriding inferred column roles")
		label   = fs.String("label", train.TargetIdeal, "what counts as a positive: ideal or won")
		ltvQ    = fs.Float64("ltv-quantile", 0.25, "quantile of won accounts' LTV an ideal customer reaches; negative drops the LTV condition")
		holdout = fs.Float64("holdout", 0.2, "share of closed deals held out for validation: the newest by close date, or drawn at random within each outcome without close dates")
		seed    = fs.Uint64("seed", 1, "random seed")
		version = fs.String("version", "", "model version name (default: derived from the artifact's content)")
		quiet   = fs.Bool("quiet", false, "print only the summary, not the inferred schema")
		outDB   = fs.String("outcomes-db", "", "store (SQLite path or postgres:// URL) whose recorded outcomes are added to the training data")
		shares  = fs.String("tier-shares", "", "shares of training accounts in tiers 1, 2 and 3, e.g. 0.1,0.2,0.3 (the default)")
		lifts   = fs.String("tier-lift", "", "tier thresholds as multiples of the base rate on the calibrated score, e.g. 3,1.5,0.75")
		capac   = fs.Int("tier1-capacity", 0, "accounts sales can work per quarter: sizes tier 1 from the closed accounts per quarter")
		prev    = fs.String("previous", "", "previous model.json, to report what changed")
		holdOut = fs.String("holdout-out", "", "CSV file receiving the validation split: each closed row's line, part, label, the holdout's probabilities and the feature values as the engine read them")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" || *out == "" {
		fs.Usage()
		return errors.New("--data and --out are required")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}

	var tiers train.TierConfig
	var err error
	if tiers.Shares, err = triple("--tier-shares", *shares); err != nil {
		return err
	}
	if tiers.Lift, err = triple("--tier-lift", *lifts); err != nil {
		return err
	}
	tiers.Capacity = *capac
	if n := btoi(*shares != "") + btoi(*lifts != "") + btoi(*capac > 0); n > 1 {
		return errors.New("--tier-shares, --tier-lift and --tier1-capacity are exclusive")
	}
	if *capac < 0 {
		return fmt.Errorf("--tier1-capacity %d is negative", *capac)
	}
	var previous *profile.Profile
	if *prev != "" {
		if previous, err = profile.ReadFile(*prev); err != nil {
			return fmt.Errorf("--previous: %w", err)
		}
	}

	t, err := datasets.ReadFile(*data, nil)
	if err != nil {
		return err
	}
	var o *features.Override
	if *schema != "" {
		if o, err = features.ReadOverride(*schema); err != nil {
			return err
		}
	}
	s, err := features.InferWith(t, features.InferConfig{}, o)
	if err != nil {
		return err
	}
	if !*quiet {
		fmt.Fprintf(stdout, "read %d rows and %d columns from %s\n\n", t.Rows(), len(t.Columns), *data)
		s.WriteTable(stdout)
		fmt.Fprintln(stdout)
	}
	if *outDB != "" {
		if t, err = appendRecorded(ctx, t, s, *outDB, stdout); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	t = s.Clean(t)
	var split train.Split
	p, err := train.Train(t, s, train.Config{
		Seed:            *seed,
		Version:         *version,
		Label:           train.LabelConfig{Target: *label, LTVQuantile: *ltvQ},
		HoldoutFraction: *holdout,
		Tiers:           tiers,
		Split:           &split,
	})
	if err != nil {
		return err
	}
	// The artifact is loaded as serve loads it before it is written, so
	// that train never writes a model serve refuses.
	var artifact bytes.Buffer
	if err := p.Encode(&artifact); err != nil {
		return err
	}
	if _, err := registry.Load(ctx, artifact.Bytes(), 0); err != nil {
		return fmt.Errorf("check the artifact as serve loads it: %w", err)
	}
	modelPath := filepath.Join(*out, "model.json")
	if err := p.WriteFile(modelPath); err != nil {
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
	reportPath := filepath.Join(*out, "report.md")
	htmlPath := filepath.Join(*out, "report.html")
	if err := writeReport(reportPath, func(w io.Writer) error { return report.WriteMarkdown(w, p, opts) }); err != nil {
		return err
	}
	if err := writeReport(htmlPath, func(w io.Writer) error { return report.WriteHTML(w, p, opts) }); err != nil {
		return err
	}
	report.WriteSummary(stdout, p)
	fmt.Fprintf(stdout, "\nwrote %s, %s and %s\n", modelPath, reportPath, htmlPath)
	return nil
}

// writeReport writes one report file.
func writeReport(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// appendRecorded adds the outcomes stored in the database dsn to t.
func appendRecorded(ctx context.Context, t *datasets.Table, s *features.Schema, dsn string, stdout io.Writer) (*datasets.Table, error) {
	st, err := store.Open(ctx, dsn, store.Config{})
	if err != nil {
		return nil, fmt.Errorf("outcomes db: %w", err)
	}
	defer st.Close()
	outs, err := st.Outcomes(ctx, time.Time{}, 0)
	if err != nil {
		return nil, fmt.Errorf("outcomes db: %w", err)
	}
	t, err = s.AppendOutcomes(t, outs)
	if err != nil {
		return nil, fmt.Errorf("outcomes db: %w", err)
	}
	fmt.Fprintf(stdout, "added %d recorded outcomes from the outcomes db\n", len(outs))
	return t, nil
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
