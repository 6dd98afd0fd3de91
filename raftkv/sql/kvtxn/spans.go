package kvtxn

import (
	"bytes"
	"sort"
)

// span is the key range [start, end); a nil end means no end (every key >=
// start). start is never empty.
type span struct {
	start, end []byte
}

// pointSpan is the span of key alone: [key, key+"\x00").
func pointSpan(key []byte) span {
	s := bytes.Clone(key)
	return span{start: s, end: append(bytes.Clone(key), 0)}
}

// isPoint reports whether s holds exactly one key.
func (s span) isPoint() bool {
	return len(s.end) == len(s.start)+1 && s.end[len(s.start)] == 0 && bytes.HasPrefix(s.end, s.start)
}

func (s span) size() int { return len(s.start) + len(s.end) }

// contains reports whether k is in s.
func (s span) contains(k []byte) bool {
	return bytes.Compare(k, s.start) >= 0 && (s.end == nil || bytes.Compare(k, s.end) < 0)
}

// endsBefore reports whether s ends before key k begins a span, with a gap:
// s and a span starting at k neither overlap nor touch.
func (s span) endsBefore(k []byte) bool {
	return s.end != nil && bytes.Compare(s.end, k) < 0
}

// maxEnd returns the later of two span ends (nil is no end).
func maxEnd(a, b []byte) []byte {
	if a == nil || b == nil {
		return nil
	}
	if bytes.Compare(a, b) >= 0 {
		return a
	}
	return b
}

// spanSet is a set of key ranges kept sorted, disjoint and not touching, with
// a bound on the number of spans and on their total key bytes: past either,
// neighbouring spans are collapsed (the set only grows in coverage).
type spanSet struct {
	spans    []span
	bytes    int // total size of the spans' keys
	maxSpans int
	maxBytes int
}

// add adds s (which is not empty) to the set, merging what it overlaps or
// touches, then collapses neighbours while the set is over its bounds.
func (ss *spanSet) add(s span) {
	// The first span that does not end before s starts.
	i := sort.Search(len(ss.spans), func(i int) bool { return !ss.spans[i].endsBefore(s.start) })
	j := i
	merged := s
	for j < len(ss.spans) && (merged.end == nil || bytes.Compare(ss.spans[j].start, merged.end) <= 0) {
		o := ss.spans[j]
		if bytes.Compare(o.start, merged.start) < 0 {
			merged.start = o.start
		}
		merged.end = maxEnd(merged.end, o.end)
		ss.bytes -= o.size()
		j++
	}
	ss.spans = append(ss.spans[:i], append([]span{merged}, ss.spans[j:]...)...)
	ss.bytes += merged.size()
	for len(ss.spans) > 1 && (len(ss.spans) > ss.maxSpans || ss.bytes > ss.maxBytes) {
		ss.collapse()
	}
}

// collapse merges the two neighbouring spans closest in key space (the
// longest common prefix between one's end and the next one's start) into one
// span covering both and the gap between them.
func (ss *spanSet) collapse() {
	best, bestLen := 0, -1
	for i := 0; i+1 < len(ss.spans); i++ {
		if n := commonPrefix(ss.spans[i].end, ss.spans[i+1].start); n > bestLen {
			best, bestLen = i, n
		}
	}
	a, b := ss.spans[best], ss.spans[best+1]
	m := span{start: a.start, end: b.end}
	ss.bytes += m.size() - a.size() - b.size()
	ss.spans[best] = m
	ss.spans = append(ss.spans[:best+1], ss.spans[best+2:]...)
}

func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// covers reports whether k is in one of the spans.
func (ss *spanSet) covers(k []byte) bool {
	i := sort.Search(len(ss.spans), func(i int) bool { return !ss.spans[i].endsBefore(k) })
	return i < len(ss.spans) && ss.spans[i].contains(k)
}
