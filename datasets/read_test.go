package datasets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/icpengine/icp"
)

// col describes an expected column: its kind and values. Values are
// strings for String columns ("" missing) and float64 or nil (missing) for
// the other kinds.
type col struct {
	name string
	kind Kind
	vals []any
}

func checkTable(t *testing.T, got *Table, want []col, wantLines []int) {
	t.Helper()
	if len(got.Columns) != len(want) {
		t.Fatalf("Read gave %d columns %v, want %d", len(got.Columns), columnNames(got), len(want))
	}
	for j, w := range want {
		c := got.Columns[j]
		if c.Name != w.name || c.Kind != w.kind {
			t.Errorf("column %d = %q %v, want %q %v", j, c.Name, c.Kind, w.name, w.kind)
			continue
		}
		if c.Len() != len(w.vals) {
			t.Errorf("column %q has %d values, want %d", c.Name, c.Len(), len(w.vals))
			continue
		}
		for i, wv := range w.vals {
			switch c.Kind {
			case String:
				if c.Str[i] != wv.(string) {
					t.Errorf("column %q row %d = %q, want %q", c.Name, i, c.Str[i], wv)
				}
			default:
				if wv == nil {
					if !math.IsNaN(c.Num[i]) {
						t.Errorf("column %q row %d = %v, want missing", c.Name, i, c.Num[i])
					}
				} else if f := wv.(float64); math.Abs(c.Num[i]-f) > 1e-9*math.Max(1, math.Abs(f)) {
					t.Errorf("column %q row %d = %v, want %v", c.Name, i, c.Num[i], f)
				}
			}
		}
	}
	if wantLines != nil && !slices.Equal(got.Lines, wantLines) {
		t.Errorf("Lines = %v, want %v", got.Lines, wantLines)
	}
}

func columnNames(t *Table) []string {
	var names []string
	for _, c := range t.Columns {
		names = append(names, c.Name)
	}
	return names
}

func day(y int, m time.Month, d int) float64 {
	return float64(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func TestRead(t *testing.T) {
	jan2 := day(2024, 1, 2)
	tests := []struct {
		name      string
		give      string
		opts      *ReadOptions
		want      []col
		wantLines []int
	}{
		{
			name:      "bom",
			give:      "\uFEFFid,n\nx,1\ny,2\n",
			want:      []col{{"id", String, []any{"x", "y"}}, {"n", Number, []any{1.0, 2.0}}},
			wantLines: []int{2, 3},
		},
		{
			name: "semicolon with decimal commas",
			give: "name;score;price;plain\nx;12,5;1.200,50;1.5\ny;3,25;7;2\n",
			want: []col{
				{"name", String, []any{"x", "y"}},
				{"score", Number, []any{12.5, 3.25}},
				{"price", Number, []any{1200.5, 7.0}},
				{"plain", Number, []any{1.5, 2.0}},
			},
		},
		{
			name: "tab",
			give: "a\tb c\n1\thello, world\n2\tx\n",
			want: []col{{"a", Number, []any{1.0, 2.0}}, {"b c", String, []any{"hello, world", "x"}}},
		},
		{
			name: "pipe",
			give: "a|b\n1|2\n",
			want: []col{{"a", Number, []any{1.0}}, {"b", Number, []any{2.0}}},
		},
		{
			name:      "crlf",
			give:      "a,b\r\n1,2\r\n3,4\r\n",
			want:      []col{{"a", Number, []any{1.0, 3.0}}, {"b", Number, []any{2.0, 4.0}}},
			wantLines: []int{2, 3},
		},
		{
			name:      "cr only",
			give:      "a,b\r1,2\r3,4",
			want:      []col{{"a", Number, []any{1.0, 3.0}}, {"b", Number, []any{2.0, 4.0}}},
			wantLines: []int{2, 3},
		},
		{
			name: "quoted delimiters and newlines",
			give: "name,notes\n\"Acme, Inc.\",\"line1\nline2\"\nB,\"say \"\"hi\"\"\"\n",
			want: []col{
				{"name", String, []any{"Acme, Inc.", "B"}},
				{"notes", String, []any{"line1\nline2", `say "hi"`}},
			},
			wantLines: []int{2, 4},
		},
		{
			name: "currency and thousands",
			give: "rev\n\"$1,200,000\"\n€3.4\n\"(1,234)\"\n12.5%\n1 200\n",
			want: []col{{"rev", Number, []any{1200000.0, 3.4, -1234.0, 12.5, 1200.0}}},
		},
		{
			name: "missing markers and NA",
			give: "region,rev,note\nNA,NA,a\nEMEA,100,null\n,N/A,-\nAPAC,null,NA\n",
			want: []col{
				{"region", String, []any{"NA", "EMEA", "", "APAC"}},
				{"rev", Number, []any{nil, 100.0, nil, nil}},
				{"note", String, []any{"a", "", "", "NA"}},
			},
		},
		{
			name: "date layouts",
			give: "d\n2024-01-02\n01/02/2024\n2024/01/02\n2024-01-02T12:00:00Z\n" +
				"2024-01-02 06:00:00\n2024-01-02 18:00\n2024-01-02T00:00:00\n1/2/2024\n\n",
			want: []col{{"d", Date, []any{jan2, jan2, jan2, jan2 + 0.5, jan2 + 0.25, jan2 + 0.75, jan2, jan2}}},
		},
		{
			name: "dates with missing",
			give: "id,close_date\na,2024-01-02\nb,\nc,NA\n",
			want: []col{{"id", String, []any{"a", "b", "c"}}, {"close_date", Date, []any{jan2, nil, nil}}},
		},
		{
			name: "bools",
			give: "id,churned\na,true\nb,\nc,FALSE\nd,yes\ne,N\n",
			want: []col{{"id", String, []any{"a", "b", "c", "d", "e"}}, {"churned", Bool, []any{1.0, nil, 0.0, 1.0, 0.0}}},
		},
		{
			name: "zero and one are numbers",
			give: "flag\n0\n1\n",
			want: []col{{"flag", Number, []any{0.0, 1.0}}},
		},
		{
			name: "latin-1",
			give: "name,city\nJos\xe9,M\xfcnchen\nZo\xeb,\x93Caf\xe9\x94\n",
			want: []col{{"name", String, []any{"José", "Zoë"}}, {"city", String, []any{"München", "“Café”"}}},
		},
		{
			name: "utf-8 and latin-1 mixed in one cell",
			give: "name\nS\xc3\xa3o Jos\xe9\n",
			want: []col{{"name", String, []any{"São José"}}},
		},
		{
			name: "whitespace-only numeric cell",
			give: "customerID,TotalCharges\na, 29.85 \nb, \n",
			want: []col{{"customerID", String, []any{"a", "b"}}, {"TotalCharges", Number, []any{29.85, nil}}},
		},
		{
			name: "all-missing column is number",
			give: "a,b\n1,\n2,NA\n",
			want: []col{{"a", Number, []any{1.0, 2.0}}, {"b", Number, []any{nil, nil}}},
		},
		{
			name: "empty header names renamed",
			give: "a,,c\n1,2,3\n",
			want: []col{{"a", Number, []any{1.0}}, {"column_2", Number, []any{2.0}}, {"c", Number, []any{3.0}}},
		},
		{
			name:      "all-empty rows skipped",
			give:      "a,b\n1,2\n,\n \n3,4\n",
			want:      []col{{"a", Number, []any{1.0, 3.0}}, {"b", Number, []any{2.0, 4.0}}},
			wantLines: []int{2, 5},
		},
		{
			name: "mixed text makes a string column",
			give: "zip\n02134\nSW1A 1AA\n",
			want: []col{{"zip", String, []any{"02134", "SW1A 1AA"}}},
		},
		{
			name: "single column",
			give: "only\nx\ny",
			want: []col{{"only", String, []any{"x", "y"}}},
		},
		{
			name: "max rows",
			give: "a\n1\n2\n3\n",
			opts: &ReadOptions{MaxRows: 2},
			want: []col{{"a", Number, []any{1.0, 2.0}}},
		},
		{
			name: "explicit delimiter",
			give: "a;b,c\n1;2,5\n",
			opts: &ReadOptions{Comma: ';'},
			want: []col{{"a", Number, []any{1.0}}, {"b,c", Number, []any{2.5}}},
		},
		{
			name: "single column with decimal comma",
			give: "price\n1,5\n2\n",
			opts: &ReadOptions{Decimal: ','},
			want: []col{{"price", Number, []any{1.5, 2.0}}},
		},
		{
			name: "explicit decimal comma",
			give: "a;b\n1,250;2\n",
			opts: &ReadOptions{Decimal: ','},
			want: []col{{"a", Number, []any{1.25}}, {"b", Number, []any{2.0}}},
		},
		{
			name: "comma file keeps thousands",
			give: "a,b\n\"1,250\",x\n",
			want: []col{{"a", Number, []any{1250.0}}, {"b", String, []any{"x"}}},
		},
		{
			name: "semicolons inside a comma file",
			give: "id,tech_stack\n1,hubspot;aws;slack\n2,stripe\n",
			want: []col{{"id", Number, []any{1.0, 2.0}}, {"tech_stack", String, []any{"hubspot;aws;slack", "stripe"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(strings.NewReader(tt.give), "test.csv", tt.opts)
			if err != nil {
				t.Fatalf("Read(%q) error %v", tt.give, err)
			}
			if got.Source != "test.csv" {
				t.Errorf("Source = %q, want test.csv", got.Source)
			}
			checkTable(t, got, tt.want, tt.wantLines)
			if len(got.Lines) != got.Rows() {
				t.Errorf("len(Lines) = %d, want %d", len(got.Lines), got.Rows())
			}
		})
	}
}

func TestReadOneByteAtATime(t *testing.T) {
	give := "\uFEFFa;b\r1;x\r\r2;\"y\rz\"\r\n3;w"
	got, err := Read(iotest.OneByteReader(strings.NewReader(give)), "slow.csv", nil)
	if err != nil {
		t.Fatalf("Read error %v", err)
	}
	checkTable(t, got, []col{
		{"a", Number, []any{1.0, 2.0, 3.0}},
		{"b", String, []any{"x", "y\nz", "w"}},
	}, []int{2, 4, 6})
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name      string
		give      string
		opts      *ReadOptions
		wantIs    error
		wantLine  int
		wantCol   int
		wantField string
		wantText  []string
	}{
		{
			name: "ragged short row", give: "a,b,c\n1,2,3\n4,5\n",
			wantIs: ErrRagged, wantLine: 3, wantCol: 3, wantField: "c",
			wantText: []string{`test.csv: line 3, column 3 "c"`, "expected 3 fields, got 2"},
		},
		{
			name: "ragged long row", give: "a,b\n1,2\n\n4,5,6\n",
			wantIs: ErrRagged, wantLine: 4, wantCol: 3,
			wantText: []string{"line 4", "expected 2 fields, got 3"},
		},
		{
			name: "empty file", give: "", wantIs: ErrEmpty,
			wantText: []string{"test.csv: empty file"},
		},
		{name: "only a bom", give: "\uFEFF", wantIs: ErrEmpty},
		{name: "only newlines", give: "\n\r\n\r", wantIs: ErrEmpty},
		{
			name: "header only", give: "a,b\n", wantIs: ErrNoRows,
			wantText: []string{"test.csv: no data rows"},
		},
		{name: "header and empty rows", give: "a,b\n,\n", wantIs: ErrNoRows},
		{
			name: "duplicate header", give: "id,x,id\n1,2,3\n",
			wantIs: ErrHeader, wantLine: 1, wantCol: 3, wantField: "id",
			wantText: []string{`line 1, column 3 "id"`, "duplicate column name"},
		},
		{
			name: "bare quote", give: "a,b\n1,x\"y\n",
			wantLine: 2, wantText: []string{"line 2", "bare"},
		},
		{
			name: "unterminated quote", give: "a,b\n1,\"xy\n",
			wantLine: 2, wantCol: 2, wantField: "b", wantText: []string{`line 2, column 2 "b"`, "never closed"},
		},
		{
			name: "unterminated quote far from the end", give: "id,note,n\n1,ok,2\n2,\"opens here,3\n3,x,4\n4,y,5\n5,z,6\n",
			wantLine: 3, wantCol: 2, wantField: "note", wantText: []string{`line 3, column 2 "note"`, "ends at line"},
		},
		{
			name: "unterminated quote after a closed multi-line one", give: "a,b\n\"x\ny\",\"z\n1,2\n",
			wantLine: 3, wantCol: 2, wantField: "b",
		},
		{
			name: "unterminated quote in the header", give: "a,\"b\n1,2\n",
			wantLine: 1, wantCol: 2, wantText: []string{"line 1, column 2", "never closed"},
		},
		{
			name: "extraneous quote before an unterminated one", give: "a,b\n1,\"x\"y\n2,3\n3,\"open\n",
			wantLine: 2, wantText: []string{"line 2", "extraneous"},
		},
		{
			name: "unterminated quote with a tab delimiter", give: "a\tb\tc\n1\t2\t\"3\n",
			wantLine: 2, wantCol: 3, wantField: "c",
		},
		{
			name: "number out of range", give: "id,revenue\nA,12\nB,1e400\nC,3\n",
			wantIs: ErrOutOfRange, wantLine: 3, wantCol: 2, wantField: "revenue",
			wantText: []string{`line 3, column 2 "revenue"`, `"1e400"`},
		},
		{
			name: "negative currency out of range", give: "id;revenue\nA;12,5\nB;-$1e999\n",
			wantIs: ErrOutOfRange, wantLine: 3, wantCol: 2, wantField: "revenue",
		},
		{name: "bad delimiter option", give: "a\n1\n", opts: &ReadOptions{Comma: '"'}},
		{name: "bad decimal option", give: "a\n1\n", opts: &ReadOptions{Decimal: 'x'}},
		{name: "decimal equals delimiter", give: "a,b\n1,2\n", opts: &ReadOptions{Decimal: ','}},
		{name: "decimal equals explicit delimiter", give: "a\n1\n", opts: &ReadOptions{Comma: ',', Decimal: ','}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(strings.NewReader(tt.give), "test.csv", tt.opts)
			if err == nil {
				t.Fatalf("Read(%q) = %d rows, want an error", tt.give, got.Rows())
			}
			if !errors.Is(err, icp.ErrInvalid) {
				t.Errorf("Read(%q) error %v does not match icp.ErrInvalid", tt.give, err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Read(%q) error %v, want %v", tt.give, err, tt.wantIs)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Read(%q) error %T, want *ParseError", tt.give, err)
			}
			if pe.Source != "test.csv" || pe.Line != tt.wantLine || tt.wantCol != 0 && pe.Column != tt.wantCol ||
				pe.Field != tt.wantField {
				t.Errorf("Read(%q) error at %q line %d column %d %q, want line %d column %d %q",
					tt.give, pe.Source, pe.Line, pe.Column, pe.Field, tt.wantLine, tt.wantCol, tt.wantField)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Read(%q) error %q does not contain %q", tt.give, err, s)
				}
			}
		})
	}
}

func TestReadIOError(t *testing.T) {
	boom := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader("a,b\n1,2\n"), iotest.ErrReader(boom))
	_, err := Read(r, "x.csv", nil)
	if !errors.Is(err, boom) {
		t.Fatalf("Read error %v, want %v", err, boom)
	}
	if errors.Is(err, icp.ErrInvalid) {
		t.Errorf("Read I/O error %v matches icp.ErrInvalid", err)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "accounts.csv")
	if err := os.WriteFile(path, []byte("id,employees\na,10\nb,x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path, nil)
	if err != nil {
		t.Fatalf("ReadFile error %v", err)
	}
	if got.Source != path || got.Rows() != 2 || got.Column("employees").Kind != String {
		t.Errorf("ReadFile = %q with %d rows, employees %v", got.Source, got.Rows(), got.Column("employees").Kind)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.csv"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile(missing) error %v, want os.ErrNotExist", err)
	}
}

func TestCRReader(t *testing.T) {
	tests := []struct {
		give string
		want string
	}{
		{give: "a\rb", want: "a\nb"},
		{give: "a\r\nb", want: "a\r\nb"},
		{give: "a\r", want: "a\n"},
		{give: "a\r\r\n", want: "a\n\r\n"},
		{give: "\r\r\r", want: "\n\n\n"},
		{give: "no breaks", want: "no breaks"},
		{give: "", want: ""},
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data err": iotest.DataErrReader,
	}
	for _, tt := range tests {
		for name, wrap := range readers {
			t.Run(fmt.Sprintf("%q/%s", tt.give, name), func(t *testing.T) {
				got, err := io.ReadAll(&crReader{r: wrap(strings.NewReader(tt.give))})
				if err != nil || string(got) != tt.want {
					t.Errorf("crReader(%q) = %q, %v, want %q", tt.give, got, err, tt.want)
				}
			})
		}
	}
}

func TestSniffDelimiter(t *testing.T) {
	tests := []struct {
		name      string
		give      string
		truncated bool
		want      rune
	}{
		{name: "comma", give: "a,b,c\n1,2,3\n", want: ','},
		{name: "semicolon with decimal commas", give: "a;b\n1,5;2,5\n3,5;4\n", want: ';'},
		{name: "tab", give: "a\tb\n1\t2\n", want: '\t'},
		{name: "pipe", give: "a|b|c\n1|2|3\n", want: '|'},
		{name: "quoted commas ignored", give: "a;b\n\"x,y,z\";1\n\"p,q\";2\n", want: ';'},
		{name: "semicolons in a comma file", give: "id,tech\n1,a;b;c\n2,d;e\n", want: ','},
		{name: "single column", give: "name\nx\n", want: 0},
		{name: "empty", give: "", want: 0},
		{name: "leading blank lines", give: "\n\na;b\n1;2\n", want: ';'},
		{name: "in the header only", give: "a;b\nx\ny\n", want: 0},
		{name: "truncated last line ignored", give: "a;b\n1;2\n3,4,5,6,7", truncated: true, want: ';'},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sniffDelimiter([]byte(tt.give), tt.truncated); got != tt.want {
				t.Errorf("sniffDelimiter(%q) = %q, want %q", tt.give, got, tt.want)
			}
		})
	}
}

func TestWriteCSV(t *testing.T) {
	nan := math.NaN()
	tab := &Table{Columns: []*Column{
		{Name: "name", Kind: String, Str: []string{"Acme, Inc.", "", `say "hi"`}},
		{Name: "n", Kind: Number, Num: []float64{1200, 0.25, nan}},
		{Name: "big", Kind: Number, Num: []float64{1e21, -3, 1.5e-7}},
		{Name: "d", Kind: Date, Num: []float64{day(2024, 1, 2), day(2024, 1, 2) + 0.5, nan}},
		{Name: "b", Kind: Bool, Num: []float64{1, 0, nan}},
	}}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, tab); err != nil {
		t.Fatalf("WriteCSV error %v", err)
	}
	want := "name,n,big,d,b\n" +
		"\"Acme, Inc.\",1200,1e+21,2024-01-02,true\n" +
		",0.25,-3,2024-01-02T12:00:00Z,false\n" +
		"\"say \"\"hi\"\"\",,1.5e-07,,\n"
	if got := buf.String(); got != want {
		t.Errorf("WriteCSV =\n%s\nwant\n%s", got, want)
	}
}

// TestWriteReadRoundTrip checks that a table survives WriteCSV then Read
// with equal names, kinds and values (generated tables are checked in
// datasets/synth).
func TestWriteReadRoundTrip(t *testing.T) {
	t.Run("fractional dates", func(t *testing.T) {
		want := &Table{Columns: []*Column{
			{Name: "id", Kind: String, Str: []string{"a", "b", "c"}},
			{Name: "t", Kind: Date, Num: []float64{19724.5, 19724.123456, math.NaN()}},
			{Name: "x", Kind: Number, Num: []float64{math.Pi, -1e-300, 1.7976931348623157e308}},
		}}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, want); err != nil {
			t.Fatalf("WriteCSV error %v", err)
		}
		got, err := Read(&buf, "frac.csv", nil)
		if err != nil {
			t.Fatalf("Read error %v", err)
		}
		assertTablesEqual(t, got, want)
	})
}

func assertTablesEqual(t *testing.T, got, want *Table) {
	t.Helper()
	if got.Rows() != want.Rows() || len(got.Columns) != len(want.Columns) {
		t.Fatalf("table is %dx%d, want %dx%d", got.Rows(), len(got.Columns), want.Rows(), len(want.Columns))
	}
	for j, w := range want.Columns {
		g := got.Columns[j]
		if g.Name != w.Name || g.Kind != w.Kind {
			t.Fatalf("column %d = %q %v, want %q %v", j, g.Name, g.Kind, w.Name, w.Kind)
		}
		for i := range want.Rows() {
			if w.Kind == String {
				if g.Str[i] != w.Str[i] {
					t.Fatalf("column %q row %d = %q, want %q", w.Name, i, g.Str[i], w.Str[i])
				}
				continue
			}
			gv, wv := g.Num[i], w.Num[i]
			tol := 0.0
			if w.Kind == Date {
				tol = 1e-9 // microsecond rounding
			}
			if math.IsNaN(gv) != math.IsNaN(wv) || !math.IsNaN(wv) && math.Abs(gv-wv) > tol {
				t.Fatalf("column %q row %d = %v, want %v", w.Name, i, gv, wv)
			}
		}
	}
}

func FuzzRead(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n",
		"\uFEFFid;score\r\nx;1,5\r\ny;NA\r\n",
		"a\tb\rx\t\"q\"\"\"\r",
		"region,rev\nNA,\"$1,200\"\nEMEA,(5)\n",
		"d,b\n2024-01-02,true\n01/02/2024,\n",
		"name\nJos\xe9\n",
		"a,b\n1\n",
		"\"unterminated\n",
		"a,a\n1,2\n",
		"",
		",\n,\n",
		"x|y\n1|2\n3|4|5\n",
		"id,n\n1,1e400\n",
		"a,b\n1,\"open\n2,3\n",
		"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff",
		"PAR1\x00PAR1",
	} {
		f.Add([]byte(s))
	}
	f.Add(gzipBytes(f, []byte("id;x\nA;1,5\n")))
	f.Add(parquetBytes(f, sampleParquetRows()[:2], 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := Read(bytes.NewReader(data), "fuzz.csv", nil)
		if err != nil {
			if tab != nil {
				t.Fatalf("Read returned a table and error %v", err)
			}
			if !errors.Is(err, icp.ErrInvalid) {
				t.Fatalf("Read error %v does not match icp.ErrInvalid", err)
			}
			return
		}
		n := tab.Rows()
		if n == 0 || len(tab.Columns) == 0 {
			t.Fatalf("Read returned an empty table without error")
		}
		if len(tab.Lines) != n {
			t.Fatalf("len(Lines) = %d, want %d", len(tab.Lines), n)
		}
		seen := make(map[string]bool)
		for _, c := range tab.Columns {
			if c.Len() != n {
				t.Fatalf("column %q has %d values, want %d", c.Name, c.Len(), n)
			}
			if c.Name == "" || seen[c.Name] {
				t.Fatalf("column name %q empty or repeated", c.Name)
			}
			seen[c.Name] = true
			if (c.Kind == String) != (c.Str != nil) || (c.Kind == String) == (c.Num != nil) {
				t.Fatalf("column %q of kind %v has Str %v Num %v", c.Name, c.Kind, c.Str != nil, c.Num != nil)
			}
			for i := range n {
				if c.Kind != String && math.IsInf(c.Num[i], 0) {
					t.Fatalf("column %q row %d is infinite", c.Name, i)
				}
				if c.Kind == Bool && !math.IsNaN(c.Num[i]) && c.Num[i] != 0 && c.Num[i] != 1 {
					t.Fatalf("bool column %q row %d = %v", c.Name, i, c.Num[i])
				}
			}
		}
		for i := 1; i < n; i++ {
			if tab.Lines[i] <= tab.Lines[i-1] {
				t.Fatalf("Lines not increasing: %v", tab.Lines)
			}
		}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, tab); err != nil {
			t.Fatalf("WriteCSV error %v", err)
		}
		// The written table must read back; its values may differ only
		// where a cell was a missing marker or a row became all empty.
		again := &ReadOptions{Comma: ','}
		if _, err := Read(&buf, "again.csv", again); err != nil && !errors.Is(err, ErrNoRows) {
			t.Fatalf("Read(WriteCSV(t)) error %v", err)
		}
	})
}
