package lbd

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/encoding/protojson"

	lbdv1 "cairn.dev/cairn/proto/cairn/lbd/v1"
)

// serveStats answers /lb/stats on the admin port: the node's status and
// every pool, as JSON (the same fields as GetStatus and ListPools).
func (s *Server) serveStats(w http.ResponseWriter, r *http.Request) {
	pools, _ := s.listPools("")
	type stats struct {
		Status *lbdv1.GetStatusResponse `json:"status"`
		Pools  []*lbdv1.Pool            `json:"pools"`
	}
	m := protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}
	st, _ := m.Marshal(s.status())
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":`))
	_, _ = w.Write(st)
	_, _ = w.Write([]byte(`,"pools":[`))
	for i, p := range pools {
		if i > 0 {
			_, _ = w.Write([]byte(","))
		}
		b, _ := m.Marshal(p)
		_, _ = w.Write(b)
	}
	_, _ = w.Write([]byte("]}\n"))
}

// collector exports the pools' state as Prometheus metrics at scrape time.
type collector struct{ s *Server }

var (
	descActive   = prometheus.NewDesc("cairn_lbd_backend_active", "Connections or requests in flight to the backend.", []string{"pool", "backend"}, nil)
	descTotal    = prometheus.NewDesc("cairn_lbd_backend_requests_total", "Connections or requests sent to the backend.", []string{"pool", "backend"}, nil)
	descFailures = prometheus.NewDesc("cairn_lbd_backend_failures_total", "Connections or requests to the backend that failed.", []string{"pool", "backend"}, nil)
	descHealthy  = prometheus.NewDesc("cairn_lbd_backend_healthy", "1 when the backend passes its checks and is not ejected.", []string{"pool", "backend"}, nil)
	descAdmin    = prometheus.NewDesc("cairn_lbd_backend_admin_state", "The backend's admin state: 1 enabled, 2 draining, 3 disabled.", []string{"pool", "backend"}, nil)
	descWeight   = prometheus.NewDesc("cairn_lbd_backend_effective_weight", "The weight balancing uses now (slow start lowers it).", []string{"pool", "backend"}, nil)
	descLatency  = prometheus.NewDesc("cairn_lbd_backend_latency_ewma_seconds", "Moving average of the backend's response (or connect) time.", []string{"pool", "backend"}, nil)
	descActiveHA = prometheus.NewDesc("cairn_lbd_active", "1 while this node holds the virtual address (or has no HA group).", nil, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descActive, descTotal, descFailures, descHealthy, descAdmin, descWeight, descLatency, descActiveHA} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	active := 0.0
	if c.s.Role() != "standby" {
		active = 1
	}
	ch <- prometheus.MustNewConstMetric(descActiveHA, prometheus.GaugeValue, active)
	rt := c.s.live.Load()
	if rt == nil {
		return
	}
	for name, lp := range rt.pools {
		for _, m := range lp.l7.Status() {
			healthy := 0.0
			if m.Healthy {
				healthy = 1
			}
			ch <- prometheus.MustNewConstMetric(descActive, prometheus.GaugeValue, float64(m.Active), name, m.Name)
			ch <- prometheus.MustNewConstMetric(descTotal, prometheus.CounterValue, float64(m.Total), name, m.Name)
			ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(m.Failures), name, m.Name)
			ch <- prometheus.MustNewConstMetric(descHealthy, prometheus.GaugeValue, healthy, name, m.Name)
			ch <- prometheus.MustNewConstMetric(descAdmin, prometheus.GaugeValue, float64(adminProto(m.Admin)), name, m.Name)
			ch <- prometheus.MustNewConstMetric(descWeight, prometheus.GaugeValue, float64(m.EffectiveWeight), name, m.Name)
			ch <- prometheus.MustNewConstMetric(descLatency, prometheus.GaugeValue, m.EWMA.Seconds(), name, m.Name)
		}
	}
}
