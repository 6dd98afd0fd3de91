package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLocalBucket drives one local bucket with a fake clock: the burst, the
// denial with its Retry-After, the refill, and the cap at the burst.
func TestLocalBucket(t *testing.T) {
	clock := newFakeClock()
	l := New(Config{Now: clock.Now})
	defer l.Close()
	ctx := context.Background()
	p := Policy{ID: "r#0", Limit: 10, Per: time.Minute, Burst: 3} // a token per 6s

	for i := range 3 {
		d := l.Allow(ctx, p, "alice")
		require.True(t, d.Allowed, "request %d", i)
		require.Equal(t, int64(2-i), d.Remaining)
		require.Equal(t, int64(10), d.Limit)
		require.Equal(t, time.Minute, d.Window)
		require.Equal(t, time.Duration(i+1)*6*time.Second, d.Reset)
		require.False(t, d.Fallback)
	}
	d := l.Allow(ctx, p, "alice")
	require.False(t, d.Allowed)
	require.Equal(t, 6*time.Second, d.RetryAfter)
	require.Equal(t, 18*time.Second, d.Reset)
	require.Equal(t, int64(0), d.Remaining)

	clock.Advance(4 * time.Second)
	d = l.Allow(ctx, p, "alice")
	require.False(t, d.Allowed)
	require.Equal(t, 2*time.Second, d.RetryAfter)

	clock.Advance(2 * time.Second)
	require.True(t, l.Allow(ctx, p, "alice").Allowed, "one token refilled")
	require.False(t, l.Allow(ctx, p, "alice").Allowed)

	clock.Advance(time.Hour)
	for i := range 3 {
		require.True(t, l.Allow(ctx, p, "alice").Allowed, "request %d after idling", i)
	}
	require.False(t, l.Allow(ctx, p, "alice").Allowed, "idling never fills past the burst")
}

// TestLocalIsolation checks that keys, policies and the local/global kinds
// do not share buckets.
func TestLocalIsolation(t *testing.T) {
	clock := newFakeClock()
	l := New(Config{Now: clock.Now})
	ctx := context.Background()
	p := Policy{ID: "a", Limit: 1, Per: time.Minute}
	q := Policy{ID: "b", Limit: 1, Per: time.Minute}
	require.True(t, l.Allow(ctx, p, "k").Allowed)
	require.False(t, l.Allow(ctx, p, "k").Allowed)
	require.True(t, l.Allow(ctx, p, "other").Allowed)
	require.True(t, l.Allow(ctx, q, "k").Allowed)
	// A policy ID and key that concatenate alike are still distinct.
	require.True(t, l.Allow(ctx, Policy{ID: "a:k", Limit: 1, Per: time.Minute}, "").Allowed)
	// A global policy without a store uses its (here whole) share, apart.
	g := p
	g.Global = true
	d := l.Allow(ctx, g, "k")
	require.True(t, d.Allowed)
	require.True(t, d.Fallback)
}

// TestPolicyAdmitsNothing: a policy without a limit or period denies.
func TestPolicyAdmitsNothing(t *testing.T) {
	l := New(Config{Store: newFakeStore(newFakeClock())})
	for _, p := range []Policy{{ID: "z", Per: time.Second}, {ID: "z", Limit: 1}, {ID: "z", Limit: 1, Global: true}} {
		d := l.Allow(context.Background(), p, "k")
		require.False(t, d.Allowed, "%+v", p)
	}
}

// TestFallbackShareWithoutStore: with no store a global policy is limited to
// Limit/Nodes on each node.
func TestFallbackShareWithoutStore(t *testing.T) {
	clock := newFakeClock()
	var nodes atomic.Int64
	nodes.Store(4)
	l := New(Config{Now: clock.Now, Nodes: func() int { return int(nodes.Load()) }})
	p := Policy{ID: "g", Limit: 100, Per: time.Second, Global: true} // share: 25, burst 25
	admitted := 0
	for range 200 {
		if l.Allow(context.Background(), p, "k").Allowed {
			admitted++
		}
	}
	require.Equal(t, 25, admitted)
	clock.Advance(time.Second / 25)
	require.True(t, l.Allow(context.Background(), p, "k").Allowed, "the share refills at 25/s")
	require.False(t, l.Allow(context.Background(), p, "k").Allowed)
}

// TestBoundedKeys: the table never holds more than MaxKeys (rounded up to
// the shard count), evicting the least recently used.
func TestBoundedKeys(t *testing.T) {
	clock := newFakeClock()
	l := New(Config{Now: clock.Now, MaxKeys: numShards * 2})
	p := Policy{ID: "p", Limit: 1, Per: time.Hour}
	for i := range 10000 {
		l.Allow(context.Background(), p, fmt.Sprintf("k%d", i))
	}
	require.LessOrEqual(t, l.local.len(), numShards*2)
	require.Greater(t, l.local.len(), numShards, "shards fill up before evicting")
}

// TestIdleEviction: full buckets at the cold end are dropped as traffic
// passes, so idle keys do not stay in memory.
func TestIdleEviction(t *testing.T) {
	clock := newFakeClock()
	l := New(Config{Now: clock.Now})
	p := Policy{ID: "p", Limit: 10, Per: time.Second}
	for i := range 1000 {
		l.Allow(context.Background(), p, fmt.Sprintf("k%d", i))
	}
	require.Equal(t, 1000, l.local.len())
	clock.Advance(time.Second) // every bucket is full again
	for i := range 2000 {
		l.Allow(context.Background(), p, fmt.Sprintf("hot%d", i%256))
	}
	require.Less(t, l.local.len(), 256+100, "idle buckets drained from shards with traffic")
	require.True(t, l.Allow(context.Background(), p, "k1").Allowed)
}

// TestTableRecency checks the table's list discipline directly.
func TestTableRecency(t *testing.T) {
	tb := newTable[int](1) // one entry per shard
	key := func(s string) tableKey { return tableKey{policy: "p", key: s} }
	set := func(s string, v int) { with(tb, key(s), nil, func(x *int) struct{} { *x = v; return struct{}{} }) }
	get := func(s string) (v int, ok bool) { ok = peek(tb, key(s), func(x *int) { v = *x }); return }
	// Find two keys in one shard.
	a, b := "a", ""
	for i := 0; ; i++ {
		b = fmt.Sprint("b", i)
		if tb.shardOf(key(a)) == tb.shardOf(key(b)) {
			break
		}
	}
	set(a, 1)
	set(b, 2)
	_, ok := get(a)
	require.False(t, ok, "a was evicted by b")
	v, ok := get(b)
	require.True(t, ok)
	require.Equal(t, 2, v)
	require.Equal(t, 1, tb.len())
}

// TestAllowLocalAllocs: an existing local key costs no allocation.
func TestAllowLocalAllocs(t *testing.T) {
	clock := newFakeClock()
	l := New(Config{Now: clock.Now})
	p := Policy{ID: "p", Limit: 1e9, Per: time.Second}
	ctx := context.Background()
	l.Allow(ctx, p, "alice")
	allocs := testing.AllocsPerRun(1000, func() { l.Allow(ctx, p, "alice") })
	require.Zero(t, allocs)
}

// TestLocalConcurrent: many goroutines on one key never exceed the burst at
// a fixed clock (run with -race).
func TestLocalConcurrent(t *testing.T) {
	clock := newFakeClock()
	l := New(Config{Now: clock.Now})
	p := Policy{ID: "p", Limit: 10, Per: time.Second, Burst: 50}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if l.Allow(context.Background(), p, "k").Allowed {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, int64(50), admitted.Load())
}
