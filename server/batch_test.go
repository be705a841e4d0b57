package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/auth"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/server"
	"github.com/icpengine/icp/train"
)

// The profile is the batch-capable scorer the server type-asserts.
var (
	_ server.BatchScorer    = (*profile.Profile)(nil)
	_ server.ModelVersioner = (*profile.Profile)(nil)
)

// batchProfile is a small real profile trained on generated data, once
// for the tests of this file: training is their slow part, and scoring
// does not change a profile.
var batchProfile = sync.OnceValues(func() (*profile.Profile, error) {
	tab, _ := synth.Generate(synth.Config{Rows: 1500, Seed: 2})
	return train.Train(tab, features.Infer(tab, features.InferConfig{}), train.Config{Seed: 1})
})

// trainProfile returns batchProfile.
func trainProfile(t testing.TB) *profile.Profile {
	t.Helper()
	p, err := batchProfile()
	if err != nil {
		t.Fatalf("train: %v", err)
	}
	return p
}

// plainScorer hides the batch method of a profile, so that the server
// falls back to scoring account by account.
type plainScorer struct{ p *profile.Profile }

func (s plainScorer) Score(ctx context.Context, acc icp.Account) (icp.Score, error) {
	return s.p.Score(ctx, acc)
}

// countObserver counts the scores offered to it.
type countObserver struct{ n atomic.Int64 }

func (o *countObserver) ObserveScore(icp.ScoredAccount) bool { o.n.Add(1); return true }

func newBatchServer(t testing.TB, cfg server.Config) http.Handler {
	t.Helper()
	cfg.AllowUnauthenticated = true
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s.Handler()
}

// account returns the valid test account with the given id.
func account(id string) string { return with("account_id", strconv.Quote(id)) }

// array joins JSON accounts into an array.
func array(accs ...string) string { return "[" + strings.Join(accs, ",") + "]" }

func postBatch(h http.Handler, ct, query string, body io.Reader) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/v1/score/batch"+query, body)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// batchAnswer is the JSON answer of the batch route.
type batchAnswer struct {
	ModelVersion string      `json:"model_version"`
	Count        int         `json:"count"`
	Scores       []icp.Score `json:"scores"`
}

// errorAnswer is an error answer.
type errorAnswer struct {
	Error  string           `json:"error"`
	Detail string           `json:"detail"`
	Fields []icp.FieldError `json:"fields"`
	Limit  int64            `json:"limit"`
}

func decodeJSON[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %.300q: %v", rec.Body.String(), err)
	}
	return v
}

// distinctAccounts returns n generated accounts as JSON objects of their
// feature fields, with ids, ...
func distinctAccounts(t testing.TB, n int) []string {
	t.Helper()
	tab, _ := synth.Generate(synth.Config{Rows: n, Seed: 9})
	keep := []string{"industry", "employees", "annual_revenue_usd", "country", "region", "founded_year",
		"funding_stage", "business_model", "tech_stack", "web_visits_30d", "trial_users", "support_tickets_90d"}
	out := make([]string, n)
	for i := range n {
		acc := tab.Account(i)
		sub := icp.Account{"account_id": "A-" + strconv.Itoa(i)}
		for _, k := range keep {
			if v, ok := acc[k]; ok {
				sub[k] = v
			}
		}
		b, err := json.Marshal(sub)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	return out
}

func TestScoreBatchArray(t *testing.T) {
	p := trainProfile(t)
	accs := distinctAccounts(t, 150)
	single := newBatchServer(t, server.Config{Scorer: p})
	want := make([]icp.Score, len(accs))
	for i, a := range accs {
		rec := serveJSON(single, "/v1/score", a)
		if rec.Code != http.StatusOK {
			t.Fatalf("POST /v1/score %s = %d: %s", a, rec.Code, rec.Body)
		}
		want[i] = decodeJSON[icp.Score](t, rec)
	}
	tests := []struct {
		name         string
		scorer       server.Scorer
		query        string
		attributions bool
	}{
		{name: "batch scorer", scorer: p, attributions: true},
		{name: "batch scorer without attributions", scorer: p, query: "?attributions=false"},
		{name: "plain scorer", scorer: plainScorer{p}, attributions: true},
		{name: "plain scorer without attributions", scorer: plainScorer{p}, query: "?attributions=0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := &countObserver{}
			h := newBatchServer(t, server.Config{Scorer: tt.scorer, Ops: server.OpsConfig{Scores: obs}})
			rec := postBatch(h, "application/json", tt.query, strings.NewReader(array(accs...)))
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %.300s", rec.Code, rec.Body)
			}
			got := decodeJSON[batchAnswer](t, rec)
			if got.ModelVersion != p.Version || got.Count != len(accs) || len(got.Scores) != len(accs) {
				t.Fatalf("answer = version %q, count %d, %d scores; want %q, %d, %d",
					got.ModelVersion, got.Count, len(got.Scores), p.Version, len(accs), len(accs))
			}
			for i, sc := range got.Scores {
				w := want[i]
				if sc.AccountID != w.AccountID || sc.ModelVersion != w.ModelVersion || sc.Tier != w.Tier ||
					math.Abs(sc.Score-w.Score) > 1e-9 || math.Abs(sc.Margin-w.Margin) > 1e-9 ||
					math.Abs(sc.BaseValue-w.BaseValue) > 1e-9 || math.Abs(sc.Percentile-w.Percentile) > 1e-6 ||
					(sc.Segment == nil) != (w.Segment == nil) || (sc.AntiICP == nil) != (w.AntiICP == nil) {
					t.Fatalf("scores[%d] = %+v, want %+v (as POST /v1/score)", i, sc, w)
				}
				if sc.Segment != nil && (sc.Segment.ID != w.Segment.ID || math.Abs(sc.Segment.Distance-w.Segment.Distance) > 1e-9) {
					t.Errorf("scores[%d].Segment = %+v, want %+v", i, sc.Segment, w.Segment)
				}
				switch {
				case tt.attributions && len(sc.Attributions) != len(w.Attributions):
					t.Errorf("scores[%d] has %d attributions, want %d", i, len(sc.Attributions), len(w.Attributions))
				case !tt.attributions && sc.Attributions != nil:
					t.Errorf("scores[%d].Attributions = %v, want none", i, sc.Attributions)
				}
			}
			if n := obs.n.Load(); n != int64(len(accs)) {
				t.Errorf("observed %d scores, want %d", n, len(accs))
			}
		})
	}
}

func serveJSON(h http.Handler, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestScoreBatchEmptyArray(t *testing.T) {
	p := trainProfile(t)
	for _, body := range []string{"[]", " [ ] \n"} {
		rec := postBatch(newBatchServer(t, server.Config{Scorer: p}), "application/json", "", strings.NewReader(body))
		got := decodeJSON[batchAnswer](t, rec)
		if rec.Code != http.StatusOK || got.Count != 0 || got.Scores == nil || got.ModelVersion != p.Version {
			t.Errorf("POST %q = %d %s, want 200 with no scores and the model version", body, rec.Code, rec.Body)
		}
	}
}

// TestScoreBatchEdgeCases sends the hostile inputs of TestScoreEdgeCases
// inside a batch: an account at fault is named by its index, a body at
// fault by the error; nothing gives a 5xx, and nothing is scored.
func TestScoreBatchEdgeCases(t *testing.T) {
	p := trainProfile(t)
	obs := &countObserver{}
	h := newBatchServer(t, server.Config{Scorer: p, Ops: server.OpsConfig{Scores: obs}})
	good := account("A-0")
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	mid := func(bad string) string { return array(good, bad, account("A-2")) }
	tests := []struct {
		name       string
		body       string
		want       int
		wantFields []string
		wantError  string
	}{
		{name: "NaN literal", body: mid(`{"employees":NaN}`), want: 400, wantError: "malformed request body"},
		{name: "NaN string", body: mid(with("employees", `"NaN"`)), want: 400, wantFields: []string{"[1].employees"}},
		{name: "1e400", body: mid(with("employees", `1e400`)), want: 400, wantFields: []string{"[1].employees"}},
		{name: "-1e400", body: mid(with("annual_revenue_usd", `-1e400`)), want: 400, wantFields: []string{"[1].annual_revenue_usd"}},
		{name: "Infinity literal", body: mid(`{"employees":Infinity}`), want: 400, wantError: "malformed request body"},
		{name: "Inf string", body: mid(with("employees", `"+Inf"`)), want: 400, wantFields: []string{"[1].employees"}},
		{name: "-Inf string", body: mid(with("web_visits_30d", `"-Inf"`)), want: 400, wantFields: []string{"[1].web_visits_30d"}},
		{name: "negative count", body: mid(with("employees", `-5`)), want: 400, wantFields: []string{"[1].employees"}},
		{name: "unknown field", body: mid(with("industy", `"SaaS"`)), want: 400, wantFields: []string{"[1].industy"}},
		{name: "string for number", body: mid(with("employees", `"many"`)), want: 400, wantFields: []string{"[1].employees"}},
		{name: "bool for number", body: mid(with("employees", `true`)), want: 400, wantFields: []string{"[1].employees"}},
		{name: "object for field", body: mid(with("industry", `{"name":"SaaS"}`)), want: 400, wantFields: []string{"[1].industry"}},
		{name: "number in tag list", body: mid(with("tech_stack", `["aws",5]`)), want: 400, wantFields: []string{"[1].tech_stack[1]"}},
		{name: "null element", body: mid(`null`), want: 400, wantFields: []string{"[1]"}},
		{name: "string element", body: mid(`"acme"`), want: 400, wantFields: []string{"[1]"}},
		{name: "array element", body: mid(`[1]`), want: 400, wantFields: []string{"[1]"}},
		{name: "duplicate key", body: mid(`{"employees":1,"employees":2}`), want: 400, wantFields: []string{"[1].employees"}},
		{name: "bad fields in two accounts", body: array(with("employees", `-1`), good, with("trial_users", `"lots"`)), want: 400,
			wantFields: []string{"[0].employees", "[2].trial_users"}},
		{name: "1 MB string", body: mid(with("industry", `"`+strings.Repeat("x", 1<<20)+`"`)), want: 400, wantFields: []string{"[1].industry"}},
		{name: "deep nesting in a field", body: mid(with("tech_stack", nest(5000))), want: 400, wantFields: []string{"[1].tech_stack[0]"}},
		{name: "deep nesting past the decoder's limit", body: "[" + nest(100000) + "]", want: 400, wantError: "malformed request body"},
		{name: "invalid UTF-8", body: mid(with("industry", "\"Saa\xff\"")), want: 400, wantError: "malformed request body"},
		{name: "null body", body: `null`, want: 400, wantError: "malformed request body"},
		{name: "object body", body: good, want: 400, wantError: "malformed request body"},
		{name: "empty body", body: ``, want: 400, wantError: "malformed request body"},
		{name: "whitespace body", body: " \n", want: 400, wantError: "malformed request body"},
		{name: "truncated", body: mid(good)[:60], want: 400, wantError: "malformed request body"},
		{name: "trailing data", body: array(good) + `{}`, want: 400, wantError: "malformed request body"},
		{name: "bad attributions parameter", body: array(good), want: 400, wantFields: []string{"attributions"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			query := ""
			if tt.name == "bad attributions parameter" {
				query = "?attributions=maybe"
			}
			rec := postBatch(h, "application/json", query, strings.NewReader(tt.body))
			if rec.Code >= 500 || rec.Code != tt.want {
				t.Fatalf("status = %d, want %d; body %.300s", rec.Code, tt.want, rec.Body)
			}
			got := decodeJSON[errorAnswer](t, rec)
			if tt.wantError != "" && got.Error != tt.wantError {
				t.Errorf("error = %q, want %q", got.Error, tt.wantError)
			}
			var named []string
			for _, f := range got.Fields {
				named = append(named, f.Field)
				if f.Message == "" {
					t.Errorf("field %s has no message", f.Field)
				}
			}
			for _, f := range tt.wantFields {
				if !slices.Contains(named, f) {
					t.Errorf("fields = %v, want %s named", got.Fields, f)
				}
			}
		})
	}
	if n := obs.n.Load(); n != 0 {
		t.Errorf("observed %d scores of rejected batches, want 0", n)
	}
}

// chunked hides a reader's length, so that the request has no
// Content-Length and the body cap is met while reading.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestScoreBatchLimits(t *testing.T) {
	p := trainProfile(t)
	accs := distinctAccounts(t, 4)
	ndjson := strings.Join(accs, "\n") + "\n"
	tests := []struct {
		name      string
		cfg       server.Config
		ct        string
		body      io.Reader
		want      int
		wantError string
		wantLimit int64
	}{
		{name: "at MaxBatch", cfg: server.Config{MaxBatch: 4}, ct: "application/json", body: strings.NewReader(array(accs...)), want: 200},
		{name: "over MaxBatch", cfg: server.Config{MaxBatch: 3}, ct: "application/json", body: strings.NewReader(array(accs...)),
			want: 413, wantError: "too many accounts", wantLimit: 3},
		{name: "default MaxBatch", ct: "application/json", body: strings.NewReader(array(slices.Repeat([]string{"{}"}, 1001)...)),
			want: 413, wantError: "too many accounts", wantLimit: 1000},
		{name: "over MaxBatchBytes", cfg: server.Config{MaxBatchBytes: 100}, ct: "application/json", body: strings.NewReader(array(accs...)),
			want: 413, wantError: "request body too large", wantLimit: 100},
		{name: "over MaxBatchBytes while reading", cfg: server.Config{MaxBatchBytes: 100}, ct: "application/json",
			body: chunked{strings.NewReader(array(accs...))}, want: 413, wantError: "request body too large", wantLimit: 100},
		{name: "JSON array above MaxBodyBytes", cfg: server.Config{MaxBodyBytes: 100}, ct: "application/json",
			body: strings.NewReader(array(accs...)), want: 200},
		{name: "stream over MaxStreamBytes", cfg: server.Config{MaxStreamBytes: 100}, ct: "application/x-ndjson",
			body: strings.NewReader(ndjson), want: 413, wantError: "request body too large", wantLimit: 100},
		{name: "stream above MaxBatchBytes", cfg: server.Config{MaxBatchBytes: 100}, ct: "application/x-ndjson",
			body: strings.NewReader(ndjson), want: 200},
		{name: "unsupported media type", ct: "text/plain", body: strings.NewReader(ndjson), want: 415, wantError: "unsupported media type"},
		{name: "missing media type", body: strings.NewReader(ndjson), want: 415, wantError: "unsupported media type"},
		{name: "JSON with another charset", ct: "application/json; charset=latin1", body: strings.NewReader(array(accs...)),
			want: 415, wantError: "unsupported media type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Scorer = p
			rec := postBatch(newBatchServer(t, tt.cfg), tt.ct, "", tt.body)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d; body %.300s", rec.Code, tt.want, rec.Body)
			}
			if tt.want == 200 {
				return
			}
			got := decodeJSON[errorAnswer](t, rec)
			if got.Error != tt.wantError || got.Limit != tt.wantLimit {
				t.Errorf("answer = %+v, want error %q, limit %d", got, tt.wantError, tt.wantLimit)
			}
		})
	}
}

// ndjsonLine is one line of an NDJSON answer: a score or an error line.
type ndjsonLine struct {
	icp.Score
	Line   int              `json:"line"`
	Error  string           `json:"error"`
	Fields []icp.FieldError `json:"fields"`
	Limit  int64            `json:"limit"`
}

func readNDJSON(t *testing.T, body []byte) []ndjsonLine {
	t.Helper()
	var out []ndjsonLine
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l ndjsonLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("answer line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

func TestScoreBatchNDJSON(t *testing.T) {
	p := trainProfile(t)
	lines := []string{
		account("A-1"),                        // 1
		with("industy", `"SaaS"`),             // 2: unknown field, ignored
		`{"employees":`,                       // 3: malformed
		"",                                    // 4: blank, no answer
		account("A-5") + "\r",                 // 5: CRLF
		with("employees", `1e400`),            // 6
		"[1]",                                 // 7: not an object
		account("A-8"),                        // 8
		with("industry", "\"Saa\xff\""),       // 9: invalid UTF-8
		`{"tech_stack":["a",` + "[[]]" + `]}`, // 10
	}
	body := strings.Join(lines, "\n") // no final newline
	type want struct {
		line  int
		id    string // a score of this account
		field string // or an error naming this field
		err   string // or this error
	}
	wants := []want{
		{line: 1, id: "A-1"}, {line: 2, id: "A-1"}, {line: 3, err: "malformed line"},
		{line: 5, id: "A-5"}, {line: 6, field: "employees"}, {line: 7, err: "malformed line"},
		{line: 8, id: "A-8"}, {line: 9, err: "malformed line"}, {line: 10, field: "tech_stack[1]"},
	}
	for _, ct := range []string{"application/x-ndjson", "application/jsonl; charset=utf-8"} {
		for _, plain := range []bool{false, true} {
			var scorer server.Scorer = p
			if plain {
				scorer = plainScorer{p}
			}
			t.Run(ct+"/plain="+strconv.FormatBool(plain), func(t *testing.T) {
				obs := &countObserver{}
				h := newBatchServer(t, server.Config{Scorer: scorer, Ops: server.OpsConfig{Scores: obs}})
				rec := postBatch(h, ct, "", chunked{strings.NewReader(body)})
				if rec.Code != http.StatusOK {
					t.Fatalf("status = %d, want 200; body %.300s", rec.Code, rec.Body)
				}
				mt, _, _ := strings.Cut(ct, ";")
				if got := rec.Header().Get("Content-Type"); got != mt+"; charset=utf-8" {
					t.Errorf("Content-Type = %q, want %q", got, mt+"; charset=utf-8")
				}
				if got := rec.Header().Get(server.IgnoredFieldsHeader); got != "industy" {
					t.Errorf("%s = %q, want industy", server.IgnoredFieldsHeader, got)
				}
				got := readNDJSON(t, rec.Body.Bytes())
				if len(got) != len(wants) {
					t.Fatalf("%d answer lines, want %d:\n%s", len(got), len(wants), rec.Body)
				}
				for i, w := range wants {
					g := got[i]
					if g.ModelVersion != p.Version {
						t.Errorf("line %d: model_version = %q, want %q", i+1, g.ModelVersion, p.Version)
					}
					switch {
					case w.id != "":
						if g.Error != "" || g.AccountID != w.id || g.Score.Score <= 0 || g.Score.Score >= 1 {
							t.Errorf("answer %d = %+v, want the score of %s", i+1, g, w.id)
						}
					default:
						if g.Line != w.line || g.Error == "" {
							t.Errorf("answer %d = %+v, want an error line for input line %d", i+1, g, w.line)
						}
						if w.err != "" && g.Error != w.err {
							t.Errorf("answer %d error = %q, want %q", i+1, g.Error, w.err)
						}
						if w.field != "" && !slices.ContainsFunc(g.Fields, func(f icp.FieldError) bool { return f.Field == w.field }) {
							t.Errorf("answer %d fields = %v, want %s named", i+1, g.Fields, w.field)
						}
					}
				}
				if n := obs.n.Load(); n != 4 {
					t.Errorf("observed %d scores, want 4", n)
				}
			})
		}
	}
}

func TestScoreBatchNDJSONStops(t *testing.T) {
	p := trainProfile(t)
	accs := distinctAccounts(t, 50)
	body := strings.Join(accs, "\n") + "\n"
	h := newBatchServer(t, server.Config{Scorer: p, MaxStreamBytes: int64(len(body) / 2)})
	rec := postBatch(h, "application/x-ndjson", "?attributions=false", chunked{strings.NewReader(body)})
	got := readNDJSON(t, rec.Body.Bytes())
	if rec.Code != http.StatusOK || len(got) < 2 {
		t.Fatalf("status = %d, %d lines, want 200 and lines; body %.300s", rec.Code, len(got), rec.Body)
	}
	last := got[len(got)-1]
	if last.Error != "request body too large" || last.Limit != int64(len(body)/2) || last.Line != len(got) {
		t.Errorf("last line = %+v, want the body cap %d at line %d", last, len(body)/2, len(got))
	}
	for i, l := range got[:len(got)-1] {
		if l.AccountID != "A-"+strconv.Itoa(i) {
			t.Errorf("line %d = %+v, want the score of A-%d", i+1, l, i)
		}
	}
}

func TestScoreBatchEmptyStreams(t *testing.T) {
	p := trainProfile(t)
	h := newBatchServer(t, server.Config{Scorer: p})
	for _, ct := range []string{"application/x-ndjson", "text/csv"} {
		rec := postBatch(h, ct, "", strings.NewReader(""))
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s empty body: status = %d, want 400; body %s", ct, rec.Code, rec.Body)
		}
	}
	rec := postBatch(h, "application/x-ndjson", "", strings.NewReader("\n \n"))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("blank lines: %d %q, want 200 and no lines", rec.Code, rec.Body)
	}
}

// csvBody builds a CSV of the given rows under header.
func csvBody(t *testing.T, header []string, rows ...[]string) string {
	t.Helper()
	var b strings.Builder
	w := csv.NewWriter(&b)
	if err := w.Write(header); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestScoreBatchCSV(t *testing.T) {
	p := trainProfile(t)
	h := newBatchServer(t, server.Config{Scorer: p})
	header := []string{"account_id", "industry", "employees", "annual_revenue_usd", "tech_stack", "trial_users"}
	body := csvBody(t, header,
		[]string{"A-1", "SaaS", "180", "$24,000,000", "hubspot;aws", "6"},
		[]string{"A-2", "Fin,\"Tech\"\nLabs", "", "", "", ""}, // an unknown category with a comma, quotes and a newline
		[]string{"A-3", "SaaS", "-5", "", "", ""},
		[]string{"A-4", "SaaS"},
		[]string{"A-5", "SaaS", "many", "", "", "lots"},
	)
	body += "\n" + `A-7,"bad"quote,1,,,` + "\n" + "A-8,SaaS,12,,,\n"
	rec := postBatch(h, "text/csv", "", chunked{strings.NewReader("\ufeff" + body)})
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("status = %d %q, want 200 text/csv; body %.300s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	r := csv.NewReader(bytes.NewReader(rec.Body.Bytes()))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("answer is not CSV: %v\n%s", err, rec.Body)
	}
	wantHeader := []string{"line", "account_id", "model_version", "score", "percentile", "tier", "segment", "anti_icp", "margin", "top_attributions",
		"expected_value", "predicted_value", "top_value_attributions", "error"}
	if !slices.Equal(rows[0], wantHeader) {
		t.Fatalf("header = %v, want %v", rows[0], wantHeader)
	}
	tests := []struct {
		line    string
		id      string
		errPart string // "" for a score
	}{
		{line: "2", id: "A-1"},
		{line: "3", id: "A-2"},
		{line: "5", errPart: "employees"},
		{line: "6", errPart: "2 cells"},
		{line: "7", errPart: "employees"},
		{line: "9", errPart: "malformed CSV record"},
		{line: "10", id: "A-8"},
	}
	if len(rows)-1 != len(tests) {
		t.Fatalf("%d rows, want %d:\n%s", len(rows)-1, len(tests), rec.Body)
	}
	for i, tt := range tests {
		row := rows[i+1]
		if row[0] != tt.line || row[2] != p.Version {
			t.Errorf("row %d = %v, want line %s and version %s", i+1, row, tt.line, p.Version)
		}
		if tt.errPart == "" {
			sc, err := strconv.ParseFloat(row[3], 64)
			if row[1] != tt.id || err != nil || sc <= 0 || sc >= 1 || row[13] != "" || row[9] == "" {
				t.Errorf("row %d = %v, want the score of %s with attributions", i+1, row, tt.id)
			}
			continue
		}
		if !strings.Contains(row[13], tt.errPart) || row[3] != "" {
			t.Errorf("row %d = %v, want an error naming %q", i+1, row, tt.errPart)
		}
	}
	if strings.Contains(rows[5][13], "trial_users") == false {
		t.Errorf("row 5 error %q, want trial_users named too", rows[5][13])
	}
}

func TestScoreBatchCSVBadHeader(t *testing.T) {
	p := trainProfile(t)
	h := newBatchServer(t, server.Config{Scorer: p})
	tests := []struct {
		name      string
		query     string
		body      string
		wantField string
		wantError string
	}{
		{name: "unknown column, refused on request", query: "?unknown=reject", body: "account_id,industy,employees\nA-1,SaaS,3\n", wantField: "industy"},
		{name: "bad unknown parameter", query: "?unknown=drop", body: "account_id,employees\nA-1,3\n", wantField: "unknown"},
		{name: "duplicate column", body: "account_id,employees,employees\nA-1,3,3\n", wantField: "employees"},
		{name: "empty column", body: "account_id,,employees\nA-1,x,3\n", wantField: "header[1]"},
		{name: "invalid UTF-8", body: "account_id,indu\xffstry\n", wantField: "header[1]"},
		{name: "malformed", body: "account_id,\"industry\n", wantError: "malformed request body"},
		{name: "only a byte order mark", body: "\ufeff\n", wantError: "malformed request body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := postBatch(h, "text/csv; header=present", tt.query, strings.NewReader(tt.body))
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %.300s", rec.Code, rec.Body)
			}
			got := decodeJSON[errorAnswer](t, rec)
			if tt.wantError != "" && got.Error != tt.wantError {
				t.Errorf("error = %q, want %q", got.Error, tt.wantError)
			}
			if tt.wantField != "" && !slices.ContainsFunc(got.Fields, func(f icp.FieldError) bool { return f.Field == tt.wantField }) {
				t.Errorf("fields = %v, want %s named", got.Fields, tt.wantField)
			}
		})
	}
}

// slowScorer scores after a delay, or when ctx is done.
type slowScorer struct{ delay time.Duration }

func (s slowScorer) Score(ctx context.Context, acc icp.Account) (icp.Score, error) {
	select {
	case <-time.After(s.delay):
		return icp.Score{ModelVersion: "slow", Score: 0.5, Tier: icp.Tier2}, nil
	case <-ctx.Done():
		return icp.Score{}, ctx.Err()
	}
}

// panicScorer panics on the account with id "boom".
type panicScorer struct{}

func (panicScorer) Score(_ context.Context, acc icp.Account) (icp.Score, error) {
	if acc["account_id"] == "boom" {
		panic("scorer exploded")
	}
	return icp.Score{ModelVersion: "v", Score: 0.5, Tier: icp.Tier2}, nil
}

func TestScoreBatchOverload(t *testing.T) {
	accs := slices.Repeat([]string{`{"account_id":"x"}`}, 200)
	tests := []struct {
		name      string
		cfg       server.Config
		ct        string
		body      string
		want      int
		wantError string
	}{
		{name: "deadline of a JSON array", cfg: server.Config{Scorer: slowScorer{delay: 5 * time.Millisecond}, RequestTimeout: 30 * time.Millisecond},
			ct: "application/json", body: array(accs...), want: 503, wantError: "timeout"},
		{name: "a panic in a worker", cfg: server.Config{Scorer: panicScorer{}}, ct: "application/json",
			body: array(append(slices.Clone(accs), `{"account_id":"boom"}`)...), want: 500, wantError: "internal error"},
		{name: "streams outlive RequestTimeout", cfg: server.Config{Scorer: slowScorer{delay: time.Millisecond}, RequestTimeout: 5 * time.Millisecond},
			ct: "application/x-ndjson", body: strings.Join(accs[:20], "\n"), want: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Logger = slog.New(slog.DiscardHandler)
			h := newBatchServer(t, tt.cfg)
			start := time.Now()
			rec := postBatch(h, tt.ct, "", strings.NewReader(tt.body))
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d; body %.300s", rec.Code, tt.want, rec.Body)
			}
			if tt.want != 200 {
				if got := decodeJSON[errorAnswer](t, rec); got.Error != tt.wantError {
					t.Errorf("error = %q, want %q", got.Error, tt.wantError)
				}
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("answered in %v, want the deadline to stop the work", d)
			}
		})
	}
	// The server still serves after the panic.
	h := newBatchServer(t, server.Config{Scorer: panicScorer{}, Logger: slog.New(slog.DiscardHandler)})
	if rec := postBatch(h, "application/json", "", strings.NewReader(array(accs[:3]...))); rec.Code != 200 {
		t.Errorf("after a panic: status = %d, want 200", rec.Code)
	}
}

// TestScoreBatchAuth checks the batch route's scope through real API keys:
// a score key scores, a read key is refused 403, no key 401.
func TestScoreBatchAuth(t *testing.T) {
	p := trainProfile(t)
	scoreKey, scoreRec, err := auth.Generate("scorer", []icp.Scope{icp.ScopeScore})
	if err != nil {
		t.Fatal(err)
	}
	readKey, readRec, err := auth.Generate("reader", []icp.Scope{icp.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	scoreRec.ID, readRec.ID = "key_score", "key_read"
	s, err := server.New(server.Config{Scorer: p, Keys: auth.NewVerifier(twoKeys{scoreRec, readRec}, auth.VerifierConfig{})})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  string
		ct   string
		want int
	}{
		{name: "score key, JSON", key: scoreKey, ct: "application/json", want: 200},
		{name: "score key, NDJSON", key: scoreKey, ct: "application/x-ndjson", want: 200},
		{name: "read key", key: readKey, ct: "application/json", want: 403},
		{name: "read key, NDJSON", key: readKey, ct: "application/x-ndjson", want: 403},
		{name: "no key", ct: "application/json", want: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := array(account("A-1"))
			if tt.ct != "application/json" {
				body = account("A-1") + "\n"
			}
			req := httptest.NewRequest(http.MethodPost, "/v1/score/batch", strings.NewReader(body))
			req.Header.Set("Content-Type", tt.ct)
			if tt.key != "" {
				req.Header.Set("Authorization", "Bearer "+tt.key)
			}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("status = %d, want %d; body %.300s", rec.Code, tt.want, rec.Body)
			}
		})
	}
}

// twoKeys is a KeyStore of two records.
type twoKeys [2]icp.APIKey

func (k twoKeys) LookupAPIKey(_ context.Context, prefix string) (icp.APIKey, error) {
	for _, r := range k {
		if r.Prefix == prefix {
			return r, nil
		}
	}
	return icp.APIKey{}, icp.ErrNotFound
}

func (twoKeys) TouchAPIKey(context.Context, string, time.Time) error { return nil }

// BenchmarkScoreBatch1000 measures one POST /v1/score/batch of 1,000
// accounts through the whole middleware chain with an API key, on a real
// model, with and without attributions.
func BenchmarkScoreBatch1000(b *testing.B) {
	p := trainProfile(b)
	h, key := benchHandler(b, p)
	body := []byte(array(distinctAccounts(b, 1000)...))
	b.Logf("model kind %s, body %d bytes", p.Model.Kind, len(body))
	for _, query := range []string{"", "?attributions=false"} {
		b.Run("attributions="+strconv.FormatBool(query == ""), func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b, cpuTime(b))
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/v1/score/batch"+query, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+key)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status = %d: %.300s", w.Code, w.Body)
				}
			}
			b.ReportMetric(1000*float64(b.N)/b.Elapsed().Seconds(), "accounts/s")
		})
	}
}

// TestScoreBatchStreamOverHTTP streams NDJSON through a real HTTP server:
// the first score arrives while the body is still being sent (full
// duplex), and the stream outlives RequestTimeout.
func TestScoreBatchStreamOverHTTP(t *testing.T) {
	p := trainProfile(t)
	h := newBatchServer(t, server.Config{Scorer: p, RequestTimeout: 50 * time.Millisecond})
	srv := httptest.NewServer(h)
	defer srv.Close()
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/v1/score/batch?attributions=false", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	written := make(chan error, 1)
	go func() {
		_, err := io.WriteString(pw, account("A-0")+"\n")
		written <- err
	}()
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	answers := bufio.NewScanner(resp.Body)
	readScore := func(id string) {
		t.Helper()
		if !answers.Scan() {
			t.Fatalf("no answer line for %s: %v", id, answers.Err())
		}
		var sc icp.Score
		if err := json.Unmarshal(answers.Bytes(), &sc); err != nil || sc.AccountID != id || sc.ModelVersion != p.Version {
			t.Fatalf("answer %q, %v; want the score of %s", answers.Text(), err, id)
		}
	}
	readScore("A-0") // the body is still open
	for i := 1; i <= 3; i++ {
		time.Sleep(30 * time.Millisecond) // past RequestTimeout in all
		if _, err := io.WriteString(pw, account("A-"+strconv.Itoa(i))+"\n"); err != nil {
			t.Fatal(err)
		}
		readScore("A-" + strconv.Itoa(i))
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if answers.Scan() {
		t.Errorf("extra answer line %q", answers.Text())
	}
}

// TestScoreBatchNDJSONLongLine sends a line over MaxBodyBytes in the middle
// of a stream: it is answered with an error line and skipped, and the
// stream goes on.
func TestScoreBatchNDJSONLongLine(t *testing.T) {
	p := trainProfile(t)
	h := newBatchServer(t, server.Config{Scorer: p, MaxBodyBytes: 1 << 20})
	long := with("industry", `"`+strings.Repeat("x", 2<<20)+`"`)
	body := account("A-1") + "\n" + long + "\n" + account("A-3") + "\n"
	rec := postBatch(h, "application/x-ndjson", "", chunked{strings.NewReader(body)})
	got := readNDJSON(t, rec.Body.Bytes())
	if rec.Code != http.StatusOK || len(got) != 3 {
		t.Fatalf("status = %d, %d lines, want 200 and 3 lines; body %.300s", rec.Code, len(got), rec.Body)
	}
	if got[0].AccountID != "A-1" || got[2].AccountID != "A-3" {
		t.Errorf("lines 1 and 3 = %+v, %+v, want the scores of A-1 and A-3", got[0], got[2])
	}
	if got[1].Line != 2 || got[1].Error != "malformed line" || got[1].ModelVersion != p.Version {
		t.Errorf("line 2 = %+v, want an error line for input line 2", got[1])
	}
}
