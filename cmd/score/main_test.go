package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/internal/cli"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/train"
)

var (
	modelOnce sync.Once
	modelPath string
	modelProf *profile.Profile
	modelErr  error
)

// testModel trains the sample's model once and writes it to a file.
func testModel(t testing.TB) (string, *profile.Profile) {
	t.Helper()
	modelOnce.Do(func() {
		var tab *datasets.Table
		tab, modelErr = datasets.ReadFile(filepath.Join("..", "..", "datasets", "sample_accounts.csv"), nil)
		if modelErr != nil {
			return
		}
		s := features.Infer(tab, features.InferConfig{})
		modelProf, modelErr = train.Train(s.Clean(tab), s, train.Config{Seed: 1})
		if modelErr != nil {
			return
		}
		dir, err := os.MkdirTemp("", "score-test-")
		if err != nil {
			modelErr = err
			return
		}
		modelPath = filepath.Join(dir, "model.json")
		modelErr = modelProf.WriteFile(modelPath)
	})
	if modelErr != nil {
		t.Fatal(modelErr)
	}
	return modelPath, modelProf
}

// accountsCSV writes n generated accounts with an extra column the model
// never saw ("Owner Name") and returns the file's bytes.
func accountsCSV(t testing.TB, n int, seed uint64) []byte {
	t.Helper()
	tab, _ := synth.Generate(synth.Config{Rows: n, Seed: seed})
	owner := &datasets.Column{Name: "Owner Name", Kind: datasets.String, Str: make([]string, n)}
	for i := range owner.Str {
		owner.Str[i] = fmt.Sprintf("Owner %d", i%5)
	}
	tab.Columns = append(tab.Columns, owner)
	var buf bytes.Buffer
	if err := datasets.WriteCSV(&buf, tab); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readCSV reads a CSV file's records.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestScoresMatchTheProfile(t *testing.T) {
	model, p := testModel(t)
	dir := t.TempDir()
	data := accountsCSV(t, 3000, 11)
	in := filepath.Join(dir, "accounts.csv")
	os.WriteFile(in, data, 0o644)
	out := filepath.Join(dir, "scores.csv")
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"--model", model, "--data", in, "--out", out, "--attributions", "2",
		"--keep", "Owner Name,industry", "--chunk", "257", "--workers", "3", "--progress", "off"}, &bytes.Buffer{}, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "scored 3000 of 3000 rows") {
		t.Errorf("summary %q does not count 3000 rows", stderr.String())
	}
	if strings.Contains(stderr.String(), "Owner Name") {
		t.Errorf("summary %q names a kept column as ignored", stderr.String())
	}
	tab, err := datasets.Read(bytes.NewReader(data), "accounts", nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := p.ScoreTable(p.Schema.Clean(tab), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, out)
	if !p.HasValueModel() {
		t.Fatalf("the test model has no value model: %+v", p.Value)
	}
	wantHeader := "account_id,model_version,score,percentile,tier,segment,anti_icp,expected_value,predicted_value," +
		"attr1_feature,attr1_value,attr1_contribution,attr2_feature,attr2_value,attr2_contribution," +
		"ev_attr1_feature,ev_attr1_value,ev_attr1_contribution,ev_attr2_feature,ev_attr2_value,ev_attr2_contribution,Owner Name,industry"
	if got := strings.Join(recs[0], ","); got != wantHeader {
		t.Fatalf("header %s, want %s", got, wantHeader)
	}
	if len(recs)-1 != len(want) {
		t.Fatalf("%d rows, want %d", len(recs)-1, len(want))
	}
	ind := tab.Column("industry")
	for i, w := range want {
		r := recs[i+1]
		seg, anti := "", ""
		if w.Segment != nil {
			seg = w.Segment.ID
		}
		if w.AntiICP != nil {
			anti = w.AntiICP.ID
		}
		float := func(k int) float64 {
			v, err := strconv.ParseFloat(r[k], 64)
			if err != nil {
				t.Fatalf("row %d, column %s: %v", i+1, recs[0][k], err)
			}
			return v
		}
		ev := w.ValueAttributions.Attributions[0]
		wantRow := []string{w.AccountID, w.ModelVersion, string(w.Tier), seg, anti, w.Attributions[0].Feature, ev.Feature, fmt.Sprint(i % 5), ind.Str[i]}
		gotRow := []string{r[0], r[1], r[4], r[5], r[6], r[9], r[15], strings.TrimPrefix(r[21], "Owner "), r[22]}
		if strings.Join(gotRow, "|") != strings.Join(wantRow, "|") || float(2) != w.Score || float(11) != w.Attributions[0].Contribution ||
			float(7) != w.ExpectedValue || float(8) != w.PredictedValue || float(17) != ev.Contribution {
			t.Fatalf("row %d = %v, want %v (score %v, expected value %v)", i+1, r, wantRow, w.Score, w.ExpectedValue)
		}
	}
}

// Every input format gives the same scores, and a Parquet output holds
// what the CSV output holds.
func TestFormats(t *testing.T) {
	model, _ := testModel(t)
	dir := t.TempDir()
	data := accountsCSV(t, 1500, 12)
	tab, err := datasets.Read(bytes.NewReader(data), "accounts", nil)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"accounts.csv": data}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	files["accounts.csv.gz"] = gz.Bytes()
	var nd bytes.Buffer
	for i := range tab.Rows() {
		b, _ := json.Marshal(tab.Account(i))
		nd.Write(append(b, '\n'))
	}
	files["accounts.ndjson"] = nd.Bytes()
	var pq bytes.Buffer
	names, kinds := []string{}, []datasets.Kind{}
	for _, c := range tab.Columns {
		names, kinds = append(names, c.Name), append(kinds, c.Kind)
	}
	pw, err := datasets.NewParquetWriter(&pq, names, kinds)
	if err != nil {
		t.Fatal(err)
	}
	if err := pw.Write(tab); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	files["accounts.parquet"] = pq.Bytes()

	var want [][]string
	for _, name := range []string{"accounts.csv", "accounts.csv.gz", "accounts.ndjson", "accounts.parquet"} {
		in := filepath.Join(dir, name+".bin") // the name says nothing: the content decides
		os.WriteFile(in, files[name], 0o644)
		out := filepath.Join(dir, name+".scores.csv")
		var stderr bytes.Buffer
		if err := run(context.Background(), []string{"--model", model, "--data", in, "--out", out, "--progress", "off"}, &bytes.Buffer{}, &stderr); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, stderr.String())
		}
		got := readCSV(t, out)
		if want == nil {
			want = got
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: the scores differ from the CSV input's", name)
		}
	}
	// Parquet out, and gzip CSV out.
	for _, out := range []string{filepath.Join(dir, "scores.parquet"), filepath.Join(dir, "scores.csv.gz")} {
		var stderr bytes.Buffer
		if err := run(context.Background(), []string{"--model", model, "--data", filepath.Join(dir, "accounts.csv.bin"), "--out", out, "--progress", "off"}, &bytes.Buffer{}, &stderr); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		got, err := datasets.ReadFile(out, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got.Rows() != len(want)-1 {
			t.Fatalf("%s: %d rows, want %d", out, got.Rows(), len(want)-1)
		}
		ids, scores := got.Column("account_id"), got.Column("score")
		for i := range got.Rows() {
			ws, _ := strconv.ParseFloat(want[i+1][2], 64)
			if ids.Text(i) != want[i+1][0] || scores.Num[i] != ws {
				t.Fatalf("%s row %d: %s %v, want %s %v", out, i+1, ids.Text(i), scores.Num[i], want[i+1][0], ws)
			}
		}
	}
}

func TestBadRowsAreListedAndTheRunGoesOn(t *testing.T) {
	model, _ := testModel(t)
	dir := t.TempDir()
	lines := strings.Split(strings.TrimSpace(string(accountsCSV(t, 50, 13))), "\n")
	header := strings.Split(lines[0], ",")
	col := func(name string) int {
		for k, h := range header {
			if h == name {
				return k
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	set := func(line int, name, v string) {
		cells := strings.Split(lines[line-1], ",")
		cells[col(name)] = v
		lines[line-1] = strings.Join(cells, ",")
	}
	set(4, "employees", "many")
	set(9, "trial_users", "-3")
	lines[14] = "ACC-X,SaaS" // line 15: too few fields
	in := filepath.Join(dir, "accounts.csv")
	os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	out, errPath := filepath.Join(dir, "scores.csv"), filepath.Join(dir, "errors.csv")
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"--model", model, "--data", in, "--out", out, "--errors", errPath, "--progress", "off"}, &bytes.Buffer{}, &stderr)
	if !errors.Is(err, errRowsFailed) {
		t.Fatalf("run = %v, want errRowsFailed", err)
	}
	if code := cli.Exit("score", err, &bytes.Buffer{}); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if got := len(readCSV(t, out)) - 1; got != 47 {
		t.Errorf("%d rows scored, want 47", got)
	}
	want := [][]string{
		{"line", "column", "field", "error"},
		{"4", strconv.Itoa(col("employees") + 1), "employees", `not a number: "many"`},
		{"9", "", "trial_users", "must not be negative, got -3"},
		{"15", "3", header[2], "wrong number of fields: expected " + strconv.Itoa(len(header)) + " fields, got 2"},
	}
	if got := readCSV(t, errPath); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("errors file\n%v\nwant\n%v", got, want)
	}
	for _, s := range []string{"scored 47 of 50 rows", "3 rows could not be scored; see " + errPath, "ignored 1 column the model never saw: Owner Name"} {
		if !strings.Contains(stderr.String(), s) {
			t.Errorf("summary %q lacks %q", stderr.String(), s)
		}
	}
}

func TestCommandLine(t *testing.T) {
	model, _ := testModel(t)
	tests := []struct {
		name   string
		give   []string
		want   int
		stdout string
	}{
		{"help", []string{"--help"}, 0, "Example:"},
		{"version", []string{"--version"}, 0, "score (devel) (github.com/icpengine/icp)"},
		{"missing flags", []string{"--model", model}, 2, ""},
		{"bad flag", []string{"--nope"}, 2, ""},
		{"negative attributions", []string{"--model", model, "--data", "x", "--out", "y", "--attributions", "-1"}, 2, ""},
		{"missing input", []string{"--model", model, "--data", filepath.Join(t.TempDir(), "none.csv"), "--out", filepath.Join(t.TempDir(), "s.csv")}, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.give, &stdout, &stderr)
			if got := cli.Exit("score", err, &stderr); got != tt.want {
				t.Errorf("exit status %d, want %d (%v)", got, tt.want, err)
			}
			if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout %q lacks %q", stdout.String(), tt.stdout)
			}
		})
	}
}

func BenchmarkScoreFile(b *testing.B) {
	model, _ := testModel(b)
	dir := b.TempDir()
	in := filepath.Join(dir, "accounts.csv")
	os.WriteFile(in, accountsCSV(b, 100_000, 21), 0o644)
	for _, attr := range []int{0, 3} {
		b.Run(fmt.Sprintf("attributions=%d", attr), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				err := run(context.Background(), []string{"--model", model, "--data", in, "--out", filepath.Join(dir, "s.csv"),
					"--attributions", strconv.Itoa(attr), "--progress", "off"}, &bytes.Buffer{}, &bytes.Buffer{})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "accounts/s")
		})
	}
}

// clean scores as features.Schema.Clean would, placeholders in tag lists
// and categories included.
func TestCleanScoresAsSchemaClean(t *testing.T) {
	_, p := testModel(t)
	tab, _ := synth.Generate(synth.Config{Rows: 400, Seed: 14})
	tags, ind := tab.Column("tech_stack"), tab.Column("industry")
	for i, v := range []string{"Unknown", "n/a; select ", " ; ", "Unknown;aws", "HubSpot ;  AWS"} {
		tags.Str[i] = v
	}
	ind.Str[5], ind.Str[6] = "Unknown", " -- none -- "
	want, err := p.ScoreTable(p.Schema.Clean(tab), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.ScoreTable(clean(p.Schema, tab), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if fmt.Sprint(got[i].Score, got[i].Segment, got[i].AntiICP) != fmt.Sprint(want[i].Score, want[i].Segment, want[i].AntiICP) {
			t.Errorf("row %d: %v %v %v, want %v %v %v", i, got[i].Score, got[i].Segment, got[i].AntiICP, want[i].Score, want[i].Segment, want[i].AntiICP)
		}
	}
	if c := clean(p.Schema, tab).Column("tech_stack"); c.Str[0] != "" || c.Str[1] != "" || c.Str[3] == "" {
		t.Errorf("tag lists %q, want the first two missing", c.Str[:4])
	}
}
