package blobchaos

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"
)

// readAll reads size bytes of content id in pieces of the given sizes
// (cycled).
func readAll(t *testing.T, id uint64, size int64, pieces ...int) []byte {
	t.Helper()
	r := Content(id, size)
	var out []byte
	for i := 0; ; i++ {
		buf := make([]byte, pieces[i%len(pieces)])
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestContentIsIndependentOfReadSizes(t *testing.T) {
	const size = 300_000
	whole := readAll(t, 7, size, size+1)
	if int64(len(whole)) != size {
		t.Fatalf("read %d bytes, want %d", len(whole), size)
	}
	for _, pieces := range [][]int{{1}, {3, 17, 4096}, {15, 1, 65536}, {16}} {
		if got := readAll(t, 7, size, pieces...); !bytes.Equal(got, whole) {
			t.Fatalf("reads of %v give other bytes", pieces)
		}
	}
	if !bytes.Equal(whole[:8], contentMagic[:]) {
		t.Fatalf("content starts %q, want the magic", whole[:8])
	}
	if other := readAll(t, 8, size, 4096); bytes.Equal(other[16:], whole[16:]) {
		t.Fatal("contents 7 and 8 are equal after the header")
	}
	sum := sha256.Sum256(whole)
	if d := Digest(7, size); d != hex.EncodeToString(sum[:]) {
		t.Fatalf("Digest %s, want %x", d, sum)
	}
}

func TestContentIDsAreUnique(t *testing.T) {
	seen := map[uint64]bool{}
	for c := 1000; c < 1005; c++ {
		for n := range 1000 {
			id := contentID(c, n)
			if id == 0 || seen[id] {
				t.Fatalf("contentID(%d, %d) = %d, zero or repeated", c, n, id)
			}
			seen[id] = true
		}
	}
}

func TestVerifier(t *testing.T) {
	const id, size = 42, 100_000
	good := readAll(t, id, size, 65536)
	goodSHA := sha256.Sum256(good)
	flip := func(b []byte, at ...int) []byte {
		b = bytes.Clone(b)
		for _, i := range at {
			b[i] ^= 0x5a
		}
		return b
	}
	for _, tc := range []struct {
		name  string
		data  []byte
		id    uint64
		wrong int64
	}{
		{name: "exact", data: good, id: id},
		{name: "two bytes flipped in the data", data: flip(good, 100, 99_999), id: id, wrong: 2},
		{name: "a byte of the id flipped", data: flip(good, 9), id: id ^ 0x5a00}, // judged against another content, below
		{name: "truncated", data: good[:5000], id: id},
		{name: "shorter than the header", data: good[:10]},
		{name: "empty"},
		{name: "another content", data: readAll(t, 43, 2000, 4096), id: 43},
		{name: "no header", data: bytes.Repeat([]byte{1}, 64)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, piece := range []int{1, 7, 16, 4096, len(tc.data) + 1} {
				v := NewVerifier()
				for b := tc.data; len(b) > 0; {
					k := min(piece, len(b))
					if n, err := v.Write(b[:k]); n != k || err != nil {
						t.Fatalf("Write = %d, %v", n, err)
					}
					b = b[k:]
				}
				r := v.Result()
				sum := sha256.Sum256(tc.data)
				if r.Len != int64(len(tc.data)) || r.SHA != hex.EncodeToString(sum[:]) || r.ID != tc.id {
					t.Fatalf("pieces of %d: %+v, want len %d, id %d", piece, r, len(tc.data), tc.id)
				}
				if tc.name == "a byte of the id flipped" {
					// Judged against the content the damaged header
					// names: nearly every byte differs.
					if r.Wrong < int64(len(tc.data))/2 {
						t.Fatalf("pieces of %d: %d wrong bytes, want most of %d", piece, r.Wrong, len(tc.data))
					}
					continue
				}
				if r.Wrong != tc.wrong {
					t.Fatalf("pieces of %d: %d wrong bytes, want %d", piece, r.Wrong, tc.wrong)
				}
			}
		})
	}
	if hex.EncodeToString(goodSHA[:]) != Digest(id, size) {
		t.Fatal("Digest differs from the content's SHA-256")
	}
}
