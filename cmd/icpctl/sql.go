package main

import (
	"fmt"
	"io"

	"github.com/icpengine/icp/internal/cli"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/sqlexport"
)

// sqlCommand describes icpctl sql.
func sqlCommand() *cli.Command {
	return &cli.Command{
		Name: "icpctl sql",
		Summary: "sql prints one SQL query that scores every row of a table inside the database, as " +
			"the model scores it: account_id, model_version, score, percentile, tier, segment and " +
			"anti_icp. The table holds the export's columns: numbers as double precision, everything " +
			"else as text (--create-table prints its definition). Dialects: postgres and duckdb.",
		Usage: []string{
			"icpctl sql --model FILE --dialect postgres|duckdb [--table NAME] [--view NAME] [--margin]",
			"icpctl sql --model FILE --dialect postgres|duckdb --create-table [--table NAME]",
		},
		Example: "icpctl sql --model models/2026q4/model.json --dialect postgres --table accounts \\\n" +
			"  --view account_scores | psql \"$PG_URL\"",
		Notes: "Exit status: 0 on success, 1 when the command failed, 2 for a bad command line.",
	}
}

// runSQL prints the model as SQL (see package sqlexport).
func runSQL(args []string, stdout io.Writer) error {
	c := sqlCommand()
	fs := c.FlagSet()
	var (
		modelPath = fs.String("model", "", "model artifact `file`, model.json (required)")
		dialect   = fs.String("dialect", "", "postgres or duckdb (required)")
		table     = fs.String("table", "accounts", "table of accounts, optionally schema.table")
		view      = fs.String("view", "", "wrap the query as CREATE OR REPLACE VIEW with this `name`")
		margin    = fs.Bool("margin", false, "add the model's margin (log-odds) as a last column")
		create    = fs.Bool("create-table", false, "print the CREATE TABLE of the export's columns instead")
	)
	if err := c.Parse(fs, args, stdout, false); err != nil {
		return err
	}
	if *modelPath == "" || *dialect == "" {
		return cli.Usagef("sql: --model and --dialect are required")
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
