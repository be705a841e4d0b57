package datasets

import (
	"bytes"
	"compress/gzip"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
)

// gzipBytes compresses data in the test.
func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const formatsCSV = "account_id;revenue;close_date;churned;tech_stack\r\n" +
	"A-1;\"$1,200\";03/01/2024;yes;\"Slack, AWS\"\r\n" +
	"A-2;12,5;2024-03-02;no;\r\n" +
	"A-3;;;;hubspot\r\n"

func TestReadGzip(t *testing.T) {
	want, err := Read(strings.NewReader(formatsCSV), "plain.csv", nil)
	if err != nil {
		t.Fatalf("Read(plain) error %v", err)
	}
	gz := gzipBytes(t, []byte(formatsCSV))
	got, err := Read(bytes.NewReader(gz), "export.csv.gz", nil)
	if err != nil {
		t.Fatalf("Read(gzip) error %v", err)
	}
	assertTablesEqual(t, got, want)
	if !slicesEqual(got.Lines, want.Lines) {
		t.Errorf("gzip Lines = %v, want %v", got.Lines, want.Lines)
	}

	// Sniffed by content: a gzip file named .csv, and twice compressed.
	path := filepath.Join(t.TempDir(), "accounts.csv")
	if err := os.WriteFile(path, gzipBytes(t, gz), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err = ReadFile(path, nil)
	if err != nil {
		t.Fatalf("ReadFile(gzip named .csv) error %v", err)
	}
	assertTablesEqual(t, got, want)
	if got.Source != path {
		t.Errorf("Source = %q, want %q", got.Source, path)
	}

	// Errors inside the compressed text keep their line and column.
	bad := gzipBytes(t, []byte("id,n\nA,1\nB,2,3\n"))
	_, err = Read(bytes.NewReader(bad), "bad.csv.gz", nil)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 3 || !errors.Is(err, ErrRagged) {
		t.Errorf("Read(ragged gzip) error %v, want line 3 wrong number of fields", err)
	}
}

func TestReadGzipCorrupt(t *testing.T) {
	gz := gzipBytes(t, []byte(strings.Repeat("id,n\nA,1\n", 200)))
	flipped := bytes.Clone(gz)
	flipped[len(flipped)-6] ^= 0xff // the CRC-32 trailer
	tests := []struct {
		name string
		give []byte
	}{
		{name: "truncated", give: gz[:len(gz)/2]},
		{name: "bad checksum", give: flipped},
		{name: "bad header", give: []byte{0x1f, 0x8b, 0xff, 0, 0, 0, 0, 0, 0, 0}},
		{name: "magic only", give: []byte{0x1f, 0x8b}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(bytes.NewReader(tt.give), "bad.gz", nil)
			if err == nil {
				t.Fatalf("Read(%s) = %d rows, want an error", tt.name, got.Rows())
			}
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, icp.ErrInvalid) || pe.Source != "bad.gz" {
				t.Errorf("Read(%s) error %v (%T), want a *ParseError of bad.gz matching icp.ErrInvalid", tt.name, err, err)
			}
			if !strings.Contains(err.Error(), "gzip") {
				t.Errorf("Read(%s) error %q does not say gzip", tt.name, err)
			}
		})
	}
}

// parquetAccount is the row type of the Parquet files built in the tests.
type parquetAccount struct {
	ID        string   `parquet:"account_id"`
	Employees *int64   `parquet:"employees,optional"`
	Revenue   float64  `parquet:"annual_revenue"`
	Won       bool     `parquet:"won"`
	Closed    int32    `parquet:"close_date,date"`
	Seen      int64    `parquet:"last_seen,timestamp(millisecond)"`
	Amount    int64    `parquet:"amount,decimal(2:18)"`
	Seats     uint32   `parquet:"seats"`
	Signup    string   `parquet:"signup"` // text, typed as a date by the CSV rules
	ARR       string   `parquet:"arr"`    // text, typed as a number
	Industry  *string  `parquet:"industry,optional"`
	Tags      []string `parquet:"tech_stack,list"`
}

// parquetBytes writes rows as a Parquet file in the test, in row groups of
// at most perGroup rows.
func parquetBytes[T any](t testing.TB, rows []T, perGroup int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf)
	for len(rows) > 0 {
		k := min(perGroup, len(rows))
		if _, err := w.Write(rows[:k]); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		rows = rows[k:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ptr[T any](v T) *T { return &v }

func sampleParquetRows() []parquetAccount {
	jan2 := int32(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	noon := time.Date(2024, 1, 2, 12, 0, 0, 0, time.UTC).UnixMilli()
	return []parquetAccount{
		{ID: "A-1", Employees: ptr[int64](120), Revenue: 2.5e6, Won: true, Closed: jan2, Seen: noon,
			Amount: 123456, Seats: 4_000_000_000, Signup: "03/01/2023", ARR: "$1,200", Industry: ptr("SaaS"),
			Tags: []string{"Slack", "AWS"}},
		{ID: "A-2", Revenue: math.NaN(), Closed: jan2 + 1, Seen: noon - 86_400_000, Amount: -5,
			Signup: "2023-03-02", ARR: "", Tags: nil},
		{ID: "A-3", Employees: ptr[int64](0), Revenue: -1, Won: false, Closed: -1, Seen: 0,
			Signup: "", ARR: "N/A", Industry: ptr("NA"), Tags: []string{"hubspot"}},
	}
}

func TestReadParquet(t *testing.T) {
	rows := sampleParquetRows()
	data := parquetBytes(t, rows, 2) // two row groups
	jan2 := day(2024, 1, 2)
	nan := math.NaN()
	want := &Table{Columns: []*Column{
		{Name: "account_id", Kind: String, Str: []string{"A-1", "A-2", "A-3"}},
		{Name: "employees", Kind: Number, Num: []float64{120, nan, 0}},
		{Name: "annual_revenue", Kind: Number, Num: []float64{2.5e6, nan, -1}},
		{Name: "won", Kind: Bool, Num: []float64{1, 0, 0}},
		{Name: "close_date", Kind: Date, Num: []float64{jan2, jan2 + 1, -1}},
		{Name: "last_seen", Kind: Date, Num: []float64{jan2 + 0.5, jan2 - 0.5, 0}},
		{Name: "amount", Kind: Number, Num: []float64{1234.56, -0.05, 0}},
		{Name: "seats", Kind: Number, Num: []float64{4e9, 0, 0}},
		{Name: "signup", Kind: Date, Num: []float64{day(2023, 3, 1), day(2023, 3, 2), nan}},
		{Name: "arr", Kind: Number, Num: []float64{1200, nan, nan}},
		{Name: "industry", Kind: String, Str: []string{"SaaS", "", "NA"}},
		{Name: "tech_stack", Kind: String, Str: []string{"Slack;AWS", "", "hubspot"}},
	}}
	got, err := Read(bytes.NewReader(data), "accounts.parquet", nil)
	if err != nil {
		t.Fatalf("Read(parquet) error %v", err)
	}
	assertTablesEqual(t, got, want)
	if !slicesEqual(got.Lines, []int{1, 2, 3}) || got.Source != "accounts.parquet" {
		t.Errorf("Lines %v Source %q, want [1 2 3] accounts.parquet", got.Lines, got.Source)
	}

	// ReadFile reads in place, whatever the name; gzip around Parquet works too.
	dir := t.TempDir()
	for name, content := range map[string][]byte{"accounts.csv": data, "accounts.bin": gzipBytes(t, data)} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(path, nil)
		if err != nil {
			t.Fatalf("ReadFile(%s) error %v", name, err)
		}
		assertTablesEqual(t, got, want)
	}

	// MaxRows stops early, across row groups.
	got, err = Read(bytes.NewReader(data), "accounts.parquet", &ReadOptions{MaxRows: 2})
	if err != nil {
		t.Fatalf("Read(MaxRows 2) error %v", err)
	}
	assertTablesEqual(t, got, want.Take([]int{0, 1}))

	// WriteCSV then Read gives the same table as the Parquet file.
	var buf bytes.Buffer
	if err := WriteCSV(&buf, got); err != nil {
		t.Fatal(err)
	}
	again, err := Read(&buf, "again.csv", nil)
	if err != nil {
		t.Fatalf("Read(WriteCSV(parquet)) error %v", err)
	}
	for _, c := range again.Columns {
		if w := want.Column(c.Name); w.Kind != c.Kind {
			t.Errorf("column %q reads back as %v, want %v", c.Name, c.Kind, w.Kind)
		}
	}
}

func TestReadParquetErrors(t *testing.T) {
	type inf struct {
		ID string  `parquet:"id"`
		X  float64 `parquet:"x"`
	}
	type text struct {
		ID  string `parquet:"id"`
		Rev string `parquet:"revenue"`
	}
	type nested struct {
		ID   string     `parquet:"id"`
		Tags [][]string `parquet:"tags,list"`
	}
	valid := parquetBytes(t, sampleParquetRows(), 10)
	tests := []struct {
		name      string
		give      []byte
		wantIs    error
		wantRow   int
		wantCol   int
		wantField string
		wantText  string
	}{
		{
			name: "infinite double", give: parquetBytes(t, []inf{{"a", 1}, {"b", math.Inf(1)}}, 10),
			wantIs: ErrOutOfRange, wantRow: 2, wantCol: 2, wantField: "x", wantText: `row 2, column 2 "x"`,
		},
		{
			name: "text number out of range", give: parquetBytes(t, []text{{"a", "12"}, {"b", "3"}, {"c", "1e400"}}, 10),
			wantIs: ErrOutOfRange, wantRow: 3, wantCol: 2, wantField: "revenue",
		},
		{
			name: "list of lists", give: parquetBytes(t, []nested{{"a", [][]string{{"x"}}}}, 10),
			wantCol: 2, wantField: "tags", wantText: "lists of lists",
		},
		{name: "no rows", give: parquetBytes(t, []inf{}, 10), wantIs: ErrNoRows},
		{name: "magic only", give: []byte("PAR1")},
		{name: "truncated", give: valid[:len(valid)-20]},
		{name: "footer only", give: append([]byte("PAR1"), valid[len(valid)-8:]...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(bytes.NewReader(tt.give), "bad.parquet", nil)
			if err == nil {
				t.Fatalf("Read(%s) = %d rows, want an error", tt.name, got.Rows())
			}
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, icp.ErrInvalid) {
				t.Fatalf("Read(%s) error %v (%T), want a *ParseError matching icp.ErrInvalid", tt.name, err, err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Read(%s) error %v, want %v", tt.name, err, tt.wantIs)
			}
			if pe.Source != "bad.parquet" || pe.Row != tt.wantRow || pe.Column != tt.wantCol || pe.Field != tt.wantField {
				t.Errorf("Read(%s) error at %q row %d column %d %q, want row %d column %d %q",
					tt.name, pe.Source, pe.Row, pe.Column, pe.Field, tt.wantRow, tt.wantCol, tt.wantField)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Read(%s) error %q does not contain %q", tt.name, err, tt.wantText)
			}
		})
	}
}

func FuzzReadParquet(f *testing.F) {
	f.Add(parquetBytes(f, sampleParquetRows(), 2))
	f.Add([]byte("PAR1PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := Read(bytes.NewReader(data), "fuzz.parquet", &ReadOptions{MaxRows: 1000})
		if err != nil {
			if !errors.Is(err, icp.ErrInvalid) {
				t.Fatalf("Read error %v does not match icp.ErrInvalid", err)
			}
			return
		}
		for _, c := range tab.Columns {
			if c.Len() != tab.Rows() {
				t.Fatalf("column %q has %d values, want %d", c.Name, c.Len(), tab.Rows())
			}
			if c.Kind != String {
				for i, v := range c.Num {
					if math.IsInf(v, 0) {
						t.Fatalf("column %q row %d is infinite", c.Name, i)
					}
				}
			}
		}
	})
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReadParquetLegacyTypes(t *testing.T) {
	type legacy struct {
		ID    string           `parquet:"id"`
		Price [9]byte          `parquet:"price,decimal(3:20)"`
		Seen  deprecated.Int96 `parquet:"seen"`
		Small int8             `parquet:"small"`
	}
	// 2024-01-02 18:00 UTC as an INT96: nanoseconds of the day, then the
	// Julian day.
	nanos := uint64(18 * time.Hour)
	seen := deprecated.Int96{uint32(nanos), uint32(nanos >> 32), uint32(julianUnixEpoch + 19724)}
	neg := [9]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x0c} // -500
	rows := []legacy{
		{ID: "a", Price: [9]byte{0, 0, 0, 0, 0, 0, 0, 0x30, 0x39}, Seen: seen, Small: -3}, // 12345
		{ID: "b", Price: neg, Seen: deprecated.Int96{0, 0, julianUnixEpoch}, Small: 7},
	}
	got, err := Read(bytes.NewReader(parquetBytes(t, rows, 10)), "legacy.parquet", nil)
	if err != nil {
		t.Fatalf("Read error %v", err)
	}
	want := &Table{Columns: []*Column{
		{Name: "id", Kind: String, Str: []string{"a", "b"}},
		{Name: "price", Kind: Number, Num: []float64{12.345, -0.5}},
		{Name: "seen", Kind: Date, Num: []float64{19724.75, 0}},
		{Name: "small", Kind: Number, Num: []float64{-3, 7}},
	}}
	assertTablesEqual(t, got, want)
}
