package upstream

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/node/ratewindow"
)

// runBreakerScript drives a two-target pool through steps, one per string:
//
//	ok, fail, gone   pick and release at once with success, connect failure, client gone
//	N*ok, N*fail     the same N times
//	refused          Pick fails with ErrCircuitOpen
//	hold             pick and keep the release for later (a stack)
//	ok<, fail<, gone<  release the most recently held pick
//	+5s              advance the clock
//	=open            the breaker's state (closed, open, half_open)
func runBreakerScript(t *testing.T, cb gwconfig.CircuitBreaker, steps []string) {
	t.Helper()
	clock := newFakeClock()
	p := newPool(t, gwconfig.Upstream{Targets: targets("a", "b"), CircuitBreaker: &cb}, clock, 1)
	var held []Release
	kinds := map[string]Kind{"ok": KindSuccess, "fail": KindConnect, "gone": KindClientGone, "5xx": KindStatus5xx, "timeout": KindTimeout}
	for i, step := range steps {
		where := func() string { return fmt.Sprintf("step %d %q", i, step) }
		n := 1
		if a, b, ok := strings.Cut(step, "*"); ok {
			n = 0
			for _, c := range a {
				n = n*10 + int(c-'0')
			}
			step = b
		}
		for range n {
			switch {
			case step == "refused":
				_, _, err := p.Pick("")
				require.ErrorIs(t, err, ErrCircuitOpen, where())
			case step == "hold":
				_, rel, err := p.Pick("")
				require.NoError(t, err, where())
				held = append(held, rel)
			case strings.HasSuffix(step, "<"):
				k, ok := kinds[strings.TrimSuffix(step, "<")]
				require.True(t, ok, where())
				require.NotEmpty(t, held, where())
				held[len(held)-1](Result{Kind: k})
				held = held[:len(held)-1]
			case strings.HasPrefix(step, "+"):
				d, err := time.ParseDuration(step[1:])
				require.NoError(t, err, where())
				clock.Advance(d)
			case strings.HasPrefix(step, "="):
				require.Equal(t, step[1:], p.Stats().Breaker, where())
			default:
				k, ok := kinds[step]
				require.True(t, ok, "unknown step %q", step)
				_, err := pickRelease(t, p, k)
				require.NoError(t, err, where())
			}
		}
	}
}

func TestBreakerStateMachine(t *testing.T) {
	base := gwconfig.CircuitBreaker{
		Window: 10 * time.Second, MinRequests: 10, ErrorRate: 0.5,
		ConsecutiveFailures: 5, OpenFor: 5 * time.Second, HalfOpenRequests: 2,
	}
	with := func(f func(*gwconfig.CircuitBreaker)) gwconfig.CircuitBreaker {
		cb := base
		f(&cb)
		return cb
	}
	tests := []struct {
		name  string
		cb    gwconfig.CircuitBreaker
		steps []string
	}{
		{"stays closed on success", base, []string{"50*ok", "=closed"}},
		{"opens on consecutive failures", base, []string{"4*fail", "=closed", "fail", "=open", "refused"}},
		{"a success resets the failure run", base, []string{"4*fail", "ok", "4*fail", "=closed"}},
		{"client gone breaks no run and counts nothing", base, []string{"4*fail", "gone", "=closed", "fail", "=open"}},
		{"5xx and timeouts are failures", base, []string{"2*5xx", "2*timeout", "fail", "=open"}},
		{"error rate needs min requests", with(func(c *gwconfig.CircuitBreaker) { c.ConsecutiveFailures = 0 }),
			[]string{"ok", "fail", "ok", "fail", "ok", "fail", "ok", "fail", "ok", "=closed", "fail", "=open"}},
		{"error rate below threshold stays closed", with(func(c *gwconfig.CircuitBreaker) { c.ConsecutiveFailures = 0 }),
			[]string{"ok", "ok", "fail", "ok", "ok", "fail", "ok", "ok", "fail", "ok", "ok", "fail", "=closed"}},
		{"error rate counted by success too", with(func(c *gwconfig.CircuitBreaker) { c.ConsecutiveFailures = 0 }),
			[]string{"9*fail", "=closed", "ok", "=open"}},
		{"old results leave the window", with(func(c *gwconfig.CircuitBreaker) { c.ConsecutiveFailures = 0 }),
			[]string{"9*fail", "+11s", "ok", "=closed", "8*ok", "fail", "=closed"}},
		{"consecutive zero disables that trigger", with(func(c *gwconfig.CircuitBreaker) { c.ConsecutiveFailures = 0; c.MinRequests = 100 }),
			[]string{"99*fail", "=closed"}},
		{"open until open_for, then half-open", base, []string{"5*fail", "+4999ms", "=open", "refused", "+1ms", "=half_open"}},
		{"half-open admits only the probes", base, []string{"5*fail", "+5s", "hold", "hold", "refused", "=half_open"}},
		{"all probes succeed: closed", base, []string{"5*fail", "+5s", "hold", "hold", "ok<", "=half_open", "ok<", "=closed", "20*ok"}},
		{"a probe fails: open again", base, []string{"5*fail", "+5s", "hold", "hold", "ok<", "fail<", "=open", "refused", "+5s", "=half_open"}},
		{"sequential probes", base, []string{"5*fail", "+5s", "ok", "ok", "=closed"}},
		{"a client-gone probe frees its slot", base, []string{"5*fail", "+5s", "hold", "hold", "refused", "gone<", "hold", "ok<", "ok<", "=closed"}},
		{"late result from before opening is ignored", base, []string{"hold", "5*fail", "=open", "+5s", "hold", "hold", "fail<", "=open", "+5s", "=half_open"}},
		{"late failure of the closed era does not decide probes", base, []string{"hold", "5*fail", "+5s", "hold", "hold", "ok<", "ok<", "=closed", "fail<", "=closed"}},
		{"closing starts a fresh window", with(func(c *gwconfig.CircuitBreaker) { c.ConsecutiveFailures = 0; c.MinRequests = 4 }),
			[]string{"2*fail", "2*fail", "=open", "+5s", "ok", "ok", "=closed", "fail", "ok", "ok", "=closed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runBreakerScript(t, tc.cb, tc.steps) })
	}
}

func TestBreakerDisabledWithoutSpec(t *testing.T) {
	p := newPool(t, gwconfig.Upstream{Targets: targets("a")}, newFakeClock(), 1)
	for range 1000 {
		_, err := pickRelease(t, p, KindConnect)
		require.NoError(t, err)
	}
	require.Equal(t, "closed", p.Stats().Breaker)
}

func TestBreakerDefaults(t *testing.T) {
	b := newBreaker(&gwconfig.CircuitBreaker{})
	require.Equal(t, DefaultMinRequests, b.minRequests)
	require.Equal(t, DefaultErrorRate, b.errorRate)
	require.Equal(t, DefaultOpenFor, b.openFor)
	require.Equal(t, DefaultHalfOpenRequests, b.halfOpen)
	require.Equal(t, ratewindow.New(DefaultBreakerWindow), b.win)
	require.Zero(t, b.consecutive)
}

// An open breaker wins over an empty pool; a half-open admission given back
// when no target was eligible does not use up a probe.
func TestBreakerNoTargetsGivesProbeBack(t *testing.T) {
	clock := newFakeClock()
	cb := gwconfig.CircuitBreaker{ConsecutiveFailures: 1, OpenFor: time.Second, HalfOpenRequests: 1}
	p := newPool(t, gwconfig.Upstream{Targets: targets("a"), CircuitBreaker: &cb}, clock, 1)
	_, err := pickRelease(t, p, KindConnect)
	require.NoError(t, err)
	p.SetTargets(nil)
	_, _, err = p.Pick("")
	require.ErrorIs(t, err, ErrCircuitOpen)
	clock.Advance(time.Second)
	for range 3 {
		_, _, err = p.Pick("")
		require.True(t, errors.Is(err, ErrNoTargets), "got %v", err)
	}
	p.SetTargets(targets("a"))
	_, err = pickRelease(t, p, KindSuccess)
	require.NoError(t, err)
	require.Equal(t, "closed", p.Stats().Breaker)
	require.EqualValues(t, 1, p.Stats().BreakerOpened)
}
