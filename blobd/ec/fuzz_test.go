package ec

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParseShard: arbitrary bytes never panic ParseShard; whatever it
// accepts re-serialises to the same bytes and decodes as part of its set.
func FuzzParseShard(f *testing.F) {
	for _, seed := range []struct {
		s Scheme
		d string
	}{{Scheme{4, 2}, "hello, world"}, {Scheme{1, 0}, ""}, {Scheme{2, 1}, "x"}, {Scheme{6, 3}, "0123456789abcdef"}} {
		shards, err := Encode(seed.s, []byte(seed.d))
		if err != nil {
			f.Fatal(err)
		}
		for _, sh := range shards {
			f.Add(sh)
		}
	}
	f.Add([]byte{})
	f.Add(make([]byte, HeaderSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, p, err := ParseShard(b)
		if err != nil {
			if !errors.Is(err, ErrBadShard) {
				t.Fatalf("ParseShard error %v is not ErrBadShard", err)
			}
			return
		}
		if len(p) != h.Size || h.Size != h.Scheme.ShardSize(h.Length) || h.Index >= h.Scheme.Shards() {
			t.Fatalf("accepted an inconsistent header %+v with %d payload bytes", h, len(p))
		}
		re := append(make([]byte, HeaderSize), p...)
		putHeader(re, h)
		if !bytes.Equal(re, b) {
			t.Fatalf("header %+v re-serialises differently", h)
		}
		// Alone in its set, it decodes only when it is all the set needs.
		set := make([][]byte, h.Scheme.Shards())
		set[h.Index] = b
		out, err := Decode(h.Scheme, set)
		if h.Scheme.Data > 1 {
			if !errors.Is(err, ErrTooFewShards) {
				t.Fatalf("one shard of %v decoded: %v", h.Scheme, err)
			}
			return
		}
		if err == nil && crc32c(out) != h.DataCRC {
			t.Fatal("Decode returned data whose CRC does not match")
		}
	})
}

// FuzzDecode replaces one shard of a 4+2 encoding with arbitrary bytes and
// another with nothing: Decode must still return exactly the chunk, and
// Reconstruct must restore the original shards.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("the quick brown fox"), uint8(0), uint8(1), []byte("garbage"))
	f.Add([]byte{}, uint8(5), uint8(5), []byte{})
	f.Add(bytes.Repeat([]byte{0xab}, 1000), uint8(2), uint8(4), make([]byte, HeaderSize+250))
	shards, _ := Encode(Scheme{4, 2}, []byte("the quick brown fox"))
	f.Add([]byte("the quick brown fox"), uint8(3), uint8(0), shards[2]) // a valid shard misplaced
	other, _ := Encode(Scheme{4, 2}, []byte("jumps over the lazy dog"))
	f.Add([]byte("the quick brown fox"), uint8(1), uint8(2), other[1]) // a valid shard of another chunk
	f.Fuzz(func(t *testing.T, data []byte, victim, lost uint8, junk []byte) {
		s := Scheme{4, 2}
		shards, err := Encode(s, data)
		if err != nil {
			t.Fatal(err)
		}
		orig := cloneShards(shards)
		shards[int(victim)%6] = junk
		shards[int(lost)%6] = nil
		out, err := Decode(s, shards)
		if err != nil || !bytes.Equal(out, data) {
			t.Fatalf("Decode with shard %d replaced, %d lost: %v", victim%6, lost%6, err)
		}
		if _, err := Reconstruct(s, shards); err != nil {
			t.Fatalf("Reconstruct: %v", err)
		}
		for i := range shards {
			if !bytes.Equal(shards[i], orig[i]) {
				t.Fatalf("Reconstruct left shard %d different", i)
			}
		}
	})
}

// FuzzDecompress: arbitrary frames never panic Decompress, errors are the
// package's, and an accepted frame's data compresses and decompresses back.
func FuzzDecompress(f *testing.F) {
	for _, d := range [][]byte{{}, []byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), []byte("incompressible?")} {
		frame, err := Compress(d)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frame)
	}
	f.Add([]byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0x03, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, frame []byte) {
		out, err := Decompress(frame)
		if err != nil {
			if !errors.Is(err, ErrBadFrame) && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Decompress error %v is neither ErrBadFrame nor ErrCorrupt", err)
			}
			return
		}
		again, err := Compress(out)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := Decompress(again); err != nil || !bytes.Equal(back, out) {
			t.Fatalf("re-compressed frame does not round trip: %v", err)
		}
	})
}
