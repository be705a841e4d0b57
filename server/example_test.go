package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/server"
)

// fixedScorer scores every account the same; a real one is profile's model.
type fixedScorer struct{}

func (fixedScorer) Score(_ context.Context, acc icp.Account) (icp.Score, error) {
	id, _ := acc["account_id"].(string)
	return icp.Score{
		AccountID: id, ModelVersion: "v1", Score: 0.9, Percentile: 97, Tier: icp.Tier1,
		Margin: 2.2, BaseValue: 0.2, AttributionScale: "log_odds",
		Attributions: []icp.Attribution{{Feature: "employees", Value: acc["employees"], Contribution: 2}},
		Completeness: 1,
	}, nil
}

func ExampleNew() {
	// A local demo without API keys; production passes Config.Keys.
	s, err := server.New(server.Config{Scorer: fixedScorer{}, AllowUnauthenticated: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	resp, err := http.Post(ts.URL+"/v1/score", "application/json",
		strings.NewReader(`{"account_id":"acme","employees":120}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var body strings.Builder
	if _, err := io.Copy(&body, resp.Body); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Status)
	fmt.Println(body.String())

	resp, err = http.Post(ts.URL+"/v1/score", "application/json", strings.NewReader(`{"employees":1e400}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
	// Output:
	// 200 OK
	// {"account_id":"acme","model_version":"v1","score":0.9,"percentile":97,"tier":"tier1","segment":null,"margin":2.2,"base_value":0.2,"attribution_scale":"log_odds","attributions":[{"feature":"employees","value":120,"contribution":2}],"completeness":1}
	// 400 Bad Request
}

func ExampleNewMetrics() {
	// cmd/serve makes the registry; nothing here touches the process-wide
	// default one.
	reg := prometheus.NewRegistry()
	m, err := server.NewMetrics(reg)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The drift watcher and the model loader report through m.
	m.SetDriftGauge("employees", 0.31)
	m.SetDriftStatus("employees", icp.SeverityWarning)
	m.ModelReloaded(server.ReloadSuccess)

	s, err := server.New(server.Config{Scorer: fixedScorer{}, Metrics: m, AllowUnauthenticated: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for line := range strings.Lines(rec.Body.String()) {
		if strings.HasPrefix(line, "icp_drift") || strings.HasPrefix(line, "icp_model_reloads_total{") {
			fmt.Print(line)
		}
	}
	// Output:
	// icp_drift_status{feature="employees"} 2
	// icp_drift_value{feature="employees"} 0.31
	// icp_model_reloads_total{result="failure"} 0
	// icp_model_reloads_total{result="success"} 1
}

// schemaScorer knows the fields account_id and employees, and checks
// accounts without scoring them.
type schemaScorer struct{ fixedScorer }

func (s schemaScorer) Score(ctx context.Context, acc icp.Account) (icp.Score, error) {
	if err := s.CheckAccount(ctx, acc); err != nil {
		return icp.Score{}, err
	}
	return s.fixedScorer.Score(ctx, acc)
}

func (schemaScorer) CheckAccount(_ context.Context, acc icp.Account) error {
	var verr icp.ValidationError
	for name := range acc {
		if name != "account_id" && name != "employees" {
			verr.Add(name, "unknown field")
		}
	}
	return verr.Err()
}

func ExampleIgnoredFieldsHeader() {
	s, err := server.New(server.Config{Scorer: schemaScorer{}, AllowUnauthenticated: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	body := `{"account_id":"acme","employees":120,"Owner Name":"Ann"}`
	for _, path := range []string{"/v1/score", "/v1/score?unknown=ignore"} {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		fmt.Printf("%s %d ignored=%q\n", path, rec.Code, rec.Header().Get(server.IgnoredFieldsHeader))
	}
	// Output:
	// /v1/score 400 ignored=""
	// /v1/score?unknown=ignore 200 ignored="Owner%20Name"
}
