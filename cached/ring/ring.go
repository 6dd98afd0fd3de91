package ring

import (
	"cmp"
	"slices"
	"strconv"
)

// DefaultVNodes is the number of points per member when New is given vnodes <= 0.
const DefaultVNodes = 160

// Member is one cache node.
type Member struct {
	ID       string // unique and stable across restarts; placement depends only on it
	Addr     string // gRPC address
	RESPAddr string // Redis protocol address
}

// Ring is an immutable consistent-hash ring. Its methods may be called
// concurrently.
type Ring struct {
	members []Member // sorted by ID, distinct
	points  []uint64 // sorted hash points
	owners  []int32  // owners[i] indexes members for points[i]
	vnodes  int
	// slots[s] indexes members for the owner of hash slot s: the member of
	// the first point at or after s<<slotShift. Empty for an empty ring.
	slots []int32
}

// New builds a ring of members with vnodes points each (DefaultVNodes if
// vnodes <= 0). Members are identified by ID; when an ID repeats, the first
// occurrence wins. The order of members does not matter.
func New(members []Member, vnodes int) *Ring {
	if vnodes <= 0 {
		vnodes = DefaultVNodes
	}
	ms := make([]Member, 0, len(members))
	seen := make(map[string]bool, len(members))
	for _, m := range members {
		if !seen[m.ID] {
			seen[m.ID] = true
			ms = append(ms, m)
		}
	}
	slices.SortFunc(ms, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })

	type point struct {
		hash  uint64
		owner int32
	}
	pts := make([]point, 0, len(ms)*vnodes)
	var buf []byte
	for mi, m := range ms {
		for i := range vnodes {
			buf = append(append(append(buf[:0], m.ID...), '#'), strconv.Itoa(i)...)
			pts = append(pts, point{hashBytes(buf), int32(mi)})
		}
	}
	// Ties (astronomically rare) go to the smaller ID, deterministically.
	slices.SortFunc(pts, func(a, b point) int {
		if c := cmp.Compare(a.hash, b.hash); c != 0 {
			return c
		}
		return cmp.Compare(a.owner, b.owner)
	})
	pts = slices.CompactFunc(pts, func(a, b point) bool { return a.hash == b.hash })

	r := &Ring{members: ms, vnodes: vnodes, points: make([]uint64, len(pts)), owners: make([]int32, len(pts))}
	for i, p := range pts {
		r.points[i], r.owners[i] = p.hash, p.owner
	}
	if len(pts) > 0 {
		r.slots = make([]int32, Slots)
		i := 0 // the first point at or after the slot's position; both ascend
		for s := range r.slots {
			pos := uint64(s) << slotShift
			for i < len(r.points) && r.points[i] < pos {
				i++
			}
			if i == len(r.points) {
				r.slots[s] = r.owners[0] // past the last point: wrap
			} else {
				r.slots[s] = r.owners[i]
			}
		}
	}
	return r
}

// VNodes returns the number of points per member.
func (r *Ring) VNodes() int { return r.vnodes }

// Len returns the number of members.
func (r *Ring) Len() int { return len(r.members) }

// Members returns a copy of the members, sorted by ID.
func (r *Ring) Members() []Member { return slices.Clone(r.members) }

// Member returns the member with the given ID.
func (r *Ring) Member(id string) (Member, bool) {
	i, ok := slices.BinarySearchFunc(r.members, id, func(m Member, id string) int { return cmp.Compare(m.ID, id) })
	if !ok {
		return Member{}, false
	}
	return r.members[i], true
}

// search returns the index of the first point at or after h, wrapping.
func (r *Ring) search(h uint64) int {
	i, _ := slices.BinarySearch(r.points, h)
	if i == len(r.points) {
		i = 0
	}
	return i
}

// Owner returns the member that owns key, the owner of its Slot; false only
// for an empty ring.
func (r *Ring) Owner(key string) (Member, bool) {
	return r.OwnerOfSlot(Slot(key))
}

// OwnerOfSlot returns the member that owns hash slot s, in [0, Slots);
// false for an empty ring or a slot out of range.
func (r *Ring) OwnerOfSlot(s int) (Member, bool) {
	if uint(s) >= uint(len(r.slots)) {
		return Member{}, false
	}
	return r.members[r.slots[s]], true
}

// SlotRanges returns the ring's slots as maximal runs of consecutive slots
// with one owner, in slot order, covering 0 to Slots-1 (nil for an empty
// ring). A member owns about vnodes runs.
func (r *Ring) SlotRanges() []SlotRange {
	var out []SlotRange
	for s := 0; s < len(r.slots); {
		e := s
		for e+1 < len(r.slots) && r.slots[e+1] == r.slots[s] {
			e++
		}
		out = append(out, SlotRange{Start: s, End: e, Owner: r.members[r.slots[s]]})
		s = e + 1
	}
	return out
}

// Owners returns up to n distinct members for key: the owner first, then the
// next distinct members clockwise from its slot's position (the replica set). It returns all members
// if n exceeds their number and nil if n <= 0 or the ring is empty.
func (r *Ring) Owners(key string, n int) []Member {
	return r.AppendOwners(nil, key, n)
}

// AppendOwners is Owners appending to dst, for callers that reuse a slice.
func (r *Ring) AppendOwners(dst []Member, key string, n int) []Member {
	n = min(n, len(r.members))
	if n <= 0 {
		return dst
	}
	var small [8]int32
	picked := small[:0]
	for i, j := r.search(uint64(Slot(key))<<slotShift), 0; len(picked) < n && j < len(r.points); i, j = i+1, j+1 {
		if i == len(r.points) {
			i = 0
		}
		o := r.owners[i]
		if !slices.Contains(picked, o) {
			picked = append(picked, o)
			dst = append(dst, r.members[o])
		}
	}
	return dst
}

// Shares returns the fraction of the slots each member owns, by ID. The
// fractions sum to 1 (an empty ring returns an empty map).
func (r *Ring) Shares() map[string]float64 {
	n := make([]int, len(r.members))
	for _, o := range r.slots {
		n[o]++
	}
	out := make(map[string]float64, len(r.members))
	for i, m := range r.members {
		out[m.ID] = float64(n[i]) / Slots
	}
	return out
}

// Hash is the ring's point hash: FNV-1a 64 over the bytes of key, then the
// SplitMix64 finaliser so that similar keys land far apart. It is stable
// across versions and platforms.
func Hash(key string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint64(key[i])) * fnvPrime
	}
	return finalise(h)
}

func hashBytes(b []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return finalise(h)
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func finalise(h uint64) uint64 {
	h = (h ^ h>>30) * 0xbf58476d1ce4e5b9
	h = (h ^ h>>27) * 0x94d049bb133111eb
	return h ^ h>>31
}
