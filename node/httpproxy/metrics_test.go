package httpproxy

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metricValue returns the value of the counter, or the sample count of the
// histogram, named name whose labels include the given name/value pairs.
func metricValue(t testing.TB, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue metrics
				}
			}
			if h := m.GetHistogram(); h != nil {
				return float64(h.GetSampleCount())
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func TestMetricsObserveRequest(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []int{200, 204, 404, 502, 499, 101, 0} {
		m.ObserveRequest("r", "u", st, time.Millisecond)
	}
	for class, want := range map[string]float64{"2xx": 2, "4xx": 2, "5xx": 1, "1xx": 1, "other": 1} {
		if got := metricValue(t, reg, "cairn_proxy_requests_total", "route", "r", "upstream", "u", "code", class); got != want {
			t.Errorf("%s = %v, want %v", class, got, want)
		}
	}
	if got := metricValue(t, reg, "cairn_proxy_request_duration_seconds", "route", "r"); got != 7 {
		t.Errorf("latency samples %v", got)
	}
	m.Forget("r", "u")
	if got := metricValue(t, reg, "cairn_proxy_requests_total", "route", "r", "code", "2xx"); got != 0 {
		t.Errorf("forgotten series still there: %v", got)
	}
	m.ObserveRequest("r", "u", 200, time.Millisecond) // recreated after Forget
	if got := metricValue(t, reg, "cairn_proxy_requests_total", "route", "r", "code", "2xx"); got != 1 {
		t.Errorf("after forget: %v", got)
	}
	var nilMetrics *Metrics
	nilMetrics.ObserveRequest("r", "u", 200, 0) // no panic
	if _, err := NewMetrics(reg); err == nil {
		t.Error("registering twice succeeded")
	}
}

func TestMetricsObserveRequestDoesNotAllocate(t *testing.T) {
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	m.ObserveRequest("route", "up", 200, time.Millisecond)
	if n := testing.AllocsPerRun(100, func() { m.ObserveRequest("route", "up", 200, time.Millisecond) }); n != 0 {
		t.Errorf("%v allocations per request", n)
	}
}
