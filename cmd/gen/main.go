// Command gen writes a seeded synthetic table of B2B accounts with a known
// ground-truth ICP, and the ground truth beside it.
//
// Usage:
//
//	gen --rows 2000 --seed 7 --out datasets/sample_accounts.csv [--truth FILE] [--emerging]
//
// The truth file defaults to the output name with ".csv" replaced by
// "_truth.csv". A one-line summary (rows, win rate, segment shares) goes to
// standard output.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// run parses args, generates the table and writes both files.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rows := fs.Int("rows", 10000, "number of accounts")
	seed := fs.Uint64("seed", 42, "random seed")
	out := fs.String("out", "", "output CSV file (required)")
	truth := fs.String("truth", "", "ground-truth CSV file (default: OUT with .csv replaced by _truth.csv)")
	emerging := fs.Bool("emerging", false, "add the emerging segment in the last quarter of the window")
	emergingFrom := fs.String("emerging-from", "", "first close date of the emerging segment, as 2024-01-01 (default: the last quarter)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *out == "" {
		return errors.New("missing --out")
	}
	if *rows <= 0 {
		return fmt.Errorf("--rows must be positive, got %d", *rows)
	}
	truthPath := *truth
	if truthPath == "" {
		truthPath = strings.TrimSuffix(*out, ".csv") + "_truth.csv"
	}
	if truthPath == *out {
		return fmt.Errorf("--truth and --out are the same file %s", *out)
	}

	cfg := synth.Config{Rows: *rows, Seed: *seed, Emerging: *emerging}
	if *emergingFrom != "" {
		from, err := time.Parse(time.DateOnly, *emergingFrom)
		if err != nil {
			return fmt.Errorf("--emerging-from %q: want a date such as 2024-01-01", *emergingFrom)
		}
		cfg.EmergingFrom = from
	}
	t, tr := synth.Generate(cfg)
	if err := writeFile(*out, func(w io.Writer) error { return datasets.WriteCSV(w, t) }); err != nil {
		return err
	}
	if err := writeFile(truthPath, func(w io.Writer) error { return synth.WriteTruthCSV(w, tr) }); err != nil {
		return err
	}
	_, err := fmt.Fprintf(stdout, "wrote %d rows to %s and %s; %s\n", t.Rows(), *out, truthPath, summary(t, tr))
	return err
}

// summary describes the win rate and the segment shares.
func summary(t *datasets.Table, tr []synth.Truth) string {
	won := 0
	outcome := t.Column("outcome")
	for _, o := range outcome.Str {
		if o == "won" {
			won++
		}
	}
	counts := make(map[string]int)
	for _, x := range tr {
		counts[x.Segment]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "win rate %.4f; segment share", float64(won)/float64(len(tr)))
	for _, s := range synth.Segments() {
		if counts[s] > 0 {
			fmt.Fprintf(&b, " %s=%.4f", s, float64(counts[s])/float64(len(tr)))
		}
	}
	return b.String()
}

// writeFile writes a file through a buffer, creating its directory.
func writeFile(path string, write func(io.Writer) error) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("write %s: %w", path, cerr)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<16)
	if err := write(w); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
