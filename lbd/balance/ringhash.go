package balance

import (
	"cmp"
	"math/bits"
	"slices"
)

// ringHash is a consistent-hash ring with bounded loads. Backend i (sorted by
// name) gets RingSize × weight points, the SplitMix64 sequence seeded by
// HashKey(name), so its points depend on nothing else and a change of the set
// moves only the keys of the backends added or removed. A key belongs to the
// backend of the first point at or after it, wrapping. Pick walks clockwise
// past backends that skip rejects or that are over their load bound.
type ringHash struct {
	backends []*Backend // sorted by name
	points   []uint64   // sorted
	owners   []int32    // owners[k] indexes backends for points[k]
	// slots[s] is the index of the first point at or after s<<shift, with
	// slots[len-1] = len(points): a lookup scans the one or two points of its
	// slot instead of binary-searching the ring.
	slots []int32
	shift uint
	// bound[i] is c·w_i/W: backend i takes a request while its in-flight
	// count is below bound[i]·(T+1), T the total in flight.
	bound []float64
}

func newRingHash(bs []*Backend, perWeight int, c float64) *ringHash {
	weights := make([]int64, len(bs))
	var total int64
	for i, b := range bs {
		weights[i] = b.weight.Load()
		total += weights[i]
	}
	// Past maxRingPoints, scale every backend's points down alike.
	scale := float64(perWeight)
	if float64(total)*scale > maxRingPoints {
		scale = maxRingPoints / float64(total)
	}
	type point struct {
		hash  uint64
		owner int32
	}
	var count int
	for _, w := range weights {
		count += max(1, int(float64(w)*scale))
	}
	pts := make([]point, 0, count)
	p := &ringHash{backends: bs, bound: make([]float64, len(bs))}
	for i, b := range bs {
		p.bound[i] = c * float64(weights[i]) / float64(total)
		n := max(1, int(float64(weights[i])*scale))
		h := HashKey([]byte(b.Name))
		for range n {
			h += golden
			pts = append(pts, point{mix64(h), int32(i)})
		}
	}
	// Equal hashes (vanishingly rare) keep both points, the smaller name first.
	slices.SortFunc(pts, func(a, b point) int {
		return cmp.Or(cmp.Compare(a.hash, b.hash), cmp.Compare(a.owner, b.owner))
	})
	p.points = make([]uint64, len(pts))
	p.owners = make([]int32, len(pts))
	for k, pt := range pts {
		p.points[k], p.owners[k] = pt.hash, pt.owner
	}
	slotBits := max(1, bits.Len(uint(len(pts)))-1)
	p.shift = uint(64 - slotBits)
	p.slots = make([]int32, 1<<slotBits+1)
	k := 0
	for s := range 1 << slotBits {
		for k < len(p.points) && p.points[k] < uint64(s)<<p.shift {
			k++
		}
		p.slots[s] = int32(k)
	}
	p.slots[1<<slotBits] = int32(len(p.points))
	return p
}

func (p *ringHash) Pick(key uint64, skip func(*Backend) bool) *Backend {
	s := key >> p.shift
	k, end := int(p.slots[s]), int(p.slots[s+1])
	for k < end && p.points[k] < key {
		k++
	}
	if k == len(p.points) {
		k = 0
	}
	var small [smallMarks]uint64
	seen, rejected := markBits(&small, len(p.backends)), 0
	total := int64(-1) // in flight over all backends, summed when first needed
	var fallback *Backend
	for range p.points {
		o := p.owners[k]
		if k++; k == len(p.points) {
			k = 0
		}
		if marked(seen, o) {
			continue
		}
		b := p.backends[o]
		if skip == nil || !skip(b) {
			in := b.inflight.Load()
			if in == 0 {
				return b // under any bound: c ≥ 1 makes every bound at least 1
			}
			if total < 0 {
				total = 0
				for _, x := range p.backends {
					total += x.inflight.Load()
				}
			}
			if float64(in) < p.bound[o]*float64(total+1) { // in < ceil(bound·(T+1))
				return b
			}
			if fallback == nil {
				fallback = b
			}
		}
		mark(seen, o)
		if rejected++; rejected == len(p.backends) {
			break
		}
	}
	// Every backend skip accepts is over its bound (the counts moved while we
	// looked): the key's own backend among them takes it.
	return fallback
}

// smallMarks is the size of the on-stack bitmap in which a walk marks the
// backends it has rejected, so that it stops once all are: 1024 backends.
// Past that, the bitmap is allocated.
const smallMarks = 16

// markBits returns a bitmap for n backends, small's if it is big enough.
func markBits(small *[smallMarks]uint64, n int) []uint64 {
	if n <= 64*smallMarks {
		return small[:]
	}
	return make([]uint64, (n+63)/64)
}

func marked(m []uint64, i int32) bool { return m[i>>6]&(1<<(i&63)) != 0 }

func mark(m []uint64, i int32) { m[i>>6] |= 1 << (i & 63) }
