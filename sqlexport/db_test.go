package sqlexport

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/train"
)

// pgEnv names the environment variable holding the PostgreSQL test server
// URL; scripts/postgres-test-server.sh prints it.
const pgEnv = "ICP_TEST_POSTGRES_URL"

// testModel is a trained profile and the accounts it is checked on.
type testModel struct {
	p *profile.Profile
	// header and rows are the accounts as raw CSV cells, loaded into the
	// databases as they are (numbers parsed) and read by Go from a file.
	header []string
	rows   [][]string
	// want is the Go scorer's answer for each account id.
	want map[string]icp.Score
}

var (
	modelsOnce sync.Once
	models     map[string]*testModel
	modelsErr  error
)

// testModels trains the demo model (boosted trees, as make demo trains it
// on the sample) and a logistic model once for the tests of the package.
func testModels(t testing.TB) map[string]*testModel {
	t.Helper()
	modelsOnce.Do(func() { models, modelsErr = buildModels() })
	if modelsErr != nil {
		t.Fatal(modelsErr)
	}
	return models
}

func buildModels() (map[string]*testModel, error) {
	sample, err := datasets.ReadFile(filepath.Join("..", "datasets", "sample_accounts.csv"), nil)
	if err != nil {
		return nil, err
	}
	s := features.Infer(sample, features.InferConfig{})
	clean := s.Clean(sample)
	out := make(map[string]*testModel)
	for _, kind := range []string{profile.KindGBM, profile.KindLogistic} {
		cfg := train.Config{Seed: 1}
		if kind == profile.KindLogistic {
			cfg.Models.Kinds = []string{profile.KindLogistic}
		}
		p, err := train.Train(clean, s, cfg)
		if err != nil {
			return nil, fmt.Errorf("train %s: %w", kind, err)
		}
		if p.Model.Kind != kind {
			return nil, fmt.Errorf("train: the demo configuration chose %s, want %s", p.Model.Kind, kind)
		}
		m := &testModel{p: p}
		if err := m.accounts(); err != nil {
			return nil, err
		}
		out[kind] = m
	}
	return out, nil
}

// accounts builds the 10,000 accounts: the 2,000 of the sample (the
// training rows, on which the tier thresholds lie), 7,000 generated ones
// with another seed, messy cells (spaces, case, placeholders, missing
// markers), and accounts whose value lies exactly on, and one float64
// above, every translated split threshold and rule bound.
func (m *testModel) accounts() error {
	f, err := os.Open(filepath.Join("..", "datasets", "sample_accounts.csv"))
	if err != nil {
		return err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return err
	}
	m.header, m.rows = recs[0], recs[1:]
	gen, _ := synth.Generate(synth.Config{Rows: 7000, Seed: 99})
	var buf bytes.Buffer
	if err := datasets.WriteCSV(&buf, gen); err != nil {
		return err
	}
	grecs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		return err
	}
	for _, r := range grecs[1:] {
		r[0] = "G" + r[0]
		m.rows = append(m.rows, r)
	}
	col := func(name string) int {
		for k, h := range m.header {
			if h == name {
				return k
			}
		}
		return -1
	}
	// Messy cells, in copies of generated rows.
	messy := []struct{ column, value string }{
		{"industry", "  SaaS "}, {"industry", "Unknown"}, {"industry", "N/A"}, {"industry", "saas"},
		{"industry", "Quantum Farming"}, {"industry", "-"}, {"industry", "null"},
		{"tech_stack", "HubSpot; AWS ;  Segment"}, {"tech_stack", "Unknown"}, {"tech_stack", "unknown;  ;N/A"},
		{"tech_stack", " shopify ;stripe;Select"}, {"tech_stack", "SALESFORCE;Google   Cloud"}, {"tech_stack", ""},
		{"country", " US"}, {"country", "Select"}, {"region", "NA"}, {"funding_stage", "none"},
		{"employees", ""}, {"employees", "0"}, {"annual_revenue_usd", "N/A"}, {"founded_year", "-"},
		{"web_visits_30d", ""}, {"account_id", " ID-with-spaces  "},
	}
	n := 0
	extra := func(change func(r []string)) {
		r := append([]string(nil), m.rows[2000+n%7000]...)
		r[0] = "X" + strconv.Itoa(n)
		change(r)
		m.rows = append(m.rows, r)
		n++
	}
	for k, c := range messy {
		j := col(c.column)
		if j < 0 {
			return fmt.Errorf("no column %q", c.column)
		}
		for rep := range 8 {
			extra(func(r []string) {
				r[j] = c.value
				if c.column == "account_id" {
					r[j] = fmt.Sprintf(" ID-%d-%d  ", k, rep)
				}
			})
		}
	}
	// Values on the thresholds.
	b, err := newBuilder(m.p, Options{Dialect: DuckDB, Table: "t"})
	if err != nil {
		return err
	}
	for _, v := range m.thresholds(b) {
		j := col(v.column)
		for _, x := range []float64{v.at, math.Nextafter(v.at, math.Inf(1))} {
			extra(func(r []string) { r[j] = strconv.FormatFloat(x, 'g', -1, 64) })
		}
	}
	if len(m.rows) > 10000 {
		return fmt.Errorf("%d accounts, want at most 10000", len(m.rows))
	}
	for len(m.rows) < 10000 {
		extra(func([]string) {})
	}
	return m.score()
}

// threshold is a raw value that lies on a decision boundary.
type threshold struct {
	column string
	at     float64
}

// thresholds lists the translated split thresholds of the trees on
// number columns and the bounds of the rules' ranges.
func (m *testModel) thresholds(b *builder) []threshold {
	var out []threshold
	seen := make(map[threshold]bool)
	add := func(t threshold) {
		if !seen[t] && !math.IsInf(t.at, 0) {
			seen[t] = true
			out = append(out, t)
		}
	}
	if g := m.p.Model.GBM; g != nil {
		for ti := range g.Trees {
			tr := &g.Trees[ti]
			for n, f := range tr.Feature {
				if f < 0 {
					continue
				}
				ce, _ := b.owner(int(f))
				if !isValue(ce, int(f)) || ce.Kind != "number" {
					continue
				}
				if v, none, all := b.rawThreshold(ce, tr.Threshold[n]); !none && !all {
					add(threshold{ce.Name, v})
				}
			}
		}
	}
	rules := append(segmentRules(m.p), antiRules(m.p)...)
	for _, r := range rules {
		for _, cl := range r.rule.Clauses {
			for _, c := range cl.Conds {
				if sc := m.p.Schema.Column(c.Column); c.Op != profile.OpRange || sc == nil || sc.Kind != "number" {
					continue
				}
				for _, v := range []*float64{c.Lo, c.Hi} {
					if v != nil {
						add(threshold{c.Column, *v})
					}
				}
			}
		}
	}
	return out
}

// score writes the accounts to a file, reads it as cmd/score does
// (datasets, then the schema's cleaning) and scores it with the profile.
func (m *testModel) score() error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(m.header)
	w.WriteAll(m.rows)
	t, err := datasets.Read(&buf, "accounts", nil)
	if err != nil {
		return err
	}
	scores, err := m.p.ScoreTable(m.p.Schema.Clean(t), nil, false)
	if err != nil {
		return err
	}
	m.want = make(map[string]icp.Score, len(scores))
	for _, s := range scores {
		if _, dup := m.want[s.AccountID]; dup {
			return fmt.Errorf("account id %q twice", s.AccountID)
		}
		m.want[s.AccountID] = s
	}
	return nil
}

// value is a cell as the table holds it: a number column's cell parsed
// (NULL when missing), any other cell as it is in the file.
func (m *testModel) value(j int, cell string) any {
	sc := m.p.Schema.Column(m.header[j])
	if sc == nil || sc.Kind != "number" || sc.Name == m.p.Schema.ID {
		return cell
	}
	if datasets.IsMissing(cell, true) {
		return nil
	}
	v, err := datasets.ParseNumber(cell)
	if err != nil {
		panic(fmt.Sprintf("cell %q of %s: %v", cell, sc.Name, err))
	}
	return v
}

// got is one row of the query's answer.
type got struct {
	id, version, tier string
	score, pct        float64
	segment, anti     sql.NullString
	margin            float64
}

// compare checks the database's answer against the Go scorer's.
func (m *testModel) compare(t *testing.T, rows []got) {
	t.Helper()
	if len(rows) != len(m.want) {
		t.Fatalf("the query returned %d rows, want %d", len(rows), len(m.want))
	}
	var onTier, bad int
	tiers := m.p.Tiers
	for _, r := range rows {
		w, ok := m.want[r.id]
		if !ok {
			t.Fatalf("account %q: not among the accounts", r.id)
		}
		if w.Score == tiers.Tier1 || w.Score == tiers.Tier2 || w.Score == tiers.Tier3 {
			onTier++
		}
		wantSeg, wantAnti := "", ""
		if w.Segment != nil {
			wantSeg = w.Segment.ID
		}
		if w.AntiICP != nil {
			wantAnti = w.AntiICP.ID
		}
		problems := []string{}
		if r.version != w.ModelVersion {
			problems = append(problems, fmt.Sprintf("model_version %q, want %q", r.version, w.ModelVersion))
		}
		if r.tier != string(w.Tier) {
			problems = append(problems, fmt.Sprintf("tier %s, want %s", r.tier, w.Tier))
		}
		if r.segment.String != wantSeg {
			problems = append(problems, fmt.Sprintf("segment %q, want %q", r.segment.String, wantSeg))
		}
		if r.anti.String != wantAnti {
			problems = append(problems, fmt.Sprintf("anti_icp %q, want %q", r.anti.String, wantAnti))
		}
		if math.Abs(r.score-w.Score) > 1e-9 {
			problems = append(problems, fmt.Sprintf("score %.17g, want %.17g", r.score, w.Score))
		}
		if math.Abs(r.pct-w.Percentile) > 1e-6 {
			problems = append(problems, fmt.Sprintf("percentile %.17g, want %.17g", r.pct, w.Percentile))
		}
		if r.margin != w.Margin {
			problems = append(problems, fmt.Sprintf("margin %.17g, want %.17g (bit for bit)", r.margin, w.Margin))
		}
		if len(problems) > 0 {
			bad++
			if bad <= 10 {
				t.Errorf("account %q: %s", r.id, strings.Join(problems, "; "))
			}
		}
	}
	if bad > 10 {
		t.Errorf("%d accounts disagree in all", bad)
	}
	if onTier == 0 {
		t.Errorf("no account's score lies exactly on a tier threshold: the test does not cover that case")
	}
	t.Logf("%d accounts agree; %d lie exactly on a tier threshold", len(rows)-bad, onTier)
}

func scanRows(t *testing.T, rows interface {
	Next() bool
	Scan(...any) error
	Err() error
}) []got {
	t.Helper()
	var out []got
	for rows.Next() {
		var g got
		if err := rows.Scan(&g.id, &g.version, &g.score, &g.pct, &g.tier, &g.segment, &g.anti, &g.margin); err != nil {
			t.Fatal(err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDuckDBAgreesWithGo(t *testing.T) {
	for kind, m := range testModels(t) {
		t.Run(kind, func(t *testing.T) {
			db, err := sql.Open("duckdb", "")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			loadDuckDB(t, db, m, "accounts")
			q, err := Query(m.p, Options{Dialect: DuckDB, Table: "accounts", Margin: true})
			if err != nil {
				t.Fatal(err)
			}
			rows, err := db.Query(q)
			if err != nil {
				t.Fatalf("query: %v", err)
			}
			defer rows.Close()
			m.compare(t, scanRows(t, rows))
		})
	}
}

// loadDuckDB creates the table and loads the accounts.
func loadDuckDB(t testing.TB, db *sql.DB, m *testModel, table string) {
	t.Helper()
	ddl, err := CreateTable(m.p, Options{Dialect: DuckDB, Table: table})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ddl); err != nil {
		t.Fatalf("%v\n%s", err, ddl)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(m.header)), ", ")
	st, err := tx.Prepare("INSERT INTO " + tableName(table) + " VALUES (" + marks + ")")
	if err != nil {
		t.Fatal(err)
	}
	args := make([]any, len(m.header))
	for _, r := range m.rows {
		for j, c := range r {
			args[j] = m.value(j, c)
		}
		if _, err := st.Exec(args...); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestPostgresAgreesWithGo(t *testing.T) {
	url := os.Getenv(pgEnv)
	if url == "" {
		t.Skip("PostgreSQL test of the SQL export skipped: " + pgEnv + " not set; run scripts/postgres-test-server.sh")
	}
	ctx := context.Background()
	for kind, m := range testModels(t) {
		t.Run(kind, func(t *testing.T) {
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			schema := loadPostgres(t, conn, m)
			q, err := Query(m.p, Options{Dialect: Postgres, Table: schema + ".accounts", Margin: true})
			if err != nil {
				t.Fatal(err)
			}
			rows, err := conn.Query(ctx, q)
			if err != nil {
				t.Fatalf("query: %v", err)
			}
			defer rows.Close()
			m.compare(t, scanRows(t, rows))
		})
	}
}

// loadPostgres loads the accounts into a new schema's table "accounts",
// dropped when the test ends, and returns the schema.
func loadPostgres(t testing.TB, conn *pgx.Conn, m *testModel) string {
	t.Helper()
	ctx := context.Background()
	schema := fmt.Sprintf("icp_sqlexport_%d_%d", os.Getpid(), len(m.p.Version)+len(m.rows))
	schema += "_" + strings.ReplaceAll(m.p.Version, "-", "_")
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE; CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), conn.Config().ConnString())
		if err == nil {
			c.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	ddl, err := CreateTable(m.p, Options{Dialect: Postgres, Table: schema + ".accounts"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, ddl); err != nil {
		t.Fatalf("%v\n%s", err, ddl)
	}
	src := make([][]any, len(m.rows))
	for i, r := range m.rows {
		src[i] = make([]any, len(r))
		for j, c := range r {
			src[i][j] = m.value(j, c)
		}
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{schema, "accounts"}, m.header, pgx.CopyFromRows(src)); err != nil {
		t.Fatal(err)
	}
	return schema
}

// The thresholds used by the test must be what the encoder says: the
// value encodes at or below the split, the next float64 above it.
func TestRawThresholdIsExact(t *testing.T) {
	m := testModels(t)[profile.KindGBM]
	b, err := newBuilder(m.p, Options{Dialect: DuckDB, Table: "t"})
	if err != nil {
		t.Fatal(err)
	}
	g := m.p.Model.GBM
	checked := 0
	for ti := range g.Trees {
		tr := &g.Trees[ti]
		for n, f := range tr.Feature {
			if f < 0 {
				continue
			}
			ce, err := b.owner(int(f))
			if err != nil {
				t.Fatal(err)
			}
			if !isValue(ce, int(f)) {
				continue
			}
			v, none, all := b.rawThreshold(ce, tr.Threshold[n])
			if none || all {
				continue
			}
			if got := b.encodedValue(ce, v); !(got <= tr.Threshold[n]) {
				t.Errorf("%s: encoded(%v) = %v, above the split %v", ce.Name, v, got, tr.Threshold[n])
			}
			up := math.Nextafter(v, math.Inf(1))
			if got := b.encodedValue(ce, up); got <= tr.Threshold[n] {
				t.Errorf("%s: encoded(%v) = %v, not above the split %v", ce.Name, up, got, tr.Threshold[n])
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no split on a number column to check")
	}
}
