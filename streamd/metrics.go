package streamd

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// collector reports each local replica's offsets, size and role at scrape
// time.
type collector struct {
	s                                      *Server
	logEnd, logStart, highWatermark, bytes *prometheus.Desc
	isr, leader, waiting                   *prometheus.Desc
}

func newCollector(s *Server) *collector {
	labels := []string{"topic", "partition"}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("cairn_streamd_partition_"+name, help, labels, nil)
	}
	return &collector{
		s:             s,
		logEnd:        d("log_end_offset", "The replica's log end offset (the next offset it will write)."),
		logStart:      d("log_start_offset", "The replica's first offset (retention moves it)."),
		highWatermark: d("high_watermark", "The replica's high watermark: records below it are committed."),
		bytes:         d("bytes", "Bytes of the replica's segment files."),
		isr:           d("isr_size", "Members of the partition's in-sync replica set, as this replica knows it."),
		leader:        d("leader", "1 while this node leads the partition, else 0."),
		waiting:       prometheus.NewDesc("cairn_streamd_waiting_fetches", "Long-polling fetches and fetch streams waiting on this node.", nil, nil),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.logEnd, c.logStart, c.highWatermark, c.bytes, c.isr, c.leader, c.waiting} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(c.s.waiters.Load()))
	for _, p := range c.s.parts.all() {
		p.mu.Lock()
		st, leading, hw := p.state, p.leading, p.hw
		p.mu.Unlock()
		labels := []string{st.topic, strconv.Itoa(int(st.key.partition))}
		lead := 0.0
		if leading {
			lead = 1
		}
		ch <- prometheus.MustNewConstMetric(c.logEnd, prometheus.GaugeValue, float64(p.log.EndOffset()), labels...)
		ch <- prometheus.MustNewConstMetric(c.logStart, prometheus.GaugeValue, float64(p.log.StartOffset()), labels...)
		ch <- prometheus.MustNewConstMetric(c.highWatermark, prometheus.GaugeValue, float64(hw), labels...)
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(p.log.Size()), labels...)
		ch <- prometheus.MustNewConstMetric(c.isr, prometheus.GaugeValue, float64(len(st.isr)), labels...)
		ch <- prometheus.MustNewConstMetric(c.leader, prometheus.GaugeValue, lead, labels...)
	}
}
