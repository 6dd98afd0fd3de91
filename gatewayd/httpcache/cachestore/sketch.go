package cachestore

import "math/bits"

// Sketch sizing bounds (counters are per expected object).
const (
	minSketchCapacity = 64
	maxSketchCapacity = 1 << 26
)

// sketch estimates how often ids were accessed: a count-min sketch of depth
// 4 whose 4-bit counters are packed 16 to a word, behind a doorkeeper (a
// Bloom filter that absorbs each id's first access, so one-hit wonders do
// not occupy counters). After sampleSize additions every counter is halved
// and the doorkeeper cleared: popularity ages. Not safe for concurrent use
// (the Store's mutex guards it).
type sketch struct {
	table      []uint64 // 16 counters of 4 bits per word
	tableMask  uint64
	door       []uint64 // doorkeeper bits
	doorMask   uint64   // bit index mask
	additions  int
	sampleSize int
	capacity   int // the object count the sketch is sized for
	resets     int64
}

func newSketch(capacity int) *sketch {
	s := &sketch{}
	s.resize(capacity)
	return s
}

// ensureCapacity grows the sketch when more objects are stored than it was
// sized for. Growth doubles the tables by copying them into both halves: an
// id's slot in the doubled table is its old slot or that plus the old
// size, so every estimate is kept.
func (s *sketch) ensureCapacity(objects int) {
	if objects <= s.capacity || s.capacity >= maxSketchCapacity {
		return
	}
	capacity := min(2*objects, maxSketchCapacity)
	for len(s.table) < capacity {
		s.table = append(s.table, s.table...)
		s.door = append(s.door, s.door...)
	}
	s.tableMask = uint64(len(s.table) - 1)
	s.doorMask = uint64(len(s.table)*16 - 1)
	s.capacity = capacity
	s.sampleSize = 10 * capacity
}

func (s *sketch) resize(capacity int) {
	capacity = min(max(capacity, minSketchCapacity), maxSketchCapacity)
	words := 1 << bits.Len(uint(capacity-1)) // power of two >= capacity
	s.table = make([]uint64, words)
	s.tableMask = uint64(words - 1)
	s.door = make([]uint64, words/4) // 16 bits per expected object
	s.doorMask = uint64(words*16 - 1)
	s.capacity = capacity
	s.sampleSize = 10 * capacity
	s.additions = 0
}

// slots derives the word index and counter shift for depth i.
func (s *sketch) slot(a, b uint64, i int) (word uint64, shift uint) {
	x := a + uint64(i)*b
	return x & s.tableMask, uint(x>>58) & 15 << 2
}

// increment records one access of the id hashed to h.
func (s *sketch) increment(h uint64) {
	s.additions++
	if s.doorAdd(h) {
		a, b := h, mix64(h)|1
		for i := range 4 {
			w, sh := s.slot(a, b, i)
			if (s.table[w]>>sh)&15 < 15 {
				s.table[w] += 1 << sh
			}
		}
	}
	if s.additions >= s.sampleSize {
		s.reset()
	}
}

// estimate returns the estimated access count of the id hashed to h (0..16).
func (s *sketch) estimate(h uint64) int {
	a, b := h, mix64(h)|1
	m := uint64(15)
	for i := range 4 {
		w, sh := s.slot(a, b, i)
		m = min(m, (s.table[w]>>sh)&15)
	}
	if s.doorContains(h) {
		m++
	}
	return int(m)
}

// reset halves every counter and clears the doorkeeper.
func (s *sketch) reset() {
	for i, w := range s.table {
		s.table[i] = (w >> 1) & 0x7777777777777777
	}
	clear(s.door)
	s.additions /= 2
	s.resets++
}

func (s *sketch) doorBits(h uint64) (uint64, uint64, uint64) {
	c := mix64(h ^ 0x5851f42d4c957f2d)
	return c & s.doorMask, (c >> 21) & s.doorMask, (c >> 42) & s.doorMask
}

// doorAdd sets h's bits; it reports whether they were all set already.
func (s *sketch) doorAdd(h uint64) bool {
	present := true
	b1, b2, b3 := s.doorBits(h)
	for _, b := range [3]uint64{b1, b2, b3} {
		if s.door[b>>6]&(1<<(b&63)) == 0 {
			present = false
			s.door[b>>6] |= 1 << (b & 63)
		}
	}
	return present
}

func (s *sketch) doorContains(h uint64) bool {
	b1, b2, b3 := s.doorBits(h)
	for _, b := range [3]uint64{b1, b2, b3} {
		if s.door[b>>6]&(1<<(b&63)) == 0 {
			return false
		}
	}
	return true
}
