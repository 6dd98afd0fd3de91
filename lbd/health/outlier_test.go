package health

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// epoch is the fake clock's start.
var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func newTestOutlier(t *testing.T, cfg OutlierConfig, members ...string) *Outlier {
	t.Helper()
	o, err := NewOutlier(cfg)
	require.NoError(t, err)
	o.SetMembers(members)
	return o
}

// fail records n failures of name at now and returns the last result.
func fail(o *Outlier, name string, n int, now time.Time) (bool, string) {
	var ejected bool
	var reason string
	for range n {
		ejected, reason = o.Record(name, true, now)
	}
	return ejected, reason
}

func TestOutlierConsecutiveFailures(t *testing.T) {
	o := newTestOutlier(t, OutlierConfig{ConsecutiveFailures: 3, BaseEjection: 10 * time.Second}, "a", "b")
	now := epoch
	ej, _ := fail(o, "a", 2, now)
	require.False(t, ej)
	ej, _ = o.Record("a", false, now) // a success restarts the run
	require.False(t, ej)
	ej, _ = fail(o, "a", 2, now)
	require.False(t, ej)
	require.False(t, o.Ejected("a", now))
	ej, reason := o.Record("a", true, now)
	require.True(t, ej)
	require.Equal(t, "3 consecutive failures; ejected for 10s", reason)
	require.True(t, o.Ejected("a", now))
	require.False(t, o.Ejected("b", now))

	// Results while ejected are traffic sent before: ignored.
	ej, _ = fail(o, "a", 10, now.Add(time.Second))
	require.False(t, ej)
	next, ok := o.NextChange(now)
	require.True(t, ok)
	require.Equal(t, now.Add(10*time.Second), next)

	require.True(t, o.Ejected("a", now.Add(10*time.Second-1)))
	require.False(t, o.Ejected("a", now.Add(10*time.Second)))
	_, ok = o.NextChange(now.Add(10 * time.Second))
	require.False(t, ok)

	// Counts start afresh after the ejection: two failures do not eject.
	ej, _ = fail(o, "a", 2, now.Add(11*time.Second))
	require.False(t, ej)
}

func TestOutlierUnknownNamesIgnored(t *testing.T) {
	o := newTestOutlier(t, OutlierConfig{ConsecutiveFailures: 1}, "a", "b")
	ej, reason := fail(o, "zzz", 5, epoch)
	require.False(t, ej)
	require.Empty(t, reason)
	require.False(t, o.Ejected("zzz", epoch))
}

func TestOutlierBackoffDoublesCapsAndDecays(t *testing.T) {
	cfg := OutlierConfig{ConsecutiveFailures: 1, BaseEjection: time.Second, MaxEjection: 5 * time.Second}
	o := newTestOutlier(t, cfg, "a", "b")
	now := epoch
	// Each ejection starts right when the previous ends: 1, 2, 4, then the
	// cap of 5 (not 8), and it stays at the cap.
	for i, want := range []time.Duration{1, 2, 4, 5, 5, 5} {
		ej, reason := o.Record("a", true, now)
		require.True(t, ej, "ejection %d", i+1)
		require.Equal(t, fmt.Sprintf("1 consecutive failures; ejected for %v", want*time.Second), reason)
		next, ok := o.NextChange(now)
		require.True(t, ok)
		require.Equal(t, now.Add(want*time.Second), next, "ejection %d", i+1)
		now = next
	}
	// The multiplier halves for each full MaxEjection spent un-ejected:
	// 5s clean → one level down (the next is still at the cap level 4,
	// which lasts 5s); 10s more clean → two levels down → level 3 (4s)...
	steps := []struct {
		clean time.Duration
		want  time.Duration
	}{
		{5*time.Second - 1, 5 * time.Second}, // not a full MaxEjection: up a level, capped
		{5 * time.Second, 5 * time.Second},   // one level down, then up again
		{10 * time.Second, 4 * time.Second},  // from level 4: two down, one up → 3
		{10 * time.Second, 2 * time.Second},  // 3 → 1 → 2
		{time.Hour, time.Second},             // all forgiven
	}
	for i, s := range steps {
		now = now.Add(s.clean)
		require.False(t, o.Ejected("a", now))
		ej, reason := o.Record("a", true, now)
		require.True(t, ej, "step %d", i)
		require.Contains(t, reason, fmt.Sprintf("ejected for %v", s.want), "step %d", i)
		next, _ := o.NextChange(now)
		require.Equal(t, now.Add(s.want), next, "step %d", i)
		now = next
	}
}

func TestOutlierMaxEjectedPercent(t *testing.T) {
	tests := []struct {
		members, percent int
		want             int // most ejected at once
	}{
		{1, 50, 0},    // the only member is never ejected
		{2, 50, 1},    // half of two
		{2, 10, 1},    // at least one of two or more
		{3, 50, 1},    // rounds down
		{4, 50, 2},    // half of four
		{4, 10, 1},    // at least one
		{3, 100, 2},   // never all
		{10, 30, 3},   // 30% of ten
		{10, 0, 5},    // default 50
		{10, 100, 9},  // never all
		{20, 5, 1},    // 5% of twenty
		{100, 33, 33}, // rounds down
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d members at %d%%", tt.members, tt.percent), func(t *testing.T) {
			var names []string
			for i := range tt.members {
				names = append(names, fmt.Sprintf("b%d", i))
			}
			o := newTestOutlier(t, OutlierConfig{ConsecutiveFailures: 2, MaxEjectedPercent: tt.percent}, names...)
			got := 0
			for _, n := range names {
				if ej, _ := fail(o, n, 2, epoch); ej {
					got++
				}
			}
			require.Equal(t, tt.want, got)
			// A member refused by the cap keeps its run: when room appears,
			// its next failure ejects it.
			if tt.want < tt.members && tt.want > 0 {
				var refused string
				for _, n := range names {
					if !o.Ejected(n, epoch) {
						refused = n
						break
					}
				}
				later := epoch.Add(DefaultBaseEjection)
				require.False(t, o.Ejected(names[0], later), "first ejection over")
				ej, _ := o.Record(refused, true, later)
				require.True(t, ej, "refused member %s ejected once room appears", refused)
			}
		})
	}
}

func TestOutlierFailureRate(t *testing.T) {
	cfg := OutlierConfig{
		ConsecutiveFailures: -1, // off: only the rate counts
		FailureRate:         0.5,
		Window:              10 * time.Second,
		MinRequests:         10,
		BaseEjection:        time.Minute,
	}
	o := newTestOutlier(t, cfg, "a", "b")
	now := epoch
	// Alternate: 50% failures, but fewer than MinRequests results yet.
	for i := range 9 {
		ej, _ := o.Record("a", i%2 == 1, now)
		require.False(t, ej, "result %d", i)
	}
	// 10th result, a failure: 5 of 10 = 50%.
	ej, reason := o.Record("a", true, now)
	require.True(t, ej)
	require.Equal(t, "failure rate 50% (5 of 10) over 10s; ejected for 1m0s", reason)

	// Below the rate never ejects, however many results.
	for i := range 200 {
		ej, _ := o.Record("b", i%3 == 0 && i%2 == 0, now.Add(time.Duration(i)*time.Millisecond))
		require.False(t, ej)
	}
	require.False(t, o.Ejected("b", now))
}

func TestOutlierFailureRateWindowSlides(t *testing.T) {
	cfg := OutlierConfig{ConsecutiveFailures: -1, FailureRate: 0.5, Window: 10 * time.Second, MinRequests: 4}
	o := newTestOutlier(t, cfg, "a", "b")
	now := epoch
	// Old failures fall out of the window: 3 failures, then 11s later
	// 1 success and 1 failure: the window holds 1 of 2 (< MinRequests).
	fail(o, "a", 3, now)
	now = now.Add(11 * time.Second)
	o.Record("a", false, now)
	ej, _ := o.Record("a", true, now)
	require.False(t, ej, "failures older than the window are not counted")
	// Two more failures in the window: 3 of 4.
	ej, _ = o.Record("a", true, now.Add(time.Second))
	require.False(t, ej, "3 results")
	ej, reason := o.Record("a", true, now.Add(2*time.Second))
	require.True(t, ej)
	require.Contains(t, reason, "(3 of 4)")
}

func TestOutlierBothRules(t *testing.T) {
	cfg := OutlierConfig{ConsecutiveFailures: 3, FailureRate: 0.9, MinRequests: 100}
	o := newTestOutlier(t, cfg, "a", "b")
	ej, reason := fail(o, "a", 3, epoch)
	require.True(t, ej)
	require.Contains(t, reason, "3 consecutive failures")
}

func TestOutlierSetMembers(t *testing.T) {
	o := newTestOutlier(t, OutlierConfig{ConsecutiveFailures: 1, BaseEjection: time.Second, MaxEjectedPercent: 50}, "a", "b", "c", "d")
	now := epoch
	o.Record("a", true, now)
	o.Record("b", true, now.Add(time.Millisecond))
	require.True(t, o.Ejected("a", now))
	require.True(t, o.Ejected("b", now.Add(time.Millisecond)))

	// Two members left: only one may be ejected; the one due first ends now.
	o.SetMembers([]string{"a", "b"})
	require.False(t, o.Ejected("a", now.Add(time.Millisecond)))
	require.True(t, o.Ejected("b", now.Add(time.Millisecond)))

	// A removed member's state is forgotten; re-added it starts clean.
	o.SetMembers([]string{"a", "c"})
	require.False(t, o.Ejected("b", now.Add(time.Millisecond)))
	o.SetMembers([]string{"a", "b", "c"})
	require.False(t, o.Ejected("b", now.Add(time.Millisecond)))
	_, reason := o.Record("b", true, now.Add(2*time.Second))
	require.Contains(t, reason, "ejected for 1s", "backoff restarted")

	// One member: never ejected.
	o.SetMembers([]string{"c"})
	ej, _ := fail(o, "c", 10, now.Add(3*time.Second))
	require.False(t, ej)
}

func TestOutlierConfigErrors(t *testing.T) {
	tests := []struct {
		cfg  OutlierConfig
		want string
	}{
		{OutlierConfig{FailureRate: -0.1}, "FailureRate"},
		{OutlierConfig{FailureRate: 1.5}, "FailureRate"},
		{OutlierConfig{FailureRate: math.NaN()}, "FailureRate"},
		{OutlierConfig{Window: -1}, "Window"},
		{OutlierConfig{MinRequests: -1}, "MinRequests"},
		{OutlierConfig{BaseEjection: -1}, "BaseEjection"},
		{OutlierConfig{BaseEjection: time.Minute, MaxEjection: time.Second}, "MaxEjection"},
		{OutlierConfig{MaxEjectedPercent: 101}, "MaxEjectedPercent"},
		{OutlierConfig{MaxEjectedPercent: -1}, "MaxEjectedPercent"},
	}
	for _, tt := range tests {
		_, err := NewOutlier(tt.cfg)
		require.ErrorIs(t, err, ErrInvalidConfig, "%+v", tt.cfg)
		require.ErrorContains(t, err, tt.want)
	}
	// A long BaseEjection raises the default cap instead of failing.
	o, err := NewOutlier(OutlierConfig{ConsecutiveFailures: 1, BaseEjection: time.Hour})
	require.NoError(t, err)
	o.SetMembers([]string{"a", "b"})
	_, reason := o.Record("a", true, epoch)
	require.Contains(t, reason, "ejected for 1h0m0s")
	// A huge cap does not overflow the backoff.
	o, err = NewOutlier(OutlierConfig{ConsecutiveFailures: 1, BaseEjection: time.Second, MaxEjection: math.MaxInt64})
	require.NoError(t, err)
	o.SetMembers([]string{"a", "b"})
	now := epoch
	for range 70 {
		ej, _ := o.Record("a", true, now)
		require.True(t, ej)
		next, _ := o.NextChange(now)
		require.True(t, next.After(now))
		now = next
	}
}

// TestOutlierConcurrent runs Record, Ejected, NextChange and SetMembers at
// once (for the race detector) and checks the percent cap holds throughout.
func TestOutlierConcurrent(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	names := []string{"a", "b", "c", "d", "e", "f"}
	o := newTestOutlier(t, OutlierConfig{ConsecutiveFailures: 2, BaseEjection: time.Millisecond, MaxEjectedPercent: 50}, names...)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := range 5000 {
				now := epoch.Add(time.Duration(i) * 100 * time.Microsecond)
				n := names[rng.IntN(len(names))]
				switch rng.IntN(10) {
				case 0:
					o.NextChange(now)
				case 1:
					o.Ejected(n, now)
				case 2:
					if w == 0 && i%500 == 0 {
						o.SetMembers(names[:3+rng.IntN(4)])
					}
				default:
					o.Record(n, rng.IntN(3) > 0, now)
				}
			}
		})
	}
	wg.Wait()
	o.mu.Lock()
	defer o.mu.Unlock()
	require.LessOrEqual(t, o.ejectedCount(o.latest), o.maxEjected(len(o.members)))
}

func BenchmarkOutlierRecord(b *testing.B) {
	o, err := NewOutlier(OutlierConfig{FailureRate: 0.5})
	require.NoError(b, err)
	names := make([]string, 64)
	for i := range names {
		names[i] = fmt.Sprintf("backend-%d", i)
	}
	o.SetMembers(names)
	now := epoch
	b.ResetTimer()
	for i := range b.N {
		o.Record(names[i%len(names)], i%7 == 0, now.Add(time.Duration(i)*time.Microsecond))
	}
}
