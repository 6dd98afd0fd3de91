package upstream

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// failTarget reports n failures from picks of addr (picking until addr
// comes up; other targets succeed).
func failTarget(t *testing.T, p *Pool, addr string, n int) {
	t.Helper()
	for failed, tries := 0, 0; failed < n; tries++ {
		require.Less(t, tries, 1000, "target %s never picked", addr)
		tg, rel, err := p.Pick("")
		require.NoError(t, err)
		if tg.Address == addr {
			rel(Result{Kind: KindStatus5xx})
			failed++
		} else {
			rel(Result{Kind: KindSuccess})
		}
	}
}

func TestOutlierEjectionGrowsAndCaps(t *testing.T) {
	clock := newFakeClock()
	o := gwconfig.Outlier{ConsecutiveFailures: 3, BaseEjection: 10 * time.Second, MaxEjection: 25 * time.Second, MaxEjectedPercent: 50}
	p := newPool(t, gwconfig.Upstream{Targets: targets("a", "b"), Outlier: &o}, clock, 1)

	failTarget(t, p, "a", 2)
	require.Empty(t, ejected(p))
	failTarget(t, p, "a", 1)
	require.Equal(t, map[string]time.Time{"a": clock.Now().Add(10 * time.Second)}, ejected(p))

	// Second ejection lasts twice the base, the third is capped.
	for i, want := range []time.Duration{20 * time.Second, 25 * time.Second, 25 * time.Second} {
		clock.Advance(ejected(p)["a"].Sub(clock.Now()))
		require.Empty(t, ejected(p), "ejection %d ended", i+1)
		failTarget(t, p, "a", 3)
		require.Equal(t, clock.Now().Add(want), ejected(p)["a"], "ejection %d", i+2)
	}
	require.EqualValues(t, 4, p.Stats().Targets[0].Ejections)

	// A target that went MaxEjection without an ejection starts again from
	// the base.
	clock.Advance(25*time.Second + 25*time.Second)
	failTarget(t, p, "a", 3)
	require.Equal(t, clock.Now().Add(10*time.Second), ejected(p)["a"])
}

func TestOutlierSuccessResetsRun(t *testing.T) {
	clock := newFakeClock()
	o := gwconfig.Outlier{ConsecutiveFailures: 3, BaseEjection: time.Second}
	p := newPool(t, gwconfig.Upstream{Targets: targets("a", "b"), Outlier: &o}, clock, 1)
	for range 10 {
		failTarget(t, p, "a", 2)
		tg, rel, err := p.Pick("b")
		require.NoError(t, err)
		require.Equal(t, "a", tg.Address)
		rel(Result{Kind: KindSuccess})
		rel(Result{Kind: KindConnect}) // a second call is ignored
	}
	require.Empty(t, ejected(p))
}

func TestOutlierMaxEjectedPercent(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		percent int
		want    int // most ejected at once
	}{
		{"half of four", 4, 50, 2},
		{"half of three rounds down", 3, 50, 1},
		{"ten percent of four is none", 4, 10, 0},
		{"all of three keeps one", 3, 100, 2},
		{"a single target is never ejected", 1, 100, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			o := gwconfig.Outlier{ConsecutiveFailures: 1, BaseEjection: time.Minute, MaxEjectedPercent: tc.percent}
			var addrs []string
			for i := range tc.n {
				addrs = append(addrs, string(rune('a'+i)))
			}
			p := newPool(t, gwconfig.Upstream{Targets: targets(addrs...), Outlier: &o}, clock, 1)
			for range 100 {
				_, err := pickRelease(t, p, KindConnect)
				require.NoError(t, err)
				require.LessOrEqual(t, len(ejected(p)), tc.want)
			}
			require.Len(t, ejected(p), tc.want)
		})
	}
}

// Results of requests picked before an ejection do not count after it ends,
// and results arriving while the target is ejected are not counted either.
func TestOutlierIgnoresStaleResults(t *testing.T) {
	clock := newFakeClock()
	o := gwconfig.Outlier{ConsecutiveFailures: 2, BaseEjection: time.Second}
	p := newPool(t, gwconfig.Upstream{Targets: targets("a", "b"), Outlier: &o}, clock, 1)
	var stale []Release
	for len(stale) < 4 {
		tg, rel, err := p.Pick("b")
		require.NoError(t, err)
		require.Equal(t, "a", tg.Address)
		stale = append(stale, rel)
	}
	stale[0](Result{Kind: KindConnect})
	stale[1](Result{Kind: KindConnect})
	require.Contains(t, ejected(p), "a")
	stale[2](Result{Kind: KindConnect}) // while ejected: not counted
	clock.Advance(time.Second)
	require.Empty(t, ejected(p))
	stale[3](Result{Kind: KindConnect}) // picked before the ejection: not counted
	failTarget(t, p, "a", 1)
	require.Empty(t, ejected(p), "one fresh failure is not two")
	failTarget(t, p, "a", 1)
	require.Contains(t, ejected(p), "a")
}

// Client-gone results neither break nor extend a failure run.
func TestOutlierClientGoneIsNeutral(t *testing.T) {
	clock := newFakeClock()
	o := gwconfig.Outlier{ConsecutiveFailures: 2, BaseEjection: time.Second}
	p := newPool(t, gwconfig.Upstream{Targets: targets("a", "b"), Outlier: &o}, clock, 1)
	pick := func(kind Kind) {
		tg, rel, err := p.Pick("b")
		require.NoError(t, err)
		require.Equal(t, "a", tg.Address)
		rel(Result{Kind: kind})
	}
	pick(KindConnect)
	pick(KindClientGone)
	pick(KindClientGone)
	require.Empty(t, ejected(p))
	pick(KindTimeout)
	require.Contains(t, ejected(p), "a")
}

// A membership change that leaves too many ejected targets ends the
// ejections due soonest; a removed ejected target that comes back is fresh.
func TestOutlierMembershipChange(t *testing.T) {
	clock := newFakeClock()
	o := gwconfig.Outlier{ConsecutiveFailures: 1, BaseEjection: time.Minute, MaxEjectedPercent: 100}
	p := newPool(t, gwconfig.Upstream{Targets: targets("a", "b", "c", "d"), Outlier: &o}, clock, 1)
	failTarget(t, p, "a", 1)
	clock.Advance(time.Second)
	failTarget(t, p, "b", 1)
	clock.Advance(time.Second)
	failTarget(t, p, "c", 1)
	require.Len(t, ejected(p), 3)

	p.SetTargets(targets("a", "b", "c")) // d leaves: at most 2 of 3 ejected
	got := ejected(p)
	require.Len(t, got, 2)
	require.NotContains(t, got, "a", "a's ejection was due first")
	tg, err := pickRelease(t, p, KindSuccess)
	require.NoError(t, err)
	require.Equal(t, "a", tg.Address)

	p.SetTargets(targets("a", "b")) // c leaves while ejected
	require.Equal(t, []string{"b"}, keys(ejected(p)))
	p.SetTargets(targets("a", "b", "c")) // and comes back fresh
	require.Equal(t, []string{"b"}, keys(ejected(p)))
}

func keys(m map[string]time.Time) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestOutlierDefaults(t *testing.T) {
	o := newOutlier(&gwconfig.Outlier{})
	require.Equal(t, DefaultOutlierFailures, o.consecutive)
	require.Equal(t, DefaultBaseEjection, o.base)
	require.Equal(t, DefaultMaxEjection, o.maxTime)
	require.Equal(t, DefaultMaxEjectedPercent, o.percent)
	o = newOutlier(&gwconfig.Outlier{BaseEjection: time.Hour, MaxEjection: time.Minute, MaxEjectedPercent: 500})
	require.Equal(t, time.Hour, o.maxTime, "the cap is at least the base")
	require.Equal(t, 100, o.percent)
}
