package store

import (
	"math/rand/v2"
	"time"
)

// LFU parameters; see the package doc.
const (
	lfuInitial     = 5           // counter of a new entry, so it is not the first victim
	lfuLogFactor   = 10          // larger means slower counter growth
	lfuSamples     = 5           // entries sampled per eviction
	lfuDecayPeriod = time.Minute // the counter loses one per period without access
)

// lfuDecayed returns e's counter after decay to period now, without storing it.
func lfuDecayed(e *entry, now uint32) uint8 {
	elapsed := now - e.period // wraps correctly for uint32 periods
	if elapsed >= uint32(e.freq) {
		return 0
	}
	return e.freq - uint8(elapsed)
}

// lfuTouch decays e's counter to period now and then increments it with
// probability 1/((c-lfuInitial)*lfuLogFactor+1).
func lfuTouch(e *entry, now uint32) {
	c := lfuDecayed(e, now)
	e.period = now
	if c < 255 {
		base := int(c) - lfuInitial
		if base <= 0 || rand.Uint32N(uint32(base*lfuLogFactor+1)) == 0 {
			c++
		}
	}
	e.freq = c
}
