package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/internal/cli"
	"github.com/icpengine/icp/profile"
)

// command describes score for --help and --version.
func command() *cli.Command {
	return &cli.Command{
		Name: "score",
		Summary: "score scores a file of accounts with a trained model and writes a file of scores: " +
			"account id, model version, score, percentile, tier, segment and anti-ICP rule, " +
			"the expected and predicted value when the model has a value model, " +
			"optionally the top attributions and columns of the input. The input is CSV, gzip CSV, " +
			"Parquet or NDJSON, told from its content; the output is Parquet for a name ending in " +
			".parquet, gzip CSV for .gz, CSV otherwise (\"-\": standard input or output). Rows that " +
			"cannot be read go to --errors with their line and field, and the run goes on.",
		Usage: []string{"score --model FILE --data FILE --out FILE [flags]"},
		Example: "score --model models/2026q4/model.json --data accounts.csv.gz --out scores.csv \\\n" +
			"      --attributions 3 --keep \"Account Name,Owner\" --errors errors.csv",
		Notes: "Exit status: 0 when every row was scored, 1 when some failed or the run failed, 2 for a bad command line.",
	}
}

// config is the command line.
type config struct {
	model, data, out, errs string
	attributions           int
	keep                   []string
	workers, chunk         int
	progress               string
	every                  time.Duration
}

func parseFlags(args []string, stdout io.Writer) (config, error) {
	var c config
	cmd := command()
	fs := cmd.FlagSet()
	fs.StringVar(&c.model, "model", "", "model artifact `file` (model.json), required")
	fs.StringVar(&c.data, "data", "", "accounts to score: CSV, CSV.gz, Parquet or NDJSON `file`; - for standard input (required)")
	fs.StringVar(&c.out, "out", "", "scores `file`: .csv, .csv.gz or .parquet; - for standard output (required)")
	fs.StringVar(&c.errs, "errors", "", "CSV `file` listing the rows that could not be scored (default: the first ones on standard error)")
	fs.IntVar(&c.attributions, "attributions", 0, "add the `N` largest attributions of each account")
	keep := fs.String("keep", "", "comma-separated input `columns` to copy into the output, e.g. \"Account Name,Owner\"")
	fs.IntVar(&c.workers, "workers", runtime.GOMAXPROCS(0), "goroutines scoring chunks")
	fs.IntVar(&c.chunk, "chunk", 4096, "rows per chunk")
	fs.StringVar(&c.progress, "progress", "auto", "progress on standard error: auto (a bar on a terminal, else lines), bar, lines or off")
	fs.DurationVar(&c.every, "progress-every", 5*time.Second, "time between progress lines")
	if err := cmd.Parse(fs, args, stdout, false); err != nil {
		return c, err
	}
	switch {
	case c.model == "" || c.data == "" || c.out == "":
		return c, cli.Usagef("--model, --data and --out are required")
	case c.attributions < 0:
		return c, cli.Usagef("--attributions %d is negative", c.attributions)
	case c.workers < 1:
		return c, cli.Usagef("--workers %d: want 1 or more", c.workers)
	case c.chunk < 1:
		return c, cli.Usagef("--chunk %d: want 1 or more", c.chunk)
	case c.every <= 0:
		return c, cli.Usagef("--progress-every %s: want a positive duration", c.every)
	}
	switch c.progress {
	case "auto", "bar", "lines", "off":
	default:
		return c, cli.Usagef("--progress %q: want auto, bar, lines or off", c.progress)
	}
	for _, k := range strings.Split(*keep, ",") {
		if k = strings.TrimSpace(k); k != "" {
			c.keep = append(c.keep, k)
		}
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	p, err := profile.ReadFile(cfg.model)
	if err != nil {
		return err
	}
	in, err := datasets.OpenChunksFile(cfg.data, chunkOptions(p, cfg))
	if err != nil {
		return err
	}
	defer in.Close()
	layout, err := newLayout(p, cfg)
	if err != nil {
		return err
	}
	out, err := createOutput(cfg.out, stdout, layout)
	if err != nil {
		return err
	}
	errs, err := createErrors(cfg.errs, stderr)
	if err != nil {
		out.abort()
		return err
	}
	prog := newProgress(stderr, cfg.progress, cfg.every, in)
	began := time.Now()
	sum, runErr := score(ctx, p, in, layout, out, errs, prog, cfg)
	prog.stop()
	if err := errs.close(); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		out.abort()
		return runErr
	}
	if err := out.close(); err != nil {
		return err
	}
	summarize(stderr, cfg, in, p, sum, time.Since(began))
	if sum.failed > 0 {
		return errRowsFailed
	}
	return nil
}

// chunkOptions reads the model's feature and id columns with the kinds
// the model was trained on; the id is text, as a scoring request carries
// it.
func chunkOptions(p *profile.Profile, cfg config) datasets.ChunkOptions {
	o := datasets.ChunkOptions{Kinds: map[string]datasets.Kind{}, Separators: map[string]string{}, Keep: cfg.keep, Rows: cfg.chunk}
	for _, c := range p.Schema.Columns {
		if !c.Role.IsFeature() && c.Name != p.Schema.ID {
			continue
		}
		k := datasets.String
		if c.Name != p.Schema.ID {
			switch c.Kind {
			case "number":
				k = datasets.Number
			case "bool":
				k = datasets.Bool
			case "date":
				k = datasets.Date
			}
		}
		o.Kinds[c.Name] = k
		if c.Role == features.RoleTags {
			o.Separators[c.Name] = c.Separator
		}
	}
	return o
}

// summary counts what a run did.
type summary struct {
	read, scored, failed int
}

// summarize prints the end of the run: rows, speed, failures and the
// columns the model never saw.
func summarize(w io.Writer, cfg config, in *datasets.Chunks, p *profile.Profile, s summary, took time.Duration) {
	rate := float64(s.scored) / took.Seconds()
	fmt.Fprintf(w, "score: scored %d of %d rows of %s (%s) with %s in %.1fs, %.0f rows/s; wrote %s\n",
		s.scored, s.read, cfg.data, in.Format(), p.Version, took.Seconds(), rate, cfg.out)
	if s.failed > 0 {
		where := "the first ones above"
		if cfg.errs != "" {
			where = cfg.errs
		}
		fmt.Fprintf(w, "score: %d rows could not be scored; see %s\n", s.failed, where)
	}
	var unseen []string
	for _, name := range in.Skipped() {
		if p.Schema.Column(name) == nil {
			unseen = append(unseen, name)
		}
	}
	if len(unseen) > 0 {
		noun := "columns"
		if len(unseen) == 1 {
			noun = "column"
		}
		fmt.Fprintf(w, "score: ignored %d %s the model never saw: %s\n", len(unseen), noun, strings.Join(unseen, ", "))
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
