package balance

import (
	"encoding/binary"
	"math/bits"
	"sync/atomic"
)

// Constants of HashKey and mix64 (odd, with well-spread bits: the 64-bit
// golden ratio and the SplitMix64 finaliser's multipliers). They are part of
// the placement contract: changing them moves every client.
const (
	golden = 0x9e3779b97f4a7c15
	mulA   = 0xbf58476d1ce4e5b9
	mulB   = 0x94d049bb133111eb
)

// HashKey hashes a client identity (source IP bytes, a cookie value) to the
// key Pick takes. It is the same on every node, every platform and every run
// (there is no per-process seed), and well mixed: every input bit affects
// every output bit. It does not resist chosen inputs, so it must not be used
// where a client could gain by colliding keys.
func HashKey(b []byte) uint64 {
	h := golden ^ uint64(len(b))*mulA
	for len(b) >= 8 {
		h = bits.RotateLeft64((h^mix64(binary.LittleEndian.Uint64(b)))*mulB, 29)
		b = b[8:]
	}
	if len(b) > 0 {
		var t uint64
		for i, c := range b {
			t |= uint64(c) << (8 * i)
		}
		h = bits.RotateLeft64((h^mix64(t))*mulB, 29)
	}
	return mix64(h)
}

// mix64 is the SplitMix64 finaliser: a bijection of uint64 with full
// avalanche.
func mix64(x uint64) uint64 {
	x = (x ^ x>>30) * mulA
	x = (x ^ x>>27) * mulB
	return x ^ x>>31
}

// rng is a lock-free SplitMix64 generator: the sequence of its draws is fixed
// by the seed (interleaved among concurrent callers in some order).
type rng struct {
	state atomic.Uint64
}

func newRNG(seed uint64) *rng {
	r := &rng{}
	r.state.Store(seed)
	return r
}

func (r *rng) next() uint64 { return mix64(r.state.Add(golden)) }

// below returns a draw in [0, n), n > 0 (multiply-shift; the bias is below
// n/2^64).
func (r *rng) below(n uint64) uint64 {
	hi, _ := bits.Mul64(r.next(), n)
	return hi
}
