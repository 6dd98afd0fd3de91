package raftnode

import (
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Raft measurements a Node records as it runs; the gauges
// (term, indexes, sizes) are read from the node when /metrics is scraped.
// Every Raft daemon registers them with Node.RegisterMetrics.
type metrics struct {
	// appendDuration times each append of entries to the log, fsync included
	// (cairn_raft_log_append_duration_seconds).
	appendDuration prometheus.Histogram
	// applyDuration times each batch of committed entries given to the state
	// machine (cairn_raft_apply_duration_seconds).
	applyDuration prometheus.Histogram
	// proposeDuration times a command proposed on this node from Apply until
	// its result is back: replication, commit and apply
	// (cairn_raft_propose_duration_seconds).
	proposeDuration prometheus.Histogram
	// leaderChanges counts the leader changes this node has observed.
	leaderChanges atomic.Uint64
}

// diskDurationBuckets span a page-cache write to a throttled disk flush.
var diskDurationBuckets = []float64{
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
}

func newMetrics() *metrics {
	return &metrics{
		appendDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "cairn_raft_log_append_duration_seconds",
			Help:    "Time to append a batch of entries to the Raft log, fsync included.",
			Buckets: diskDurationBuckets,
		}),
		applyDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "cairn_raft_apply_duration_seconds",
			Help:    "Time for the state machine to apply a batch of committed entries.",
			Buckets: diskDurationBuckets,
		}),
		proposeDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "cairn_raft_propose_duration_seconds",
			Help:    "Time from proposing a command on this node (as leader) until its result is back: replication, commit and apply.",
			Buckets: diskDurationBuckets,
		}),
	}
}

// observe records the time since start in h.
func observe(h prometheus.Histogram, start time.Time) { h.Observe(time.Since(start).Seconds()) }

// The gauges read from the node at each scrape.
var (
	descTerm          = prometheus.NewDesc("cairn_raft_term", "Current Raft term.", nil, nil)
	descState         = prometheus.NewDesc("cairn_raft_state", "1 for this node's Raft state, 0 for the others.", []string{"state"}, nil)
	descHasLeader     = prometheus.NewDesc("cairn_raft_has_leader", "1 when this node knows a leader, else 0.", nil, nil)
	descIsLeader      = prometheus.NewDesc("cairn_raft_is_leader", "1 when this node is the leader, else 0.", nil, nil)
	descLeaderChanges = prometheus.NewDesc("cairn_raft_leader_changes_seen_total", "Leader changes this node has observed since it started.", nil, nil)
	descLastIndex     = prometheus.NewDesc("cairn_raft_last_log_index", "Index of the last entry in this node's log.", nil, nil)
	descCommitIndex   = prometheus.NewDesc("cairn_raft_commit_index", "Highest log index this node knows to be committed.", nil, nil)
	descAppliedIndex  = prometheus.NewDesc("cairn_raft_applied_index", "Index of the last entry the state machine has applied durably.", nil, nil)
	descSnapIndex     = prometheus.NewDesc("cairn_raft_last_snapshot_index", "Index covered by the latest snapshot.", nil, nil)
	descLogBytes      = prometheus.NewDesc("cairn_raft_log_bytes", "Size on disk of the Raft log (WAL segments).", nil, nil)
	descSnapBytes     = prometheus.NewDesc("cairn_raft_snapshot_bytes", "Size of the latest snapshot.", nil, nil)
	descVoters        = prometheus.NewDesc("cairn_raft_voters", "Voters in the latest configuration this node knows.", nil, nil)
)

// RegisterMetrics registers the node's Raft metrics on reg: term, state,
// leader, leader changes, last/commit/applied/snapshot indexes, log and
// snapshot sizes, and the append (fsync), apply and propose latency
// histograms. Call it once, before or after Start; gauges read before Start
// report zeros.
func (n *Node) RegisterMetrics(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{n.metrics.appendDuration, n.metrics.applyDuration, n.metrics.proposeDuration, nodeCollector{n}} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// nodeCollector reads the node's gauges at scrape time.
type nodeCollector struct{ n *Node }

func (c nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descTerm, descState, descHasLeader, descIsLeader, descLeaderChanges,
		descLastIndex, descCommitIndex, descAppliedIndex, descSnapIndex, descLogBytes, descSnapBytes, descVoters} {
		ch <- d
	}
}

func (c nodeCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.n
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	ch <- prometheus.MustNewConstMetric(descLeaderChanges, prometheus.CounterValue, float64(n.metrics.leaderChanges.Load()))
	if !n.started.Load() || n.raft == nil {
		return
	}
	r := n.raft
	state := stateName(r.State())
	for _, s := range []string{"leader", "follower", "candidate", "shutdown"} {
		gauge(descState, b2f(s == state), s)
	}
	gauge(descTerm, float64(r.CurrentTerm()))
	lid, _ := n.Leader()
	gauge(descHasLeader, b2f(lid != ""))
	gauge(descIsLeader, b2f(state == "leader"))
	gauge(descLastIndex, float64(r.LastIndex()))
	gauge(descCommitIndex, float64(r.CommitIndex()))
	gauge(descAppliedIndex, float64(n.fsm.appliedIndex()))
	stats := r.Stats()
	if v, err := strconv.ParseUint(stats["last_snapshot_index"], 10, 64); err == nil {
		gauge(descSnapIndex, float64(v))
	}
	gauge(descVoters, float64(n.voters()))
	gauge(descLogBytes, float64(dirBytes(filepath.Join(n.cfg.DataDir, walDir))))
	if metas, err := n.snaps.List(); err == nil && len(metas) > 0 {
		gauge(descSnapBytes, float64(metas[0].Size))
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// dirBytes is the total size of the regular files directly in dir (0 when it
// does not exist).
func dirBytes(dir string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var total int64
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			total += info.Size()
		}
	}
	return total
}

// countLeaderChanges counts leader observations until the node stops. It runs
// on a goroutine owned by the node (goFunc).
func (n *Node) countLeaderChanges(ch <-chan raft.Observation, obs *raft.Observer) {
	defer n.raft.DeregisterObserver(obs)
	for {
		select {
		case <-n.stop:
			return
		case o := <-ch:
			// Raft reports losing a leader too (an empty LeaderID); count
			// only the arrival of a new one.
			if lo, ok := o.Data.(raft.LeaderObservation); ok && lo.LeaderID != "" {
				n.metrics.leaderChanges.Add(1)
			}
		}
	}
}
