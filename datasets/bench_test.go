package datasets_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math"
	"testing"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/parquet-go/parquet-go"
)

// benchAccount is a row of the generated table as a Parquet writer stores
// it: numbers as optional doubles, the rest as optional text.
type benchAccount struct {
	AccountID string   `parquet:"account_id"`
	Industry  *string  `parquet:"industry,optional"`
	Employees *float64 `parquet:"employees,optional"`
	Revenue   *float64 `parquet:"annual_revenue_usd,optional"`
	Country   *string  `parquet:"country,optional"`
	TechStack *string  `parquet:"tech_stack,optional"`
	Visits    *float64 `parquet:"web_visits_30d,optional"`
	Outcome   string   `parquet:"outcome"`
	CloseDate string   `parquet:"close_date"`
	LTV       float64  `parquet:"ltv_usd"`
}

// benchInputs returns the same generated table as CSV, gzip CSV and Parquet.
func benchInputs(b *testing.B, rows int) map[string][]byte {
	tab, _ := synth.Generate(synth.Config{Rows: rows, Seed: 1})
	var csvBuf bytes.Buffer
	if err := datasets.WriteCSV(&csvBuf, tab); err != nil {
		b.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(csvBuf.Bytes()); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	str := func(name string, i int) *string {
		if s := tab.Column(name).Text(i); s != "" {
			return &s
		}
		return nil
	}
	f64 := func(name string, i int) *float64 {
		if v := tab.Column(name).Num[i]; !math.IsNaN(v) {
			return &v
		}
		return nil
	}
	recs := make([]benchAccount, rows)
	for i := range recs {
		recs[i] = benchAccount{
			AccountID: tab.Column("account_id").Str[i], Industry: str("industry", i),
			Employees: f64("employees", i), Revenue: f64("annual_revenue_usd", i), Country: str("country", i),
			TechStack: str("tech_stack", i), Visits: f64("web_visits_30d", i),
			Outcome: tab.Column("outcome").Str[i], CloseDate: tab.Column("close_date").Text(i),
			LTV: tab.Column("ltv_usd").Num[i],
		}
	}
	var pq bytes.Buffer
	if err := parquet.Write(&pq, recs); err != nil {
		b.Fatal(err)
	}
	return map[string][]byte{"csv": csvBuf.Bytes(), "gzip": gz.Bytes(), "parquet": pq.Bytes()}
}

func BenchmarkRead(b *testing.B) {
	for _, rows := range []int{10_000, 100_000} {
		inputs := benchInputs(b, rows)
		for _, format := range []string{"csv", "gzip", "parquet"} {
			data := inputs[format]
			b.Run(fmt.Sprintf("%s/rows=%d", format, rows), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					if _, err := datasets.Read(bytes.NewReader(data), "bench", nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
