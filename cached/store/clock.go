package store

// PolicyLRU approximates least-recently-used with CLOCK (second chance): a
// shard keeps its entries in a ring (shard.clock) and a hand that sweeps it.
// A use only sets the entry's reference bit, so a Get writes nothing outside
// the entry it has already read: no list neighbours to update, which is what
// made an exact LRU's move-to-front cost two cache misses per read. To find a
// victim the hand clears the bits it passes and stops at the first entry whose
// bit is clear: one not used since the hand last came by.
//
// A new entry goes in the slot just behind the hand when it is free, which it
// is after the eviction that made room for the entry, so the hand reaches it
// last; otherwise at the end of the ring. Removal leaves a hole (nil) so that
// the order of the others stays; the ring is compacted when holes make up half
// of it, so a sweep never passes more holes than entries.

// clockMinCompact is the fewest holes that make compaction worthwhile.
const clockMinCompact = 32

// clockMaxClears bounds the reference bits one victim search clears: past it
// the hand takes the next entry whatever its bit, so that a Set that evicts
// never sweeps a whole shard whose entries were all used (one cache miss per
// entry) while holding the shard's lock.
const clockMaxClears = 256

// clockInsert adds e, unreferenced, to the ring.
func (sh *shard) clockInsert(e *entry) {
	e.ref = false
	if n := len(sh.clock); n > 0 {
		behind := sh.hand - 1
		if behind < 0 || behind >= n {
			behind = n - 1
		}
		if sh.clock[behind] == nil {
			sh.clock[behind] = e
			e.idx = int32(behind)
			sh.holes--
			return
		}
	}
	e.idx = int32(len(sh.clock))
	sh.clock = append(sh.clock, e)
}

// clockRemove takes e out of the ring.
func (sh *shard) clockRemove(e *entry) {
	sh.clock[e.idx] = nil
	sh.holes++
	for n := len(sh.clock); n > 0 && sh.clock[n-1] == nil; n-- {
		sh.clock = sh.clock[:n-1]
		sh.holes--
	}
	if sh.holes >= clockMinCompact && 2*sh.holes >= len(sh.clock) {
		sh.clockCompact()
	}
}

// clockCompact closes the ring's holes, keeping its order and the hand's place.
func (sh *shard) clockCompact() {
	live := sh.clock[:0]
	hand := -1
	for i, e := range sh.clock {
		if i == sh.hand {
			hand = len(live)
		}
		if e != nil {
			e.idx = int32(len(live))
			live = append(live, e)
		}
	}
	if hand < 0 { // the hand was past the end: it wraps
		hand = 0
	}
	clear(sh.clock[len(live):])
	if cap(live) > 4*len(live)+64 { // give back what a shrunken shard no longer needs
		live = append([]*entry(nil), live...)
	}
	sh.clock, sh.hand, sh.holes = live, hand, 0
}

// clockVictim moves the hand to the first entry other than keep that was not
// used since the hand last passed it, clearing the reference bits on the way
// (at most clockMaxClears, then it takes the next entry), and returns it; nil
// when the ring holds nothing but keep. Two sweeps at most: the first clears
// every bit.
func (sh *shard) clockVictim(keep *entry) *entry {
	clears := 0
	for range 2*len(sh.clock) + 1 {
		if sh.hand >= len(sh.clock) {
			sh.hand = 0
			if len(sh.clock) == 0 {
				return nil
			}
		}
		e := sh.clock[sh.hand]
		sh.hand++
		switch {
		case e == nil || e == keep:
		case e.ref && clears < clockMaxClears:
			e.ref = false
			clears++
		default:
			return e
		}
	}
	return nil
}
