package respcache

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	descLookups = prometheus.NewDesc("cairn_gateway_cache_lookups_total",
		"Response cache lookups by result: local_hit, shared_hit, miss, bypass (request no-cache).", []string{"result"}, nil)
	descStores = prometheus.NewDesc("cairn_gateway_cache_stores_total",
		"Responses stored in the response cache.", nil, nil)
	descSharedWrites = prometheus.NewDesc("cairn_gateway_cache_shared_writes_total",
		"Writes of stored responses to the shared tier by result: ok, error, shed (too many in flight).", []string{"result"}, nil)
	descSharedReadErrors = prometheus.NewDesc("cairn_gateway_cache_shared_read_errors_total",
		"Shared tier reads that failed or timed out (answered as misses).", nil, nil)
	descCorrupt = prometheus.NewDesc("cairn_gateway_cache_corrupt_entries_total",
		"Entries read from the shared tier that could not be decoded.", nil, nil)
	descCoalesced = prometheus.NewDesc("cairn_gateway_cache_coalesced_total",
		"Requests that waited for a concurrent miss of the same key instead of going upstream.", nil, nil)
	descLocalEntries = prometheus.NewDesc("cairn_gateway_cache_local_entries",
		"Entries in this node's local tier.", nil, nil)
	descLocalBytes = prometheus.NewDesc("cairn_gateway_cache_local_bytes",
		"Approximate bytes held by this node's local tier.", nil, nil)
)

// RegisterMetrics exports c's Stats on reg, read at scrape time.
func (c *Cache) RegisterMetrics(reg prometheus.Registerer) error {
	if err := reg.Register(collector{c}); err != nil {
		return fmt.Errorf("respcache: register metrics: %w", err)
	}
	return nil
}

type collector struct{ c *Cache }

func (collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLookups, descStores, descSharedWrites, descSharedReadErrors,
		descCorrupt, descCoalesced, descLocalEntries, descLocalBytes} {
		ch <- d
	}
}

func (m collector) Collect(ch chan<- prometheus.Metric) {
	s := m.c.Stats()
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(descLookups, s.LocalHits, "local_hit")
	counter(descLookups, s.SharedHits, "shared_hit")
	counter(descLookups, s.Misses, "miss")
	counter(descLookups, s.Bypasses, "bypass")
	counter(descStores, s.Stores)
	counter(descSharedWrites, s.SharedSets, "ok")
	counter(descSharedWrites, s.SetErrors, "error")
	counter(descSharedWrites, s.SetsShed, "shed")
	counter(descSharedReadErrors, s.GetErrors)
	counter(descCorrupt, s.Corrupt)
	counter(descCoalesced, s.Coalesced)
	ch <- prometheus.MustNewConstMetric(descLocalEntries, prometheus.GaugeValue, float64(s.LocalEntries))
	ch <- prometheus.MustNewConstMetric(descLocalBytes, prometheus.GaugeValue, float64(s.LocalBytes))
}
