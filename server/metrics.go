package server

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/icpengine/icp"
)

// Registry is where Metrics registers its collectors and what GET /metrics
// exposes; *prometheus.Registry satisfies it. cmd/serve makes one with
// prometheus.NewRegistry; the process-wide default registry is never used.
type Registry interface {
	prometheus.Registerer
	prometheus.Gatherer
}

// Metrics holds the Prometheus collectors of the server and of the model
// and drift components wired beside it. Its methods are safe for concurrent
// use.
//
// The series:
//
//	icp_http_requests_total{route,method,code,model_version}  counter
//	icp_http_request_duration_seconds{route}                   histogram
//	icp_http_requests_in_flight                                gauge
//	icp_http_rejections_total{reason}                          counter: unauthenticated,
//	                                                           forbidden, rate_limited,
//	                                                           overloaded, timeout
//	icp_model_reloads_total{result}                            counter: success, failure
//	icp_drift_value{feature}                                   gauge: the drift statistic
//	icp_drift_status{feature}                                  gauge: 0 none, 1 info,
//	                                                           2 warning, 3 critical: the
//	                                                           severity of the feature's
//	                                                           drift signal, as on its alert
//	icp_model_serving{alias,checksum,model_version}            gauge: 1 for the versions
//	                                                           this replica serves
//	icp_shadow_scores_total{result}                            counter: agree, disagree
//	                                                           (tiers), error, dropped
//	icp_shadow_score_difference                                histogram: |shadow - champion|
//
// route is the matched gin pattern ("unmatched" for unknown paths), so ids
// in paths do not multiply series; model_version is the version that
// answered a score, empty on other routes.
type Metrics struct {
	gatherer    prometheus.Gatherer
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	inFlight    prometheus.Gauge
	rejections  *prometheus.CounterVec
	reloads     *prometheus.CounterVec
	driftValue  *prometheus.GaugeVec
	driftStatus *prometheus.GaugeVec
	serving     *prometheus.GaugeVec
	shadow      *prometheus.CounterVec
	shadowDiff  prometheus.Histogram
	// series caches the request counter and duration histogram of each
	// seriesKey seen, so that a request costs one map read rather than
	// hashing its label values into the vectors twice. The keys are
	// bounded as the series are: routes are patterns, codes and model
	// versions few.
	series sync.Map // seriesKey -> *requestSeries
}

// seriesKey is the labels of one request series.
type seriesKey struct {
	route, method, version string
	code                   int
}

// requestSeries is the collectors a request of one seriesKey updates.
type requestSeries struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// NewMetrics makes the collectors and registers them on reg. It fails when
// reg already holds collectors of the same names.
func NewMetrics(reg Registry) (*Metrics, error) {
	m := &Metrics{
		gatherer: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "icp_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method, status code and model version.",
		}, []string{"route", "method", "code", "model_version"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "icp_http_request_duration_seconds",
			Help:    "Time from the first middleware to the answer, by route pattern.",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5},
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "icp_http_requests_in_flight",
			Help: "HTTP requests being handled.",
		}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "icp_http_rejections_total",
			Help: "Requests refused before their handler ran or cut short, by reason.",
		}, []string{"reason"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "icp_model_reloads_total",
			Help: "Model loads and reloads, by result (success or failure).",
		}, []string{"result"}),
		driftValue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "icp_drift_value",
			Help: "Latest drift statistic of each feature against the training reference.",
		}, []string{"feature"}),
		driftStatus: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "icp_drift_status",
			Help: "Latest drift severity of each feature, the one its alert shows: 0 none, 1 info (watch), 2 warning, 3 critical.",
		}, []string{"feature"}),
		serving: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "icp_model_serving",
			Help: "1 for each model version this replica serves, by alias (champion, shadow), checksum and version.",
		}, []string{"alias", "checksum", "model_version"}),
		shadow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "icp_shadow_scores_total",
			Help: "Accounts scored by the shadow model, by result: agree or disagree with the champion's tier, error, or dropped (queue full).",
		}, []string{"result"}),
		shadowDiff: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "icp_shadow_score_difference",
			Help:    "Absolute difference between the shadow's and the champion's score of an account.",
			Buckets: []float64{0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1},
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.inFlight, m.rejections, m.reloads, m.driftValue, m.driftStatus,
		m.serving, m.shadow, m.shadowDiff} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	// Known label values start at zero, so rates and alerts see them before
	// the first event.
	for _, r := range []string{"unauthenticated", "forbidden", "rate_limited", "overloaded", "timeout"} {
		m.rejections.WithLabelValues(r)
	}
	for _, r := range []string{ReloadSuccess, ReloadFailure} {
		m.reloads.WithLabelValues(r)
	}
	for _, r := range []string{ShadowAgree, ShadowDisagree, ShadowError, ShadowDropped} {
		m.shadow.WithLabelValues(r)
	}
	return m, nil
}

// The results of ShadowScored.
const (
	ShadowAgree    = "agree"
	ShadowDisagree = "disagree"
	ShadowError    = "error"
	ShadowDropped  = "dropped"
)

// ShadowScored counts n accounts scored by the shadow model with a result,
// and records the absolute score difference of each compared one (diff is
// ignored for ShadowError and ShadowDropped).
func (m *Metrics) ShadowScored(result string, n int, diff float64) {
	m.shadow.WithLabelValues(result).Add(float64(n))
	if result == ShadowAgree || result == ShadowDisagree {
		m.shadowDiff.Observe(diff)
	}
}

// SetServing records the version an alias serves on this replica; an
// empty checksum records none.
func (m *Metrics) SetServing(alias, checksum, version string) {
	m.serving.DeletePartialMatch(prometheus.Labels{"alias": alias})
	if checksum != "" {
		m.serving.WithLabelValues(alias, checksum, version).Set(1)
	}
}

// The results of ModelReloaded.
const (
	ReloadSuccess = "success"
	ReloadFailure = "failure"
)

// ModelReloaded counts one model load or reload with its result,
// ReloadSuccess or ReloadFailure.
func (m *Metrics) ModelReloaded(result string) { m.reloads.WithLabelValues(result).Inc() }

// SetDriftGauge sets the latest drift statistic (for example the PSI) of a
// feature.
func (m *Metrics) SetDriftGauge(feature string, value float64) {
	m.driftValue.WithLabelValues(feature).Set(value)
}

// SetDriftStatus sets the latest drift status of a feature: the severity
// of its drift signal, which its alert and the dashboard show too ("" when
// it is stable or has too little data).
func (m *Metrics) SetDriftStatus(feature string, sev icp.Severity) {
	var v float64
	switch sev {
	case icp.SeverityInfo:
		v = 1
	case icp.SeverityWarning:
		v = 2
	case icp.SeverityCritical:
		v = 3
	}
	m.driftStatus.WithLabelValues(feature).Set(v)
}

// ResetDrift forgets every feature's drift gauges, for a new model whose
// features differ.
func (m *Metrics) ResetDrift() {
	m.driftValue.Reset()
	m.driftStatus.Reset()
}

// modelVersionKey is the gin context key where the score handler leaves the
// version of the model that answered, for the request counter.
const modelVersionKey = "icp.model_version"

// observe counts and times one answered request; accessLog calls it.
func (m *Metrics) observe(c *gin.Context, status int, elapsed time.Duration) {
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	k := seriesKey{route: route, method: c.Request.Method, version: c.GetString(modelVersionKey), code: status}
	v, ok := m.series.Load(k)
	if !ok {
		v, _ = m.series.LoadOrStore(k, &requestSeries{
			count:    m.requests.WithLabelValues(k.route, k.method, strconv.Itoa(k.code), k.version),
			duration: m.duration.WithLabelValues(k.route),
		})
	}
	rs := v.(*requestSeries)
	rs.count.Inc()
	rs.duration.Observe(elapsed.Seconds())
}

// countRejection counts a request refused for the reason err gives, if it
// is one of the rejections.
func (m *Metrics) countRejection(err error) {
	var reason string
	switch {
	case errors.As(err, new(*authError)):
		reason = "unauthenticated"
	case errors.As(err, new(*forbiddenError)):
		reason = "forbidden"
	case errors.As(err, new(*rateLimitError)):
		reason = "rate_limited"
	case errors.As(err, new(*overloadError)):
		reason = "overloaded"
	case errors.As(err, new(*streamLimitError)):
		reason = "too_many_streams"
	case errors.As(err, new(*slowBodyError)):
		reason = "too_slow"
	case errors.As(err, new(*timeoutError)):
		reason = "timeout"
	default:
		return
	}
	m.rejections.WithLabelValues(reason).Inc()
}

// metricsHandler serves the registry in the Prometheus text format.
func (s *Server) metricsHandler() gin.HandlerFunc {
	h := promhttp.HandlerFor(s.metrics.gatherer, promhttp.HandlerOpts{
		ErrorLog:      errorLogger{s},
		ErrorHandling: promhttp.ContinueOnError,
	})
	return gin.WrapH(h)
}

// errorLogger adapts the server's logger to promhttp.Logger.
type errorLogger struct{ s *Server }

// Println logs a failure to gather or encode a metric.
func (l errorLogger) Println(v ...any) { l.s.log.Error("serve metrics", "err", fmt.Sprint(v...)) }
