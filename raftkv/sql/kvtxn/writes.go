package kvtxn

import (
	"bytes"
	"slices"
	"sort"
)

// pointWrite is a buffered put (del false) or delete of one key.
type pointWrite struct {
	key, value []byte
	del        bool
}

// writeBuffer holds a transaction's writes until Commit: point writes sorted
// by key, and deleted ranges (tombs) sorted, disjoint and not touching.
//
// Invariants: a later write wins, so a DeleteRange drops the point writes it
// covers; no point delete lies inside a tomb (it would be redundant). A put
// inside a tomb costs an extra op at commit: the tomb is sent as range
// deletes with a hole at the put's key (raftkv refuses a txn that puts a key
// one of its deletes covers).
type writeBuffer struct {
	points []pointWrite
	tombs  []span
	ops    int // raftkv ops the buffer commits as: points + tombs + puts inside tombs
	bytes  int // key and value bytes of those ops
}

// find returns the index of key in points and whether it is there.
func (w *writeBuffer) find(key []byte) (int, bool) {
	return slices.BinarySearchFunc(w.points, key, func(p pointWrite, k []byte) int { return bytes.Compare(p.key, k) })
}

// inTomb reports whether key is inside a deleted range.
func (w *writeBuffer) inTomb(key []byte) bool {
	i := sort.Search(len(w.tombs), func(i int) bool { return !w.tombs[i].endsBefore(key) })
	return i < len(w.tombs) && w.tombs[i].contains(key)
}

// holeCost is what a put inside a tomb adds: one op, and the keys of the
// range pieces around it.
func holeCost(key []byte) int { return 2*len(key) + 1 }

// lookup returns the buffered state of key: buffered says whether the buffer
// decides it; then found and value are the key's state as the transaction
// sees it.
func (w *writeBuffer) lookup(key []byte) (value []byte, found, buffered bool) {
	if i, ok := w.find(key); ok {
		p := w.points[i]
		return p.value, !p.del, true
	}
	if w.inTomb(key) {
		return nil, false, true
	}
	return nil, false, false
}

// putCost returns the change in ops and bytes that put(key, value) makes.
func (w *writeBuffer) putCost(key, value []byte) (ops, size int) {
	if i, ok := w.find(key); ok {
		return 0, len(value) - len(w.points[i].value)
	}
	ops, size = 1, len(key)+len(value)
	if w.inTomb(key) {
		ops, size = ops+1, size+holeCost(key)
	}
	return ops, size
}

func (w *writeBuffer) put(key, value []byte) {
	dOps, dBytes := w.putCost(key, value)
	w.ops += dOps
	w.bytes += dBytes
	pw := pointWrite{key: bytes.Clone(key), value: bytes.Clone(value)}
	if pw.value == nil {
		pw.value = []byte{}
	}
	if i, ok := w.find(key); ok {
		w.points[i] = pw
	} else {
		w.points = slices.Insert(w.points, i, pw)
	}
}

// deleteCost returns the change in ops and bytes that del(key) makes.
func (w *writeBuffer) deleteCost(key []byte) (ops, size int) {
	i, ok := w.find(key)
	if w.inTomb(key) {
		if ok { // a put inside the tomb: drop it and its hole
			return -2, -(len(key) + len(w.points[i].value) + holeCost(key))
		}
		return 0, 0
	}
	if ok {
		return 0, -len(w.points[i].value)
	}
	return 1, len(key)
}

func (w *writeBuffer) del(key []byte) {
	dOps, dBytes := w.deleteCost(key)
	w.ops += dOps
	w.bytes += dBytes
	i, ok := w.find(key)
	switch {
	case w.inTomb(key):
		if ok {
			w.points = slices.Delete(w.points, i, i+1)
		}
	case ok:
		w.points[i] = pointWrite{key: w.points[i].key, del: true}
	default:
		w.points = slices.Insert(w.points, i, pointWrite{key: bytes.Clone(key), del: true})
	}
}

// deleteRangePlan is what deleteRange(s) changes, computed before changing it.
type deleteRangePlan struct {
	pointsLo, pointsHi int  // the point writes s covers
	tombsLo, tombsHi   int  // the tombs s overlaps or touches
	merged             span // the tomb replacing them
	ops, bytes         int  // the change in w.ops and w.bytes
}

func (w *writeBuffer) planDeleteRange(s span) deleteRangePlan {
	var p deleteRangePlan
	p.pointsLo, _ = w.find(s.start)
	p.pointsHi = len(w.points)
	if s.end != nil {
		p.pointsHi, _ = w.find(s.end)
	}
	for _, pw := range w.points[p.pointsLo:p.pointsHi] {
		p.ops--
		p.bytes -= len(pw.key) + len(pw.value)
		if !pw.del && w.inTomb(pw.key) {
			p.ops--
			p.bytes -= holeCost(pw.key)
		}
	}
	p.tombsLo = sort.Search(len(w.tombs), func(i int) bool { return !w.tombs[i].endsBefore(s.start) })
	p.tombsHi = p.tombsLo
	p.merged = span{start: bytes.Clone(s.start), end: bytes.Clone(s.end)}
	for p.tombsHi < len(w.tombs) && (p.merged.end == nil || bytes.Compare(w.tombs[p.tombsHi].start, p.merged.end) <= 0) {
		o := w.tombs[p.tombsHi]
		if bytes.Compare(o.start, p.merged.start) < 0 {
			p.merged.start = o.start
		}
		p.merged.end = maxEnd(p.merged.end, o.end)
		p.ops--
		p.bytes -= o.size()
		p.tombsHi++
	}
	p.ops++
	p.bytes += p.merged.size()
	return p
}

func (w *writeBuffer) deleteRange(p deleteRangePlan) {
	w.points = slices.Delete(w.points, p.pointsLo, p.pointsHi)
	w.tombs = slices.Replace(w.tombs, p.tombsLo, p.tombsHi, p.merged)
	w.ops += p.ops
	w.bytes += p.bytes
}

// empty reports whether nothing is buffered.
func (w *writeBuffer) empty() bool { return len(w.points) == 0 && len(w.tombs) == 0 }

// view returns a copy of the buffer's state inside s, for a Scan: the point
// writes in s and the tombs overlapping s. Later writes do not change it.
func (w *writeBuffer) view(s span) ([]pointWrite, []span) {
	lo, _ := w.find(s.start)
	hi := len(w.points)
	if s.end != nil {
		hi, _ = w.find(s.end)
	}
	points := slices.Clone(w.points[lo:hi])
	var tombs []span
	for _, t := range w.tombs {
		if (s.end == nil || bytes.Compare(t.start, s.end) < 0) && (t.end == nil || bytes.Compare(t.end, s.start) > 0) {
			tombs = append(tombs, t)
		}
	}
	return points, tombs
}

// pieces returns the parts of tomb t left after removing the holes, which
// are sorted by start and disjoint.
func pieces(t span, holes []span) []span {
	var out []span
	cur := t.start
	for _, h := range holes {
		if t.end != nil && bytes.Compare(h.start, t.end) >= 0 {
			break
		}
		if h.end != nil && bytes.Compare(h.end, cur) <= 0 {
			continue
		}
		if bytes.Compare(h.start, cur) > 0 {
			out = append(out, span{start: cur, end: h.start})
		}
		if h.end == nil {
			return out
		}
		if bytes.Compare(h.end, cur) > 0 {
			cur = h.end
		}
	}
	if t.end == nil || bytes.Compare(cur, t.end) < 0 {
		out = append(out, span{start: cur, end: t.end})
	}
	return out
}
