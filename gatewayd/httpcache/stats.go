package httpcache

import (
	"sync/atomic"
	"time"
)

// counters are the cache's running totals.
type counters struct {
	requests, hits, misses, stale, revalidated, passes, errors atomic.Int64
	bytesServed, fetches, coalesced, purges                    atomic.Int64
}

func (s *counters) count(o Outcome) {
	switch o {
	case Hit:
		s.hits.Add(1)
	case Miss:
		s.misses.Add(1)
	case Stale:
		s.stale.Add(1)
	case Revalidated:
		s.revalidated.Add(1)
	case Pass:
		s.passes.Add(1)
	case Error:
		s.errors.Add(1)
	}
}

// Stats is a snapshot of the cache's counters; its fields mirror
// cairn.edge.v1.GetStatsResponse.
type Stats struct {
	// Requests answered, by outcome.
	Requests, Hits, Misses, StaleServed, Revalidated, Passes, Errors int64
	// HitRatio is (Hits + StaleServed) / (Hits + StaleServed + Misses + Revalidated):
	// the share of cacheable requests answered without the origin's body.
	HitRatio    float64
	BytesServed int64
	// Fetches counts requests sent to the Fetch function (misses,
	// revalidations, passes); Coalesced the requests that waited on another's fetch.
	Fetches, Coalesced int64
	// PurgesApplied counts Purge* calls.
	PurgesApplied int64
	// Storage, from Storage.Usage.
	Objects, MemoryBytes, DiskBytes, Evictions, Rejected int64
	UnderAttack                                          bool
	Uptime                                               time.Duration
}

// Stats returns the cache's counters.
func (c *Cache) Stats() Stats {
	s := Stats{
		Requests: c.st.requests.Load(), Hits: c.st.hits.Load(), Misses: c.st.misses.Load(),
		StaleServed: c.st.stale.Load(), Revalidated: c.st.revalidated.Load(),
		Passes: c.st.passes.Load(), Errors: c.st.errors.Load(),
		BytesServed: c.st.bytesServed.Load(), Fetches: c.st.fetches.Load(),
		Coalesced: c.st.coalesced.Load(), PurgesApplied: c.st.purges.Load(),
		UnderAttack: c.underAttack.Load(), Uptime: c.now().Sub(c.start),
	}
	if n := s.Hits + s.StaleServed + s.Misses + s.Revalidated; n > 0 {
		s.HitRatio = float64(s.Hits+s.StaleServed) / float64(n)
	}
	u := c.store.Usage()
	s.Objects, s.MemoryBytes, s.DiskBytes, s.Evictions, s.Rejected = u.Objects, u.MemoryBytes, u.DiskBytes, u.Evictions, u.Rejected
	return s
}
