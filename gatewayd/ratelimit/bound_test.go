package ratelimit

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// bound is the package's error bound for a run that starts with a full
// bucket: B + Limit·elapsed/Per.
func bound(p Policy, elapsed time.Duration) int64 {
	b := p.Burst
	if b <= 0 {
		b = p.Limit
	}
	return b + int64(elapsed)*p.Limit/int64(p.Per)
}

// randomPolicy draws a global policy.
func randomPolicy(rng *rand.Rand) Policy {
	limit := 1 + rng.Int64N(200)
	return Policy{
		ID:     "prop#0",
		Limit:  limit,
		Per:    time.Duration(1+rng.Int64N(60)) * time.Second,
		Burst:  1 + rng.Int64N(3*limit),
		Global: true,
	}
}

// TestGlobalBoundProperty runs random sequential histories of several
// Limiters sharing one store and one clock, with lost races, a limiter killed
// (dropped without Close) and one closed mid-run, and checks after every
// admission that the total stays within B + rate×elapsed, and at the end that
// they admitted as many as one ideal bucket fed the same requests, but for
// what leases can hold (at most two leases per node, one stranded by the
// kill). A failing run
// replays from the logged seed (RATELIMIT_SEED).
func TestGlobalBoundProperty(t *testing.T) {
	rng := seededRand(t)
	for round := range 40 {
		clock := newFakeClock()
		st := newFakeStore(clock)
		conflictP := rng.Float64() / 2
		st.conflict = func() bool { return rng.Float64() < conflictP }
		p := randomPolicy(rng)
		nodes := 2 + rng.IntN(4)
		cfg := Config{
			Store:        st,
			Now:          clock.Now,
			Nodes:        func() int { return nodes },
			LeaseTimeout: time.Minute, // the fake store always answers: never fall back
			LeaseLife:    time.Duration(1+rng.Int64N(2000)) * time.Millisecond,
		}
		ls := make([]*Limiter, nodes)
		for i := range ls {
			ls[i] = New(cfg)
		}
		alive := ls
		r, _ := rateOf(p, 1)
		start := clock.Now()
		steps := 2000 + rng.IntN(3000)
		kill, closeAt := rng.IntN(steps), rng.IntN(steps)
		if rng.IntN(2) == 0 {
			kill = rng.IntN(50) // early, while leases are big
		}
		var admitted int64
		// The reference: one ideal bucket seeing the same requests.
		var refTAT, refAdmitted int64
		for step := range steps {
			if step == kill && len(alive) > 1 {
				i := rng.IntN(len(alive))
				alive = append(alive[:i:i], alive[i+1:]...) // dropped, leases stranded
			}
			if step == closeAt && len(alive) > 1 {
				require.NoError(t, alive[0].Close())
				alive = alive[1:]
			}
			if rng.Float64() < 0.1 { // demand outruns the refill
				clock.Advance(time.Duration(rng.Int64N(r.interval + 1)))
				continue
			}
			if tat, ok := r.take(refTAT, clock.Now().UnixNano(), 1); ok {
				refTAT, refAdmitted = tat, refAdmitted+1
			}
			l := alive[rng.IntN(len(alive))]
			d := l.Allow(context.Background(), p, "k")
			require.False(t, d.Fallback, "round %d step %d", round, step)
			if d.Allowed {
				admitted++
				elapsed := clock.Now().Sub(start)
				require.LessOrEqual(t, admitted, bound(p, elapsed),
					"round %d step %d: %+v, %d nodes, elapsed %v", round, step, p, nodes, elapsed)
			}
		}
		slack := int64(2*nodes+1)*max(1, r.burst/4) + 1
		t.Logf("round %d: %+v nodes=%d admitted %d, one ideal bucket %d, bound %d (slack %d)",
			round, p, nodes, admitted, refAdmitted, bound(p, clock.Now().Sub(start)), slack)
		require.GreaterOrEqual(t, admitted, refAdmitted-slack,
			"round %d: the limiters admitted fewer than one ideal bucket beyond what leases hold", round)
	}
}

// TestGlobalBoundConcurrent runs Limiters sharing one store from several
// goroutines each, in lockstep with the clock: at every tick each live worker
// makes a few requests, all at once; one limiter is killed mid-run. The bound
// is checked at every tick and at the end (run with -race).
func TestGlobalBoundConcurrent(t *testing.T) {
	rng := seededRand(t)
	clock := newFakeClock()
	st := newFakeStore(clock)
	p := Policy{ID: "conc#0", Limit: 50, Per: time.Second, Burst: 20, Global: true}
	const nodes, workers, perTick = 4, 2, 3
	cfg := Config{Store: st, Now: clock.Now, Nodes: func() int { return nodes }, LeaseTimeout: time.Minute}
	var (
		admitted  atomic.Int64
		fallbacks atomic.Int64
		wg        sync.WaitGroup
	)
	ticks := make([][]chan bool, nodes) // per node, per worker: true = go on, closed = stop
	done := make(chan struct{}, nodes*workers)
	for i := range nodes {
		l := New(cfg)
		for range workers {
			tick := make(chan bool)
			ticks[i] = append(ticks[i], tick)
			wg.Go(func() {
				for range tick {
					for range perTick {
						d := l.Allow(context.Background(), p, "k")
						if d.Fallback {
							fallbacks.Add(1)
						}
						if d.Allowed {
							admitted.Add(1)
						}
					}
					done <- struct{}{}
				}
			})
		}
	}
	start := clock.Now()
	killed := -1
	for step := range 500 {
		if step == 250 {
			killed = rng.IntN(nodes) // no Close: its leases are stranded
			for _, tick := range ticks[killed] {
				close(tick)
			}
		}
		running := 0
		for i := range nodes {
			if i == killed {
				continue
			}
			for _, tick := range ticks[i] {
				tick <- true
				running++
			}
		}
		for range running {
			<-done
		}
		n := admitted.Load()
		require.LessOrEqual(t, n, bound(p, clock.Now().Sub(start)), "step %d", step)
		clock.Advance(time.Duration(rng.Int64N(int64(10 * time.Millisecond))))
	}
	for i := range nodes {
		if i != killed {
			for _, tick := range ticks[i] {
				close(tick)
			}
		}
	}
	wg.Wait()
	n, b := admitted.Load(), bound(p, clock.Now().Sub(start))
	t.Logf("admitted %d of bound %d over %v", n, b, clock.Now().Sub(start))
	require.Zero(t, fallbacks.Load())
	require.LessOrEqual(t, n, b)
	require.Greater(t, n, b/2, "tokens refilled and were used")
}

// TestFallbackBoundProperty: with the store down, several Limiters each
// deciding by their share stay within the bound together, when the limit and
// burst are at least the node count (a share never drops below one token).
func TestFallbackBoundProperty(t *testing.T) {
	rng := seededRand(t)
	for round := range 30 {
		clock := newFakeClock()
		st := newFakeStore(clock)
		st.down.Store(true)
		nodes := 1 + rng.IntN(6)
		p := randomPolicy(rng)
		p.Limit = max(p.Limit, int64(nodes))
		p.Burst = max(p.Burst, int64(nodes))
		ls := make([]*Limiter, nodes)
		for i := range ls {
			ls[i] = New(Config{Store: st, Now: clock.Now, Nodes: func() int { return nodes }})
		}
		r, _ := rateOf(p, int64(nodes))
		start := clock.Now()
		var admitted int64
		for step := range 3000 {
			if rng.Float64() < 0.1 {
				clock.Advance(time.Duration(rng.Int64N(r.interval + 1)))
				continue
			}
			d := ls[rng.IntN(nodes)].Allow(context.Background(), p, "k")
			require.True(t, d.Fallback)
			if d.Allowed {
				admitted++
				require.LessOrEqual(t, admitted, bound(p, clock.Now().Sub(start)), "round %d step %d: %+v nodes %d", round, step, p, nodes)
			}
		}
	}
}
