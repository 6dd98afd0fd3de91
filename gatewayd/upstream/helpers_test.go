package upstream

import (
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/node/nodetest"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// targets builds a static target list of addresses with weight 1.
func targets(addrs ...string) []gwconfig.Target {
	out := make([]gwconfig.Target, len(addrs))
	for i, a := range addrs {
		out[i] = gwconfig.Target{Address: a, Weight: 1}
	}
	return out
}

// newPool builds a pool for spec with a fake clock, a seeded generator and
// the test's logger.
func newPool(t testing.TB, spec gwconfig.Upstream, clock *fakeClock, seed uint64) *Pool {
	t.Helper()
	return newPoolLogged(t, spec, clock, seed, nodetest.Logger(t))
}

// newPoolLogged is newPool with a chosen logger.
func newPoolLogged(t testing.TB, spec gwconfig.Upstream, clock *fakeClock, seed uint64, logger *slog.Logger) *Pool {
	t.Helper()
	if spec.Name == "" {
		spec.Name = "test"
	}
	p, err := New(spec, Options{Now: clock.Now, Rand: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), Logger: logger})
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

// pickRelease picks once and releases at once with kind.
func pickRelease(t testing.TB, p *Pool, kind Kind) (Target, error) {
	t.Helper()
	tg, rel, err := p.Pick("")
	if err != nil {
		return tg, err
	}
	rel(Result{Kind: kind, Latency: time.Millisecond})
	return tg, nil
}

// ejected returns the addresses Stats reports as ejected.
func ejected(p *Pool) map[string]time.Time {
	out := map[string]time.Time{}
	for _, ts := range p.Stats().Targets {
		if ts.Ejected {
			out[ts.Address] = ts.EjectedUntil
		}
	}
	return out
}
