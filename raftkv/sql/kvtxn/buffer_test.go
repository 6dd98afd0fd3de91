package kvtxn

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func sp(start, end string) span {
	s := span{start: []byte(start)}
	if end != "" {
		s.end = []byte(end)
	}
	return s
}

func spanStrings(spans []span) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		if s.end == nil {
			out[i] = fmt.Sprintf("[%q,∞)", s.start)
		} else {
			out[i] = fmt.Sprintf("[%q,%q)", s.start, s.end)
		}
	}
	return out
}

func TestSpanSetMerges(t *testing.T) {
	for _, tc := range []struct {
		name string
		add  []span
		want []span
	}{
		{"disjoint sorted", []span{sp("c", "d"), sp("a", "b")}, []span{sp("a", "b"), sp("c", "d")}},
		{"touching merge", []span{sp("a", "b"), sp("b", "c")}, []span{sp("a", "c")}},
		{"overlap merge", []span{sp("a", "c"), sp("b", "d")}, []span{sp("a", "d")}},
		{"contained", []span{sp("a", "z"), sp("m", "n")}, []span{sp("a", "z")}},
		{"bridges several", []span{sp("a", "b"), sp("c", "d"), sp("e", "f"), sp("b", "e")}, []span{sp("a", "f")}},
		{"unbounded swallows", []span{sp("c", "d"), sp("x", "y"), sp("b", "")}, []span{sp("b", "")}},
		{"unbounded extends", []span{sp("a", "c"), sp("b", "")}, []span{sp("a", "")}},
		{"points dedupe", []span{pointSpan([]byte("k")), pointSpan([]byte("k"))}, []span{pointSpan([]byte("k"))}},
		{"point inside range", []span{sp("a", "z"), pointSpan([]byte("k"))}, []span{sp("a", "z")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := spanSet{maxSpans: 100, maxBytes: 1 << 20}
			for _, s := range tc.add {
				ss.add(s)
			}
			require.Equal(t, spanStrings(tc.want), spanStrings(ss.spans))
			size := 0
			for _, s := range ss.spans {
				size += s.size()
			}
			require.Equal(t, size, ss.bytes)
		})
	}
}

// TestSpanSetCollapseKeepsCoverage: past the bounds, spans collapse, and every
// key that was covered stays covered.
func TestSpanSetCollapseKeepsCoverage(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	ss := spanSet{maxSpans: 8, maxBytes: 200}
	var added [][]byte
	for range 300 {
		k := fmt.Appendf(nil, "t/%04d", r.IntN(5000))
		if r.IntN(3) == 0 {
			end := fmt.Appendf(nil, "t/%04d", r.IntN(5000))
			if bytes.Compare(k, end) < 0 {
				ss.add(span{start: k, end: end})
				added = append(added, k)
				continue
			}
		}
		ss.add(pointSpan(k))
		added = append(added, k)
	}
	require.LessOrEqual(t, len(ss.spans), 8)
	require.LessOrEqual(t, ss.bytes, 200)
	for _, k := range added {
		require.True(t, ss.covers(k), "%q lost", k)
	}
	for i := 1; i < len(ss.spans); i++ {
		require.Negative(t, bytes.Compare(ss.spans[i-1].end, ss.spans[i].start), "sorted, disjoint, not touching")
	}
}

func TestSpanSetCollapsesClosestNeighbours(t *testing.T) {
	ss := spanSet{maxSpans: 2, maxBytes: 1 << 20}
	ss.add(pointSpan([]byte("a/1")))
	ss.add(pointSpan([]byte("z/1")))
	ss.add(pointSpan([]byte("z/2")))
	require.Equal(t, spanStrings([]span{pointSpan([]byte("a/1")), sp("z/1", "z/2\x00")}), spanStrings(ss.spans))
}

func TestPieces(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tomb  span
		holes []span
		want  []span
	}{
		{"no holes", sp("a", "z"), nil, []span{sp("a", "z")}},
		{"one point", sp("a", "z"), []span{pointSpan([]byte("m"))}, []span{sp("a", "m"), sp("m\x00", "z")}},
		{"at the start", sp("a", "z"), []span{pointSpan([]byte("a"))}, []span{sp("a\x00", "z")}},
		{"adjacent points", sp("a", "z"), []span{pointSpan([]byte("b")), pointSpan([]byte("b\x00"))}, []span{sp("a", "b"), sp("b\x00\x00", "z")}},
		{"hole outside", sp("c", "f"), []span{sp("a", "b"), sp("x", "y")}, []span{sp("c", "f")}},
		{"hole across the start", sp("c", "f"), []span{sp("a", "d")}, []span{sp("d", "f")}},
		{"hole covers all", sp("c", "f"), []span{sp("a", "z")}, nil},
		{"unbounded tomb", sp("a", ""), []span{sp("m", "n")}, []span{sp("a", "m"), sp("n", "")}},
		{"unbounded hole", sp("a", ""), []span{sp("m", "")}, []span{sp("a", "m")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, spanStrings(tc.want), spanStrings(pieces(tc.tomb, tc.holes)))
		})
	}
}

// model is the obvious map a writeBuffer must agree with.
type model map[string]*string

func (m model) state(k string) (string, bool, bool) {
	v, ok := m[k]
	if !ok {
		return "", false, false
	}
	if v == nil {
		return "", false, true
	}
	return *v, true, true
}

// TestWriteBufferModel applies random puts, deletes and range deletes to a
// writeBuffer and a model and checks lookups, the ops count and the byte
// count against a recomputation.
func TestWriteBufferModel(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	key := func() string { return fmt.Sprintf("k%02d", r.IntN(40)) }
	var w writeBuffer
	m := model{}
	for step := range 2000 {
		switch r.IntN(4) {
		case 0, 1:
			k, v := key(), fmt.Sprint(step)
			w.put([]byte(k), []byte(v))
			m[k] = &v
		case 2:
			k := key()
			w.del([]byte(k))
			m[k] = nil
		case 3:
			a, b := key(), key()
			if a >= b {
				a, b = b, ""
			}
			s := sp(a, b)
			w.deleteRange(w.planDeleteRange(s))
			for i := range 40 {
				if k := fmt.Sprintf("k%02d", i); s.contains([]byte(k)) {
					m[k] = nil
				}
			}
		}
		// Lookups agree with the model, where the model knows the key.
		for i := range 40 {
			k := fmt.Sprintf("k%02d", i)
			v, found, buffered := w.lookup([]byte(k))
			mv, mfound, mbuffered := m.state(k)
			require.Equal(t, mbuffered && mfound, found, "step %d key %s", step, k)
			if found {
				require.Equal(t, mv, string(v))
			}
			if mbuffered {
				require.True(t, buffered, "step %d key %s", step, k)
			}
		}
		// The counters match a recomputation.
		ops, size := len(w.points)+len(w.tombs), 0
		for _, p := range w.points {
			size += len(p.key) + len(p.value)
			if w.inTomb(p.key) {
				require.False(t, p.del, "no point delete inside a tomb")
				ops++
				size += holeCost(p.key)
			}
		}
		for _, tb := range w.tombs {
			size += tb.size()
		}
		require.Equal(t, ops, w.ops, "step %d ops", step)
		require.Equal(t, size, w.bytes, "step %d bytes", step)
	}
}
