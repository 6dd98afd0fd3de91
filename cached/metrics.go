package cached

import (
	"fmt"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the node's counters, exported on the admin server's /metrics.
// Store sizes and counters are read from the store at scrape time.
type metrics struct {
	forwarded   atomic.Int64 // requests sent to another node (gRPC and RESP)
	unreachable atomic.Int64 // reads answered as misses because the owner (and replicas) did not answer
	replicaErrs atomic.Int64 // failed copies of a write to a replica
	replicated  atomic.Int64 // writes copied to replicas
	commands    atomic.Int64 // RESP commands processed
	respConns   atomic.Int64 // open RESP connections
	respTotal   atomic.Int64 // RESP connections accepted
	respRefused atomic.Int64 // RESP connections refused (max clients)

	members prometheus.Gauge
}

// newMetrics registers the node's metrics on its Prometheus registry.
func newMetrics(s *Server) (*metrics, error) {
	m := &metrics{
		members: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cairn_cached_ring_members", Help: "Members of this node's ring."}),
	}
	counter := func(name, help string, v *atomic.Int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v.Load()) })
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	cs := []prometheus.Collector{
		m.members,
		counter("cairn_cached_forwarded_total", "Requests forwarded to the key's owner (or a replica).", &m.forwarded),
		counter("cairn_cached_owner_unreachable_misses_total", "Reads answered as misses because the key's owner and replicas were unreachable.", &m.unreachable),
		counter("cairn_cached_replication_errors_total", "Copies of a write to a replica that failed.", &m.replicaErrs),
		counter("cairn_cached_replicated_total", "Copies of a write sent to a replica.", &m.replicated),
		counter("cairn_cached_resp_commands_total", "RESP commands processed.", &m.commands),
		counter("cairn_cached_resp_connections_total", "RESP connections accepted.", &m.respTotal),
		counter("cairn_cached_resp_rejected_connections_total", "RESP connections refused at resp_max_clients.", &m.respRefused),
		gauge("cairn_cached_resp_connections", "Open RESP connections.", func() float64 { return float64(m.respConns.Load()) }),
		&storeCollector{s: s},
	}
	for _, c := range cs {
		if err := s.srv.Registry().Register(c); err != nil {
			return nil, fmt.Errorf("cached: register metrics: %w", err)
		}
	}
	return m, nil
}

// storeCollector exports the store's Stats at scrape time.
type storeCollector struct{ s *Server }

var (
	descItems       = prometheus.NewDesc("cairn_cached_items", "Keys stored on this node.", nil, nil)
	descBytes       = prometheus.NewDesc("cairn_cached_bytes", "Bytes charged to items (key, value and per-item overhead).", nil, nil)
	descMaxBytes    = prometheus.NewDesc("cairn_cached_max_bytes", "Memory limit (0 = unlimited).", nil, nil)
	descHits        = prometheus.NewDesc("cairn_cached_hits_total", "Reads that found the key in this node's store.", nil, nil)
	descMisses      = prometheus.NewDesc("cairn_cached_misses_total", "Reads that did not find the key in this node's store.", nil, nil)
	descEvictions   = prometheus.NewDesc("cairn_cached_evictions_total", "Keys evicted to free memory.", nil, nil)
	descExpirations = prometheus.NewDesc("cairn_cached_expirations_total", "Keys removed because their TTL ran out.", nil, nil)
	descSets        = prometheus.NewDesc("cairn_cached_sets_total", "Successful value writes.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descItems, descBytes, descMaxBytes, descHits, descMisses, descEvictions, descExpirations, descSets} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.store.Stats()
	ch <- prometheus.MustNewConstMetric(descItems, prometheus.GaugeValue, float64(st.Items))
	ch <- prometheus.MustNewConstMetric(descBytes, prometheus.GaugeValue, float64(st.Bytes))
	ch <- prometheus.MustNewConstMetric(descMaxBytes, prometheus.GaugeValue, float64(c.s.cfg.MaxMemory))
	ch <- prometheus.MustNewConstMetric(descHits, prometheus.CounterValue, float64(st.Hits))
	ch <- prometheus.MustNewConstMetric(descMisses, prometheus.CounterValue, float64(st.Misses))
	ch <- prometheus.MustNewConstMetric(descEvictions, prometheus.CounterValue, float64(st.Evictions))
	ch <- prometheus.MustNewConstMetric(descExpirations, prometheus.CounterValue, float64(st.Expirations))
	ch <- prometheus.MustNewConstMetric(descSets, prometheus.CounterValue, float64(st.Sets))
}
