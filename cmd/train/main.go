// Command train learns an Ideal Customer Profile from a CRM export and
// writes the model artifact and the ICP report.
//
//	train --data accounts.csv --out models/2026q4 [--schema override.json]
//	      [--label ideal|won] [--ltv-quantile 0.25] [--seed 1] [--version NAME]
//	      [--outcomes-db path/to/icp.db|postgres://...]
//
// With --outcomes-db the outcomes recorded by serve are added to the
// training data (the retraining loop).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "train:", err)
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
		label   = fs.String("label", profile.TargetIdeal, "what counts as a positive: ideal or won")
		ltvQ    = fs.Float64("ltv-quantile", 0.25, "quantile of won accounts' LTV an ideal customer reaches; negative drops the LTV condition")
		holdout = fs.Float64("holdout", 0.2, "share of the newest closed deals held out for validation")
		seed    = fs.Uint64("seed", 1, "random seed")
		version = fs.String("version", "", "model version name (default: derived from the artifact's content)")
		quiet   = fs.Bool("quiet", false, "print only the summary, not the inferred schema")
		outDB   = fs.String("outcomes-db", "", "store (SQLite path or postgres:// URL) whose recorded outcomes are added to the training data")
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

	t, err := datasets.ReadFile(*data, nil)
	if err != nil {
		return err
	}
	s := features.Infer(t, features.InferConfig{})
	if *schema != "" {
		o, err := features.ReadOverride(*schema)
		if err != nil {
			return err
		}
		if err := s.Apply(o); err != nil {
			return err
		}
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
	p, err := profile.Train(t, s, profile.Config{
		Seed:            *seed,
		Version:         *version,
		Label:           profile.LabelConfig{Target: *label, LTVQuantile: *ltvQ},
		HoldoutFraction: *holdout,
	})
	if err != nil {
		return err
	}
	modelPath := filepath.Join(*out, "model.json")
	if err := p.WriteFile(modelPath); err != nil {
		return err
	}
	reportPath := filepath.Join(*out, "report.md")
	f, err := os.Create(reportPath)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := p.WriteReport(f); err != nil {
		f.Close()
		return fmt.Errorf("write report: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	p.WriteSummary(stdout)
	fmt.Fprintf(stdout, "\nwrote %s and %s\n", modelPath, reportPath)
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
