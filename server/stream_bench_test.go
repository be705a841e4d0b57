package server_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/icpengine/icp/datasets/synth"
)

// csvAccounts returns n generated accounts as a CSV body with a header
// row, the same accounts and columns as distinctAccounts.
func csvAccounts(t testing.TB, n int) string {
	t.Helper()
	tab, _ := synth.Generate(synth.Config{Rows: n, Seed: 9})
	cols := []string{"account_id", "industry", "employees", "annual_revenue_usd", "country", "region", "founded_year",
		"funding_stage", "business_model", "tech_stack", "web_visits_30d", "trial_users", "support_tickets_90d"}
	var b strings.Builder
	w := csv.NewWriter(&b)
	if err := w.Write(cols); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		row := make([]string, len(cols))
		row[0] = "A-" + strconv.Itoa(i)
		for j, name := range cols[1:] {
			if c := tab.Column(name); c != nil {
				row[j+1] = c.Text(i)
			}
		}
		if err := w.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// BenchmarkScoreBatchStreams measures one POST /v1/score/batch of 1,000
// accounts as an NDJSON and as a CSV stream, through the whole middleware
// chain with an API key, on a real model, with and without attributions.
func BenchmarkScoreBatchStreams(b *testing.B) {
	p := trainProfile(b)
	h, key := benchHandler(b, p)
	bodies := []struct {
		name, ct, body string
	}{
		{"ndjson", "application/x-ndjson", strings.Join(distinctAccounts(b, 1000), "\n") + "\n"},
		{"csv", "text/csv", csvAccounts(b, 1000)},
	}
	for _, bb := range bodies {
		for _, query := range []string{"", "?attributions=false"} {
			b.Run(bb.name+"/attributions="+strconv.FormatBool(query == ""), func(b *testing.B) {
				body := []byte(bb.body)
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				defer reportCPU(b, cpuTime(b))
				for b.Loop() {
					req := httptest.NewRequest(http.MethodPost, "/v1/score/batch"+query, bytes.NewReader(body))
					req.Header.Set("Content-Type", bb.ct)
					req.Header.Set("Authorization", "Bearer "+key)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"error"`)) {
						b.Fatalf("status = %d: %.300s", w.Code, w.Body)
					}
				}
				b.ReportMetric(1000*float64(b.N)/b.Elapsed().Seconds(), "accounts/s")
			})
		}
	}
}
