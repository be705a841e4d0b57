package server_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"math"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/server"
)

// ignoredFields decodes the X-ICP-Ignored-Fields value v.
func ignoredFields(t *testing.T, v string) []string {
	t.Helper()
	if v == "" {
		return nil
	}
	var out []string
	for _, n := range strings.Split(v, ",") {
		name, err := url.PathUnescape(n)
		if err != nil {
			t.Fatalf("%s %q: %v", server.IgnoredFieldsHeader, v, err)
		}
		out = append(out, name)
	}
	return out
}

func TestScoreUnknownFields(t *testing.T) {
	p := trainProfile(t)
	h := newBatchServer(t, server.Config{Scorer: p})
	clean := decodeJSON[icp.Score](t, serveJSON(h, "/v1/score", account("A-1")))
	tests := []struct {
		name        string
		query       string
		body        string
		want        int
		wantIgnored []string
		wantFields  []string
	}{
		{name: "refused by default", body: with("industy", `"SaaS"`), want: 400, wantFields: []string{"industy"}},
		{name: "refused on request", query: "?unknown=reject", body: with("industy", `"SaaS"`), want: 400, wantFields: []string{"industy"}},
		{name: "ignored on request", query: "?unknown=ignore", body: with("industy", `"SaaS"`), want: 200, wantIgnored: []string{"industy"}},
		{name: "a malformed value of an ignored field", query: "?unknown=ignore", body: with("crm", `{"owner":["x",1]}`), want: 200, wantIgnored: []string{"crm"}},
		{name: "names that need escaping", query: "?unknown=ignore", body: with("Owner, Name", `"Ann"`), want: 200,
			wantIgnored: []string{"Owner, Name"}},
		{name: "a bad value of a known field", query: "?unknown=ignore", body: strings.Replace(with("industy", `1`), `"employees":180`, `"employees":-1`, 1),
			want: 400, wantIgnored: []string{"industy"}, wantFields: []string{"employees"}},
		{name: "a repeated unknown field", query: "?unknown=ignore", body: `{"x":1,"x":2}`, want: 400, wantIgnored: []string{"x"}, wantFields: []string{"x"}},
		{name: "bad parameter", query: "?unknown=drop", body: account("A-1"), want: 400, wantFields: []string{"unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serveJSON(h, "/v1/score"+tt.query, tt.body)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.want, rec.Body)
			}
			if got := ignoredFields(t, rec.Header().Get(server.IgnoredFieldsHeader)); !slices.Equal(got, tt.wantIgnored) {
				t.Errorf("ignored = %q, want %q", got, tt.wantIgnored)
			}
			if tt.want == 200 {
				got := decodeJSON[icp.Score](t, rec)
				if got.AccountID != "A-1" || math.Abs(got.Score-clean.Score) > 1e-12 {
					t.Errorf("score = %+v, want that of the account without the ignored fields %+v", got, clean)
				}
				return
			}
			var named []string
			for _, f := range decodeJSON[errorAnswer](t, rec).Fields {
				named = append(named, f.Field)
			}
			for _, f := range tt.wantFields {
				if !slices.Contains(named, f) {
					t.Errorf("fields = %v, want %s named", named, f)
				}
			}
		})
	}
}

// oneLineAtATime returns the body one line per Read, as a client that
// sends while it reads, so that each line is answered before the next
// arrives.
type oneLineAtATime struct{ rest []byte }

func (r *oneLineAtATime) Read(p []byte) (int, error) {
	if len(r.rest) == 0 {
		return 0, io.EOF
	}
	n := bytes.IndexByte(r.rest, '\n') + 1
	if n == 0 {
		n = len(r.rest)
	}
	n = copy(p, r.rest[:n])
	r.rest = r.rest[n:]
	return n, nil
}

func TestScoreBatchUnknownFields(t *testing.T) {
	p := trainProfile(t)
	h := newBatchServer(t, server.Config{Scorer: p})

	t.Run("JSON array refuses by default", func(t *testing.T) {
		rec := postBatch(h, "application/json", "", strings.NewReader(array(account("A-0"), with("industy", `"x"`))))
		if rec.Code != 400 || !slices.ContainsFunc(decodeJSON[errorAnswer](t, rec).Fields, func(f icp.FieldError) bool { return f.Field == "[1].industy" }) {
			t.Errorf("status %d, body %s; want 400 naming [1].industy", rec.Code, rec.Body)
		}
	})
	t.Run("JSON array ignores on request", func(t *testing.T) {
		rec := postBatch(h, "application/json", "?unknown=ignore",
			strings.NewReader(array(account("A-0"), with("industy", `"x"`), with("crm", `{"a":[1]}`))))
		got := decodeJSON[batchAnswer](t, rec)
		if rec.Code != 200 || got.Count != 3 {
			t.Fatalf("status %d, body %.300s; want 200 with 3 scores", rec.Code, rec.Body)
		}
		if ign := ignoredFields(t, rec.Header().Get(server.IgnoredFieldsHeader)); !slices.Equal(ign, []string{"crm", "industy"}) {
			t.Errorf("ignored = %q, want crm, industy", ign)
		}
	})
	t.Run("NDJSON names late fields in a trailer", func(t *testing.T) {
		body := strings.Join([]string{with("owner", `"ann"`), account("A-1"), with("notes", `{"a":1}`), with("industy", `"x"`)}, "\n")
		rec := postBatch(h, "application/x-ndjson", "", &oneLineAtATime{rest: []byte(body)})
		res := rec.Result()
		lines := readNDJSON(t, rec.Body.Bytes())
		if res.StatusCode != 200 || len(lines) != 4 {
			t.Fatalf("status %d, %d lines; want 200 and 4 scores: %s", res.StatusCode, len(lines), rec.Body)
		}
		for i, l := range lines {
			if l.Error != "" || l.AccountID != "A-1" {
				t.Errorf("line %d = %+v, want a score of A-1", i+1, l)
			}
		}
		if ign := ignoredFields(t, res.Header.Get(server.IgnoredFieldsHeader)); !slices.Equal(ign, []string{"owner"}) {
			t.Errorf("header: ignored = %q, want owner (the only one before the answer began)", ign)
		}
		if ign := ignoredFields(t, res.Trailer.Get(server.IgnoredFieldsHeader)); !slices.Equal(ign, []string{"industy", "notes", "owner"}) {
			t.Errorf("trailer: ignored = %q, want industy, notes, owner", ign)
		}
	})
	t.Run("NDJSON refuses on request", func(t *testing.T) {
		rec := postBatch(h, "application/x-ndjson", "?unknown=reject", strings.NewReader(with("industy", `"x"`)+"\n"))
		lines := readNDJSON(t, rec.Body.Bytes())
		if len(lines) != 1 || !slices.ContainsFunc(lines[0].Fields, func(f icp.FieldError) bool { return f.Field == "industy" }) {
			t.Errorf("answer %s, want an error line naming industy", rec.Body)
		}
		if v := rec.Header().Get(server.IgnoredFieldsHeader); v != "" {
			t.Errorf("ignored = %q, want none", v)
		}
	})
	t.Run("CSV ignores unknown columns unchecked", func(t *testing.T) {
		header := []string{"account_id", "Owner, Name", "industry", "notes", "employees"}
		body := csvBody(t, header,
			[]string{"A-1", "Ann", "SaaS", "called \"twice\"", "180"},
			[]string{"A-2", "Bob\xff", "Retail", strings.Repeat("x", 10<<10), "12"},
		)
		rec := postBatch(h, "text/csv", "", strings.NewReader(body))
		if rec.Code != 200 {
			t.Fatalf("status %d, want 200; body %s", rec.Code, rec.Body)
		}
		if ign := ignoredFields(t, rec.Header().Get(server.IgnoredFieldsHeader)); !slices.Equal(ign, []string{"Owner, Name", "notes"}) {
			t.Errorf("ignored = %q, want Owner, Name and notes", ign)
		}
		rows, err := csv.NewReader(rec.Body).ReadAll()
		if err != nil || len(rows) != 3 || rows[1][1] != "A-1" || rows[2][1] != "A-2" || rows[1][13] != "" || rows[2][13] != "" {
			t.Errorf("answer %q (%v), want the scores of A-1 and A-2", rows, err)
		}
	})
}

// TestScoreBatchCSVLongRecord sends a quote that never closes: the record
// it opens grows past the cap of one record, and the stream ends there
// with an error row, after the rows before it were answered.
func TestScoreBatchCSVLongRecord(t *testing.T) {
	p := trainProfile(t)
	h := newBatchServer(t, server.Config{Scorer: p, MaxBodyBytes: 4 << 10})
	body := "account_id,industry\nA-1,SaaS\nA-2,\"Retail\n" + strings.Repeat("A-3,SaaS\n", 20000)
	rec := postBatch(h, "text/csv", "", chunked{strings.NewReader(body)})
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if rec.Code != 200 || err != nil || len(rows) != 3 {
		t.Fatalf("status %d, %d rows (%v), want 200 and 3 rows: %.500s", rec.Code, len(rows), err, rec.Body)
	}
	if rows[1][1] != "A-1" || rows[1][13] != "" {
		t.Errorf("row 1 = %q, want the score of A-1", rows[1])
	}
	if rows[2][0] != "3" || !strings.Contains(rows[2][13], "record longer than 4096 bytes") {
		t.Errorf("row 2 = %q, want the end of the stream at line 3, where the quote opens", rows[2])
	}
}
