// Package ratewindow counts results and failures over a sliding stretch of
// time, for failure-rate rules (gatewayd's circuit breaker and outlier
// detection, lbd's passive health checks).
//
//	w := ratewindow.New(10 * time.Second)
//	w.Add(now, failed)
//	total, failures := w.Counts(now)
package ratewindow

import "time"

// Slots is how many slots a window is cut into: the counts cover between
// (Slots-1)/Slots of the window's length and all of it.
const Slots = 10

// Window counts results and failures over the last stretch of time, in
// Slots slots of length/Slots each. Time is passed in, so tests drive it
// with a fake clock. Not safe for concurrent use.
type Window struct {
	slot  time.Duration
	slots [Slots]slot
}

type slot struct {
	index    int64 // which stretch of time it counts: its start in slot lengths since the Unix epoch
	total    int
	failures int
}

// New returns an empty window of the given length.
func New(length time.Duration) Window {
	return Window{slot: max(length/Slots, time.Nanosecond)}
}

func (w *Window) index(now time.Time) int64 { return now.UnixNano() / int64(w.slot) }

// Add counts one result at now.
func (w *Window) Add(now time.Time, failed bool) {
	i := w.index(now)
	s := &w.slots[((i%Slots)+Slots)%Slots]
	if s.index != i {
		*s = slot{index: i}
	}
	s.total++
	if failed {
		s.failures++
	}
}

// Counts returns the results and failures counted in the window ending at
// now.
func (w *Window) Counts(now time.Time) (total, failures int) {
	i := w.index(now)
	for k := range w.slots {
		s := &w.slots[k]
		if s.index <= i && i-s.index < Slots {
			total += s.total
			failures += s.failures
		}
	}
	return total, failures
}

// Reset forgets every count.
func (w *Window) Reset() { w.slots = [Slots]slot{} }
