package respcache

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLRUProperties runs random puts, gets and removes (seed logged) and
// checks after each step: every shard's byte count is the sum of its
// items and within its bound, its list and map hold the same items, and a
// get returns the entry last put under the key unless it was evicted,
// removed or has expired.
func TestLRUProperties(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	const max = lruShards * 8 << 10
	l := newLRU(max)
	now := time.Unix(1_800_000_000, 0)
	last := map[string]*Entry{}
	for step := range 5000 {
		key := fmt.Sprintf("k%d", rng.IntN(200))
		switch op := rng.IntN(10); {
		case op < 5:
			e := &Entry{Header: http.Header{"X": {"y"}}, Body: make([]byte, rng.IntN(3000)),
				StoredAt: now, TTL: time.Duration(1+rng.IntN(100)) * time.Second}
			l.put(key, e)
			last[key] = e
		case op < 9:
			if got := l.get(key, now); got != nil {
				require.Same(t, last[key], got, "step %d key %s", step, key)
				require.True(t, got.fresh(now))
			}
		default:
			l.remove(key)
			require.Nil(t, l.get(key, now))
		}
		if rng.IntN(50) == 0 {
			now = now.Add(time.Duration(rng.IntN(20)) * time.Second)
		}
		checkShard(t, l.shard(key))
	}
	for i := range l.shards {
		checkShard(t, &l.shards[i])
	}
}

// checkShard checks a shard's accounting and links.
func checkShard(t *testing.T, s *lruShard) {
	var sum int64
	n := 0
	for it := s.head.next; it != &s.head; it = it.next {
		require.Same(t, it, s.items[it.key])
		require.Same(t, it, it.next.prev)
		sum += it.size
		n++
	}
	require.Equal(t, len(s.items), n)
	require.Equal(t, sum, s.bytes)
	require.LessOrEqual(t, s.bytes, s.max)
}

// TestConcurrentUse hammers one Cache from several goroutines (run it with
// -race): hits always carry the body stored under their key.
func TestConcurrentUse(t *testing.T) {
	clock := newFakeClock()
	c := New(Config{Store: newMemStore(clock), Now: clock.Now, LocalBytes: 32 << 10})
	defer c.Close()
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 500 {
				path := fmt.Sprintf("/p%d", rng.IntN(30))
				r := httptest.NewRequest("GET", path, nil)
				key := Key("r", r, testSpec)
				if e, ok := c.Lookup(context.Background(), key, r); ok {
					w := httptest.NewRecorder()
					e.Serve(w, r)
					if w.Body.String() != path {
						t.Errorf("key of %s served %q", path, w.Body.String())
					}
					continue
				}
				c.Do(context.Background(), key, r, func() *Entry {
					return c.Put(context.Background(), key, r, 200, http.Header{"Cache-Control": {"max-age=60"}}, []byte(path), time.Minute)
				})
			}
		}()
	}
	for range 4 {
		<-done
	}
	require.Positive(t, c.Stats().LocalHits)
}
