package store

import "math/bits"

// table is a shard's index from key to entry: an open-addressing hash table
// with linear probing over slots that hold each entry's hash next to its
// pointer, so a probe passes over other keys without touching their entries
// and compares keys only on a full 64-bit hash match.
//
// Callers pass the key's hashKey; the shard was chosen by its low bits, the
// table uses its high bits (see home). Removal shifts the rest of the probe
// cluster back instead of leaving tombstones, so a steady stream of inserts
// and removes (a full store's Set path) does not lengthen probes. The table
// doubles when an insert would make it more than 3/4 full and halves when a
// remove leaves it less than 1/8 full, so its size follows the item count.
//
// A table is not safe for concurrent use; shard.mu guards it.
type table struct {
	slots []slot // len is a power of two ≥ minSlots; never full
	n     int    // occupied slots
	shift uint   // 64 - log2(len(slots))
}

// slot is a table position; e == nil marks it empty.
type slot struct {
	hash uint64
	e    *entry
}

// minSlots is the smallest table size: an empty table's slots take 128 bytes.
const minSlots = 8

// reset makes t empty, at its smallest size.
func (t *table) reset() {
	*t = table{}
	t.resize(minSlots)
}

// len returns the number of entries in t.
func (t *table) len() int { return t.n }

// home is the slot where the probe for hash starts: its top log2(len(slots))
// bits. Only the top 32 bits are used (tables stay below 2^32 slots), which
// is what entry.hashHi keeps.
func (t *table) home(hash uint64) int { return int(hash >> t.shift) }

// get returns the entry for key, whose hashKey is hash, or nil.
func (t *table) get(hash uint64, key string) *entry {
	mask := len(t.slots) - 1
	for i := t.home(hash); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.e == nil {
			return nil
		}
		if s.hash == hash && s.e.key == key {
			return s.e
		}
	}
}

// insert adds e, whose key has hashKey hash and is not in t. It records the
// hash's top half in e.hashHi for remove.
func (t *table) insert(hash uint64, e *entry) {
	if (t.n+1)*4 > len(t.slots)*3 {
		t.resize(2 * len(t.slots))
	}
	e.hashHi = uint32(hash >> 32)
	t.place(hash, e)
	t.n++
}

// place stores e in the first empty slot from hash's home.
func (t *table) place(hash uint64, e *entry) {
	mask := len(t.slots) - 1
	i := t.home(hash)
	for t.slots[i].e != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = slot{hash, e}
}

// remove deletes e, which must be in t. It finds e's slot by pointer from
// e.hashHi, without reading e.key.
func (t *table) remove(e *entry) {
	mask := len(t.slots) - 1
	i := t.home(uint64(e.hashHi) << 32)
	for t.slots[i].e != e {
		i = (i + 1) & mask
	}
	// Backward shift: slot i is a hole. Move into it the next entry of the
	// cluster whose home is not after the hole (cyclically), which makes
	// that entry's slot the hole, until the cluster ends; entries whose
	// home lies between the hole and themselves stay.
	for j := (i + 1) & mask; t.slots[j].e != nil; j = (j + 1) & mask {
		if (j-t.home(t.slots[j].hash))&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = slot{}
	t.n--
	if len(t.slots) > minSlots && t.n*8 < len(t.slots) {
		t.resize(len(t.slots) / 2)
	}
}

// resize rehashes t into size slots, a power of two larger than t.n*4/3.
func (t *table) resize(size int) {
	old := t.slots
	t.slots = make([]slot, size)
	t.shift = uint(64 - bits.TrailingZeros(uint(size)))
	for _, s := range old {
		if s.e != nil {
			t.place(s.hash, s.e)
		}
	}
}

// all yields every entry of t once, in no particular order. t must not be
// changed until the iteration ends.
func (t *table) all(yield func(*entry) bool) {
	for _, s := range t.slots {
		if s.e != nil && !yield(s.e) {
			return
		}
	}
}
