package ratelimit

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRateOf(t *testing.T) {
	for _, tc := range []struct {
		name  string
		p     Policy
		share int64
		ok    bool
		want  rate
	}{
		{"even", Policy{Limit: 10, Per: time.Second}, 1, true, rate{interval: 1e8, tolerance: 1e9, burst: 10}},
		{"burst", Policy{Limit: 10, Per: time.Second, Burst: 3}, 1, true, rate{interval: 1e8, tolerance: 3e8, burst: 3}},
		{"rounded up", Policy{Limit: 3, Per: time.Second}, 1, true, rate{interval: 333333334, tolerance: 1000000002, burst: 3}},
		{"share", Policy{Limit: 10, Per: time.Second, Burst: 20}, 3, true, rate{interval: 333333334, tolerance: 2000000004, burst: 6}},
		{"share floors at one", Policy{Limit: 2, Per: time.Second}, 5, true, rate{interval: 1e9, tolerance: 1e9, burst: 1}},
		{"zero share is one", Policy{Limit: 10, Per: time.Second}, 0, true, rate{interval: 1e8, tolerance: 1e9, burst: 10}},
		{"saturates", Policy{Limit: 1, Per: time.Hour, Burst: math.MaxInt64 / 2}, 1, true, rate{interval: int64(time.Hour), tolerance: math.MaxInt64, burst: math.MaxInt64 / 2}},
		{"no limit", Policy{Limit: 0, Per: time.Second}, 1, false, rate{}},
		{"no period", Policy{Limit: 5}, 1, false, rate{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := rateOf(tc.p, tc.share)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, got)
		})
	}
}

// TestGCRA walks one bucket through burst, refill and denial.
func TestGCRA(t *testing.T) {
	r, _ := rateOf(Policy{Limit: 10, Per: time.Second, Burst: 3}, 1) // a token per 100ms
	const t0 = int64(1e12)
	ms := int64(time.Millisecond)
	require.Equal(t, int64(3), r.available(0, t0), "an absent bucket is full")

	tat := int64(0)
	for i := range 3 {
		var ok bool
		tat, ok = r.take(tat, t0, 1)
		require.True(t, ok, "token %d of the burst", i)
	}
	require.Equal(t, int64(0), r.available(tat, t0))
	_, ok := r.take(tat, t0, 1)
	require.False(t, ok)
	require.Equal(t, 100*time.Millisecond, r.retryAfter(tat, t0))
	require.Equal(t, 300*time.Millisecond, r.reset(tat, t0))

	// 150ms later one token is back and half of the next.
	require.Equal(t, int64(1), r.available(tat, t0+150*ms))
	_, ok = r.take(tat, t0+150*ms, 2)
	require.False(t, ok, "two tokens are not there yet")
	require.Equal(t, time.Duration(0), r.retryAfter(tat, t0+150*ms))
	tat2, ok := r.take(tat, t0+150*ms, 1)
	require.True(t, ok)
	require.Equal(t, 50*time.Millisecond, r.retryAfter(tat2, t0+150*ms), "the next token is half refilled")

	// Long idle: never more than the burst.
	require.Equal(t, int64(3), r.available(tat, t0+time.Hour.Nanoseconds()))
	require.Equal(t, time.Duration(0), r.reset(tat, t0+time.Hour.Nanoseconds()))

	// Giving back never overfills.
	require.Equal(t, t0, r.giveBack(tat, t0, 100))
	require.Equal(t, tat-100*ms, r.giveBack(tat, t0, 1))
}

func TestLeaseSize(t *testing.T) {
	for _, tc := range []struct{ burst, avail, nodes, want int64 }{
		{100, 100, 1, 25}, // burst/4
		{100, 100, 3, 16}, // avail/(2·nodes)
		{100, 10, 3, 1},   // at least one
		{100, 0, 3, 0},    // nothing to lease
		{2, 2, 1, 1},      // burst/4 = 0 → 1
		{100, 3, 0, 1},    // nodes < 1 counts as 1
		{1000, 1000, 2, 250},
	} {
		require.Equal(t, tc.want, leaseSize(tc.burst, tc.avail, tc.nodes), "%+v", tc)
	}
}

func TestStateEncoding(t *testing.T) {
	for _, tat := range []int64{0, 1, -1, math.MaxInt64, time.Now().UnixNano()} {
		got, err := decodeState(encodeState(tat))
		require.NoError(t, err)
		require.Equal(t, tat, got)
	}
	for _, bad := range [][]byte{nil, {}, {1, 2, 3}, append([]byte{9}, make([]byte, 8)...)} {
		_, err := decodeState(bad)
		require.ErrorIs(t, err, ErrCorrupt)
	}
}

func FuzzDecodeState(f *testing.F) {
	f.Add(encodeState(42))
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		tat, err := decodeState(b)
		if err != nil {
			return
		}
		require.Equal(t, b, encodeState(tat))
	})
}
