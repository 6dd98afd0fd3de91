package health

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSlowStart(t *testing.T) {
	const w = 10 * time.Second
	tests := []struct {
		since, window time.Duration
		want          float64
	}{
		{0, 0, 1},
		{time.Second, -time.Second, 1},
		{-time.Second, w, MinShare},
		{0, w, MinShare},
		{500 * time.Millisecond, w, MinShare},
		{time.Second, w, 0.1},
		{5 * time.Second, w, 0.5},
		{9 * time.Second, w, 0.9},
		{w, w, 1},
		{time.Hour, w, 1},
	}
	for _, tt := range tests {
		require.InDelta(t, tt.want, SlowStart(tt.since, tt.window), 1e-9, "SlowStart(%v, %v)", tt.since, tt.window)
	}
	// Monotonic and within (0, 1].
	prev := 0.0
	for d := time.Duration(0); d <= w+time.Second; d += 100 * time.Millisecond {
		s := SlowStart(d, w)
		require.GreaterOrEqual(t, s, prev)
		require.GreaterOrEqual(t, s, MinShare)
		require.LessOrEqual(t, s, 1.0)
		prev = s
	}
}
