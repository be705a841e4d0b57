package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model/gbm"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/registry"
	"github.com/icpengine/icp/store"
	"github.com/icpengine/icp/train"
)

// registryServer is a server whose admin routes use a real registry on a
// SQLite store, with two trained artifacts ready to register.
func registryServer(t *testing.T, cfg Config) (http.Handler, [2][]byte) {
	t.Helper()
	tab, _ := synth.Generate(synth.Config{Rows: 1000, Seed: 3})
	var arts [2][]byte
	for i := range arts {
		p, err := train.Train(tab, features.Infer(tab, features.InferConfig{}), train.Config{Seed: uint64(i + 1)})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := p.Encode(&b); err != nil {
			t.Fatal(err)
		}
		arts[i] = b.Bytes()
	}
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "icp.db"), store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg, err := registry.New(registry.Config{Store: st, WarmUp: 2})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Models = reg
	cfg.Serving = func() ServedModels { return ServedModels{Champion: ServedModel{Checksum: "sha256:x", Version: "m-x"}} }
	s, _ := newTestServer(t, cfg)
	return s.Handler(), arts
}

func adminReq(method, path, body string) request {
	r := request{method: method, path: path}
	if body != "" || method == http.MethodPost {
		r.ct, r.body = "application/json", strings.NewReader(body)
	}
	return r
}

func TestModelRoutes(t *testing.T) {
	h, arts := registryServer(t, Config{})
	var sums [2]string
	for i, art := range arts {
		rec := serve(h, adminReq(http.MethodPost, "/v1/admin/models", string(art)))
		var got struct {
			Created bool            `json:"created"`
			Model   icp.ModelRecord `json:"model"`
		}
		if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &got) != nil || !got.Created {
			t.Fatalf("register %d = %d %s, want 201", i, rec.Code, rec.Body)
		}
		if got.Model.RegisteredBy != "anonymous (authentication off)" {
			t.Errorf("registered_by = %q, want the anonymous actor", got.Model.RegisteredBy)
		}
		sums[i] = got.Model.Checksum
	}
	if rec := serve(h, adminReq(http.MethodPost, "/v1/admin/models", string(arts[0]))); rec.Code != http.StatusOK {
		t.Fatalf("register again = %d %s, want 200", rec.Code, rec.Body)
	}
	steps := []struct {
		method, path, body string
		want               int
		wantAlias          string // checksum the champion then names, "" to skip
	}{
		{http.MethodPost, "/v1/admin/models/promote", `{"model":"` + sums[0] + `"}`, http.StatusOK, sums[0]},
		{http.MethodPost, "/v1/admin/models/promote", `{"model":"` + sums[1][:20] + `","reason":"q4"}`, http.StatusOK, sums[1]},
		{http.MethodPost, "/v1/admin/models/rollback", ``, http.StatusOK, sums[0]},
		{http.MethodPost, "/v1/admin/models/rollback", `{"reason":"again"}`, http.StatusNotFound, sums[0]},
		{http.MethodPost, "/v1/admin/models/shadow", `{"model":"` + sums[1] + `"}`, http.StatusOK, ""},
		{http.MethodDelete, "/v1/admin/models/shadow", ``, http.StatusOK, ""},
	}
	for _, st := range steps {
		rec := serve(h, adminReq(st.method, st.path, st.body))
		if rec.Code != st.want {
			t.Fatalf("%s %s %s = %d %s, want %d", st.method, st.path, st.body, rec.Code, rec.Body, st.want)
		}
		if st.wantAlias == "" {
			continue
		}
		var list struct {
			Serving *ServedModels     `json:"serving"`
			Models  []icp.ModelRecord `json:"models"`
		}
		rec = serve(h, adminReq(http.MethodGet, "/v1/admin/models", ""))
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &list) != nil || list.Serving == nil || len(list.Models) != 2 {
			t.Fatalf("GET /v1/admin/models = %d %s", rec.Code, rec.Body)
		}
		for _, m := range list.Models {
			champion := len(m.Aliases) > 0 && m.Aliases[0] == icp.AliasChampion
			if champion != (m.Checksum == st.wantAlias) {
				t.Fatalf("after %s %s: %s has aliases %v, want the champion to be %s", st.method, st.path, m.Checksum, m.Aliases, st.wantAlias)
			}
		}
	}
	rec := serve(h, adminReq(http.MethodGet, "/v1/admin/models/history?limit=3", ""))
	var hist struct {
		Events []icp.ModelEvent `json:"events"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &hist) != nil || len(hist.Events) != 3 ||
		hist.Events[0].Action != icp.ActionUnshadow || hist.Events[1].Action != icp.ActionShadow {
		t.Fatalf("GET history?limit=3 = %d %s, want the last three entries, newest first", rec.Code, rec.Body)
	}
}

func TestModelRoutesRefuseBadInput(t *testing.T) {
	h, arts := registryServer(t, Config{MaxArtifactBytes: 64 << 10})
	tests := []struct {
		name       string
		req        request
		want       int
		wantFields []string
	}{
		{"artifact over the cap", adminReq(http.MethodPost, "/v1/admin/models", string(arts[0])), http.StatusRequestEntityTooLarge, nil},
		{"not an artifact", adminReq(http.MethodPost, "/v1/admin/models", `{"format":"other"}`), http.StatusBadRequest, nil},
		{"artifact not JSON", adminReq(http.MethodPost, "/v1/admin/models", `{"format":`), http.StatusBadRequest, nil},
		{"artifact as text", request{method: http.MethodPost, path: "/v1/admin/models", ct: "text/plain", body: strings.NewReader("x")}, http.StatusUnsupportedMediaType, nil},
		{"promote without model", adminReq(http.MethodPost, "/v1/admin/models/promote", `{}`), http.StatusBadRequest, []string{"model"}},
		{"promote empty body", adminReq(http.MethodPost, "/v1/admin/models/promote", ``), http.StatusBadRequest, []string{"model"}},
		{"promote model not a string", adminReq(http.MethodPost, "/v1/admin/models/promote", `{"model":12}`), http.StatusBadRequest, []string{"model"}},
		{"promote unknown field", adminReq(http.MethodPost, "/v1/admin/models/promote", `{"model":"m-1","by":"x"}`), http.StatusBadRequest, []string{"by"}},
		{"promote reason too long", adminReq(http.MethodPost, "/v1/admin/models/promote", `{"model":"m-1","reason":"`+strings.Repeat("x", 501)+`"}`), http.StatusBadRequest, []string{"reason"}},
		{"promote unknown version", adminReq(http.MethodPost, "/v1/admin/models/promote", `{"model":"m-unknown"}`), http.StatusNotFound, nil},
		{"promote a short name nothing holds", adminReq(http.MethodPost, "/v1/admin/models/promote", `{"model":"abc"}`), http.StatusNotFound, nil},
		{"promote body an array", adminReq(http.MethodPost, "/v1/admin/models/promote", `["m-1"]`), http.StatusBadRequest, nil},
		{"rollback takes no model", adminReq(http.MethodPost, "/v1/admin/models/rollback", `{"model":"m-1"}`), http.StatusBadRequest, []string{"model"}},
		{"rollback with nothing to roll back", adminReq(http.MethodPost, "/v1/admin/models/rollback", ``), http.StatusNotFound, nil},
		{"history limit not a number", adminReq(http.MethodGet, "/v1/admin/models/history?limit=x", ""), http.StatusBadRequest, []string{"limit"}},
		{"history limit too large", adminReq(http.MethodGet, "/v1/admin/models/history?limit=100000", ""), http.StatusBadRequest, []string{"limit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(h, tt.req)
			if rec.Code != tt.want {
				t.Fatalf("status = %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			got := decodeError(t, rec)
			var fields []string
			for _, f := range got.Fields {
				fields = append(fields, f.Field)
			}
			if strings.Join(fields, ",") != strings.Join(tt.wantFields, ",") {
				t.Errorf("fields = %v, want %v", fields, tt.wantFields)
			}
		})
	}
}

func TestModelRoutesWithoutRegistry(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	for _, r := range []request{
		adminReq(http.MethodGet, "/v1/admin/models", ""),
		adminReq(http.MethodPost, "/v1/admin/models/rollback", ""),
	} {
		if rec := serve(s.Handler(), r); rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s %s without a registry = %d, want 503", r.method, r.path, rec.Code)
		}
	}
}

// slowReader hands out its bytes in n parts, sleeping pause before each.
type slowReader struct {
	b     []byte
	part  int
	pause time.Duration
}

func newSlowReader(b []byte, parts int, pause time.Duration) *slowReader {
	return &slowReader{b: b, part: (len(b) + parts - 1) / parts, pause: pause}
}

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.pause)
	n := copy(p, r.b[:min(len(r.b), r.part)])
	r.b = r.b[n:]
	return n, nil
}

// registered counts the versions the admin route lists.
func registered(t *testing.T, h http.Handler) int {
	t.Helper()
	rec := serve(h, adminReq(http.MethodGet, "/v1/admin/models", ""))
	var got struct {
		Models []icp.ModelRecord `json:"models"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &got) != nil {
		t.Fatalf("GET /v1/admin/models = %d %s", rec.Code, rec.Body)
	}
	return len(got.Models)
}

// TestModelUploadDeadline reproduces the fourth finding of the outside
// test: uploads ran under the request deadline, so a large artifact got
// 503 and was stored anyway. An upload now has its own deadline, and one
// that misses it is not stored.
func TestModelUploadDeadline(t *testing.T) {
	// The request deadline is far shorter than the upload takes; the
	// upload deadline is not.
	h, arts := registryServer(t, Config{RequestTimeout: 50 * time.Millisecond, UploadTimeout: 10 * time.Second})
	r := adminReq(http.MethodPost, "/v1/admin/models", "")
	r.body = newSlowReader(arts[0], 4, 60*time.Millisecond)
	if rec := serve(h, r); rec.Code != http.StatusCreated {
		t.Fatalf("upload over 240 ms with a 50 ms request deadline = %d %s, want 201", rec.Code, rec.Body)
	}
	if n := registered(t, h); n != 1 {
		t.Fatalf("%d versions registered, want 1", n)
	}

	// An upload that misses its own deadline is answered with an error and
	// leaves nothing behind.
	h, arts = registryServer(t, Config{UploadTimeout: 100 * time.Millisecond})
	r.body = newSlowReader(arts[1], 4, 60*time.Millisecond)
	rec := serve(h, r)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "timeout") {
		t.Fatalf("upload past its deadline = %d %s, want 503 timeout", rec.Code, rec.Body)
	}
	if n := registered(t, h); n != 0 {
		t.Fatalf("%d versions registered after a failed upload, want 0", n)
	}
	if got := uploadTimeoutFor(256 << 20); got != 286*time.Second {
		t.Errorf("uploadTimeoutFor(256 MiB) = %v, want 286s", got)
	}
}

// TestModelUploadForged reproduces the first finding of the outside test
// through the admin route: forged trees (shared nodes, 40,000 levels)
// are refused with 400 and not stored.
func TestModelUploadForged(t *testing.T) {
	h, arts := registryServer(t, Config{})
	p, err := profile.Decode(bytes.NewReader(arts[0]))
	if err != nil {
		t.Fatal(err)
	}
	node := func(tr *gbm.Tree, f, l, r int32, v, cover float64) {
		tr.Feature, tr.Threshold = append(tr.Feature, f), append(tr.Threshold, 0.5)
		tr.Left, tr.Right = append(tr.Left, l), append(tr.Right, r)
		tr.MissingLeft, tr.Value, tr.Cover = append(tr.MissingLeft, true), append(tr.Value, v), append(tr.Cover, cover)
	}
	var dag, deep gbm.Tree
	for i := range 1000 { // node i points to i+1 and i+2
		if i >= 998 {
			node(&dag, -1, -1, -1, 0.01, 1)
		} else {
			node(&dag, int32(i%3), int32(i+1), int32(i+2), 0, 0)
		}
	}
	for i := 997; i >= 0; i-- {
		dag.Cover[i] = dag.Cover[i+1] + dag.Cover[i+2]
	}
	// 40,000 levels are enough to pass the bound of a tree's nodes (the
	// profile package's tests take 500,000).
	for k := range 40_000 {
		node(&deep, int32(k%3), int32(2*k+1), int32(2*k+2), 0, float64(40_000-k+1))
		node(&deep, -1, -1, -1, 0.01, 1)
	}
	node(&deep, -1, -1, -1, 0.02, 1)
	for _, tt := range []struct {
		name string
		tree gbm.Tree
		want string
	}{{"DAG", dag, "reached twice"}, {"40,000 levels", deep, "more than 65536 elements"}} {
		t.Run(tt.name, func(t *testing.T) {
			q := *p
			q.Model = profile.NewGBMModel(&gbm.Model{Trees: []gbm.Tree{tt.tree}, Loss: "logloss", NumFeatures: p.Encoder.Width}, p.Encoder)
			var b bytes.Buffer
			if err := q.Encode(&b); err != nil {
				t.Fatal(err)
			}
			rec := serve(h, adminReq(http.MethodPost, "/v1/admin/models", b.String()))
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), tt.want) {
				t.Fatalf("POST /v1/admin/models (%s, %d bytes) = %d %.300s, want 400 containing %q", tt.name, b.Len(), rec.Code, rec.Body, tt.want)
			}
			if n := registered(t, h); n != 0 {
				t.Fatalf("%d versions registered, want 0", n)
			}
		})
	}
}
