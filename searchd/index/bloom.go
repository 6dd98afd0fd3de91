package index

import (
	"encoding/binary"
	"math/bits"
)

// Each segment keeps a Bloom filter of its ids (10 bits per id, 5 probes,
// about 1% false positives) so that indexing a new id does not walk every
// segment's id FST. The hash is FNV-1a 64, stable across processes since
// the filter is stored in the segment file: a little-endian uint64 word
// array whose length is a power of two.
const bloomProbes = 5

func idHash(id string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	return h
}

// appendBloom builds the filter of ids.
func appendBloom(dst []byte, ids []string) []byte {
	nbits := uint64(64)
	for nbits < uint64(len(ids))*10 {
		nbits <<= 1
	}
	words := make([]uint64, nbits/64)
	for _, id := range ids {
		h := idHash(id)
		h2 := h>>33 | 1
		for i := uint64(0); i < bloomProbes; i++ {
			b := (h + i*h2) & (nbits - 1)
			words[b>>6] |= 1 << (b & 63)
		}
	}
	for _, w := range words {
		dst = binary.LittleEndian.AppendUint64(dst, w)
	}
	return dst
}

// bloomMayContain tests the filter (nil or empty: maybe).
func bloomMayContain(f []byte, h uint64) bool {
	if len(f) < 8 || bits.OnesCount(uint(len(f)/8)) != 1 {
		return true
	}
	nbits := uint64(len(f)) * 8
	h2 := h>>33 | 1
	for i := uint64(0); i < bloomProbes; i++ {
		b := (h + i*h2) & (nbits - 1)
		if binary.LittleEndian.Uint64(f[(b>>6)*8:])&(1<<(b&63)) == 0 {
			return false
		}
	}
	return true
}
