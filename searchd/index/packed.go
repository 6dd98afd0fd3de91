package index

import (
	"encoding/binary"
	"math/bits"
)

// Bit-packed unsigned integers: n values of width w bits, little-endian bit
// order, followed by 8 bytes of padding so a value is always read with one
// unaligned 8-byte load. Widths above 56 are rounded up to 64 (byte-aligned).

// packWidth returns the width needed for max, rounded as packed requires.
func packWidth(max uint64) uint8 {
	w := uint8(bits.Len64(max))
	if w > 56 {
		w = 64
	}
	return w
}

// packedLen is the byte length of n values of width w, padding included.
func packedLen(n int, w uint8) int {
	return (n*int(w)+7)/8 + 8
}

// appendPacked appends vals packed at width w (with padding).
func appendPacked(dst []byte, vals []uint64, w uint8) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, packedLen(len(vals), w))...)
	if w == 0 {
		return dst
	}
	out := dst[start:]
	if w == 64 {
		for i, v := range vals {
			binary.LittleEndian.PutUint64(out[i*8:], v)
		}
		return dst
	}
	bit := 0
	for _, v := range vals {
		p := bit >> 3
		x := binary.LittleEndian.Uint64(out[p:])
		x |= v << (bit & 7)
		binary.LittleEndian.PutUint64(out[p:], x)
		bit += int(w)
	}
	return dst
}

// packedGet reads value i of width w from b.
func packedGet(b []byte, w uint8, i int) uint64 {
	if w == 0 {
		return 0
	}
	if w == 64 {
		return binary.LittleEndian.Uint64(b[i*8:])
	}
	bit := i * int(w)
	x := binary.LittleEndian.Uint64(b[bit>>3:])
	return (x >> (bit & 7)) & (1<<w - 1)
}

// unpack32 decodes len(dst) values of width w (≤ 32) from b.
func unpack32(b []byte, w uint8, dst []uint32) {
	if w == 0 {
		clear(dst)
		return
	}
	mask := uint64(1)<<w - 1
	bit := 0
	for i := range dst {
		x := binary.LittleEndian.Uint64(b[bit>>3:])
		dst[i] = uint32((x >> (bit & 7)) & mask)
		bit += int(w)
	}
}

// appendPacked32 is appendPacked for uint32 values of width ≤ 32.
func appendPacked32(dst []byte, vals []uint32, w uint8) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, packedLen(len(vals), w))...)
	if w == 0 {
		return dst
	}
	out := dst[start:]
	bit := 0
	for _, v := range vals {
		p := bit >> 3
		x := binary.LittleEndian.Uint64(out[p:])
		x |= uint64(v) << (bit & 7)
		binary.LittleEndian.PutUint64(out[p:], x)
		bit += int(w)
	}
	return dst
}

// uvarint decodes a varint at b[p:], returning it and the next offset.
func uvarint(b []byte, p int) (uint64, int) {
	c := b[p]
	if c < 0x80 {
		return uint64(c), p + 1
	}
	v, n := binary.Uvarint(b[p:])
	if n <= 0 {
		return 0, len(b)
	}
	return v, p + n
}

// skipUvarints skips n varints at b[p:].
func skipUvarints(b []byte, p, n int) int {
	for n > 0 {
		if b[p] < 0x80 {
			n--
		}
		p++
	}
	return p
}
