package health

import "time"

// windowSlots is how many slots a rate window is cut into: the counts cover
// between (windowSlots-1)/windowSlots of the window and all of it.
const windowSlots = 10

// rateWindow counts results and failures over the last stretch of time, in
// windowSlots slots of length/windowSlots each. Not safe for concurrent use.
type rateWindow struct {
	slot  time.Duration
	slots [windowSlots]rateSlot
}

type rateSlot struct {
	index    int64 // which slot of time it counts: its start in slot lengths since the Unix epoch
	total    int
	failures int
}

func newRateWindow(length time.Duration) rateWindow {
	return rateWindow{slot: max(length/windowSlots, time.Nanosecond)}
}

func (w *rateWindow) index(now time.Time) int64 { return now.UnixNano() / int64(w.slot) }

// add counts one result at now.
func (w *rateWindow) add(now time.Time, failed bool) {
	i := w.index(now)
	s := &w.slots[((i%windowSlots)+windowSlots)%windowSlots]
	if s.index != i {
		*s = rateSlot{index: i}
	}
	s.total++
	if failed {
		s.failures++
	}
}

// counts returns the results and failures counted in the window ending at now.
func (w *rateWindow) counts(now time.Time) (total, failures int) {
	i := w.index(now)
	for k := range w.slots {
		s := &w.slots[k]
		if s.index <= i && i-s.index < windowSlots {
			total += s.total
			failures += s.failures
		}
	}
	return total, failures
}

// reset forgets every count.
func (w *rateWindow) reset() { w.slots = [windowSlots]rateSlot{} }
