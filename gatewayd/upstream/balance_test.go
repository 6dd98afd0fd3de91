package upstream

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/node/nodetest"
)

func TestSmoothRoundRobinSequence(t *testing.T) {
	tests := []struct {
		name    string
		weights map[string]int
		order   []string
		want    string // picks of two full cycles, joined
	}{
		{"equal", map[string]int{"a": 1, "b": 1, "c": 1}, []string{"a", "b", "c"}, "abcabc"},
		// nginx's example: weights 5,1,1 interleave rather than run.
		{"nginx 5-1-1", map[string]int{"a": 5, "b": 1, "c": 1}, []string{"a", "b", "c"}, "aabacaaaabacaa"},
		{"2-1", map[string]int{"a": 2, "b": 1}, []string{"a", "b"}, "abaaba"},
		{"single", map[string]int{"a": 3}, []string{"a"}, "aaaaaa"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var list []gwconfig.Target
			sum := 0
			for _, a := range tc.order {
				list = append(list, gwconfig.Target{Address: a, Weight: tc.weights[a]})
				sum += tc.weights[a]
			}
			p := newPool(t, gwconfig.Upstream{Targets: list}, newFakeClock(), 1)
			var got strings.Builder
			for range 2 * sum {
				tg, err := pickRelease(t, p, KindSuccess)
				require.NoError(t, err)
				got.WriteString(tg.Address)
			}
			require.Equal(t, tc.want, got.String())
		})
	}
}

// Over any full cycle, smooth round robin picks each target exactly its
// weight times, for random weights.
func TestSmoothRoundRobinExactShares(t *testing.T) {
	seed := nodetest.Seed(t)
	rnd := rand.New(rand.NewPCG(seed, 0))
	for range 50 {
		n := 1 + rnd.IntN(8)
		list := make([]gwconfig.Target, n)
		sum := 0
		for i := range list {
			list[i] = gwconfig.Target{Address: string(rune('a' + i)), Weight: 1 + rnd.IntN(20)}
			sum += list[i].Weight
		}
		p := newPool(t, gwconfig.Upstream{Targets: list}, newFakeClock(), seed)
		for cycle := range 3 {
			counts := map[string]int{}
			for range sum {
				tg, err := pickRelease(t, p, KindSuccess)
				require.NoError(t, err)
				counts[tg.Address]++
			}
			for _, tg := range list {
				require.Equal(t, tg.Weight, counts[tg.Address], "cycle %d, target %s of %v", cycle, tg.Address, list)
			}
		}
	}
}

func TestWeightedRandomShares(t *testing.T) {
	seed := nodetest.Seed(t)
	list := []gwconfig.Target{{Address: "a", Weight: 1}, {Address: "b", Weight: 3}, {Address: "c", Weight: 6}}
	p := newPool(t, gwconfig.Upstream{Balance: "random", Targets: list}, newFakeClock(), seed)
	const n = 20000
	counts := map[string]int{}
	for range n {
		tg, err := pickRelease(t, p, KindSuccess)
		require.NoError(t, err)
		counts[tg.Address]++
	}
	for _, tg := range list {
		want := float64(n) * float64(tg.Weight) / 10
		require.InDelta(t, want, float64(counts[tg.Address]), 0.1*want, "target %s: %v", tg.Address, counts)
	}
}

// Least request sends new requests away from a target holding many in
// flight: with one target stuck at 50 outstanding requests, it is picked
// only when both draws land on it, which two distinct draws never do.
func TestLeastRequestAvoidsBusyTarget(t *testing.T) {
	seed := nodetest.Seed(t)
	p := newPool(t, gwconfig.Upstream{Balance: "least_request", Targets: targets("a")}, newFakeClock(), seed)
	var held []Release
	for range 50 {
		_, rel, err := p.Pick("")
		require.NoError(t, err)
		held = append(held, rel)
	}
	p.SetTargets(targets("a", "b", "c")) // a keeps its in-flight requests
	counts := map[string]int{}
	for range 1000 {
		tg, err := pickRelease(t, p, KindSuccess)
		require.NoError(t, err)
		counts[tg.Address]++
	}
	require.Zero(t, counts["a"], "counts %v", counts)
	require.InDelta(t, 500, counts["b"], 100, "counts %v", counts)
	for _, rel := range held {
		rel(Result{Kind: KindSuccess})
	}
	for _, ts := range p.Stats().Targets {
		require.Zero(t, ts.InFlight, ts.Address)
	}
}

// With requests held open, least request keeps the in-flight counts
// balanced by weight.
func TestLeastRequestBalancesInFlight(t *testing.T) {
	seed := nodetest.Seed(t)
	list := []gwconfig.Target{{Address: "a", Weight: 1}, {Address: "b", Weight: 2}}
	p := newPool(t, gwconfig.Upstream{Balance: "least_request", Targets: list}, newFakeClock(), seed)
	for range 300 {
		_, _, err := p.Pick("")
		require.NoError(t, err)
	}
	st := p.Stats()
	require.InDelta(t, 100, st.Targets[0].InFlight, 2, "%+v", st.Targets)
	require.InDelta(t, 200, st.Targets[1].InFlight, 2, "%+v", st.Targets)
}

func TestPickExclude(t *testing.T) {
	for _, bal := range []string{"round_robin", "least_request", "random"} {
		t.Run(bal, func(t *testing.T) {
			p := newPool(t, gwconfig.Upstream{Balance: bal, Targets: targets("a", "b")}, newFakeClock(), nodetest.Seed(t))
			for range 100 {
				tg, rel, err := p.Pick("a")
				require.NoError(t, err)
				require.Equal(t, "b", tg.Address)
				rel(Result{})
			}
			// The excluded target is the only one left: it is returned.
			one := newPool(t, gwconfig.Upstream{Balance: bal, Targets: targets("a")}, newFakeClock(), 1)
			tg, rel, err := one.Pick("a")
			require.NoError(t, err)
			require.Equal(t, "a", tg.Address)
			rel(Result{})
		})
	}
}
