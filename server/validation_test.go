package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/registry"
	"github.com/icpengine/icp/server"
)

// The served model checks accounts without scoring them.
var _ server.AccountChecker = (*registry.Live)(nil)

// memOutcomes is an OutcomeRecorder in memory.
type memOutcomes struct {
	mu   sync.Mutex
	outs []icp.Outcome
}

func (m *memOutcomes) RecordOutcomes(_ context.Context, _ string, outs []icp.Outcome) (icp.RecordResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.outs = append(m.outs, outs...)
	return icp.RecordResult{Stored: len(outs)}, nil
}

func (m *memOutcomes) stored() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.outs)
}

// countingChecker counts the calls of a scorer that is also an
// AccountChecker.
type countingChecker struct {
	live           *registry.Live
	scores, checks atomic.Int64
}

func (c *countingChecker) Score(ctx context.Context, acc icp.Account) (icp.Score, error) {
	c.scores.Add(1)
	return c.live.Score(ctx, acc)
}

func (c *countingChecker) CheckAccount(ctx context.Context, acc icp.Account) error {
	c.checks.Add(1)
	return c.live.CheckAccount(ctx, acc)
}

// fieldNames returns the names of the field errors of an error answer,
// sorted.
func fieldNames(t *testing.T, rec *httptest.ResponseRecorder) []string {
	t.Helper()
	var names []string
	for _, f := range decodeJSON[errorAnswer](t, rec).Fields {
		names = append(names, f.Field+": "+f.Message)
	}
	slices.Sort(names)
	return names
}

// TestOutcomesCheckAccountsAsScore sends the bad accounts POST /v1/score
// refuses inside a batch of outcomes: each is refused with the same
// messages, named by its record, and nothing is stored; whichever way the
// scorer validates (an AccountChecker, a BatchScorer, a plain Scorer).
func TestOutcomesCheckAccountsAsScore(t *testing.T) {
	p := trainProfile(t)
	checker := &countingChecker{live: liveOf(t, p)}
	scorers := []struct {
		name   string
		scorer server.Scorer
	}{
		{"account checker", checker},
		{"batch scorer", p},
		{"plain scorer", plainScorer{p}},
	}
	bad := []struct {
		name    string
		account string
	}{
		{"negative count", with("employees", `-5`)},
		{"unknown field", with("industy", `"SaaS"`)},
		{"string for number", with("employees", `"many"`)},
		{"NaN string", with("employees", `"NaN"`)},
		{"number for text", with("industry", `5`)},
		{"overflowing number", with("annual_revenue_usd", `1e400`)},
		{"number in tag list", with("tech_stack", `["aws",5]`)},
		{"nested value", with("region", `{"name":"NA"}`)},
		{"two bad fields", strings.Replace(with("employees", `-1`), `"trial_users":6`, `"trial_users":"lots"`, 1)},
	}
	good := `{"account_id":"A-1","account":` + account("A-1") + `,"outcome":"won","close_date":"2026-03-01"}`
	for _, sc := range scorers {
		t.Run(sc.name, func(t *testing.T) {
			store := &memOutcomes{}
			h := newBatchServer(t, server.Config{Scorer: sc.scorer, Ops: server.OpsConfig{Outcomes: store}})
			for _, tt := range bad {
				t.Run(tt.name, func(t *testing.T) {
					rec := serveJSON(h, "/v1/score", tt.account)
					if rec.Code != http.StatusBadRequest {
						t.Fatalf("POST /v1/score = %d, want 400; body %s", rec.Code, rec.Body)
					}
					var want []string
					for _, f := range fieldNames(t, rec) {
						want = append(want, "outcomes[1].account."+f)
					}
					body := `{"outcomes":[` + good + `,{"account_id":"A-2","account":` + tt.account + `,"outcome":"lost","close_date":"2026-03-02"}]}`
					rec = serveJSON(h, "/v1/outcomes", body)
					if rec.Code != http.StatusBadRequest {
						t.Fatalf("POST /v1/outcomes = %d, want 400; body %s", rec.Code, rec.Body)
					}
					if got := fieldNames(t, rec); !slices.Equal(got, want) {
						t.Errorf("POST /v1/outcomes fields = %q, want %q (as POST /v1/score)", got, want)
					}
				})
			}
			if n := store.stored(); n != 0 {
				t.Errorf("stored %d outcomes of refused batches, want 0", n)
			}
			if rec := serveJSON(h, "/v1/outcomes", "["+good+","+good+"]"); rec.Code != http.StatusCreated || store.stored() != 2 {
				t.Errorf("POST /v1/outcomes of good outcomes = %d (%d stored), want 201 and 2 stored; body %s", rec.Code, store.stored(), rec.Body)
			}
		})
	}
	// The outcome route checks with the AccountChecker and scores nothing.
	if checker.checks.Load() == 0 || checker.scores.Load() != int64(len(bad)) {
		t.Errorf("checker: %d checks and %d scores, want checks and only the %d scores of POST /v1/score",
			checker.checks.Load(), checker.scores.Load(), len(bad))
	}
}

func TestOutcomesCloseDate(t *testing.T) {
	p := trainProfile(t)
	h := newBatchServer(t, server.Config{Scorer: p, Ops: server.OpsConfig{Outcomes: &memOutcomes{}}})
	tests := []struct {
		give string
		want int
		msg  string
	}{
		{"0001-01-01", http.StatusBadRequest, `close_date: must be a real close date, on or after 1900-01-01, got "0001-01-01"`},
		{"0001-01-01T00:00:00Z", http.StatusBadRequest, `close_date: must be a real close date`},
		{"1899-12-31", http.StatusBadRequest, `close_date: must be a real close date`},
		{"1900-01-01", http.StatusCreated, ""},
		{"2026-03-01", http.StatusCreated, ""},
	}
	for _, tt := range tests {
		rec := serveJSON(h, "/v1/outcomes", `{"account_id":"A-1","outcome":"won","close_date":"`+tt.give+`"}`)
		if rec.Code != tt.want {
			t.Errorf("close_date %q: status %d, want %d; body %s", tt.give, rec.Code, tt.want, rec.Body)
			continue
		}
		if tt.msg != "" {
			if got := fieldNames(t, rec); len(got) != 1 || !strings.HasPrefix(got[0], tt.msg) {
				t.Errorf("close_date %q: fields %q, want one starting %q", tt.give, got, tt.msg)
			}
		}
	}
}

// memAlerts is an AlertService that knows one alert.
type memAlerts struct{}

func (memAlerts) Alerts(context.Context, icp.AlertStatus, int) ([]icp.Alert, error) { return nil, nil }

func (memAlerts) SetAlertStatus(_ context.Context, id string, status icp.AlertStatus, by string) (icp.Alert, error) {
	if id != "al-1" {
		return icp.Alert{}, icp.ErrNotFound
	}
	return icp.Alert{ID: id, Status: status, UpdatedBy: by, UpdatedAt: time.Now()}, nil
}

// memModels is a ModelAdmin that counts the calls that would change it.
type memModels struct {
	server.ModelAdmin // nil: the other methods are not called
	changes           atomic.Int64
}

func (m *memModels) Register(context.Context, []byte, string) (icp.ModelRecord, bool, error) {
	m.changes.Add(1)
	return icp.ModelRecord{}, true, nil
}

func (m *memModels) Promote(context.Context, string, string, string) (icp.ModelEvent, error) {
	m.changes.Add(1)
	return icp.ModelEvent{}, nil
}

// TestDuplicateKeysRefused sends a repeated key to every route that takes
// a JSON body: each answers 400 naming it, and nothing is changed.
func TestDuplicateKeysRefused(t *testing.T) {
	p := trainProfile(t)
	store, models := &memOutcomes{}, &memModels{}
	h := newBatchServer(t, server.Config{Scorer: p, Models: models,
		Ops: server.OpsConfig{Outcomes: store, Alerts: memAlerts{}}})
	outcome := func(extra string) string {
		return `{"account_id":"A-1","outcome":"won","close_date":"2026-03-01"` + extra + `}`
	}
	tests := []struct {
		name, path, ct, body string
		wantField            string
	}{
		{"score", "/v1/score", "application/json", `{"employees":1,"employees":2}`, "employees"},
		{"score, escaped repeat", "/v1/score", "application/json", `{"industry":"SaaS","indus\u0074ry":"Retail"}`, "industry"},
		{"JSON array", "/v1/score/batch", "application/json", array(account("A-1"), `{"employees":1,"employees":2}`), "[1].employees"},
		{"outcome", "/v1/outcomes", "application/json", outcome(`,"outcome":"lost"`), "outcome"},
		{"outcome in an array", "/v1/outcomes", "application/json", "[" + outcome("") + "," + outcome(`,"close_date":"2026-03-02"`) + "]", "outcomes[1].close_date"},
		{"outcome in a wrapper", "/v1/outcomes", "application/json", `{"outcomes":[` + outcome(`,"ltv_usd":1,"ltv_usd":2`) + `]}`, "outcomes[0].ltv_usd"},
		{"wrapper", "/v1/outcomes", "application/json", `{"outcomes":[` + outcome("") + `],"outcomes":[]}`, "outcomes"},
		{"outcome's account", "/v1/outcomes", "application/json", outcome(`,"account":{"industry":"SaaS","industry":"Retail"}`), "account.industry"},
		{"alert review", "/v1/alerts/al-1/acknowledge", "application/json", `{"by":"ann","by":"bob"}`, "by"},
		{"model promotion", "/v1/admin/models/promote", "application/json", `{"model":"m-1","model":"m-2"}`, "model"},
		{"model artifact", "/v1/admin/models", "application/json", `{"format_version":1,"checksum":"x","checksum":"y"}`, "checksum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := postBatchPath(h, tt.path, tt.ct, tt.body)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", rec.Code, rec.Body)
			}
			got := decodeJSON[errorAnswer](t, rec)
			if !slices.ContainsFunc(got.Fields, func(f icp.FieldError) bool { return f.Field == tt.wantField && f.Message == "duplicate key" }) {
				t.Errorf("fields = %v, want %s: duplicate key", got.Fields, tt.wantField)
			}
		})
	}
	// In a stream the line is refused and the stream goes on.
	rec := postBatch(h, "application/x-ndjson", "", strings.NewReader(`{"employees":1,"employees":2}`+"\n"+account("A-2")+"\n"))
	lines := readNDJSON(t, rec.Body.Bytes())
	if len(lines) != 2 || lines[0].Error != "invalid input" || lines[1].AccountID != "A-2" {
		t.Errorf("NDJSON answer %+v, want an error line then the score of A-2", lines)
	}
	if store.stored() != 0 || models.changes.Load() != 0 {
		t.Errorf("%d outcomes stored and %d model changes, want none", store.stored(), models.changes.Load())
	}
}

// postBatchPath posts body with Content-Type ct to path.
func postBatchPath(h http.Handler, path, ct, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", ct)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestProbesAnswerHEAD checks that HEAD on each probe answers as GET does,
// without a body.
func TestProbesAnswerHEAD(t *testing.T) {
	ready := errors.New("store down")
	var down atomic.Bool
	s, err := server.New(server.Config{Scorer: trainProfile(t), AllowUnauthenticated: true,
		Ready: func(context.Context) error {
			if down.Load() {
				return ready
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	check := func(path string, want int) {
		t.Helper()
		get := httptest.NewRecorder()
		s.Handler().ServeHTTP(get, httptest.NewRequest(http.MethodGet, path, nil))
		head := httptest.NewRecorder()
		s.Handler().ServeHTTP(head, httptest.NewRequest(http.MethodHead, path, nil))
		if get.Code != want || head.Code != want {
			t.Errorf("%s: GET %d, HEAD %d, want %d", path, get.Code, head.Code, want)
		}
		if g, h := get.Header().Get("Content-Type"), head.Header().Get("Content-Type"); g != h {
			t.Errorf("%s: HEAD Content-Type %q, want GET's %q", path, h, g)
		}
	}
	for _, path := range []string{"/healthz", "/livez", "/readyz"} {
		check(path, http.StatusOK)
	}
	down.Store(true)
	check("/readyz", http.StatusServiceUnavailable)
	check("/healthz", http.StatusOK)
}

// liveOf serves p as serve does.
func liveOf(t *testing.T, p *profile.Profile) *registry.Live {
	t.Helper()
	sum, err := p.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	return registry.NewLive(&registry.Model{Profile: p, Checksum: sum, LoadedAt: time.Now()}, registry.LiveConfig{})
}
