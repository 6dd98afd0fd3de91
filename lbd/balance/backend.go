package balance

import (
	"sync/atomic"
	"time"
)

// MaxWeight is the largest weight a Backend can have. Weights are clamped to
// 1..MaxWeight: a backend that should get no traffic is left out of the set a
// Picker is built from rather than given weight 0.
const MaxWeight = 1000

// ewmaDecay is the latency EWMA's memory in samples: each sample moves the
// average 1/ewmaDecay of the way towards itself, so a step change in a
// backend's latency is mostly (86%) absorbed after 2·ewmaDecay samples.
const ewmaDecay = 16

// Backend is one server a pool balances over. Its counters are shared by every
// Picker built over it and updated concurrently by the traffic through it; all
// its methods are safe for concurrent use. Name and Addr must not change once
// the Backend has been given to a Picker.
type Backend struct {
	Name string // unique within a pool; hashing algorithms place the backend by it
	Addr string // host:port

	weight   atomic.Int64 // 1..MaxWeight
	inflight atomic.Int64 // connections or requests between Begin and End, never below 0
	latency  atomic.Int64 // EWMA of End's latencies in nanoseconds; 0 before the first sample
}

// NewBackend returns a backend with no traffic and no latency sample; weight
// is clamped to 1..MaxWeight.
func NewBackend(name, addr string, weight int) *Backend {
	b := &Backend{Name: name, Addr: addr}
	b.weight.Store(clampWeight(weight))
	return b
}

func clampWeight(w int) int64 {
	return int64(min(max(w, 1), MaxWeight))
}

// Weight returns the backend's effective weight, 1..MaxWeight (the pool lowers
// it during slow start).
func (b *Backend) Weight() int { return int(b.weight.Load()) }

// SetWeight sets the effective weight, clamped to 1..MaxWeight. Load-aware
// algorithms (least_conn, least_time and p2c's comparison) see it at once;
// the others snapshot weights when a Picker is built, so the pool rebuilds its
// Picker after changing weights.
func (b *Backend) SetWeight(w int) { b.weight.Store(clampWeight(w)) }

// Inflight returns the number of connections or requests that have begun and
// not yet ended.
func (b *Backend) Inflight() int64 { return b.inflight.Load() }

// Begin records that a connection or request to the backend starts. Every
// Begin must be followed by exactly one End.
func (b *Backend) Begin() { b.inflight.Add(1) }

// End records that a connection or request begun with Begin has ended. A
// latency > 0 (connect time, or time to response, as the pool measures it)
// feeds the latency EWMA; 0 or less records no sample (a failure, say). An End
// without a Begin never takes the in-flight count below zero.
func (b *Backend) End(latency time.Duration) {
	for {
		n := b.inflight.Load()
		if n <= 0 || b.inflight.CompareAndSwap(n, n-1) {
			break
		}
	}
	if latency <= 0 {
		return
	}
	sample := int64(latency)
	for {
		old := b.latency.Load()
		next := sample // the first sample is the average
		if old > 0 {
			// Truncation keeps next between old and sample, so it stays >= 1.
			next = old + (sample-old)/ewmaDecay
		}
		if b.latency.CompareAndSwap(old, next) {
			return
		}
	}
}

// Latency returns the EWMA of the latencies passed to End, or 0 before any
// sample.
func (b *Backend) Latency() time.Duration { return time.Duration(b.latency.Load()) }
