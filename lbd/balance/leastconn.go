package balance

import (
	"sync/atomic"
	"time"
)

// leastConn picks the backend with the fewest in-flight connections per unit
// of (current) weight. The scan starts one backend further on each pick and
// the first minimum wins, so ties rotate: idle backends take turns.
type leastConn struct {
	backends []*Backend
	next     atomic.Uint64 // where the next scan starts
}

func (p *leastConn) Pick(_ uint64, skip func(*Backend) bool) *Backend {
	n := uint64(len(p.backends))
	i := (p.next.Add(1) - 1) % n
	var best *Backend
	var bestIn, bestW int64
	for range n {
		b := p.backends[i]
		if i++; i == n {
			i = 0
		}
		if skip != nil && skip(b) {
			continue
		}
		in := b.inflight.Load()
		if in == 0 {
			return b // nothing beats an idle backend
		}
		w := b.weight.Load()
		if best == nil || in*bestW < bestIn*w { // in/w < bestIn/bestW
			best, bestIn, bestW = b, in, w
		}
	}
	return best
}

// latencyFloor is least_time's ε, added to every latency so that in-flight
// counts still matter between backends that all answer in a few microseconds.
const latencyFloor = 100 * time.Microsecond

// leastTime picks the backend with the least (EWMA latency + ε) × (inflight +
// 1) / weight: the expected wait for one more request. A backend with no
// latency sample yet and nothing in flight is tried first, so new backends
// get measured; one with no sample but requests in flight is scored with the
// mean latency of the measured ones (or, if none is measured, all compare by
// inflight/weight). Ties rotate as in least_conn.
type leastTime struct {
	backends []*Backend
	next     atomic.Uint64 // where the next scan starts
}

func (p *leastTime) Pick(_ uint64, skip func(*Backend) bool) *Backend {
	n := uint64(len(p.backends))
	i := (p.next.Add(1) - 1) % n
	var (
		best      *Backend // the best measured backend
		bestScore float64  // its (latency+ε)·(inflight+1), to be divided by bestW
		bestW     float64
		latSum    float64 // over measured backends, in nanoseconds
		measured  int
		fresh     *Backend // the unmeasured backend with least inflight/weight
		freshIn   int64
		freshW    int64
	)
	for range n {
		b := p.backends[i]
		if i++; i == n {
			i = 0
		}
		if skip != nil && skip(b) {
			continue
		}
		in, w, lat := b.inflight.Load(), b.weight.Load(), b.latency.Load()
		if lat == 0 {
			if in == 0 {
				return b
			}
			if fresh == nil || in*freshW < freshIn*w {
				fresh, freshIn, freshW = b, in, w
			}
			continue
		}
		latSum += float64(lat)
		measured++
		score := float64(lat+int64(latencyFloor)) * float64(in+1)
		if best == nil || score*bestW < bestScore*float64(w) { // score/w < bestScore/bestW
			best, bestScore, bestW = b, score, float64(w)
		}
	}
	if fresh == nil {
		return best
	}
	if best == nil {
		return fresh
	}
	stand := latSum/float64(measured) + float64(latencyFloor)
	if stand*float64(freshIn+1)*bestW < bestScore*float64(freshW) {
		return fresh
	}
	return best
}
