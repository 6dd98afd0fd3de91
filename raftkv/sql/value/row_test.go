package value

import (
	"testing"
)

// TestRowRoundTrip encodes random rows of every type (NULLs included) and
// checks that each column decodes to an identical value: same text output
// (so numeric scale and char padding survive) and equal under Compare.
func TestRowRoundTrip(t *testing.T) {
	r := testRand(t)
	for range 300 {
		n := r.Intn(len(genTypes) + 1)
		ids := make([]uint32, n)
		vals := make([]Value, n)
		want := map[uint32]Type{}
		next := uint32(r.Intn(3))
		for i := range n {
			next += 1 + uint32(r.Intn(200))
			ids[i] = next
			typ := genTypes[r.Intn(len(genTypes))]
			if r.Intn(5) == 0 {
				vals[i] = NullOf(typ)
			} else {
				vals[i] = genValue(r, typ)
			}
			want[next] = typ
		}
		// A column the row does not hold reads as NULL.
		want[next+1] = Int4
		b := EncodeRow(nil, ids, vals)
		got, err := DecodeRow(b, want)
		if err != nil {
			t.Fatalf("DecodeRow(%x): %v", b, err)
		}
		if len(got) != len(want) {
			t.Fatalf("got %d columns, want %d", len(got), len(want))
		}
		for i, id := range ids {
			g, w := got[id], vals[i]
			if g.Null != w.Null || g.Type != w.Type || g.String() != w.String() {
				t.Fatalf("column %d: got %v (%s), want %v (%s)", id, g, g.Type, w, w.Type)
			}
			if !w.Null {
				if c, err := Compare(g, w); err != nil || c != 0 {
					t.Fatalf("column %d: %v != %v", id, g, w)
				}
			}
		}
		if m := got[next+1]; !m.Null || m.Type != Int4 {
			t.Fatalf("missing column = %v, want NULL integer", m)
		}
		present, err := DecodeRowPresent(b, want)
		if err != nil || len(present) != n {
			t.Fatalf("DecodeRowPresent: %d columns, %v; want %d", len(present), err, n)
		}
		// Dropped columns are skipped.
		if n > 0 {
			drop := map[uint32]Type{ids[n-1]: want[ids[n-1]]}
			got, err := DecodeRow(b, drop)
			if err != nil || len(got) != 1 {
				t.Fatalf("DecodeRow with one wanted column: %v, %v", got, err)
			}
		}
	}
}

func TestRowCompact(t *testing.T) {
	b := EncodeRow(nil, []uint32{1, 2, 3}, []Value{NewInt4(7), NullOf(Text), NewText("ab")})
	// version, (id, tag, varint), (id, tag), (id, tag, len, 2 bytes)
	if len(b) != 1+3+2+5 {
		t.Errorf("row is %d bytes: %x", len(b), b)
	}
}

func TestDecodeRowRejectsGarbage(t *testing.T) {
	want := map[uint32]Type{1: Int4, 2: Text}
	for _, b := range [][]byte{nil, {9}, {1, 1}, {1, 1, 99}, {1, 2, 6, 5, 'a'}, {1, 1, 6, 1, 'a'}} {
		if _, err := DecodeRow(b, want); err == nil {
			t.Errorf("DecodeRow(%x) accepted garbage", b)
		}
	}
}

func FuzzDecodeRow(f *testing.F) {
	f.Add(EncodeRow(nil, []uint32{1, 2, 3}, []Value{NewInt4(7), NullOf(Text), NewText("ab")}))
	want := map[uint32]Type{}
	for i, typ := range genTypes {
		want[uint32(i+1)] = typ
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := DecodeRow(b, want)
		if err != nil {
			return
		}
		var ids []uint32
		var vals []Value
		for id, v := range got {
			ids = append(ids, id)
			vals = append(vals, v)
		}
		if _, err := DecodeRow(EncodeRow(nil, ids, vals), want); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}
