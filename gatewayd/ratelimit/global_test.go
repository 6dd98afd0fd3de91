package ratelimit

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestGlobalLease: the first request leases a batch with one write, the next
// ones spend it without reaching the store.
func TestGlobalLease(t *testing.T) {
	clock := newFakeClock()
	st := newFakeStore(clock)
	l := New(Config{Store: st, Now: clock.Now, Nodes: func() int { return 2 }})
	p := Policy{ID: "g#0", Limit: 100, Per: time.Second, Global: true} // burst 100, a token per 10ms
	ctx := context.Background()

	d := l.Allow(ctx, p, "alice")
	require.True(t, d.Allowed)
	require.False(t, d.Fallback)
	// n = min(100/4, 100/(2·2)) = 25: the shared bucket is 25 tokens down.
	tat, ok := st.tat(t, storeKey("g#0", "alice"))
	require.True(t, ok)
	require.Equal(t, clock.Now().UnixNano()+25*int64(10*time.Millisecond), tat)
	require.Equal(t, int64(75+24), d.Remaining)
	require.Equal(t, int64(1), st.cases.Load())

	for range 24 {
		require.True(t, l.Allow(ctx, p, "alice").Allowed)
	}
	require.Equal(t, int64(1), st.cases.Load(), "the lease served 25 requests")
	require.True(t, l.Allow(ctx, p, "alice").Allowed)
	require.Equal(t, int64(2), st.cases.Load(), "the 26th leased again")
}

// TestGlobalSharedAndDenied: two limiters drain one shared bucket; once a
// lease finds it empty, the limiter denies locally until a token is back.
func TestGlobalSharedAndDenied(t *testing.T) {
	clock := newFakeClock()
	st := newFakeStore(clock)
	a := New(Config{Store: st, Now: clock.Now, Nodes: func() int { return 2 }})
	b := New(Config{Store: st, Now: clock.Now, Nodes: func() int { return 2 }})
	p := Policy{ID: "g#0", Limit: 10, Per: time.Second, Global: true} // a token per 100ms
	ctx := context.Background()
	admitted := 0
	for range 20 {
		for _, l := range []*Limiter{a, b} {
			if l.Allow(ctx, p, "k").Allowed {
				admitted++
			}
		}
	}
	require.Equal(t, 10, admitted, "the two nodes together get the burst")

	d := a.Allow(ctx, p, "k")
	require.False(t, d.Allowed)
	require.Equal(t, int64(10), d.Limit)
	require.Equal(t, time.Second, d.Window)
	require.Positive(t, d.RetryAfter)
	require.LessOrEqual(t, d.RetryAfter, 100*time.Millisecond)
	calls := st.gets.Load()
	for range 10 {
		require.False(t, a.Allow(ctx, p, "k").Allowed)
	}
	require.Equal(t, calls, st.gets.Load(), "denials until RetryAfter stay local")

	clock.Advance(d.RetryAfter)
	require.True(t, a.Allow(ctx, p, "k").Allowed, "a token is back")
}

// TestGlobalFallback: an unreachable store switches global policies to the
// node's share for StoreBackoff, logs once, then the store is tried again.
func TestGlobalFallback(t *testing.T) {
	clock := newFakeClock()
	st := newFakeStore(clock)
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	l := New(Config{Store: st, Now: clock.Now, Nodes: func() int { return 5 }, Logger: logger, StoreBackoff: time.Second})
	p := Policy{ID: "g#0", Limit: 100, Per: time.Second, Global: true} // share: 20/s, burst 20
	ctx := context.Background()
	st.down.Store(true)
	admitted := 0
	for range 100 {
		d := l.Allow(ctx, p, "k")
		require.True(t, d.Fallback)
		if d.Allowed {
			admitted++
		}
	}
	require.Equal(t, 20, admitted)
	require.Equal(t, int64(1), st.gets.Load(), "the store is not retried during the backoff")

	clock.Advance(2 * time.Second)
	l.Allow(ctx, p, "k") // still down: fails again, not logged again
	mu.Lock()
	require.Equal(t, 1, strings.Count(logs.String(), "unreachable"))
	mu.Unlock()

	st.down.Store(false)
	clock.Advance(2 * time.Second)
	d := l.Allow(ctx, p, "k")
	require.True(t, d.Allowed)
	require.False(t, d.Fallback, "back on the shared bucket")
	_, ok := st.tat(t, storeKey("g#0", "k"))
	require.True(t, ok)
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// TestGlobalLeaseTimeout: a store that does not answer costs a request at
// most LeaseTimeout, and concurrent requests share the one wait.
func TestGlobalLeaseTimeout(t *testing.T) {
	clock := newFakeClock()
	st := newFakeStore(clock)
	st.hang.Store(true)
	l := New(Config{Store: st, Now: clock.Now, LeaseTimeout: 50 * time.Millisecond})
	p := Policy{ID: "g#0", Limit: 100, Per: time.Second, Global: true}
	start := time.Now()
	var wg sync.WaitGroup
	ds := make([]Decision, 8)
	for i := range ds {
		wg.Go(func() { ds[i] = l.Allow(context.Background(), p, "k") })
	}
	wg.Wait()
	require.Less(t, time.Since(start), 5*time.Second)
	for _, d := range ds {
		require.True(t, d.Fallback)
		require.True(t, d.Allowed)
	}
	require.Equal(t, int64(1), st.gets.Load(), "one lease request for all of them")
}

// TestGlobalCallerGaveUp: a caller whose context ends while waiting is
// denied, not admitted by the fallback.
func TestGlobalCallerGaveUp(t *testing.T) {
	clock := newFakeClock()
	st := newFakeStore(clock)
	st.hang.Store(true)
	l := New(Config{Store: st, Now: clock.Now, LeaseTimeout: time.Minute})
	p := Policy{ID: "g#0", Limit: 100, Per: time.Second, Global: true}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	d := l.Allow(ctx, p, "k")
	require.False(t, d.Allowed)
	require.False(t, d.Fallback)
}

// TestGlobalLeaseExpiry: tokens unspent after LeaseLife are given back with
// the next lease.
func TestGlobalLeaseExpiry(t *testing.T) {
	clock := newFakeClock()
	st := newFakeStore(clock)
	l := New(Config{Store: st, Now: clock.Now, LeaseLife: time.Second})
	p := Policy{ID: "g#0", Limit: 10, Per: time.Minute, Burst: 40, Global: true} // a token per 6s
	ctx := context.Background()
	t0 := clock.Now().UnixNano()
	require.True(t, l.Allow(ctx, p, "k").Allowed) // leases min(40/4, 40/2) = 10
	tat, _ := st.tat(t, storeKey("g#0", "k"))
	require.Equal(t, t0+10*int64(6*time.Second), tat)

	clock.Advance(2 * time.Second) // the lease (9 left) expired
	require.True(t, l.Allow(ctx, p, "k").Allowed)
	// Give back 9 (TAT − 54s), then lease min(10, avail/2) again.
	now := clock.Now().UnixNano()
	back := tat - 9*int64(6*time.Second)
	avail := (now + 40*int64(6*time.Second) - back) / int64(6*time.Second)
	n := min(int64(10), avail/2)
	tat2, _ := st.tat(t, storeKey("g#0", "k"))
	require.Equal(t, back+n*int64(6*time.Second), tat2)
}

// TestCloseGivesBack: Close returns every unspent token; the limiter then
// decides locally.
func TestCloseGivesBack(t *testing.T) {
	clock := newFakeClock()
	st := newFakeStore(clock)
	l := New(Config{Store: st, Now: clock.Now})
	p := Policy{ID: "g#0", Limit: 10, Per: time.Minute, Burst: 40, Global: true}
	ctx := context.Background()
	t0 := clock.Now().UnixNano()
	for range 3 {
		require.True(t, l.Allow(ctx, p, "k").Allowed)
	}
	require.NoError(t, l.Close())
	tat, _ := st.tat(t, storeKey("g#0", "k"))
	require.Equal(t, t0+3*int64(6*time.Second), tat, "only the 3 spent tokens stay taken")
	cases := st.cases.Load()
	d := l.Allow(ctx, p, "k")
	require.True(t, d.Fallback)
	require.Equal(t, cases, st.cases.Load())
	require.NoError(t, l.Close(), "Close twice")
}

// TestGlobalConflicts: lost races are retried and never double-spend.
func TestGlobalConflicts(t *testing.T) {
	clock := newFakeClock()
	st := newFakeStore(clock)
	n := 0
	st.conflict = func() bool { n++; return n%3 != 0 } // two of three CAS lose
	l := New(Config{Store: st, Now: clock.Now})
	p := Policy{ID: "g#0", Limit: 10, Per: time.Minute, Burst: 8, Global: true}
	admitted := 0
	for range 30 {
		if l.Allow(context.Background(), p, "k").Allowed {
			admitted++
		}
	}
	require.Equal(t, 8, admitted)
}

// TestGlobalLostKey: a shared bucket lost from the store (its cached node
// died, or it was evicted) restarts full: over-admission of one burst.
func TestGlobalLostKey(t *testing.T) {
	clock := newFakeClock()
	st := newFakeStore(clock)
	l := New(Config{Store: st, Now: clock.Now})
	p := Policy{ID: "g#0", Limit: 10, Per: time.Hour, Burst: 4, Global: true}
	count := func() int {
		n := 0
		for range 20 {
			if l.Allow(context.Background(), p, "k").Allowed {
				n++
			}
		}
		return n
	}
	require.Equal(t, 4, count())
	st.mu.Lock()
	clear(st.items)
	st.mu.Unlock()
	clock.Advance(6 * time.Minute) // one token refilled; the local denial is over
	require.Equal(t, 4, count(), "the bucket restarted full (not 1 token), once")
	require.Equal(t, 0, count())
}

// TestDeterministic: the same calls at the same clock readings get the same
// decisions, local and global.
func TestDeterministic(t *testing.T) {
	run := func() []Decision {
		clock := newFakeClock()
		st := newFakeStore(clock)
		ls := []*Limiter{New(Config{Store: st, Now: clock.Now, Nodes: func() int { return 2 }}), New(Config{Store: st, Now: clock.Now, Nodes: func() int { return 2 }})}
		ps := []Policy{
			{ID: "l", Limit: 5, Per: time.Second, Burst: 3},
			{ID: "g", Limit: 7, Per: time.Second, Burst: 9, Global: true},
		}
		var out []Decision
		for i := range 300 {
			out = append(out, ls[i%2].Allow(context.Background(), ps[i%3%2], fmt.Sprint("k", i%2)))
			clock.Advance(time.Duration(i%7) * time.Millisecond)
		}
		return out
	}
	first := run()
	require.Equal(t, first, run())
	allowed := 0
	for _, d := range first {
		if d.Allowed {
			allowed++
		}
	}
	require.Greater(t, allowed, 0)
	require.Less(t, allowed, len(first))
}

// TestAllowGlobalLeasedAllocs: spending a lease allocates nothing.
func TestAllowGlobalLeasedAllocs(t *testing.T) {
	clock := newFakeClock()
	l := New(Config{Store: newFakeStore(clock), Now: clock.Now})
	p := Policy{ID: "g", Limit: 1e6, Per: time.Second, Burst: 1e6, Global: true}
	ctx := context.Background()
	l.Allow(ctx, p, "k") // leases 250000
	require.Zero(t, testing.AllocsPerRun(1000, func() { l.Allow(ctx, p, "k") }))
}
