package upstream

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/node/nodetest"
)

// TestEjectedNeverPicked is the outlier guarantee as a property: under
// random traffic (holds, late releases, client-gone results, excludes,
// clock jumps, membership changes) on random configurations, once a target
// is seen ejected until T, Pick does not return it before T — unless a
// membership change ended the ejection, which it may only do to respect the
// ejection limit. It also checks that the limit always holds and that every
// ejection lasts a multiple of the base ejection or the cap.
func TestEjectedNeverPicked(t *testing.T) {
	seed := nodetest.Seed(t)
	rnd := rand.New(rand.NewPCG(seed, 1))
	var stats propertyStats
	for round := range 20 {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) { ejectionRound(t, rnd, &stats) })
	}
	t.Logf("%+v", stats)
	require.Positive(t, stats.ejections, "the run must eject targets to test anything")
	require.Positive(t, stats.picksWhileEjected, "the run must pick while targets are ejected")
}

// propertyStats counts what a property run exercised.
type propertyStats struct {
	ejections, picksWhileEjected, membershipChanges, endedEarly int
}

func ejectionRound(t *testing.T, rnd *rand.Rand, stats *propertyStats) {
	clock := newFakeClock()
	all := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	failP := map[string]float64{}
	for _, a := range all {
		failP[a] = rnd.Float64() * rnd.Float64()
	}
	o := gwconfig.Outlier{
		ConsecutiveFailures: 1 + rnd.IntN(3),
		BaseEjection:        time.Duration(1+rnd.IntN(10)) * time.Second,
		MaxEjectedPercent:   10 + rnd.IntN(91),
	}
	o.MaxEjection = o.BaseEjection * time.Duration(1+rnd.IntN(5))
	spec := gwconfig.Upstream{
		Balance: []string{"round_robin", "least_request", "random"}[rnd.IntN(3)],
		Outlier: &o,
	}
	if rnd.IntN(2) == 0 {
		spec.CircuitBreaker = &gwconfig.CircuitBreaker{MinRequests: 50, ErrorRate: 0.9, ConsecutiveFailures: 20, OpenFor: time.Second}
	}
	members := func() []gwconfig.Target {
		var list []gwconfig.Target
		for _, a := range all {
			if rnd.IntN(4) != 0 {
				list = append(list, gwconfig.Target{Address: a, Weight: 1 + rnd.IntN(5)})
			}
		}
		if len(list) == 0 {
			list = append(list, gwconfig.Target{Address: all[0], Weight: 1})
		}
		return list
	}
	spec.Targets = members()
	n := len(spec.Targets)
	p := newPoolLogged(t, spec, clock, rnd.Uint64(), slog.New(slog.DiscardHandler)) // thousands of ejections
	t.Logf("spec %+v outlier %+v targets %v", spec.Balance, o, spec.Targets)

	until := map[string]time.Time{} // ejections seen, by address
	maxEj := func(n int) int { return max(min(n*o.MaxEjectedPercent/100, n-1), 0) }
	observe := func(op string) {
		t.Helper()
		now := clock.Now()
		seen := ejected(p)
		require.LessOrEqual(t, len(seen), maxEj(n), "%s: ejected %v of %d", op, seen, n)
		for a, end := range seen {
			if prev, ok := until[a]; ok && prev.Equal(end) {
				continue
			}
			d := end.Sub(now)
			require.True(t, d == o.MaxEjection || (d > 0 && d < o.MaxEjection && d%o.BaseEjection == 0),
				"%s: %s ejected for %v (base %v, max %v)", op, a, d, o.BaseEjection, o.MaxEjection)
			until[a] = end
			stats.ejections++
		}
		for a, end := range until {
			if !now.Before(end) {
				delete(until, a)
			}
		}
	}
	type held struct {
		addr string
		rel  Release
	}
	var pending []held
	release := func(h held) {
		kind := KindSuccess
		switch r := rnd.Float64(); {
		case r < 0.05:
			kind = KindClientGone
		case r < 0.05+failP[h.addr]:
			kind = []Kind{KindConnect, KindTimeout, KindReset, KindStatus5xx}[rnd.IntN(4)]
		}
		h.rel(Result{Kind: kind, Latency: time.Millisecond})
	}
	for step := range 2000 {
		switch r := rnd.IntN(100); {
		case r < 60:
			exclude := ""
			if rnd.IntN(5) == 0 {
				exclude = all[rnd.IntN(len(all))]
			}
			tg, rel, err := p.Pick(exclude)
			if err != nil {
				require.ErrorIs(t, err, ErrCircuitOpen, "step %d", step)
				continue
			}
			if len(until) > 0 {
				stats.picksWhileEjected++
			}
			if end, ok := until[tg.Address]; ok {
				require.False(t, clock.Now().Before(end), "step %d: picked %s ejected until %v at %v", step, tg.Address, end, clock.Now())
			}
			h := held{tg.Address, rel}
			if rnd.IntN(3) == 0 {
				pending = append(pending, h)
			} else {
				release(h)
			}
		case r < 80 && len(pending) > 0:
			i := rnd.IntN(len(pending))
			release(pending[i])
			pending = append(pending[:i], pending[i+1:]...)
		case r < 95:
			clock.Advance(time.Duration(rnd.IntN(2000)) * time.Millisecond)
		default:
			list := members()
			stillEjected := 0
			for _, tg := range list {
				if _, ok := until[tg.Address]; ok {
					stillEjected++
				}
			}
			in := map[string]bool{}
			for _, tg := range list {
				in[tg.Address] = true
			}
			p.SetTargets(list)
			stats.membershipChanges++
			n = len(list)
			seen := ejected(p)
			require.Equal(t, min(stillEjected, maxEj(n)), len(seen), "step %d: ejections after a membership change", step)
			for a := range until {
				if _, ok := seen[a]; !ok {
					delete(until, a) // ended early by the change (or left)
					stats.endedEarly++
				}
			}
		}
		observe(fmt.Sprintf("step %d", step))
	}
	for _, h := range pending {
		release(h)
	}
	for _, ts := range p.Stats().Targets {
		require.Zero(t, ts.InFlight, ts.Address)
	}
}
