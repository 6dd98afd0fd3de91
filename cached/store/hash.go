package store

import "math/bits"

// hashKey is the shard hash: a multiply-mix over 8-byte little-endian words
// (a 64x64→128-bit multiply folded to 64 bits per word), seeded per Store so
// that clients cannot aim every key at one shard. It is not the ring's hash
// and must not be: which node owns a key and which shard holds it should be
// independent.
func hashKey(seed uint64, s string) uint64 {
	const (
		m1 = 0xa0761d6478bd642f
		m2 = 0xe7037ed1a0b428db
		m3 = 0x8ebc6af09c88c6e3
	)
	h := seed ^ uint64(len(s))*m1
	for len(s) >= 8 {
		h = mum(h^m2, load64(s)^m3)
		s = s[8:]
	}
	var tail uint64
	for i := len(s) - 1; i >= 0; i-- {
		tail = tail<<8 | uint64(s[i])
	}
	h = mum(h^m1, tail^m2)
	return mum(h, m3) ^ h
}

func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
