package ratewindow

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWindowSlides(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	w := New(10 * time.Second) // buckets of 1 s
	type step struct {
		at           time.Duration // since start
		add          int           // requests to add (failures if fail)
		fail         bool
		total, fails int // sums at `at` after adding
	}
	steps := []step{
		{0, 3, false, 3, 0},
		{500 * time.Millisecond, 2, true, 5, 2},
		{9 * time.Second, 1, false, 6, 2},
		{9999 * time.Millisecond, 0, false, 6, 2},
		{10 * time.Second, 0, false, 1, 0}, // the first second left the window
		{15 * time.Second, 4, true, 5, 4},
		{19 * time.Second, 0, false, 4, 4},
		{25 * time.Second, 0, false, 0, 0},
		{25 * time.Second, 1, true, 1, 1}, // a reused bucket starts empty
	}
	for i, s := range steps {
		now := start.Add(s.at)
		for range s.add {
			w.Add(now, s.fail)
		}
		total, fails := w.Counts(now)
		require.Equal(t, [2]int{s.total, s.fails}, [2]int{total, fails}, "step %d at %v", i, s.at)
	}
	w.Reset()
	total, _ := w.Counts(start.Add(25 * time.Second))
	require.Zero(t, total)
}
