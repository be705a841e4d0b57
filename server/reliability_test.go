package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/auth"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/server"
	"github.com/icpengine/icp/train"
)

// newRealServer trains a small real profile on generated data and serves
// it through the real server.
func newRealServer(t *testing.T) http.Handler {
	t.Helper()
	tab, _ := synth.Generate(synth.Config{Rows: 1500, Seed: 2})
	p, err := train.Train(tab, features.Infer(tab, features.InferConfig{}), train.Config{Seed: 1})
	if err != nil {
		t.Fatalf("train: %v", err)
	}
	s, err := server.New(server.Config{Scorer: p, AllowUnauthenticated: true})
	if err != nil {
		t.Fatal(err)
	}
	return s.Handler()
}

// goodFields are the fields of a complete, valid request, as raw JSON.
func goodFields() [][2]string {
	return [][2]string{
		{"account_id", `"A-1"`}, {"industry", `"SaaS"`}, {"employees", `180`},
		{"annual_revenue_usd", `"$24,000,000"`}, {"country", `"US"`}, {"region", `"NA"`},
		{"founded_year", `2016`}, {"funding_stage", `"Series B"`}, {"business_model", `"B2B SaaS"`},
		{"tech_stack", `["hubspot","aws"]`}, {"web_visits_30d", `140`}, {"trial_users", `6`},
		{"support_tickets_90d", `2`},
	}
}

// with returns the valid request with field set to the raw bytes given,
// which need not be valid JSON.
func with(field, raw string) string {
	fields := goodFields()
	found := false
	for i := range fields {
		if fields[i][0] == field {
			fields[i][1], found = raw, true
		}
	}
	if !found {
		fields = append(fields, [2]string{field, raw})
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + f[0] + `":` + f[1])
	}
	b.WriteByte('}')
	return b.String()
}

// TestScoreEdgeCases sends hostile and broken bodies to a real trained
// model behind the real server. None may give a 5xx; bad input gets a 4xx,
// naming the field when one is at fault. Two kinds of input are valid by
// design and scored: missing fields (imputed as in training) and category
// levels never seen in training (scored as the "other" level).
func TestScoreEdgeCases(t *testing.T) {
	h := newRealServer(t)
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	goodAccount := with("account_id", `"A-1"`)
	tests := []struct {
		name       string
		body       string
		want       int
		wantFields []string // nil: not checked; fields that must be named
		wantError  string   // the error field, when not checked by fields
	}{
		{name: "good", body: goodAccount, want: http.StatusOK},
		{name: "NaN literal", body: `{"employees":NaN}`, want: http.StatusBadRequest, wantError: "malformed request body"},
		{name: "NaN string", body: with("employees", `"NaN"`), want: http.StatusBadRequest, wantFields: []string{"employees"}},
		{name: "1e400", body: with("employees", `1e400`), want: http.StatusBadRequest, wantFields: []string{"employees"}},
		{name: "-1e400", body: with("annual_revenue_usd", `-1e400`), want: http.StatusBadRequest, wantFields: []string{"annual_revenue_usd"}},
		{name: "Infinity literal", body: `{"employees":Infinity}`, want: http.StatusBadRequest, wantError: "malformed request body"},
		{name: "-Infinity literal", body: `{"employees":-Infinity}`, want: http.StatusBadRequest, wantError: "malformed request body"},
		{name: "Inf string", body: with("employees", `"+Inf"`), want: http.StatusBadRequest, wantFields: []string{"employees"}},
		{name: "-Inf string", body: with("web_visits_30d", `"-Inf"`), want: http.StatusBadRequest, wantFields: []string{"web_visits_30d"}},
		{name: "negative count", body: with("employees", `-5`), want: http.StatusBadRequest, wantFields: []string{"employees"}},
		{name: "negative revenue", body: with("annual_revenue_usd", `-1`), want: http.StatusBadRequest, wantFields: []string{"annual_revenue_usd"}},
		{name: "missing fields are imputed", body: `{"account_id":"A-2"}`, want: http.StatusOK},
		{name: "empty object is imputed", body: `{}`, want: http.StatusOK},
		{name: "unknown field", body: with("industy", `"SaaS"`), want: http.StatusBadRequest, wantFields: []string{"industy"}},
		{name: "unknown category is scored as other", body: with("industry", `"Space mining"`), want: http.StatusOK},
		{name: "string for number", body: with("employees", `"many"`), want: http.StatusBadRequest, wantFields: []string{"employees"}},
		{name: "bool for number", body: with("employees", `true`), want: http.StatusBadRequest, wantFields: []string{"employees"}},
		// A number for a text column is a type error, as a string for a
		// numeric one is: codes such as SIC 7372 are sent quoted.
		{name: "number for category", body: with("industry", `7372`), want: http.StatusBadRequest, wantFields: []string{"industry"}},
		{name: "code for category", body: with("industry", `"7372"`), want: http.StatusOK},
		{name: "array for number", body: with("employees", `["1"]`), want: http.StatusBadRequest, wantFields: []string{"employees"}},
		{name: "object for field", body: with("industry", `{"name":"SaaS"}`), want: http.StatusBadRequest, wantFields: []string{"industry"}},
		{name: "number in tag list", body: with("tech_stack", `["aws",5]`), want: http.StatusBadRequest, wantFields: []string{"tech_stack[1]"}},
		{name: "null field is missing", body: with("employees", `null`), want: http.StatusOK},
		{name: "null body", body: `null`, want: http.StatusBadRequest, wantError: "malformed request body"},
		{name: "array body", body: `[` + goodAccount + `]`, want: http.StatusBadRequest, wantError: "malformed request body"},
		{name: "empty body", body: ``, want: http.StatusBadRequest, wantError: "malformed request body"},
		{name: "whitespace body", body: " \n\t", want: http.StatusBadRequest, wantError: "malformed request body"},
		{name: "truncated", body: goodAccount[:40], want: http.StatusBadRequest, wantError: "malformed request body"},
		{name: "trailing data", body: goodAccount + `{}`, want: http.StatusBadRequest, wantError: "malformed request body"},
		{name: "1 MB string", body: with("industry", `"`+strings.Repeat("x", 1<<20)+`"`), want: http.StatusRequestEntityTooLarge},
		{name: "500 KB string", body: with("industry", `"`+strings.Repeat("x", 500<<10)+`"`), want: http.StatusBadRequest, wantFields: []string{"industry"}},
		{name: "9 KB tag", body: with("tech_stack", `["aws","`+strings.Repeat("x", 9<<10)+`"]`), want: http.StatusBadRequest, wantFields: []string{"tech_stack[1]"}},
		{name: "500 KB field name", body: `{"` + strings.Repeat("k", 500<<10) + `":1}`, want: http.StatusBadRequest},
		{name: "deep nesting in a field", body: with("tech_stack", nest(5000)), want: http.StatusBadRequest, wantFields: []string{"tech_stack[0]"}},
		{name: "deep nesting past the decoder's limit", body: `{"tech_stack":` + nest(100000) + `}`, want: http.StatusBadRequest, wantError: "malformed request body"},
		{name: "invalid UTF-8 in a value", body: with("industry", "\"Saa\xff\""), want: http.StatusBadRequest, wantError: "malformed request body"},
		{name: "invalid UTF-8 in a key", body: "{\"indu\xc3\":1}", want: http.StatusBadRequest, wantError: "malformed request body"},
		{name: "duplicate key", body: `{"employees":1,"employees":2}`, want: http.StatusBadRequest, wantFields: []string{"employees"}},
		{name: "many bad fields at once", body: `{"employees":-1,"industy":"x","trial_users":"lots"}`, want: http.StatusBadRequest,
			wantFields: []string{"employees", "industy", "trial_users"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/v1/score", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 || rec.Code != tt.want {
				t.Fatalf("status = %d, want %d; body %.300s", rec.Code, tt.want, rec.Body)
			}
			if rec.Code == http.StatusOK {
				var sc icp.Score
				if err := json.Unmarshal(rec.Body.Bytes(), &sc); err != nil || sc.Score < 0 || sc.Score > 1 || sc.ModelVersion == "" {
					t.Errorf("score = %+v, %v, want a probability", sc, err)
				}
				return
			}
			var body struct {
				Error  string           `json:"error"`
				Fields []icp.FieldError `json:"fields"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("error body %.300q is not JSON: %v", rec.Body.String(), err)
			}
			if tt.wantError != "" && body.Error != tt.wantError {
				t.Errorf("error = %q, want %q", body.Error, tt.wantError)
			}
			var named []string
			for _, f := range body.Fields {
				named = append(named, f.Field)
				if f.Message == "" {
					t.Errorf("field %s has no message", f.Field)
				}
			}
			for _, f := range tt.wantFields {
				if !slices.Contains(named, f) {
					t.Errorf("fields = %v, want %s named", body.Fields, f)
				}
			}
		})
	}
}

// TestScoreConcurrentReal scores from several goroutines at once through the
// real model, for the race detector.
func TestScoreConcurrentReal(t *testing.T) {
	h := newRealServer(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				req := httptest.NewRequest(http.MethodPost, "/v1/score", bytes.NewBufferString(with("account_id", `"A-9"`)))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					t.Errorf("status = %d, want 200", rec.Code)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkScoreReal measures one scoring request through the whole
// middleware chain (request id, access log to a discarding JSON logger,
// metrics, deadline, in-flight bound, API key check through a warm cache)
// on a real model.
func BenchmarkScoreReal(b *testing.B) {
	tab, _ := synth.Generate(synth.Config{Rows: 1500, Seed: 2})
	p, err := train.Train(tab, features.Infer(tab, features.InferConfig{}), train.Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	h, key := benchHandler(b, p)
	body := []byte(with("account_id", `"A-1"`))
	b.ReportAllocs()
	defer reportCPU(b, cpuTime(b))
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/score", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status = %d: %s", w.Code, w.Body)
		}
	}
}

// benchHandler is a server scoring with sc as in production: JSON access
// logs (discarded), metrics, limits, and an API key with the score scope,
// checked through a warm cache. It returns the handler and the key.
func benchHandler(b *testing.B, sc server.Scorer) (http.Handler, string) {
	key, rec, err := auth.Generate("bench", []icp.Scope{icp.ScopeScore})
	if err != nil {
		b.Fatal(err)
	}
	rec.ID = "key_bench"
	s, err := server.New(server.Config{
		Scorer: sc,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Keys:   auth.NewVerifier(oneKey{rec}, auth.VerifierConfig{CacheTTL: time.Hour}),
	})
	if err != nil {
		b.Fatal(err)
	}
	return s.Handler(), key
}

// oneKey is a KeyStore holding one record.
type oneKey struct{ rec icp.APIKey }

func (k oneKey) LookupAPIKey(_ context.Context, prefix string) (icp.APIKey, error) {
	if prefix != k.rec.Prefix {
		return icp.APIKey{}, icp.ErrNotFound
	}
	return k.rec, nil
}

func (oneKey) TouchAPIKey(context.Context, string, time.Time) error { return nil }
