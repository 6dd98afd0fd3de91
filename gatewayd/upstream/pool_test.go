package upstream

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/registry"
)

func TestNewRejectsBadSpecs(t *testing.T) {
	static := registry.Static{"svc": {{ID: "x", Address: "x:1", Weight: 1}}}
	tests := []struct {
		name string
		spec gwconfig.Upstream
		opts Options
	}{
		{"unknown balance", gwconfig.Upstream{Balance: "fastest", Targets: targets("a")}, Options{}},
		{"targets and service", gwconfig.Upstream{Service: "svc", Targets: targets("a")}, Options{Resolver: static}},
		{"neither", gwconfig.Upstream{}, Options{}},
		{"service without resolver", gwconfig.Upstream{Service: "svc"}, Options{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.spec, tc.opts)
			require.ErrorIs(t, err, ErrInvalidSpec)
		})
	}
}

func TestPoolDefaultsWork(t *testing.T) {
	p, err := New(gwconfig.Upstream{Name: "u", Balance: "least_request", Targets: targets("a", "b")}, Options{})
	require.NoError(t, err)
	defer p.Close()
	require.Equal(t, "u", p.Name())
	select {
	case <-p.Ready():
	default:
		t.Fatal("a static pool is ready at once")
	}
	_, err = pickRelease(t, p, KindSuccess)
	require.NoError(t, err)
}

func TestStaticServicePool(t *testing.T) {
	res := registry.Static{"svc": {{ID: "x", Address: "x:1", Weight: 2}, {ID: "y", Address: "y:1"}}}
	p, err := New(gwconfig.Upstream{Name: "u", Service: "svc"}, Options{Resolver: res})
	require.NoError(t, err)
	defer p.Close()
	<-p.Ready()
	st := p.Stats()
	require.Len(t, st.Targets, 2)
	require.Equal(t, 2, st.Targets[0].Weight)
	require.Equal(t, 1, st.Targets[1].Weight, "a zero weight counts as one")

	empty, err := New(gwconfig.Upstream{Name: "v", Service: "other"}, Options{Resolver: res})
	require.NoError(t, err)
	defer empty.Close()
	_, _, err = empty.Pick("")
	require.ErrorIs(t, err, ErrNoTargets)
}

// slowResolver answers only when told to, like a registry still loading.
type slowResolver struct {
	mu      sync.Mutex
	fn      func([]registry.Instance)
	stopped bool
}

func (r *slowResolver) Watch(_ context.Context, _ string, fn func([]registry.Instance)) func() {
	r.mu.Lock()
	r.fn = fn
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		r.stopped = true
		r.mu.Unlock()
	}
}

func TestPoolBeforeResolverAnswers(t *testing.T) {
	res := &slowResolver{}
	p, err := New(gwconfig.Upstream{Name: "u", Service: "svc"}, Options{Resolver: res})
	require.NoError(t, err)
	_, _, err = p.Pick("")
	require.ErrorIs(t, err, ErrNoTargets)
	select {
	case <-p.Ready():
		t.Fatal("ready before the resolver answered")
	default:
	}
	res.fn([]registry.Instance{{ID: "a", Address: "a:1", Weight: 1}})
	<-p.Ready()
	tg, err := pickRelease(t, p, KindSuccess)
	require.NoError(t, err)
	require.Equal(t, "a:1", tg.Address)
	p.Close()
	p.Close()
	require.True(t, res.stopped)
	_, _, err = p.Pick("")
	require.ErrorIs(t, err, ErrClosed)
}

// Targets that stay keep their counters and in-flight requests across a
// membership change; a removed target's late release is harmless; duplicate
// and empty addresses are skipped.
func TestSetTargetsKeepsState(t *testing.T) {
	p := newPool(t, gwconfig.Upstream{Targets: targets("a", "b")}, newFakeClock(), 1)
	var rels []Release
	for range 4 {
		_, rel, err := p.Pick("")
		require.NoError(t, err)
		rels = append(rels, rel)
	}
	p.SetTargets([]gwconfig.Target{{Address: "b", Weight: 3}, {Address: "c"}, {Address: "b"}, {Address: ""}})
	st := p.Stats()
	require.Len(t, st.Targets, 2)
	require.Equal(t, TargetStats{Address: "b", Weight: 3, InFlight: 2, Requests: 2}, st.Targets[0])
	require.Equal(t, TargetStats{Address: "c", Weight: 1}, st.Targets[1])
	for _, rel := range rels {
		rel(Result{Kind: KindConnect, Latency: 10 * time.Millisecond})
	}
	st = p.Stats()
	require.Zero(t, st.Targets[0].InFlight)
	require.EqualValues(t, 2, st.Targets[0].Failures)
	require.Equal(t, 10*time.Millisecond, st.Targets[0].Latency)
}

func TestReleaseAfterClose(t *testing.T) {
	p := newPool(t, gwconfig.Upstream{Targets: targets("a")}, newFakeClock(), 1)
	_, rel, err := p.Pick("")
	require.NoError(t, err)
	p.Close()
	rel(Result{Kind: KindSuccess})
	require.Zero(t, p.Stats().Targets[0].InFlight)
}

func TestKindNames(t *testing.T) {
	for k, want := range map[Kind]string{KindSuccess: "success", KindConnect: "connect", KindTimeout: "timeout",
		KindReset: "reset", KindStatus5xx: "5xx", KindClientGone: "client_gone", Kind(99): "unknown", Kind(-1): "unknown"} {
		require.Equal(t, want, k.String())
	}
	require.False(t, KindSuccess.Failed())
	require.False(t, KindClientGone.Failed())
	require.True(t, KindReset.Failed())
}

// Many goroutines pick and release concurrently (run with -race) while the
// membership changes; every request is accounted for at the end.
func TestPoolConcurrent(t *testing.T) {
	seed := nodetest.Seed(t)
	for _, bal := range []string{"round_robin", "least_request", "random"} {
		t.Run(bal, func(t *testing.T) {
			cb := gwconfig.CircuitBreaker{MinRequests: 1000, ErrorRate: 1, OpenFor: time.Millisecond}
			o := gwconfig.Outlier{ConsecutiveFailures: 3, BaseEjection: time.Millisecond}
			p, err := New(gwconfig.Upstream{Name: "u", Balance: bal, Targets: targets("a", "b", "c"), CircuitBreaker: &cb, Outlier: &o},
				Options{Logger: nodetest.Logger(t)})
			require.NoError(t, err)
			defer p.Close()
			const workers, each = 8, 2000
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for i := range each {
						tg, rel, err := p.Pick("")
						if err != nil {
							continue
						}
						kind := KindSuccess
						if tg.Address == "c" && (i+w+int(seed%7))%2 == 0 {
							kind = KindStatus5xx
						}
						rel(Result{Kind: kind})
					}
				})
			}
			wg.Go(func() {
				for i := range 200 {
					if i%2 == 0 {
						p.SetTargets(targets("a", "b", "c", "d"))
					} else {
						p.SetTargets(targets("a", "b", "c"))
					}
					_ = p.Stats()
				}
			})
			wg.Wait()
			for _, ts := range p.Stats().Targets {
				require.Zero(t, ts.InFlight, ts.Address)
			}
		})
	}
}
