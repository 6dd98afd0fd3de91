package query

import (
	"bytes"
	"math"
	"sort"

	"cairn.dev/cairn/searchd/index"
)

// rangeWeight matches a range. A segment with doc values for the field
// checks each candidate's values (cheap inside a conjunction led by a more
// selective clause, and no worse than walking the terms when alone, as
// Lucene's IndexOrDocValuesQuery); otherwise the matching terms' postings
// are unioned into a bitset.
func (ex *execCtx) rangeWeight(n *rangeNode) weight {
	terms := ex.bitsetWeight(n.boost, func(seg index.Segment, bs *bitsetIter) {
		td := seg.Terms(n.field)
		if td == nil {
			return
		}
		start := n.lo
		if start != nil && !n.loIncl {
			start = append(append([]byte(nil), start...), 0)
		}
		var end []byte
		if n.hi != nil {
			end = n.hi
			if n.hiIncl {
				end = append(append([]byte(nil), n.hi...), 0)
			}
		}
		if start != nil && end != nil && bytes.Compare(start, end) >= 0 {
			return
		}
		it := td.Iterate(nil, start, end)
		for it.Next() {
			bs.addPostings(td.Postings(it.Info(), false))
		}
	})
	return func(seg index.Segment) scorer {
		if it := newDVRange(n, seg); it != nil {
			return constant(it, n.boost)
		}
		return terms(seg)
	}
}

// dvRange iterates the documents whose doc values fall in a range.
type dvRange struct {
	max   int
	doc   int
	match func(doc uint32) bool
}

// newDVRange returns a doc-values iterator for n in seg, nil when the
// segment has no doc values for the field.
func newDVRange(n *rangeNode, seg index.Segment) *dvRange {
	r := &dvRange{max: int(seg.MaxDoc()), doc: -1}
	switch n.kind {
	case rangeInt:
		dv := seg.Ints(n.field)
		if dv == nil {
			return nil
		}
		lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
		if n.lo != nil {
			lo = index.DecodeInt(n.lo)
			if !n.loIncl {
				if lo == math.MaxInt64 {
					return r.none()
				}
				lo++
			}
		}
		if n.hi != nil {
			hi = index.DecodeInt(n.hi)
			if !n.hiIncl {
				if hi == math.MinInt64 {
					return r.none()
				}
				hi--
			}
		}
		var buf []int64
		r.match = func(d uint32) bool {
			buf = dv.Values(d, buf[:0])
			for _, v := range buf {
				if v >= lo && v <= hi {
					return true
				}
			}
			return false
		}
	case rangeFloat:
		dv := seg.Floats(n.field)
		if dv == nil {
			return nil
		}
		var buf []float64
		r.match = func(d uint32) bool {
			buf = dv.Values(d, buf[:0])
			for _, v := range buf {
				if n.lo != nil {
					lo := index.DecodeFloat(n.lo)
					if v < lo || (v == lo && !n.loIncl) {
						continue
					}
				}
				if n.hi != nil {
					hi := index.DecodeFloat(n.hi)
					if v > hi || (v == hi && !n.hiIncl) {
						continue
					}
				}
				return true
			}
			return false
		}
	case rangeKeyword:
		dv := seg.Keywords(n.field)
		if dv == nil {
			return nil
		}
		cnt := int(dv.Count())
		loOrd := 0
		if n.lo != nil {
			loOrd = sort.Search(cnt, func(i int) bool {
				c := bytes.Compare(dv.Lookup(uint32(i)), n.lo)
				return c > 0 || (c == 0 && n.loIncl)
			})
		}
		hiOrd := cnt
		if n.hi != nil {
			hiOrd = sort.Search(cnt, func(i int) bool {
				c := bytes.Compare(dv.Lookup(uint32(i)), n.hi)
				return c > 0 || (c == 0 && !n.hiIncl)
			})
		}
		if loOrd >= hiOrd {
			return r.none()
		}
		var buf []uint32
		r.match = func(d uint32) bool {
			buf = dv.Ords(d, buf[:0])
			for _, o := range buf {
				if int(o) >= loOrd && int(o) < hiOrd {
					return true
				}
			}
			return false
		}
	}
	return r
}

func (r *dvRange) none() *dvRange {
	r.match = func(uint32) bool { return false }
	r.max = 0
	return r
}

func (r *dvRange) docID() int   { return r.doc }
func (r *dvRange) nextDoc() int { return r.advance(r.doc + 1) }
func (r *dvRange) advance(t int) int {
	if r.doc >= t {
		return r.doc
	}
	for d := t; d < r.max; d++ {
		if r.match(uint32(d)) {
			r.doc = d
			return d
		}
	}
	r.doc = noMore
	return noMore
}
func (r *dvRange) score() float64    { return 0 }
func (r *dvRange) maxScore() float64 { return 0 }
func (r *dvRange) cost() int64       { return int64(r.max) }

// existsWeight matches documents with a value in the field: from the
// field's norms (text) or doc values when the segment has them, else by
// unioning the postings of all its terms.
func (ex *execCtx) existsWeight(n *existsNode) weight {
	return ex.bitsetWeight(n.boost, func(seg index.Segment, bs *bitsetIter) {
		if ns, ok := seg.(index.NormsSegment); ok {
			if norms := ns.Norms(n.field); norms != nil {
				for d, b := range norms {
					if b != 0 {
						bs.set(d)
					}
				}
				return
			}
		}
		maxDoc := seg.MaxDoc()
		if dv := seg.Ints(n.field); dv != nil {
			var buf []int64
			for d := uint32(0); d < maxDoc; d++ {
				if buf = dv.Values(d, buf[:0]); len(buf) > 0 {
					bs.set(int(d))
				}
			}
			return
		}
		if dv := seg.Floats(n.field); dv != nil {
			var buf []float64
			for d := uint32(0); d < maxDoc; d++ {
				if buf = dv.Values(d, buf[:0]); len(buf) > 0 {
					bs.set(int(d))
				}
			}
			return
		}
		if dv := seg.Keywords(n.field); dv != nil {
			var buf []uint32
			for d := uint32(0); d < maxDoc; d++ {
				if buf = dv.Ords(d, buf[:0]); len(buf) > 0 {
					bs.set(int(d))
				}
			}
			return
		}
		td := seg.Terms(n.field)
		if td == nil {
			return
		}
		it := td.Iterate(nil, nil, nil)
		for it.Next() {
			bs.addPostings(td.Postings(it.Info(), false))
		}
	})
}
