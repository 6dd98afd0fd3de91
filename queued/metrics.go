package queued

import (
	"github.com/prometheus/client_golang/prometheus"

	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// queueCollector reports per-queue metrics from the replicated queue records
// at scrape time, so every member reports the same counts and they survive
// restarts and leader changes. It reports at most Config.MaxMetricQueues
// queues, in name order.
type queueCollector struct {
	s *Server

	sent, received, acked, deadLettered *prometheus.Desc
	visible, inFlight, delayed, oldest  *prometheus.Desc
	waiters                             *prometheus.Desc
}

func newQueueCollector(s *Server) *queueCollector {
	q := []string{"queue"}
	return &queueCollector{
		s:            s,
		sent:         prometheus.NewDesc("cairn_queued_messages_sent_total", "Messages sent to the queue (published copies included) since it was created.", q, nil),
		received:     prometheus.NewDesc("cairn_queued_messages_received_total", "Deliveries from the queue since it was created.", q, nil),
		acked:        prometheus.NewDesc("cairn_queued_messages_acked_total", "Messages acked (deleted by receipt) in the queue since it was created.", q, nil),
		deadLettered: prometheus.NewDesc("cairn_queued_messages_dead_lettered_total", "Messages the queue moved to its dead letter queue since it was created.", q, nil),
		visible:      prometheus.NewDesc("cairn_queued_messages_visible", "Messages that can be received now (as of the last sweep).", q, nil),
		inFlight:     prometheus.NewDesc("cairn_queued_messages_in_flight", "Messages received and neither acked nor past their visibility deadline (as of the last sweep).", q, nil),
		delayed:      prometheus.NewDesc("cairn_queued_messages_delayed", "Messages not yet visible because of a delivery or nack delay (as of the last sweep).", q, nil),
		oldest:       prometheus.NewDesc("cairn_queued_oldest_message_age_seconds", "Age of the oldest message in the queue (0 if empty).", q, nil),
		waiters:      prometheus.NewDesc("cairn_queued_waiting_receivers", "Long polls and Consume streams waiting on this node.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.sent, c.received, c.acked, c.deadLettered, c.visible, c.inFlight, c.delayed, c.oldest, c.waiters} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.waiters, prometheus.GaugeValue, float64(c.s.waiters.Load()))
	left := c.s.cfg.MaxMetricQueues
	after := ""
	now := c.s.now()
	for left > 0 {
		qs, next, err := c.s.store.ListQueues("", after, min(left, MaxListPage), now)
		if err != nil {
			return // closed, or failing: the state machine's failure is reported elsewhere
		}
		for _, q := range qs {
			c.collectQueue(ch, q)
		}
		left -= len(qs)
		if next == "" || len(qs) == 0 {
			return
		}
		after = next
	}
}

func (c *queueCollector) collectQueue(ch chan<- prometheus.Metric, q *queuedv1.Queue) {
	st := q.GetStats()
	name := q.GetName()
	ch <- prometheus.MustNewConstMetric(c.sent, prometheus.CounterValue, float64(st.GetSent()), name)
	ch <- prometheus.MustNewConstMetric(c.received, prometheus.CounterValue, float64(st.GetReceived()), name)
	ch <- prometheus.MustNewConstMetric(c.acked, prometheus.CounterValue, float64(st.GetAcked()), name)
	ch <- prometheus.MustNewConstMetric(c.deadLettered, prometheus.CounterValue, float64(st.GetDeadLettered()), name)
	ch <- prometheus.MustNewConstMetric(c.visible, prometheus.GaugeValue, float64(st.GetVisible()), name)
	ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(st.GetInFlight()), name)
	ch <- prometheus.MustNewConstMetric(c.delayed, prometheus.GaugeValue, float64(st.GetDelayed()), name)
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, st.GetOldestAge().AsDuration().Seconds(), name)
}
