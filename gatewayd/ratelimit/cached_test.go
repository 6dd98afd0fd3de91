package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/cached"
	"cairn.dev/cairn/cached/cachedtest"
	cachedclient "cairn.dev/cairn/cached/client"
	"cairn.dev/cairn/node/nodetest"
)

// startCachedCluster runs n cached nodes in-process with a static
// membership of all of them; a test stops one with Close.
func startCachedCluster(t *testing.T, n int) []*cached.Server { return cachedtest.StartServers(t, n) }

// newCachedClient returns a client of the cluster, closed by t.Cleanup.
func newCachedClient(t *testing.T, nodes []*cached.Server) *cachedclient.Client {
	t.Helper()
	var eps []string
	for _, nd := range nodes {
		eps = append(eps, nd.Addr())
	}
	c, err := cachedclient.New(cachedclient.Config{Endpoints: eps, Logger: nodetest.Logger(t), RequestTimeout: 5 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// fastClock runs speed times faster than the real clock, so a short test
// covers many refill periods. The store's TTLs run on real time, hence
// longer than the limiter asks: that only keeps state longer.
type fastClock struct {
	base  time.Time
	start time.Time
	speed int64
}

func (c *fastClock) Now() time.Time {
	return c.base.Add(time.Duration(c.speed) * time.Since(c.start))
}

// TestGlobalBoundCached runs three Limiters, each with its own client of a
// three-node in-process cached cluster, under concurrent load on several
// keys, kills one limiter (no Close) mid-run, and checks the error bound for
// every key throughout and at the end.
func TestGlobalBoundCached(t *testing.T) {
	nodes := startCachedCluster(t, 3)
	clock := &fastClock{base: time.Now(), start: time.Now(), speed: 5}
	p := Policy{ID: "cached#0", Limit: 20, Per: time.Second, Burst: 10, Global: true}
	keys := []string{"alice", "bob", "carol"}
	const limiters, workers = 3, 2
	var (
		admitted  [3]atomic.Int64 // per key
		fallbacks atomic.Int64
		dead      [limiters]atomic.Bool
		stop      atomic.Bool
		wg        sync.WaitGroup
	)
	start := clock.Now() // before any request: the bucket starts full here
	for i := range limiters {
		l := New(Config{
			Store:        CachedStore{Client: newCachedClient(t, nodes)},
			Now:          clock.Now,
			Nodes:        func() int { return limiters },
			LeaseTimeout: 5 * time.Second, // a slow test machine must not trigger the fallback
			Logger:       nodetest.Logger(t),
		})
		for w := range workers {
			wg.Go(func() {
				for j := w; !stop.Load() && !dead[i].Load(); j++ {
					k := j % len(keys)
					d := l.Allow(context.Background(), p, keys[k])
					if d.Fallback {
						fallbacks.Add(1)
					}
					if d.Allowed {
						admitted[k].Add(1)
					}
				}
			})
		}
	}
	check := func() {
		var got [3]int64
		for k := range keys {
			got[k] = admitted[k].Load() // before reading the clock
		}
		b := bound(p, clock.Now().Sub(start))
		for k, n := range got {
			require.LessOrEqual(t, n, b, "key %s", keys[k])
		}
	}
	deadline := time.Now().Add(1500 * time.Millisecond)
	killed := false
	checks := time.NewTicker(5 * time.Millisecond)
	defer checks.Stop()
	for time.Now().Before(deadline) {
		check()
		if !killed && time.Now().After(deadline.Add(-750*time.Millisecond)) {
			dead[1].Store(true) // its leases are stranded in cached
			killed = true
		}
		<-checks.C
	}
	stop.Store(true)
	wg.Wait()
	check()
	b := bound(p, clock.Now().Sub(start))
	for k := range keys {
		n := admitted[k].Load()
		t.Logf("key %s: admitted %d of bound %d", keys[k], n, b)
		// Near empty every lease is one token, one store round trip each: how
		// many refills are used depends on the machine's speed.
		require.Greater(t, n, p.Burst, "key %s: refilled tokens were used", keys[k])
	}
	require.Zero(t, fallbacks.Load())
}

// TestCachedUnreachable: with the cached node gone, global policies fall
// back to the local share within LeaseTimeout instead of failing requests.
func TestCachedUnreachable(t *testing.T) {
	nodes := startCachedCluster(t, 1)
	c := newCachedClient(t, nodes)
	l := New(Config{Store: CachedStore{Client: c}, Nodes: func() int { return 2 }, LeaseTimeout: 3 * time.Second, Logger: nodetest.Logger(t)})
	p := Policy{ID: "down#0", Limit: 10, Per: time.Minute, Global: true}
	d := l.Allow(context.Background(), p, "k")
	require.True(t, d.Allowed)
	require.False(t, d.Fallback)
	it, ok, err := c.GetItem(context.Background(), storeKey(p.ID, "k"))
	require.NoError(t, err)
	require.True(t, ok, "the bucket lives in cached")
	require.Positive(t, it.TTL)

	nodes[0].Close()
	// The lease still holds tokens: spend them, then the store is asked.
	start := time.Now()
	var last Decision
	for range 20 {
		last = l.Allow(context.Background(), p, "k")
		if last.Fallback {
			break
		}
	}
	require.True(t, last.Fallback, "the fallback share decides")
	require.True(t, last.Allowed, "the share (5 per minute) has tokens")
	require.Less(t, time.Since(start), 10*time.Second)
}
