package health

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// event is one OnChange call.
type event struct {
	backend string
	up      bool
	reason  string
}

// recorder collects OnChange calls and flags overlapping calls for one
// backend.
type recorder struct {
	mu      sync.Mutex // protects events
	events  []event
	inCall  sync.Map // backend → *atomic.Int32
	overlap atomic.Bool
}

func (r *recorder) onChange(backend string, up bool, reason string) {
	v, _ := r.inCall.LoadOrStore(backend, new(atomic.Int32))
	n := v.(*atomic.Int32)
	if n.Add(1) != 1 {
		r.overlap.Store(true)
	}
	defer n.Add(-1)
	r.mu.Lock()
	r.events = append(r.events, event{backend, up, reason})
	r.mu.Unlock()
}

// of returns the events of one backend so far.
func (r *recorder) of(backend string) []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []event
	for _, e := range r.events {
		if e.backend == backend {
			out = append(out, e)
		}
	}
	return out
}

// waitEvents waits until backend has n events and returns them.
func (r *recorder) waitEvents(t *testing.T, backend string, n int) []event {
	t.Helper()
	eventually(t, func() bool { return len(r.of(backend)) >= n }, "%d events of %s, have %v", n, backend, r.of(backend))
	return r.of(backend)
}

// newTestMonitor starts a Monitor with short intervals, closed at cleanup.
func newTestMonitor(t *testing.T, cfg MonitorConfig) *Monitor {
	t.Helper()
	if cfg.Interval == 0 {
		cfg.Interval = 20 * time.Millisecond
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = cfg.Interval
	}
	if cfg.Seed == 0 {
		cfg.Seed = rand.Uint64()
	}
	t.Logf("jitter seed %d", cfg.Seed)
	cfg.Logger = testLogger(t)
	m, err := NewMonitor(cfg)
	require.NoError(t, err)
	t.Cleanup(m.Close)
	return m
}

func waitStatus(t *testing.T, m *Monitor, name string, up bool) string {
	t.Helper()
	var reason string
	eventually(t, func() bool {
		got, r, known := m.Status(name)
		reason = r
		return known && got == up
	}, "%s up=%v", name, up)
	return reason
}

func TestMonitorTCP(t *testing.T) {
	srv := newTCPServer(t)
	rec := &recorder{}
	m := newTestMonitor(t, MonitorConfig{Probe: TCPProbe(), Rise: 2, Fall: 2, OnChange: rec.onChange})
	up, reason, known := m.Status("a")
	require.False(t, known)
	m.Set(map[string]string{"a": srv.addr()})
	up, reason, known = m.Status("a")
	require.True(t, known)
	if !up {
		require.Equal(t, "no check yet", reason)
	}

	require.Equal(t, "initial check passed", waitStatus(t, m, "a", true))
	srv.stop()
	reason = waitStatus(t, m, "a", false)
	require.Contains(t, reason, "2 consecutive failures: ")
	require.Contains(t, reason, "refused")
	ev := rec.waitEvents(t, "a", 2)
	require.Equal(t, []event{
		{"a", true, "initial check passed"},
		{"a", false, ev[1].reason},
	}, ev[:2])
	require.True(t, strings.HasPrefix(ev[1].reason, "2 consecutive failures: "), ev[1].reason)
	require.False(t, rec.overlap.Load())
}

func TestMonitorHTTPFlaps(t *testing.T) {
	b := newHTTPBackend(t, false)
	probe, err := HTTPProbe(HTTPCheck{Path: "/healthz", Expect: "200", Body: "ok"})
	require.NoError(t, err)
	rec := &recorder{}
	m := newTestMonitor(t, MonitorConfig{Probe: probe, Rise: 3, Fall: 2, Jitter: 0.5, OnChange: rec.onChange})
	m.Set(map[string]string{"web": b.addr()})
	rec.waitEvents(t, "web", 1)
	b.healthy.Store(false)
	rec.waitEvents(t, "web", 2)
	b.healthy.Store(true)
	ev := rec.waitEvents(t, "web", 3)
	require.Len(t, ev, 3)
	require.Equal(t, event{"web", true, "initial check passed"}, ev[0])
	require.False(t, ev[1].up)
	require.Contains(t, ev[1].reason, "2 consecutive failures: health: unexpected status 503")
	require.Equal(t, event{"web", true, "3 consecutive successes"}, ev[2])
	require.False(t, rec.overlap.Load())
}

func TestMonitorGRPC(t *testing.T) {
	b := newGRPCBackend(t)
	const svc = "cairn.app.v1.AppService"
	b.health.SetServingStatus(svc, healthpb.HealthCheckResponse_NOT_SERVING)
	rec := &recorder{}
	m := newTestMonitor(t, MonitorConfig{Probe: GRPCProbe(svc, nil), Interval: 250 * time.Millisecond, Rise: 1, Fall: 1, OnChange: rec.onChange})
	m.Set(map[string]string{"g": b.addr})
	eventually(t, func() bool {
		_, reason, _ := m.Status("g")
		return strings.Contains(reason, "NOT_SERVING")
	}, "first check fails with NOT_SERVING")
	require.Empty(t, rec.of("g"), "down to down is no change")
	b.health.SetServingStatus(svc, healthpb.HealthCheckResponse_SERVING)
	require.Equal(t, "1 consecutive success", waitStatus(t, m, "g", true))
	b.health.SetServingStatus(svc, healthpb.HealthCheckResponse_NOT_SERVING)
	require.Contains(t, waitStatus(t, m, "g", false), "NOT_SERVING")
	ev := rec.waitEvents(t, "g", 2)
	require.Equal(t, []bool{true, false}, []bool{ev[0].up, ev[1].up})
}

func TestMonitorTimeout(t *testing.T) {
	// A probe that answers only when its deadline passes.
	var calls atomic.Int32
	probe := ProbeFunc(func(ctx context.Context, addr string) error {
		calls.Add(1)
		<-ctx.Done()
		return ctx.Err()
	})
	m := newTestMonitor(t, MonitorConfig{Probe: probe, Interval: 40 * time.Millisecond, Timeout: 10 * time.Millisecond})
	m.Set(map[string]string{"slow": "127.0.0.1:1"})
	eventually(t, func() bool {
		_, reason, _ := m.Status("slow")
		return strings.HasPrefix(reason, "2 consecutive failures: context deadline exceeded")
	}, "checks time out")
}

func TestMonitorSet(t *testing.T) {
	s1, s2 := newTCPServer(t), newTCPServer(t)
	rec := &recorder{}
	m := newTestMonitor(t, MonitorConfig{Probe: TCPProbe(), OnChange: rec.onChange})
	m.Set(map[string]string{"a": s1.addr(), "b": s2.addr()})
	waitStatus(t, m, "a", true)
	waitStatus(t, m, "b", true)

	// Removing b stops its checker; a is untouched.
	m.Set(map[string]string{"a": s1.addr()})
	_, _, known := m.Status("b")
	require.False(t, known)
	up, _, _ := m.Status("a")
	require.True(t, up, "an unchanged backend keeps its state")

	// Moving a to s2 restarts it: Down with "address changed", then the
	// initial check of the new address.
	m.Set(map[string]string{"a": s2.addr()})
	ev := rec.waitEvents(t, "a", 3)
	require.Equal(t, []event{
		{"a", true, "initial check passed"},
		{"a", false, fmt.Sprintf("address changed from %s to %s; no check yet", s1.addr(), s2.addr())},
		{"a", true, "initial check passed"},
	}, ev)

	// Re-adding b starts it fresh.
	m.Set(map[string]string{"a": s2.addr(), "b": s1.addr()})
	waitStatus(t, m, "b", true)
	require.False(t, rec.overlap.Load())

	// Set with an empty map stops everything.
	m.Set(nil)
	for _, n := range []string{"a", "b"} {
		_, _, known := m.Status(n)
		require.False(t, known)
	}
}

// TestMonitorOnChangeSerializedAcrossRestart holds the first OnChange call of
// a backend while Set moves it: the new checker must wait, so the calls stay
// in order and never overlap.
func TestMonitorOnChangeSerializedAcrossRestart(t *testing.T) {
	s1, s2 := newTCPServer(t), newTCPServer(t)
	rec := &recorder{}
	entered, release := make(chan struct{}), make(chan struct{})
	var first sync.Once
	m := newTestMonitor(t, MonitorConfig{Probe: TCPProbe(), OnChange: func(b string, up bool, reason string) {
		rec.onChange(b, up, reason)
		first.Do(func() {
			close(entered)
			<-release
		})
	}})
	m.Set(map[string]string{"a": s1.addr()})
	<-entered
	m.Set(map[string]string{"a": s2.addr()})
	_, reason, _ := m.Status("a")
	require.Equal(t, "no check yet", reason, "the new checker waits for the old one")
	require.Len(t, rec.of("a"), 1)
	close(release)
	ev := rec.waitEvents(t, "a", 3)
	require.Equal(t, []bool{true, false, true}, []bool{ev[0].up, ev[1].up, ev[2].up})
	require.Contains(t, ev[1].reason, "address changed")
	require.False(t, rec.overlap.Load())
}

func TestMonitorCloseWaits(t *testing.T) {
	srv := newTCPServer(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var afterClose atomic.Bool
	var lateCall atomic.Bool
	var first sync.Once
	m, err := NewMonitor(MonitorConfig{Probe: TCPProbe(), Interval: 10 * time.Millisecond, Logger: testLogger(t),
		OnChange: func(string, bool, string) {
			if afterClose.Load() {
				lateCall.Store(true)
			}
			first.Do(func() {
				close(entered)
				<-release
			})
		}})
	require.NoError(t, err)
	m.Set(map[string]string{"a": srv.addr(), "b": srv.addr()})
	<-entered
	closed := make(chan struct{})
	go func() {
		m.Close()
		afterClose.Store(true)
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned while an OnChange call was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	select {
	case <-closed:
	case <-time.After(waitFor):
		t.Fatal("Close did not return")
	}
	require.False(t, lateCall.Load())
	m.Close() // idempotent
	m.Set(map[string]string{"c": srv.addr()})
	_, _, known := m.Status("c")
	require.False(t, known, "Set after Close does nothing")
}

// TestMonitorManyBackends checks many backends at once, adding and removing
// them while they run (for the race detector).
func TestMonitorManyBackends(t *testing.T) {
	srv := newTCPServer(t)
	rec := &recorder{}
	m := newTestMonitor(t, MonitorConfig{Probe: TCPProbe(), Interval: 5 * time.Millisecond, OnChange: rec.onChange})
	all := map[string]string{}
	for i := range 20 {
		all[fmt.Sprintf("b%02d", i)] = srv.addr()
	}
	m.Set(all)
	for n := range all {
		waitStatus(t, m, n, true)
	}
	for round := range 10 {
		sub := map[string]string{}
		for n, a := range all {
			if (int(n[2])+round)%3 != 0 {
				sub[n] = a
			}
		}
		m.Set(sub)
	}
	m.Set(all)
	for n := range all {
		waitStatus(t, m, n, true)
	}
	require.False(t, rec.overlap.Load())
}

func TestMonitorConfigErrors(t *testing.T) {
	p := TCPProbe()
	tests := []struct {
		cfg  MonitorConfig
		want string
	}{
		{MonitorConfig{}, "Probe"},
		{MonitorConfig{Probe: p, Interval: -time.Second}, "Interval"},
		{MonitorConfig{Probe: p, Interval: time.Microsecond}, "Interval"},
		{MonitorConfig{Probe: p, Interval: time.Second, Timeout: 2 * time.Second}, "Timeout"},
		{MonitorConfig{Probe: p, Timeout: -1}, "Timeout"},
		{MonitorConfig{Probe: p, Jitter: 1.5}, "Jitter"},
		{MonitorConfig{Probe: p, Rise: -1}, "Rise"},
		{MonitorConfig{Probe: p, Fall: -2}, "Fall"},
	}
	for _, tt := range tests {
		_, err := NewMonitor(tt.cfg)
		require.ErrorIs(t, err, ErrInvalidConfig, "%+v", tt.cfg)
		require.ErrorContains(t, err, tt.want)
	}
	c, err := MonitorConfig{Probe: p}.withDefaults()
	require.NoError(t, err)
	require.Equal(t, DefaultInterval, c.Interval)
	require.Equal(t, DefaultTimeout, c.Timeout)
	require.Equal(t, DefaultJitter, c.Jitter)
	require.Equal(t, DefaultRise, c.Rise)
	require.Equal(t, DefaultFall, c.Fall)
	c, err = MonitorConfig{Probe: p, Interval: 100 * time.Millisecond, Jitter: -1}.withDefaults()
	require.NoError(t, err)
	require.Equal(t, 100*time.Millisecond, c.Timeout, "timeout defaults to at most the interval")
	require.Zero(t, c.Jitter, "negative jitter means none")
}

func TestJitterWait(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	const interval = time.Second
	require.Equal(t, interval, jitterWait(interval, 0, 0.99))
	require.Equal(t, interval, jitterWait(interval, 0.3, 0.5))
	require.Equal(t, minWait, jitterWait(interval, 1, 0))
	rng := rand.New(rand.NewPCG(seed, nameSeed("b1")))
	var below, above int
	for range 1000 {
		d := jitterWait(interval, 0.2, rng.Float64())
		require.GreaterOrEqual(t, d, 800*time.Millisecond)
		require.LessOrEqual(t, d, 1200*time.Millisecond)
		if d < interval {
			below++
		} else {
			above++
		}
	}
	require.Greater(t, below, 300)
	require.Greater(t, above, 300)
	// Backends draw different sequences from one seed.
	a := rand.New(rand.NewPCG(seed, nameSeed("b1")))
	b := rand.New(rand.NewPCG(seed, nameSeed("b2")))
	seqA := []float64{a.Float64(), a.Float64(), a.Float64()}
	seqB := []float64{b.Float64(), b.Float64(), b.Float64()}
	require.False(t, slices.Equal(seqA, seqB))
}
