package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
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
		{"promote too short a ref", adminReq(http.MethodPost, "/v1/admin/models/promote", `{"model":"abc"}`), http.StatusBadRequest, nil},
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
