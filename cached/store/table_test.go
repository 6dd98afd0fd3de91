package store

import (
	"fmt"
	"math/bits"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkTable verifies t's structural invariants: size and load bounds, the
// count, each entry's hashHi, and that every entry is reachable, that is, no
// empty slot lies between its home and its slot.
func checkTable(tb testing.TB, t *table) {
	tb.Helper()
	size := len(t.slots)
	require.GreaterOrEqual(tb, size, minSlots)
	require.Equal(tb, 1, bits.OnesCount(uint(size)), "size %d is not a power of two", size)
	require.Equal(tb, uint(64-bits.TrailingZeros(uint(size))), t.shift)
	require.LessOrEqual(tb, t.n*4, size*3, "more than 3/4 full")
	require.True(tb, size == minSlots || t.n*8 >= size, "%d entries in %d slots: not shrunk", t.n, size)

	// Start just after an empty slot (there always is one) so that run, the
	// number of occupied slots ending at i, is exact all the way round.
	start := 0
	for t.slots[start].e != nil {
		start++
	}
	n, run := 0, 0
	for k := 1; k <= size; k++ {
		i := (start + k) & (size - 1)
		s := t.slots[i]
		if s.e == nil {
			run = 0
			continue
		}
		n++
		run++
		if s.e.hashHi != uint32(s.hash>>32) {
			tb.Fatalf("slot %d: hashHi %#x of hash %#x", i, s.e.hashHi, s.hash)
		}
		if (i-t.home(s.hash))&(size-1) >= run {
			tb.Fatalf("slot %d: an empty slot lies between it and its home %d", i, t.home(s.hash))
		}
	}
	require.Equal(tb, n, t.n)
}

// TestTableRandom runs random inserts, replacements, removes and lookups
// against a Go map, filling and draining the table so that it grows and
// shrinks, with hash functions that collide more and more.
func TestTableRandom(t *testing.T) {
	seed := seedFor(t)
	hashers := []struct {
		name string
		keys int // key space; small for hashes that make long probes
		hash func(string) uint64
	}{
		{"hashKey", 4000, func(k string) uint64 { return hashKey(seed, k) }},
		// Every home in the upper half: clusters run past the end of the
		// array and wrap around to slot 0.
		{"upper half", 1000, func(k string) uint64 { return hashKey(seed, k) | 1<<63 }},
		// Five hashes in all: most matches are decided by the key.
		{"five hashes", 200, func(k string) uint64 { return hashKey(seed, k) % 5 * 0x3333_3333_3333_3333 }},
	}
	for _, hc := range hashers {
		t.Run(hc.name, func(t *testing.T) {
			r := newRand(seed)
			var tab table
			tab.reset()
			model := make(map[string]*entry)
			key := func() string { return fmt.Sprintf("k%d", r.IntN(hc.keys)) }
			filled := 0 // table size after the last fill phase
			for phase := range 6 {
				fill := phase%2 == 0 // fill towards all keys, then drain towards none
				for op := 0; op < 4*hc.keys; op++ {
					k := key()
					h := hc.hash(k)
					old := model[k]
					switch {
					case old == nil && fill:
						e := &entry{key: k}
						tab.insert(h, e)
						model[k] = e
					case old != nil && (!fill || r.IntN(8) == 0):
						tab.remove(old)
						delete(model, k)
					case old != nil && r.IntN(4) == 0: // replace with a new entry
						tab.remove(old)
						e := &entry{key: k}
						tab.insert(h, e)
						model[k] = e
					}
					require.Same(t, model[k], tab.get(h, k), "key %s", k)
					probe := key()
					require.Same(t, model[probe], tab.get(hc.hash(probe), probe), "key %s", probe)
					require.Equal(t, len(model), tab.len())
					if op%64 == 0 {
						checkTable(t, &tab)
					}
				}
				checkTable(t, &tab)
				if fill {
					filled = len(tab.slots)
				} else {
					require.LessOrEqual(t, len(tab.slots), filled/4, "not shrunk after draining")
				}
				seen := make(map[string]int)
				for e := range tab.all {
					require.Same(t, model[e.key], e)
					seen[e.key]++
				}
				require.Len(t, seen, len(model))
				for k, n := range seen {
					require.Equal(t, 1, n, "key %s visited %d times", k, n)
				}
			}
		})
	}
}

// TestTableRemoveShift checks the slot layout after a backward-shift removal
// in an 8-slot table, where a hash's home is its top 3 bits.
func TestTableRemoveShift(t *testing.T) {
	type ins struct {
		key  string
		home int
	}
	tests := []struct {
		name   string
		insert []ins // in order
		remove string
		want   map[int]string // slot -> key; other slots empty
	}{
		// A6 B7 C0 D1: C and D each move back one slot, C across the end.
		{"shift across the end", []ins{{"a", 6}, {"b", 7}, {"c", 7}, {"d", 6}}, "b",
			map[int]string{6: "a", 7: "c", 0: "d"}},
		// A7 B0 C1: B is at its home and stays; C moves past it into 7.
		{"skip entry at home", []ins{{"a", 7}, {"b", 0}, {"c", 7}}, "a",
			map[int]string{7: "c", 0: "b"}},
		// A6 B7 C0 D1: B and C stay; D moves back across the end into 6.
		{"move over stayers", []ins{{"a", 6}, {"b", 7}, {"c", 0}, {"d", 6}}, "a",
			map[int]string{6: "d", 7: "b", 0: "c"}},
		{"last of cluster", []ins{{"a", 6}, {"b", 6}}, "b",
			map[int]string{6: "a"}},
		{"only entry", []ins{{"a", 3}}, "a",
			map[int]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tab table
			tab.reset()
			byKey := make(map[string]*entry)
			for i, in := range tt.insert {
				e := &entry{key: in.key}
				tab.insert(uint64(in.home)<<61|uint64(i), e)
				byKey[in.key] = e
			}
			require.Len(t, tab.slots, 8)
			tab.remove(byKey[tt.remove])
			for i, s := range tab.slots {
				if k, ok := tt.want[i]; ok {
					require.Same(t, byKey[k], s.e, "slot %d", i)
				} else {
					require.Nil(t, s.e, "slot %d", i)
				}
			}
			checkTable(t, &tab)
		})
	}
}

// TestTableSize checks that the table grows to hold its entries at most 3/4
// full and shrinks back to minSlots as they are removed.
func TestTableSize(t *testing.T) {
	var tab table
	tab.reset()
	const n = 10000
	es := make([]*entry, n)
	for i := range es {
		es[i] = &entry{key: fmt.Sprint(i)}
		tab.insert(hashKey(1, es[i].key), es[i])
	}
	require.Len(t, tab.slots, 16384) // 8192*3/4 < 10000 <= 16384*3/4
	for _, e := range es[:n-5] {
		tab.remove(e)
	}
	require.Len(t, tab.slots, 32) // halved while less than 1/8 full
	checkTable(t, &tab)
	for _, e := range es[n-5:] {
		require.Same(t, e, tab.get(hashKey(1, e.key), e.key))
		tab.remove(e)
	}
	require.Zero(t, tab.len())
	require.Len(t, tab.slots, minSlots)
}

func TestTableAllStops(t *testing.T) {
	var tab table
	tab.reset()
	for i := range 10 {
		k := fmt.Sprint(i)
		tab.insert(hashKey(1, k), &entry{key: k})
	}
	n := 0
	for range tab.all {
		n++
		if n == 3 {
			break
		}
	}
	require.Equal(t, 3, n)
}
