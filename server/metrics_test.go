package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/icpengine/icp"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := newTestServer(t, Config{Metrics: m})
	for _, r := range []request{post(`{"employees":3}`), post(`{"employees":3}`), post(`{"employees":-1e400}`), {method: http.MethodGet, path: "/nope/123"}} {
		serve(s.Handler(), r)
	}
	m.ModelReloaded(ReloadFailure)
	m.SetDriftGauge("employees", 0.31)
	m.SetDriftStatus("employees", icp.SeverityWarning)
	m.SetDriftStatus("industry", "")

	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"score 200", testutil.ToFloat64(m.requests.WithLabelValues("/v1/score", "POST", "200", "test-v1")), 2},
		{"score 400 (no model version)", testutil.ToFloat64(m.requests.WithLabelValues("/v1/score", "POST", "400", "")), 1},
		{"unmatched 404", testutil.ToFloat64(m.requests.WithLabelValues("unmatched", "GET", "404", "")), 1},
		{"in flight after", testutil.ToFloat64(m.inFlight), 0},
		{"reload failure", testutil.ToFloat64(m.reloads.WithLabelValues(ReloadFailure)), 1},
		{"reload success", testutil.ToFloat64(m.reloads.WithLabelValues(ReloadSuccess)), 0},
		{"drift value", testutil.ToFloat64(m.driftValue.WithLabelValues("employees")), 0.31},
		{"drift status warning", testutil.ToFloat64(m.driftStatus.WithLabelValues("employees")), 2},
		{"drift status none", testutil.ToFloat64(m.driftStatus.WithLabelValues("industry")), 0},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if n := testutil.CollectAndCount(m.duration); n != 2 {
		t.Errorf("duration histograms = %d, want 2 (/v1/score and unmatched)", n)
	}

	rec := serve(s.Handler(), request{method: http.MethodGet, path: "/metrics"})
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, want := range []string{
		`icp_http_requests_total{code="200",method="POST",model_version="test-v1",route="/v1/score"} 2`,
		`icp_http_request_duration_seconds_bucket{route="/v1/score",le="+Inf"} 3`,
		`icp_http_requests_in_flight 1`, // the scrape itself
		`icp_http_rejections_total{reason="overloaded"} 0`,
		`icp_drift_value{feature="employees"} 0.31`,
		`icp_drift_status{feature="employees"} 2`,
		`icp_model_reloads_total{result="failure"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	m.ResetDrift()
	if n := testutil.CollectAndCount(m.driftValue); n != 0 {
		t.Errorf("drift series after ResetDrift = %d, want 0", n)
	}
	// A second set of collectors cannot share the registry.
	if _, err := NewMetrics(reg); err == nil {
		t.Error("NewMetrics on a registry already holding them succeeded, want an error")
	}
}

func TestMetricsRejections(t *testing.T) {
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	s, _ := newTestServer(t, Config{Metrics: m, Keys: principalKeys{}, RateLimit: 1, RateBurst: 1})
	call := func(authz string) {
		r := post(`{}`)
		if authz != "" {
			r.header = map[string]string{"Authorization": authz}
		}
		serve(s.Handler(), r)
	}
	call("")
	call("Bearer k")
	call("Bearer k")
	for reason, want := range map[string]float64{"unauthenticated": 1, "rate_limited": 1, "forbidden": 0} {
		if got := testutil.ToFloat64(m.rejections.WithLabelValues(reason)); got != want {
			t.Errorf("rejections{%s} = %v, want %v", reason, got, want)
		}
	}
}
