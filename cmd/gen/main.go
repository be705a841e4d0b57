// Command gen writes a seeded synthetic CRM export with a known
// ground-truth ICP, and the ground truth beside it.
//
// Usage:
//
//	gen --rows 2000 --seed 7 --out datasets/sample_accounts.csv [--truth FILE] [--emerging]
//	gen --dialect salesforce --rows 5000 --seed 1 --out sf.csv
//
// --dialect chooses the export: default (the engine's own table),
// salesforce, hubspot, leads, subscription, twotable or channels (see package
// datasets/synth). A dialect with a second file (twotable's opportunities)
// writes it beside OUT, named OUT with ".csv" replaced by "_NAME.csv". The
// truth file defaults to the output name with ".csv" replaced by
// "_truth.csv". A one-line summary (rows, win rate, segment shares) goes to
// standard output.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/internal/cli"
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	os.Exit(cli.Exit("gen", err, os.Stderr))
}

// command describes gen for --help and --version.
func command() *cli.Command {
	return &cli.Command{
		Name: "gen",
		Summary: "gen writes a seeded synthetic CRM export with a known ground-truth ICP (true segments " +
			"and anti-ICP recipes), and the ground truth beside it, for trying the engine and testing " +
			"it: the same flags always write the same bytes. --dialect chooses the export's shape " +
			"(the engine's own table, Salesforce, HubSpot, leads, subscriptions, or accounts with " +
			"their opportunities as two tables). A one-line summary goes to standard output.",
		Usage:   []string{"gen --out FILE [--rows N] [--seed N] [--dialect NAME] [flags]"},
		Example: "gen --rows 2000 --seed 7 --out datasets/sample_accounts.csv",
		Notes:   "Exit status: 0 on success, 1 when a file cannot be written, 2 for a bad command line.",
	}
}

// run parses args, generates the table and writes both files.
func run(args []string, stdout, stderr io.Writer) error {
	cmd := command()
	fs := cmd.FlagSet()
	rows := fs.Int("rows", 10000, "number of accounts")
	seed := fs.Uint64("seed", 42, "random seed")
	out := fs.String("out", "", "output CSV `file` (required); a second table goes beside it, named with _NAME before .csv")
	truth := fs.String("truth", "", "ground-truth CSV `file` (default: OUT with .csv replaced by _truth.csv)")
	emerging := fs.Bool("emerging", false, "add the emerging segment in the last quarter of the window")
	emergingFrom := fs.String("emerging-from", "", "first close `date` of the emerging segment, as 2024-01-01 (default: the last quarter)")
	dialect := fs.String("dialect", synth.DialectDefault, "export dialect: "+strings.Join(synth.Dialects(), ", "))
	if err := cmd.Parse(fs, args, stdout, false); err != nil {
		return err
	}
	if *out == "" {
		return cli.Usagef("missing --out")
	}
	if *rows <= 0 {
		return cli.Usagef("--rows must be positive, got %d", *rows)
	}
	if !slices.Contains(synth.Dialects(), *dialect) {
		return cli.Usagef("--dialect %q: unknown dialect; want one of %s", *dialect, strings.Join(synth.Dialects(), ", "))
	}
	truthPath := *truth
	if truthPath == "" {
		truthPath = strings.TrimSuffix(*out, ".csv") + "_truth.csv"
	}
	if truthPath == *out {
		return cli.Usagef("--truth and --out are the same file %s", *out)
	}

	if *dialect != synth.DialectDefault {
		if *emerging || *emergingFrom != "" {
			return cli.Usagef("--emerging applies to the default dialect only, not %s", *dialect)
		}
		return writeExport(*dialect, synth.Config{Rows: *rows, Seed: *seed}, *out, truthPath, stdout)
	}
	cfg := synth.Config{Rows: *rows, Seed: *seed, Emerging: *emerging}
	if *emergingFrom != "" {
		from, err := icp.ParseDate(*emergingFrom)
		if err != nil {
			return cli.Usagef("--emerging-from %q: want a date such as 2024-01-01", *emergingFrom)
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

// writeExport writes the files and the truth of a dialect.
func writeExport(dialect string, cfg synth.Config, out, truthPath string, stdout io.Writer) error {
	e, err := synth.GenerateExport(dialect, cfg)
	if err != nil {
		return err
	}
	paths := []string{out}
	for _, s := range e.Sheets[1:] {
		p := strings.TrimSuffix(out, ".csv") + "_" + s.Name + ".csv"
		if p == truthPath {
			return cli.Usagef("--truth and the %s file are the same file %s", s.Name, p)
		}
		paths = append(paths, p)
	}
	for k, s := range e.Sheets {
		if err := writeFile(paths[k], s.WriteCSV); err != nil {
			return err
		}
	}
	if err := writeFile(truthPath, func(w io.Writer) error { return synth.WriteExportTruthCSV(w, e.Truth) }); err != nil {
		return err
	}
	counts := make(map[string]int)
	anti := 0
	mean := 0.0
	for _, t := range e.Truth {
		counts[t.Segment]++
		if t.AntiICP {
			anti++
		}
		mean += t.WinProb
	}
	n := float64(max(len(e.Truth), 1))
	segs := make([]string, 0, len(counts))
	for s := range counts {
		segs = append(segs, s)
	}
	sort.Strings(segs)
	var b strings.Builder
	fmt.Fprintf(&b, "wrote %d %s accounts to %s and %s; mean true win probability %.4f; anti-ICP share %.4f; segment share",
		len(e.Truth), dialect, strings.Join(paths, ", "), truthPath, mean/n, float64(anti)/n)
	for _, s := range segs {
		fmt.Fprintf(&b, " %s=%.4f", s, float64(counts[s])/n)
	}
	_, err = fmt.Fprintln(stdout, b.String())
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
