package index

import (
	"encoding/binary"
	"slices"
	"testing"
)

// FuzzPostingsCodec encodes postings derived from the input (doc gaps,
// freqs, positions) and checks Next, Advance, Freq and Positions decode
// them.
func FuzzPostingsCodec(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, uint16(3))
	f.Add(make([]byte, 600), uint16(1))
	f.Add([]byte{255, 0, 255, 0, 17, 200, 3}, uint16(300))
	f.Fuzz(func(t *testing.T, in []byte, repeat uint16) {
		type entry struct {
			doc uint32
			pos []uint32
		}
		var entries []entry
		doc := uint32(0)
		for r := 0; r <= int(repeat%400); r++ {
			for i := 0; i+1 < len(in); i += 2 {
				gap := uint32(in[i])
				if len(entries) > 0 {
					gap++
				}
				doc += gap * uint32(1+in[i+1]%5)
				var pos []uint32
				p := uint32(0)
				for k := 0; k < 1+int(in[i+1]%4); k++ {
					p += uint32(in[(i+k)%len(in)])
					pos = append(pos, p)
				}
				entries = append(entries, entry{doc, pos})
			}
		}
		if len(entries) == 0 {
			return
		}
		pw := postingsWriter{hasPos: true}
		pw.reset()
		for _, e := range entries {
			var raw []byte
			prev := uint32(0)
			for _, p := range e.pos {
				raw = binary.AppendUvarint(raw, uint64(p-prev))
				prev = p
			}
			pw.add(e.doc, uint32(len(e.pos)), uint32(len(e.pos)), raw)
		}
		buf := append([]byte{0xAA}, pw.finish(nil)...)
		buf = append(buf, make([]byte, trailerLen)...)
		ti, _, _ := termHeader(buf, 1)
		if ti.DocFreq != uint32(len(entries)) {
			t.Fatalf("DocFreq %d want %d", ti.DocFreq, len(entries))
		}
		p := newPostings(buf, ti, true, true)
		for i, e := range entries {
			if d := p.Next(); d != e.doc {
				t.Fatalf("entry %d: doc %d want %d", i, d, e.doc)
			}
			if i%3 == 0 {
				if got := p.Positions(nil); !slices.Equal(got, e.pos) {
					t.Fatalf("entry %d: positions %v want %v", i, got, e.pos)
				}
			}
		}
		if p.Next() != NoMoreDocs {
			t.Fatal("not exhausted")
		}
		p = newPostings(buf, ti, true, true)
		for i := 0; i < len(entries); i += 1 + int(in[i%len(in)]) {
			e := entries[i]
			last, mf, ml := p.BlockMax(e.doc)
			for _, x := range entries[i:] {
				if x.doc > last {
					break
				}
				if uint32(len(x.pos)) > mf || uint32(len(x.pos)) < ml {
					t.Fatalf("BlockMax(%d) = %d %d %d, doc %d has freq %d", e.doc, last, mf, ml, x.doc, len(x.pos))
				}
			}
			if last < e.doc {
				t.Fatalf("BlockMax(%d) = %d", e.doc, last)
			}
			if d := p.Advance(e.doc); d != e.doc || int(p.Freq()) != len(e.pos) {
				t.Fatalf("Advance(%d) = %d freq %d", e.doc, d, p.Freq())
			}
			if got := p.Positions(nil); !slices.Equal(got, e.pos) {
				t.Fatalf("after Advance(%d): positions %v want %v", e.doc, got, e.pos)
			}
		}
	})
}

func TestPackedRoundTrip(t *testing.T) {
	for w := uint8(0); w <= 64; w++ {
		if w > 56 && w < 64 {
			continue
		}
		vals := make([]uint64, 300)
		for i := range vals {
			v := uint64(i)*0x9E3779B97F4A7C15 + 12345
			if w < 64 {
				v &= 1<<w - 1
			}
			vals[i] = v
		}
		b := appendPacked(nil, vals, w)
		for i, v := range vals {
			if got := packedGet(b, w, i); got != v {
				t.Fatalf("width %d value %d: %d want %d", w, i, got, v)
			}
		}
	}
}
