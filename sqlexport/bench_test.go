package sqlexport

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/profile"
)

var (
	benchRows = flag.Int("sql.rows", 100_000, "accounts scored by the SQL benchmarks")
	benchCSV  = flag.String("sql.csv", "", "CSV of accounts for the SQL benchmarks (default: generated, seed 42)")
)

// benchData returns a CSV file of accounts with the sample's columns.
func benchData(b *testing.B) string {
	b.Helper()
	if *benchCSV != "" {
		return *benchCSV
	}
	path := filepath.Join(b.TempDir(), "accounts.csv")
	t, _ := synth.Generate(synth.Config{Rows: *benchRows, Seed: 42})
	var buf bytes.Buffer
	if err := datasets.WriteCSV(&buf, t); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// columnTypes is the DuckDB column list of the export's table.
func columnTypes(p *profile.Profile) string {
	var parts []string
	for _, c := range p.Schema.Columns {
		typ := "VARCHAR"
		if c.Kind == "number" && c.Name != p.Schema.ID {
			typ = "DOUBLE"
		}
		parts = append(parts, fmt.Sprintf("%s: %s", str(c.Name), str(typ)))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// materialize is the statement each benchmark iteration runs: the scores
// of every account written into a table, as a warehouse job would.
func materialize(q string) string { return "CREATE TABLE scores AS " + q }

// BenchmarkQueryDuckDB scores the accounts of -sql.csv (or -sql.rows
// generated ones) with the demo model's query in DuckDB.
func BenchmarkQueryDuckDB(b *testing.B) {
	m := testModels(b)[profile.KindGBM]
	path := benchData(b)
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(fmt.Sprintf("CREATE TABLE accounts AS SELECT * FROM read_csv(%s, header = true, columns = %s)", str(path), columnTypes(m.p))); err != nil {
		b.Fatal(err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM accounts").Scan(&n); err != nil {
		b.Fatal(err)
	}
	q, err := Query(m.p, Options{Dialect: DuckDB, Table: "accounts"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := db.Exec("DROP TABLE IF EXISTS scores; " + materialize(q)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "accounts/s")
}

// BenchmarkQueryPostgres does the same in PostgreSQL.
func BenchmarkQueryPostgres(b *testing.B) {
	url := os.Getenv(pgEnv)
	if url == "" {
		b.Skip("PostgreSQL benchmark skipped: " + pgEnv + " not set; run scripts/postgres-test-server.sh")
	}
	m := testModels(b)[profile.KindGBM]
	path := benchData(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("icp_sqlbench_%d", os.Getpid())
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE; CREATE SCHEMA "+schema); err != nil {
		b.Fatal(err)
	}
	defer conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
	ddl, err := CreateTable(m.p, Options{Dialect: Postgres, Table: schema + ".accounts"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, ddl); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	tag, err := conn.PgConn().CopyFrom(ctx, f, "COPY "+schema+".accounts FROM STDIN WITH (FORMAT csv, HEADER true)")
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	n := int(tag.RowsAffected())
	if _, err := conn.Exec(ctx, "ANALYZE "+schema+".accounts"); err != nil {
		b.Fatal(err)
	}
	q, err := Query(m.p, Options{Dialect: Postgres, Table: schema + ".accounts"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+schema+".scores"); err != nil {
			b.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "CREATE TABLE "+schema+".scores AS "+q); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "accounts/s")
}
