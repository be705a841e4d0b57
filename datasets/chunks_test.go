package datasets_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/icpengine/icp/datasets"
)

// readChunks reads every chunk of an input and joins them.
func readChunks(t *testing.T, c *datasets.Chunks) (rows []map[string]any, errs []*datasets.ParseError) {
	t.Helper()
	defer c.Close()
	for {
		ch, err := c.Next()
		if errors.Is(err, io.EOF) {
			return rows, errs
		}
		if err != nil {
			t.Fatal(err)
		}
		errs = append(errs, ch.Errors...)
		for i := range ch.Table.Rows() {
			r := map[string]any{"#line": ch.Table.Line(i)}
			for _, col := range ch.Table.Columns {
				if col.Kind == datasets.String {
					r[col.Name] = col.Str[i]
				} else {
					r[col.Name] = col.Num[i]
				}
			}
			for _, col := range ch.Kept.Columns {
				r["keep:"+col.Name] = col.Str[i]
			}
			rows = append(rows, r)
		}
	}
}

// kindsOf returns the kinds Read inferred.
func kindsOf(t *datasets.Table) map[string]datasets.Kind {
	out := make(map[string]datasets.Kind)
	for _, c := range t.Columns {
		out[c.Name] = c.Kind
	}
	return out
}

// sameAsRead checks that the chunks hold what Read reads, row by row.
func sameAsRead(t *testing.T, want *datasets.Table, rows []map[string]any, lines bool) {
	t.Helper()
	if len(rows) != want.Rows() {
		t.Fatalf("chunks hold %d rows, Read %d", len(rows), want.Rows())
	}
	for i, r := range rows {
		if lines && r["#line"] != want.Line(i) {
			t.Fatalf("row %d: line %v, want %d", i, r["#line"], want.Line(i))
		}
		for _, c := range want.Columns {
			got := r[c.Name]
			if c.Kind == datasets.String {
				if got != c.Str[i] {
					t.Fatalf("row %d, %s: %q, want %q", i, c.Name, got, c.Str[i])
				}
				continue
			}
			g, w := got.(float64), c.Num[i]
			if g != w && !(math.IsNaN(g) && math.IsNaN(w)) {
				t.Fatalf("row %d, %s: %v, want %v", i, c.Name, g, w)
			}
		}
	}
}

func sampleFile(t *testing.T) (string, *datasets.Table) {
	t.Helper()
	path := filepath.Join("sample_accounts.csv")
	want, err := datasets.ReadFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return path, want
}

func TestChunksReadAsRead(t *testing.T) {
	path, want := sampleFile(t)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	gzPath := filepath.Join(dir, "accounts.csv.gz")
	os.WriteFile(gzPath, gz.Bytes(), 0o644)

	pqPath := filepath.Join(dir, "accounts.bin")
	f, err := os.Create(pqPath)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(want.Columns))
	kinds := make([]datasets.Kind, len(want.Columns))
	for k, c := range want.Columns {
		names[k], kinds[k] = c.Name, c.Kind
	}
	pw, err := datasets.NewParquetWriter(f, names, kinds)
	if err != nil {
		t.Fatal(err)
	}
	for lo := 0; lo < want.Rows(); lo += 700 {
		idx := []int{}
		for i := lo; i < min(lo+700, want.Rows()); i++ {
			idx = append(idx, i)
		}
		if err := pw.Write(want.Take(idx)); err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	ndPath := filepath.Join(dir, "accounts.jsonl")
	var nd bytes.Buffer
	for i := range want.Rows() {
		b, _ := json.Marshal(want.Account(i))
		nd.Write(b)
		nd.WriteByte('\n')
	}
	os.WriteFile(ndPath, nd.Bytes(), 0o644)

	tests := []struct {
		give, format string
		lines        bool
	}{
		{path, datasets.FormatCSV, true},
		{gzPath, datasets.FormatCSVGzip, true},
		{pqPath, datasets.FormatParquet, false},
		{ndPath, datasets.FormatNDJSON, false},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			c, err := datasets.OpenChunksFile(tt.give, datasets.ChunkOptions{Kinds: kindsOf(want), Rows: 333})
			if err != nil {
				t.Fatal(err)
			}
			if c.Format() != tt.format {
				t.Errorf("Format() = %q, want %q", c.Format(), tt.format)
			}
			rows, errs := readChunks(t, c)
			if len(errs) > 0 {
				t.Fatalf("errors: %v", errs[0])
			}
			sameAsRead(t, want, rows, tt.lines)
			if done, total := c.Progress(); total > 0 && done != total {
				t.Errorf("Progress() = %d of %d at the end", done, total)
			}
		})
	}
}

func TestChunksBadRowsAndColumns(t *testing.T) {
	in := "id,employees,industry,notes,Owner\n" +
		"a,10,SaaS,x,Ann\n" +
		"b,ten,SaaS,x,Bob\n" + // not a number
		"c,12,Fin\"Tech,x,Cy\n" + // bare quote
		"d,13,Retail,x\n" + // ragged
		"e, 1 200 ,N/A,x,Eve\n"
	kinds := map[string]datasets.Kind{"id": datasets.String, "employees": datasets.Number, "industry": datasets.String, "close_date": datasets.Date}
	c, err := datasets.OpenChunks(strings.NewReader(in), "in.csv", datasets.ChunkOptions{Kinds: kinds, Keep: []string{"Owner"}, Rows: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Skipped(), ","); got != "notes" {
		t.Errorf("Skipped() = %q, want notes", got)
	}
	rows, errs := readChunks(t, c)
	if len(rows) != 2 || rows[0]["id"] != "a" || rows[1]["id"] != "e" || rows[1]["employees"] != 1200.0 || rows[1]["industry"] != "" || rows[1]["keep:Owner"] != "Eve" {
		t.Fatalf("rows = %v, want a and e", rows)
	}
	want := []string{
		`in.csv: line 3, column 2 "employees": not a number: "ten"`,
		`in.csv: line 4: character 9: bare " in non-quoted-field`,
		`in.csv: line 5, column 5 "Owner": wrong number of fields: expected 5 fields, got 4`,
	}
	if len(errs) != len(want) {
		t.Fatalf("errors %v, want %d", errs, len(want))
	}
	for k, e := range errs {
		if e.Error() != want[k] {
			t.Errorf("error %d = %q, want %q", k, e.Error(), want[k])
		}
	}
}

func TestChunksNDJSON(t *testing.T) {
	in := `{"id": "a", "employees": 10, "tech_stack": ["aws", "slack"], "Owner Name": "Ann"}
{"id": "b", "employees": "12", "employees": 13}

{"id": "c", "employees": {"n": 1}}
not json
{"id": "d", "employees": null, "tech_stack": "hubspot;aws", "active": true}
`
	kinds := map[string]datasets.Kind{"id": datasets.String, "employees": datasets.Number, "tech_stack": datasets.String, "active": datasets.Bool}
	c, err := datasets.OpenChunks(strings.NewReader(in), "in.jsonl", datasets.ChunkOptions{Kinds: kinds, Separators: map[string]string{"tech_stack": ";"}})
	if err != nil {
		t.Fatal(err)
	}
	rows, errs := readChunks(t, c)
	if c.Format() != datasets.FormatNDJSON {
		t.Errorf("Format() = %q", c.Format())
	}
	if len(rows) != 2 || rows[0]["tech_stack"] != "aws;slack" || rows[0]["employees"] != 10.0 || rows[1]["active"] != 1.0 || !math.IsNaN(rows[1]["employees"].(float64)) {
		t.Fatalf("rows = %v", rows)
	}
	if rows[0]["#line"] != 1 || rows[1]["#line"] != 6 {
		t.Errorf("lines %v and %v, want 1 and 6", rows[0]["#line"], rows[1]["#line"])
	}
	if got := strings.Join(c.Skipped(), ","); got != "Owner Name" {
		t.Errorf("Skipped() = %q", got)
	}
	wantLines := []int{2, 4, 5}
	if len(errs) != len(wantLines) {
		t.Fatalf("errors %v", errs)
	}
	for k, e := range errs {
		if e.Line != wantLines[k] {
			t.Errorf("error %q at line %d, want %d", e, e.Line, wantLines[k])
		}
	}
}
