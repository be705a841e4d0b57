package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/sqlexport"
)

const sqlUsage = `usage:
  icpctl sql --model FILE --dialect postgres|duckdb [--table NAME] [--view NAME] [--margin]
  icpctl sql --model FILE --dialect postgres|duckdb --create-table [--table NAME]

Prints one SQL query that scores every row of the table inside the database,
as the model scores it: account_id, model_version, score, percentile, tier,
segment and anti_icp. The table holds the export's columns: numbers as double
precision, everything else as text (--create-table prints its definition).

example:
  icpctl sql --model models/2026q4/model.json --dialect postgres --table accounts \
    --view account_scores | psql "$PG_URL"`

// runSQL prints the model as SQL (see package sqlexport).
func runSQL(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("icpctl sql", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, sqlUsage)
		fmt.Fprintln(stderr, "\nflags:")
		fs.PrintDefaults()
	}
	var (
		modelPath = fs.String("model", "", "model artifact, model.json (required)")
		dialect   = fs.String("dialect", "", "postgres or duckdb (required)")
		table     = fs.String("table", "accounts", "table of accounts, optionally schema.table")
		view      = fs.String("view", "", "wrap the query as CREATE OR REPLACE VIEW with this name")
		margin    = fs.Bool("margin", false, "add the model's margin (log-odds) as a last column")
		create    = fs.Bool("create-table", false, "print the CREATE TABLE of the export's columns instead")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("sql: unexpected arguments %q", fs.Args())
	}
	if *modelPath == "" || *dialect == "" {
		fs.Usage()
		return errors.New("sql: --model and --dialect are required")
	}
	p, err := profile.ReadFile(*modelPath)
	if err != nil {
		return err
	}
	opts := sqlexport.Options{Dialect: *dialect, Table: *table, Margin: *margin}
	if *create {
		ddl, err := sqlexport.CreateTable(p, opts)
		if err != nil {
			return err
		}
		_, err = io.WriteString(stdout, ddl)
		return err
	}
	q, err := sqlexport.Query(p, opts)
	if err != nil {
		return err
	}
	if *view != "" {
		q = "CREATE OR REPLACE VIEW " + sqlexport.TableName(*view) + " AS\n" + q
	}
	_, err = fmt.Fprintf(stdout, "%s;\n", q)
	return err
}
