package httpproxy

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the proxy's Prometheus metrics:
//
//	cairn_proxy_requests_total{route,upstream,code}              code class: 1xx..5xx
//	cairn_proxy_request_duration_seconds{route,upstream}         histogram
//	cairn_proxy_upstream_errors_total{route,upstream,kind}       connect, timeout, reset, 5xx
//	cairn_proxy_retries_total{route,upstream}                    retried attempts
//
// Proxy records upstream errors and retries; the caller records each
// client request once with ObserveRequest (also for answers the gateway
// gives itself, with upstream ""). Safe for concurrent use; the per
// route×upstream series are cached so the hot path does not allocate.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
	retries  *prometheus.CounterVec

	mu     sync.RWMutex // protects series
	series map[seriesKey]*series
}

type seriesKey struct{ route, upstream string }

// series holds the resolved children of one route×upstream pair.
type series struct {
	codes    [6]prometheus.Counter // index status/100; 0 for anything else
	duration prometheus.Observer
}

// latencyBuckets span a sub-millisecond proxy hop to a minute-long call.
var latencyBuckets = []float64{
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
}

// NewMetrics creates the metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_proxy_requests_total",
			Help: "Client requests answered, by route, upstream and status class.",
		}, []string{"route", "upstream", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cairn_proxy_request_duration_seconds",
			Help:    "Time to answer a client request, by route and upstream.",
			Buckets: latencyBuckets,
		}, []string{"route", "upstream"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_proxy_upstream_errors_total",
			Help: "Failed upstream attempts, by route, upstream and kind.",
		}, []string{"route", "upstream", "kind"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_proxy_retries_total",
			Help: "Attempts retried, by route and the upstream that failed.",
		}, []string{"route", "upstream"}),
		series: map[seriesKey]*series{},
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.errors, m.retries} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("httpproxy: register metrics: %w", err)
		}
	}
	return m, nil
}

var codeClasses = [6]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}

// seriesFor returns the cached series of route×upstream.
func (m *Metrics) seriesFor(route, upstream string) *series {
	k := seriesKey{route, upstream}
	m.mu.RLock()
	s := m.series[k]
	m.mu.RUnlock()
	if s != nil {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s = m.series[k]; s != nil {
		return s
	}
	s = &series{duration: m.duration.WithLabelValues(route, upstream)}
	for i, c := range codeClasses {
		s.codes[i] = m.requests.WithLabelValues(route, upstream, c)
	}
	m.series[k] = s
	return s
}

// ObserveRequest records one answered client request. A nil Metrics
// records nothing.
func (m *Metrics) ObserveRequest(route, upstream string, status int, d time.Duration) {
	if m == nil {
		return
	}
	s := m.seriesFor(route, upstream)
	c := status / 100
	if c < 1 || c > 5 {
		c = 0
	}
	s.codes[c].Inc()
	s.duration.Observe(d.Seconds())
}

// Forget drops the cached series of route×upstream (after a configuration
// change removed them) and deletes them from the collectors.
func (m *Metrics) Forget(route, upstream string) {
	m.mu.Lock()
	delete(m.series, seriesKey{route, upstream})
	m.mu.Unlock()
	l := prometheus.Labels{"route": route, "upstream": upstream}
	m.requests.DeletePartialMatch(l)
	m.duration.DeletePartialMatch(l)
	m.errors.DeletePartialMatch(l)
	m.retries.DeletePartialMatch(l)
}

func (m *Metrics) upstreamError(route, upstream string, kind FailureKind) {
	m.errors.WithLabelValues(route, upstream, kind.String()).Inc()
}

func (m *Metrics) retry(route, upstream string) {
	m.retries.WithLabelValues(route, upstream).Inc()
}
