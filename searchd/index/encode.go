package index

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// EncodeInt returns v's 8-byte order-preserving term: big-endian with the
// sign bit flipped, so byte order is numeric order.
func EncodeInt(v int64) []byte {
	var b [8]byte
	putInt(b[:], v)
	return b[:]
}

// DecodeInt inverts EncodeInt; b must be 8 bytes.
func DecodeInt(b []byte) int64 {
	return int64(binary.BigEndian.Uint64(b) ^ (1 << 63))
}

// EncodeFloat returns v's 8-byte order-preserving term (NaN refused by the
// mapping). -0 is encoded as +0.
func EncodeFloat(v float64) []byte {
	var b [8]byte
	putFloat(b[:], v)
	return b[:]
}

// DecodeFloat inverts EncodeFloat; b must be 8 bytes.
func DecodeFloat(b []byte) float64 {
	u := binary.BigEndian.Uint64(b)
	if u&(1<<63) != 0 {
		u &^= 1 << 63
	} else {
		u = ^u
	}
	return math.Float64frombits(u)
}

func putInt(b []byte, v int64) { binary.BigEndian.PutUint64(b, uint64(v)^(1<<63)) }

func putFloat(b []byte, v float64) {
	if v == 0 {
		v = 0 // -0 → +0
	}
	u := math.Float64bits(v)
	if u&(1<<63) != 0 {
		u = ^u
	} else {
		u |= 1 << 63
	}
	binary.BigEndian.PutUint64(b, u)
}

// SortableFloat maps a float64 to an int64 with the same order (the doc
// values representation of float fields); FloatFromSortable inverts it.
func SortableFloat(f float64) int64 {
	if f == 0 {
		f = 0
	}
	b := int64(math.Float64bits(f))
	return b ^ (b>>63)&math.MaxInt64
}

// FloatFromSortable inverts SortableFloat.
func FloatFromSortable(s int64) float64 {
	return math.Float64frombits(uint64(s ^ (s>>63)&math.MaxInt64))
}

// Norms: a text field's length in a document is kept in one byte, as
// Lucene's SmallFloat.intToByte4 does: exact below 24, then 4 significant
// bits. Byte 0 means the document has no tokens in the field.
const normFreeValues = 24

func longToInt4(i uint64) uint32 {
	n := 64 - bits.LeadingZeros64(i)
	if n < 4 {
		return uint32(i)
	}
	shift := n - 4
	return uint32(i>>shift)&7 | uint32(shift+1)<<3
}

func int4ToLong(i uint32) uint64 {
	b := uint64(i & 7)
	shift := int(i>>3) - 1
	if shift == -1 {
		return b
	}
	return (b | 8) << shift
}

// EncodeNorm returns the norm byte of a field length (0 for 0).
func EncodeNorm(length uint32) byte {
	if length < normFreeValues {
		return byte(length)
	}
	v := normFreeValues + longToInt4(uint64(length-normFreeValues))
	if v > 255 {
		v = 255
	}
	return byte(v)
}

// DecodeNorm returns the (lower-bound) field length a norm byte stands for.
func DecodeNorm(b byte) uint32 {
	if b < normFreeValues {
		return uint32(b)
	}
	return normFreeValues + uint32(int4ToLong(uint32(b)-normFreeValues))
}

// normTable decodes every norm byte once.
var normTable = func() (t [256]uint32) {
	for i := range t {
		t[i] = DecodeNorm(byte(i))
	}
	return t
}()
