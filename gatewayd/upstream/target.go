package upstream

import "time"

// target is the pool's state of one address. Every field is guarded by the
// pool's mutex, except addr, which never changes.
type target struct {
	addr   string
	weight int
	member bool // in the pool's current list; removed targets only drain

	current  int // smooth weighted round robin's running weight
	inflight int
	requests int64
	failures int64
	latency  time.Duration // moving average of reported latencies

	// Outlier detection.
	failRun      int       // consecutive failures since the last success or ejection
	ejected      bool      // Pick must not return the target
	ejectedUntil time.Time // while ejected
	lastEnd      time.Time // when the last ejection ended (or is due to end)
	times        int       // ejections counted towards the growing ejection time
	ejections    int64     // every ejection, for Stats
	epoch        uint32    // bumped at each ejection; older picks' results are not counted
}

// latencyWeight is the share a new sample takes in the latency average.
const latencyWeight = 0.2

func (t *target) observeLatency(d time.Duration) {
	if d <= 0 {
		return
	}
	if t.latency == 0 {
		t.latency = d
		return
	}
	t.latency += time.Duration(latencyWeight * float64(d-t.latency))
}
