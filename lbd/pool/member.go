package pool

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/lbd/balance"
)

// Bounds of a member's history.
const (
	maxTransitions = 16
	latencySamples = 512
	rateBuckets    = 10 // seconds of request-rate history
)

// member is one backend of a pool. The pool's mu guards the fields marked
// so; the counters are atomic; statsMu guards the latency and rate windows.
type member struct {
	b *balance.Backend

	// guarded by Pool.mu:
	configWeight  int
	override      int // 0: none
	admin         AdminState
	adminSince    time.Time
	drainDeadline time.Time
	checkUp       bool
	checkReason   string
	upSince       time.Time // when it last became eligible by health (slow start)
	wasEjected    bool
	ramping       bool // its slow-start share is below 1
	transitions   []Transition

	removed atomic.Bool // it left the pool

	cutMu     sync.Mutex      // guards cutCtx and cutCancel
	cutCtx    context.Context // done when its connections must end; replaced on re-enable
	cutCancel context.CancelFunc
	total     atomic.Int64
	failed    atomic.Int64

	statsMu   sync.Mutex // guards the fields below
	latencies [latencySamples]time.Duration
	nLatency  int // samples written, ever
	rate      [rateBuckets]struct {
		sec   int64
		count int64
	}
}

func newMember(d Discovered, up bool, now time.Time) *member {
	m := &member{
		b:            balance.NewBackend(d.Name, d.Address, d.Weight),
		configWeight: d.Weight,
		admin:        AdminEnabled,
		checkUp:      up,
		checkReason:  "no check yet",
	}
	m.cutCtx, m.cutCancel = context.WithCancel(context.Background())
	if up {
		m.checkReason = "no active checks"
		m.upSince = now
	}
	m.transition(now, "added", "")
	return m
}

func (m *member) weight() int {
	if m.override > 0 {
		return m.override
	}
	return m.configWeight
}

func (m *member) transition(now time.Time, state, reason string) {
	if len(m.transitions) == maxTransitions {
		m.transitions = slices.Delete(m.transitions, 0, 1)
	}
	m.transitions = append(m.transitions, Transition{At: now, State: state, Reason: reason})
}

// cutContext is done when the member's current connections must end.
func (m *member) cutContext() context.Context {
	m.cutMu.Lock()
	defer m.cutMu.Unlock()
	return m.cutCtx
}

// cut ends the member's current connections.
func (m *member) cut() {
	m.cutMu.Lock()
	defer m.cutMu.Unlock()
	m.cutCancel()
}

// uncut gives new connections a fresh cut context (after a re-enable).
func (m *member) uncut() {
	m.cutMu.Lock()
	defer m.cutMu.Unlock()
	if m.cutCtx.Err() != nil {
		m.cutCtx, m.cutCancel = context.WithCancel(context.Background())
	}
}

// remove cuts a member that left the pool.
func (m *member) remove(now time.Time) {
	m.removed.Store(true)
	m.transition(now, "removed", "")
	m.cut()
}

// observe records one finished connection or request.
func (m *member) observe(now time.Time, latency time.Duration, failed bool) {
	if failed {
		m.failed.Add(1)
	}
	sec := now.Unix()
	m.statsMu.Lock()
	if latency > 0 {
		m.latencies[m.nLatency%latencySamples] = latency
		m.nLatency++
	}
	bk := &m.rate[sec%rateBuckets]
	if bk.sec != sec {
		bk.sec, bk.count = sec, 0
	}
	bk.count++
	m.statsMu.Unlock()
}

// windows returns the latency percentiles of the recent samples and the
// request rate over the last rateBuckets seconds.
func (m *member) windows(now time.Time) (p50, p99 time.Duration, perSecond float64) {
	m.statsMu.Lock()
	n := min(m.nLatency, latencySamples)
	lat := slices.Clone(m.latencies[:n])
	var count int64
	sec := now.Unix()
	for _, bk := range m.rate {
		if bk.sec > sec-rateBuckets && bk.sec <= sec {
			count += bk.count
		}
	}
	m.statsMu.Unlock()
	if n > 0 {
		slices.Sort(lat)
		p50 = lat[(n-1)*50/100]
		p99 = lat[(n-1)*99/100]
	}
	return p50, p99, float64(count) / rateBuckets
}
