package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/auth"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/store"
	"github.com/icpengine/icp/train"
)

// storeBackends returns a SQLite file and, when the PostgreSQL test server
// is configured, a DSN of a fresh schema of it (dropped when the test
// ends), so that several processes can share the store.
func storeBackends(t *testing.T) []struct{ name, dsn string } {
	t.Helper()
	out := []struct{ name, dsn string }{{"sqlite", filepath.Join(t.TempDir(), "icp.db")}}
	base := os.Getenv("ICP_TEST_POSTGRES_URL")
	if base == "" {
		fmt.Println("notice: ICP_TEST_POSTGRES_URL is not set; the replica tests run against SQLite only")
		return out
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "icp_serve_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return append(out, struct{ name, dsn string }{"postgres", u.String()})
}

// addKeys stores one key per scope list in the store at dsn.
func addKeys(t *testing.T, dsn string, scopes ...[]icp.Scope) []string {
	t.Helper()
	st, err := store.Open(t.Context(), dsn, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var keys []string
	for _, sc := range scopes {
		key, rec, err := auth.Generate("ops", sc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateAPIKey(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	return keys
}

// writeModel trains a model on generated data with the given seed and
// writes its artifact.
func writeModel(t *testing.T, seed uint64) string {
	t.Helper()
	tab, _ := synth.Generate(synth.Config{Rows: 1500, Seed: 2})
	p, err := train.Train(tab, features.Infer(tab, features.InferConfig{}), train.Config{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.json")
	if err := p.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// stopServe sends SIGTERM and waits for the process.
func stopServe(cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
}

// do sends one request with an API key and returns the status and body.
func do(t *testing.T, method, u, key, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// servedVersion is the model version a replica answers scores with.
func servedVersion(t *testing.T, addr, key string) string {
	t.Helper()
	code, b := do(t, http.MethodPost, "http://"+addr+"/v1/score", key, `{"account_id":"R-1","industry":"SaaS","employees":120}`)
	var s icp.Score
	if code != http.StatusOK || json.Unmarshal(b, &s) != nil {
		t.Fatalf("POST /v1/score = %d %s", code, b)
	}
	return s.ModelVersion
}

// waitVersion waits until every replica answers with version and returns
// how long it took.
func waitVersion(t *testing.T, key, version string, within time.Duration, addrs ...string) time.Duration {
	t.Helper()
	start := time.Now()
	for _, addr := range addrs {
		for servedVersion(t, addr, key) != version {
			if time.Since(start) > within {
				t.Fatalf("replica %s still serves %s after %v, want %s", addr, servedVersion(t, addr, key), within, version)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return time.Since(start)
}

// reloads reads icp_model_reloads_total{result} from a replica's metrics.
func reloads(t *testing.T, addr, result string) int {
	t.Helper()
	code, b := do(t, http.MethodGet, "http://"+addr+"/metrics", "", "")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", code)
	}
	m := regexp.MustCompile(`icp_model_reloads_total\{result="` + result + `"\} (\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no icp_model_reloads_total{result=%q} in /metrics", result)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// shadowCompared sums icp_shadow_scores_total over agree and disagree.
func shadowCompared(t *testing.T, addr string) int {
	t.Helper()
	_, b := do(t, http.MethodGet, "http://"+addr+"/metrics", "", "")
	n := 0
	for _, m := range regexp.MustCompile(`icp_shadow_scores_total\{result="(?:agree|disagree)"\} (\d+)`).FindAllSubmatch(b, -1) {
		v, _ := strconv.Atoi(string(m[1]))
		n += v
	}
	return n
}

// TestReplicasFollowPromotions runs two serve processes on one store:
// an artifact registered and promoted through one replica's admin API
// reaches both within seconds; a version that cannot load leaves both on
// the old one, recorded in the history by each; rollbacks walk back.
func TestReplicasFollowPromotions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the serve binary; skipped with -short")
	}
	modelA, modelB := writeModel(t, 1), writeModel(t, 2)
	artB, err := os.ReadFile(modelB)
	if err != nil {
		t.Fatal(err)
	}
	bin := buildServe(t)
	for _, be := range storeBackends(t) {
		t.Run(be.name, func(t *testing.T) {
			keys := addKeys(t, be.dsn, []icp.Scope{icp.ScopeAdmin}, []icp.Scope{icp.ScopeScore})
			admin, scorer := keys[0], keys[1]
			common := []string{"--db", be.dsn, "--model-poll", "100ms", "--drain-delay", "0", "--drift-interval", "1h"}
			r1, addr1 := startServe(t, bin, append(common, "--model", modelA, "--replica", "r1")...)
			defer stopServe(r1)
			// The second replica has no file: it starts on the store's champion.
			r2, addr2 := startServe(t, bin, append(common, "--replica", "r2")...)
			defer stopServe(r2)
			versionA := servedVersion(t, addr1, scorer)
			if v := servedVersion(t, addr2, scorer); v != versionA {
				t.Fatalf("replicas serve %s and %s, want the same champion", versionA, v)
			}

			// Register through r1, promote through r2.
			code, b := do(t, http.MethodPost, "http://"+addr1+"/v1/admin/models", admin, string(artB))
			var reg struct {
				Created bool            `json:"created"`
				Model   icp.ModelRecord `json:"model"`
			}
			if code != http.StatusCreated || json.Unmarshal(b, &reg) != nil || !reg.Created {
				t.Fatalf("POST /v1/admin/models = %d %s, want 201", code, b)
			}
			if code, b := do(t, http.MethodPost, "http://"+addr1+"/v1/admin/models", scorer, string(artB)); code != http.StatusForbidden {
				t.Fatalf("POST /v1/admin/models with a score key = %d %s, want 403", code, b)
			}
			if code, b = do(t, http.MethodPost, "http://"+addr2+"/v1/admin/models/promote", admin,
				`{"model":"`+reg.Model.Checksum+`","reason":"q4 retrain"}`); code != http.StatusOK {
				t.Fatalf("promote = %d %s", code, b)
			}
			took := waitVersion(t, scorer, reg.Model.Version, 5*time.Second, addr1, addr2)
			t.Logf("%s: both replicas served the promoted model %v after the promotion answered", be.name, took.Round(time.Millisecond))

			// A version that cannot load, aliased behind the API's back.
			st, err := store.Open(t.Context(), be.dsn, store.Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			bad := icp.ModelRecord{Checksum: "sha256:" + strings.Repeat("0f", 32), Version: "m-broken", RegisteredBy: "test"}
			if _, _, err := st.RegisterModel(t.Context(), bad, []byte(`{"format":"icp-model","format_version":1,"checksum":"x","profile":{}}`)); err != nil {
				t.Fatal(err)
			}
			if _, err := st.SetModelAlias(t.Context(), icp.AliasChampion, bad.Checksum, icp.ActionPromote, "test", ""); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for reloads(t, addr1, "failure") == 0 || reloads(t, addr2, "failure") == 0 {
				if time.Now().After(deadline) {
					t.Fatal("replicas did not report the failed load")
				}
				time.Sleep(20 * time.Millisecond)
			}
			for _, addr := range []string{addr1, addr2} {
				if v := servedVersion(t, addr, scorer); v != reg.Model.Version {
					t.Fatalf("replica %s serves %s after a failed load, want %s kept", addr, v, reg.Model.Version)
				}
			}
			code, b = do(t, http.MethodGet, "http://"+addr1+"/v1/admin/models/history?limit=10", admin, "")
			var hist struct {
				Events []icp.ModelEvent `json:"events"`
			}
			if code != http.StatusOK || json.Unmarshal(b, &hist) != nil {
				t.Fatalf("GET history = %d %s", code, b)
			}
			failed := map[string]bool{}
			for _, ev := range hist.Events {
				if ev.Action == icp.ActionLoad && ev.Result == icp.ResultFailed && ev.Checksum == bad.Checksum {
					failed[ev.Actor] = true
				}
			}
			if !failed["r1"] || !failed["r2"] {
				t.Fatalf("history = %s, want a failed load from r1 and r2", b)
			}

			// Roll back twice: broken -> b (already served), then b -> a.
			for range 2 {
				if code, b := do(t, http.MethodPost, "http://"+addr1+"/v1/admin/models/rollback", admin, `{"reason":"test"}`); code != http.StatusOK {
					t.Fatalf("rollback = %d %s", code, b)
				}
			}
			waitVersion(t, scorer, versionA, 5*time.Second, addr1, addr2)
			code, b = do(t, http.MethodGet, "http://"+addr2+"/v1/admin/models", admin, "")
			var list struct {
				Serving struct {
					Champion struct{ Version string } `json:"champion"`
				} `json:"serving"`
				Models []icp.ModelRecord `json:"models"`
			}
			if code != http.StatusOK || json.Unmarshal(b, &list) != nil || list.Serving.Champion.Version != versionA || len(list.Models) != 3 {
				t.Fatalf("GET /v1/admin/models = %d %s, want 3 versions, serving %s", code, b, versionA)
			}
			if !bytes.Contains(b, []byte(`"aliases":["champion"]`)) {
				t.Fatalf("GET /v1/admin/models = %s, want the champion alias listed", b)
			}

			// A shadow is scored off the request path and counted, never
			// returned.
			if code, b := do(t, http.MethodPost, "http://"+addr1+"/v1/admin/models/shadow", admin, `{"model":"`+reg.Model.Version+`"}`); code != http.StatusOK {
				t.Fatalf("shadow = %d %s", code, b)
			}
			deadline = time.Now().Add(5 * time.Second)
			for shadowCompared(t, addr1) == 0 {
				if v := servedVersion(t, addr1, scorer); v != versionA {
					t.Fatalf("with a shadow set, the answer names %s, want the champion %s", v, versionA)
				}
				if time.Now().After(deadline) {
					t.Fatal("no shadow comparison counted in /metrics")
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestModelFlagIgnoredOnceAChampionExists starts serve with --model on a
// store whose champion is another version: the champion is served and the
// file is named in a warning.
func TestModelFlagIgnoredOnceAChampionExists(t *testing.T) {
	modelA, modelB := writeModel(t, 1), writeModel(t, 2)
	db := filepath.Join(t.TempDir(), "icp.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs safeBuffer
	start := func(model string) (string, chan error) {
		ready, done := make(chan string, 1), make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"--db", db, "--model", model, "--addr", "127.0.0.1:0", "--drain-delay", "0",
				"--allow-unauthenticated", "--log-format", "json"}, &logs, ready)
		}()
		select {
		case addr := <-ready:
			return addr, done
		case err := <-done:
			t.Fatalf("run ended early: %v\n%s", err, logs.String())
		}
		return "", nil
	}
	addr, done := start(modelA)
	versionA := servedVersion(t, addr, "")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	addr, done = start(modelB)
	if v := servedVersion(t, addr, ""); v != versionA {
		t.Fatalf("serve --model B on a store whose champion is A serves %s, want %s", v, versionA)
	}
	if !strings.Contains(logs.String(), "--model is not the store's champion") {
		t.Fatalf("no warning about the ignored --model in the logs:\n%s", logs.String())
	}
	cancel()
	<-done
}
