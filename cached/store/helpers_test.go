package store

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"

	"github.com/stretchr/testify/require"
)

// fakeClock is a settable clock for TTL tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newStore returns a store closed by t.Cleanup.
func newStore(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

func seedFor(t testing.TB) uint64 {
	seed := nodetest.Seed(t)
	return seed
}

// checkInvariants verifies every shard's internal structures agree.
func checkInvariants(t *testing.T, s *Store) {
	t.Helper()
	var total int64
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		var bytes int64
		checkTable(t, &sh.items)
		for e := range sh.items.all {
			_, h := s.shardFor(e.key)
			require.Same(t, e, sh.items.get(h, e.key))
			bytes += sh.charge(e)
			if e.kind == KindHash {
				hv := sh.hashes[e]
				require.NotNil(t, hv, "hash %q has no fields", e.key)
				require.NotZero(t, len(hv.fields), "hash %q is empty", e.key)
				data := 0
				for i, f := range hv.fields {
					data += len(f.Name) + len(f.Value)
					if hv.index != nil {
						require.Equal(t, int32(i), hv.index[f.Name])
					}
				}
				require.Equal(t, data, hv.data)
			} else {
				require.NotContains(t, sh.hashes, e)
			}
			if e.expires != 0 {
				require.GreaterOrEqual(t, e.ttlIdx, int32(0))
				require.Same(t, e, sh.ttl[e.ttlIdx])
			} else {
				require.Equal(t, int32(-1), e.ttlIdx)
			}
			switch s.policy {
			case PolicyLRU:
				require.Same(t, e, sh.clock[e.idx])
			case PolicyLFU:
				require.Same(t, e, sh.all[e.idx])
			}
		}
		require.Equal(t, bytes, sh.bytes, "shard %d bytes", i)
		for e := range sh.hashes {
			_, h := s.shardFor(e.key)
			require.Same(t, e, sh.items.get(h, e.key), "hash fields of a removed entry")
		}
		switch s.policy {
		case PolicyLRU:
			n := 0
			for _, e := range sh.clock {
				if e != nil {
					_, h := s.shardFor(e.key)
					require.Same(t, e, sh.items.get(h, e.key))
					n++
				}
			}
			require.Equal(t, sh.items.len(), n)
			require.Equal(t, len(sh.clock)-n, sh.holes, "shard %d holes", i)
			require.True(t, len(sh.clock) == 0 || sh.clock[len(sh.clock)-1] != nil, "shard %d ends in a hole", i)
		case PolicyLFU:
			require.Len(t, sh.all, sh.items.len())
		}
		total += sh.bytes
		sh.mu.Unlock()
	}
	if s.max > 0 {
		require.Equal(t, total, s.used.Load())
		require.LessOrEqual(t, total, s.max)
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }
