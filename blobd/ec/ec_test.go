package ec

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkShape checks that shards are a well-formed encoding of data.
func checkShape(t *testing.T, s Scheme, data []byte, shards [][]byte) {
	t.Helper()
	if len(shards) != s.Shards() {
		t.Fatalf("%v: %d shards, want %d", s, len(shards), s.Shards())
	}
	size := s.ShardSize(len(data))
	for i, b := range shards {
		if len(b) != HeaderSize+size || cap(b) != len(b) {
			t.Fatalf("%v len %d: shard %d has len %d cap %d, want %d", s, len(data), i, len(b), cap(b), HeaderSize+size)
		}
		h, p, err := ParseShard(b)
		if err != nil {
			t.Fatalf("%v len %d: ParseShard(%d): %v", s, len(data), i, err)
		}
		want := Header{Scheme: s, Index: i, Length: len(data), Size: size, DataCRC: crc32c(data), PayloadCRC: crc32c(p)}
		if h != want {
			t.Fatalf("%v len %d: shard %d header %+v, want %+v", s, len(data), i, h, want)
		}
		if i < s.Data {
			lo := min(i*size, len(data))
			got := p[:min(size, len(data)-lo)]
			if !bytes.Equal(got, data[lo:lo+len(got)]) || slices.ContainsFunc(p[len(got):], func(c byte) bool { return c != 0 }) {
				t.Fatalf("%v len %d: data shard %d does not hold its slice of the chunk, zero-padded", s, len(data), i)
			}
		}
	}
}

func decodeEqual(t *testing.T, s Scheme, shards [][]byte, want []byte, what string) {
	t.Helper()
	got, err := Decode(s, shards)
	if err != nil {
		t.Fatalf("%v len %d %s: Decode: %v", s, len(want), what, err)
	}
	if !bytes.Equal(got, want) || got == nil {
		t.Fatalf("%v len %d %s: Decode returned %d different bytes (nil=%v)", s, len(want), what, len(got), got == nil)
	}
}

// TestRoundTrip encodes and decodes every scheme up to 6+3 at sizes from 0
// to 8 MiB+1, complete and with a random set of Parity shards missing.
func TestRoundTrip(t *testing.T) {
	rng := newRand(t)
	sizes := []int{0, 1, 2, 3, 5, 6, 7, 63, 64, 65, 1000, 4096, 65537, 1<<20 + 3}
	big := randomBytes(rng, 8<<20+1)
	for _, s := range allSchemes() {
		for _, n := range append(sizes, 8<<20, 8<<20+1) {
			var data []byte
			if n >= 8<<20 {
				if s.Data*s.Parity%5 != 1 && s != (Scheme{4, 2}) {
					continue // the two 8 MiB sizes on a few schemes only: 4+2, 1+1, 2+3, 3+2, 6+1
				}
				data = big[:n]
			} else {
				data = randomBytes(rng, n)
			}
			shards, err := Encode(s, data)
			if err != nil {
				t.Fatalf("Encode(%v, %d bytes): %v", s, n, err)
			}
			checkShape(t, s, data, shards)
			decodeEqual(t, s, shards, data, "complete")
			missing := rng.Perm(s.Shards())[:s.Parity]
			partial := slices.Clone(shards)
			for _, i := range missing {
				partial[i] = nil
			}
			decodeEqual(t, s, partial, data, "missing some")
		}
	}
}

// TestDecodeAnySubset removes every subset of at most Parity shards (all
// decode) and every subset of Parity+1 (none does) for every scheme up to
// 6+3.
func TestDecodeAnySubset(t *testing.T) {
	rng := newRand(t)
	for _, s := range allSchemes() {
		for _, n := range []int{0, 1, s.Data*7 - 1, 1000 + rng.IntN(1000)} {
			data := randomBytes(rng, n)
			shards, err := Encode(s, data)
			if err != nil {
				t.Fatal(err)
			}
			for k := 0; k <= s.Parity; k++ {
				subsets(s.Shards(), k, func(missing []int) {
					partial := slices.Clone(shards)
					for _, i := range missing {
						partial[i] = nil
					}
					decodeEqual(t, s, partial, data, "")
				})
			}
			subsets(s.Shards(), s.Parity+1, func(missing []int) {
				partial := slices.Clone(shards)
				for _, i := range missing {
					partial[i] = []byte{} // empty counts as missing too
				}
				if _, err := Decode(s, partial); !errors.Is(err, ErrTooFewShards) {
					t.Fatalf("%v len %d missing %v: Decode err %v, want ErrTooFewShards", s, n, missing, err)
				}
			})
		}
	}
}

// TestEightMiBEverySubset: 8 MiB+1 with 4+2 decodes and reconstructs from
// every set of 4.
func TestEightMiBEverySubset(t *testing.T) {
	rng := newRand(t)
	s := Scheme{4, 2}
	data := randomBytes(rng, 8<<20+1)
	shards, err := Encode(s, data)
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k <= s.Parity; k++ {
		subsets(s.Shards(), k, func(missing []int) {
			partial := slices.Clone(shards)
			for _, i := range missing {
				partial[i] = nil
			}
			decodeEqual(t, s, partial, data, "")
			rebuilt, err := Reconstruct(s, partial)
			if err != nil || !slices.Equal(rebuilt, missing) && len(missing) > 0 {
				t.Fatalf("missing %v: Reconstruct = %v, %v", missing, rebuilt, err)
			}
			for i := range shards {
				if !bytes.Equal(partial[i], shards[i]) {
					t.Fatalf("missing %v: rebuilt shard %d differs", missing, i)
				}
			}
		})
	}
}

// corruptions are the ways a stored shard goes bad; each must make the
// shard count as missing.
var corruptions = []struct {
	name string
	fn   func(rng *rand.Rand, s Scheme, i int, shards [][]byte) []byte
}{
	{"flip payload byte", func(rng *rand.Rand, _ Scheme, i int, sh [][]byte) []byte {
		b := slices.Clone(sh[i])
		if len(b) == HeaderSize {
			b[rng.IntN(HeaderSize)] ^= 1 << rng.IntN(8)
		} else {
			b[HeaderSize+rng.IntN(len(b)-HeaderSize)] ^= 1 << rng.IntN(8)
		}
		return b
	}},
	{"flip header byte", func(rng *rand.Rand, _ Scheme, i int, sh [][]byte) []byte {
		b := slices.Clone(sh[i])
		b[rng.IntN(HeaderSize)] ^= 1 << rng.IntN(8)
		return b
	}},
	{"truncate", func(rng *rand.Rand, _ Scheme, i int, sh [][]byte) []byte {
		return sh[i][:rng.IntN(len(sh[i]))]
	}},
	{"extend", func(_ *rand.Rand, _ Scheme, i int, sh [][]byte) []byte {
		return append(slices.Clone(sh[i]), 0)
	}},
	{"garbage", func(rng *rand.Rand, _ Scheme, i int, sh [][]byte) []byte {
		return randomBytes(rng, len(sh[i]))
	}},
	{"misplaced", func(_ *rand.Rand, s Scheme, i int, sh [][]byte) []byte {
		return sh[(i+1)%s.Shards()] // a valid shard stored at the wrong index
	}},
	{"other scheme", func(_ *rand.Rand, s Scheme, i int, sh [][]byte) []byte {
		h, p, err := ParseShard(sh[i])
		if err != nil {
			panic(err)
		}
		h.Scheme.Parity++ // a valid shard of the same chunk in another scheme
		b := append(make([]byte, HeaderSize), p...)
		putHeader(b, h)
		if _, _, err := ParseShard(b); err != nil {
			panic(err)
		}
		return b
	}},
}

// TestCorruptShardCountsAsMissing damages up to Parity shards (decode and
// reconstruct succeed, rebuilding exactly those) and Parity+1 (both fail with
// ErrTooFewShards and leave the shards alone).
func TestCorruptShardCountsAsMissing(t *testing.T) {
	rng := newRand(t)
	for _, s := range []Scheme{{1, 1}, {2, 1}, {2, 2}, {3, 2}, {4, 2}, {6, 3}} {
		for _, n := range []int{0, 1, 4097, 100000} {
			data := randomBytes(rng, n)
			shards, err := Encode(s, data)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range corruptions {
				for k := 1; k <= s.Parity+1; k++ {
					bad := rng.Perm(s.Shards())[:k]
					slices.Sort(bad)
					damaged := slices.Clone(shards)
					for _, i := range bad {
						damaged[i] = c.fn(rng, s, i, shards)
					}
					before := cloneShards(damaged)
					what := c.name
					if k <= s.Parity {
						decodeEqual(t, s, damaged, data, what)
						rebuilt, err := Reconstruct(s, damaged)
						if err != nil || !slices.Equal(rebuilt, bad) {
							t.Fatalf("%v len %d %s %v: Reconstruct = %v, %v", s, n, what, bad, rebuilt, err)
						}
						for i := range shards {
							if !bytes.Equal(damaged[i], shards[i]) {
								t.Fatalf("%v len %d %s %v: shard %d not restored", s, n, what, bad, i)
							}
						}
						continue
					}
					if _, err := Decode(s, damaged); !errors.Is(err, ErrTooFewShards) {
						t.Fatalf("%v len %d %s %v: Decode err %v, want ErrTooFewShards", s, n, what, bad, err)
					}
					if _, err := Reconstruct(s, damaged); !errors.Is(err, ErrTooFewShards) {
						t.Fatalf("%v len %d %s %v: Reconstruct err %v, want ErrTooFewShards", s, n, what, bad, err)
					}
					for i := range damaged {
						if !bytes.Equal(damaged[i], before[i]) {
							t.Fatalf("%v %s: failed Reconstruct changed shard %d", s, what, i)
						}
					}
				}
			}
		}
	}
}

// TestReconstructKeepsIntact: intact entries are the caller's own slices
// afterwards, and a complete set is a no-op.
func TestReconstructKeepsIntact(t *testing.T) {
	rng := newRand(t)
	s := Scheme{4, 2}
	data := randomBytes(rng, 12345)
	shards, _ := Encode(s, data)
	if rebuilt, err := Reconstruct(s, shards); err != nil || rebuilt != nil {
		t.Fatalf("Reconstruct of a complete set = %v, %v", rebuilt, err)
	}
	partial := slices.Clone(shards)
	partial[1], partial[5] = nil, nil
	if rebuilt, err := Reconstruct(s, partial); err != nil || !slices.Equal(rebuilt, []int{1, 5}) {
		t.Fatalf("Reconstruct = %v, %v", rebuilt, err)
	}
	for _, i := range []int{0, 2, 3, 4} {
		if &partial[i][0] != &shards[i][0] {
			t.Errorf("intact shard %d was replaced", i)
		}
	}
}

// TestDecodeLeavesInput: Decode with missing data shards neither modifies
// nor aliases the caller's shards.
func TestDecodeLeavesInput(t *testing.T) {
	rng := newRand(t)
	s := Scheme{3, 2}
	data := randomBytes(rng, 30001)
	shards, _ := Encode(s, data)
	shards[0] = nil
	before := cloneShards(shards)
	out, err := Decode(s, shards)
	if err != nil {
		t.Fatal(err)
	}
	for i := range out {
		out[i] ^= 0xff
	}
	for i := range shards {
		if !bytes.Equal(shards[i], before[i]) {
			t.Fatalf("shard %d changed", i)
		}
	}
}

// TestMixedChunks: shards of two chunks in one set: the chunk with at least
// Data intact shards wins; a tie is refused.
func TestMixedChunks(t *testing.T) {
	rng := newRand(t)
	s := Scheme{2, 2}
	a, b := randomBytes(rng, 1000), randomBytes(rng, 1000)
	sa, _ := Encode(s, a)
	sb, _ := Encode(s, b)
	mixed := [][]byte{sa[0], sa[1], sa[2], sb[3]}
	decodeEqual(t, s, mixed, a, "3 of a, 1 of b")
	if rebuilt, err := Reconstruct(s, mixed); err != nil || !slices.Equal(rebuilt, []int{3}) || !bytes.Equal(mixed[3], sa[3]) {
		t.Fatalf("Reconstruct = %v, %v", rebuilt, err)
	}
	tie := [][]byte{sa[0], sb[1], sa[2], sb[3]}
	if _, err := Decode(s, tie); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Decode of 2+2 shards from two chunks: %v, want ErrCorrupt", err)
	}
}

func TestArgumentErrors(t *testing.T) {
	s := Scheme{4, 2}
	shards, _ := Encode(s, []byte("hello"))
	if _, err := Decode(s, shards[:5]); !errors.Is(err, ErrShardCount) {
		t.Errorf("Decode of 5 shards: %v", err)
	}
	if _, err := Reconstruct(s, append(shards, nil)); !errors.Is(err, ErrShardCount) {
		t.Errorf("Reconstruct of 7 shards: %v", err)
	}
	if _, err := Decode(Scheme{0, 1}, shards); !errors.Is(err, ErrInvalidScheme) {
		t.Errorf("Decode with 0+1: %v", err)
	}
	if _, err := Decode(Scheme{3, 3}, shards); !errors.Is(err, ErrTooFewShards) {
		t.Errorf("Decode of 4+2 shards as 3+3: %v", err)
	}
	if _, err := Encode(s, make([]byte, MaxDataBytes+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Encode over MaxDataBytes: %v", err)
	}
	if _, _, err := ParseShard(nil); !errors.Is(err, ErrBadShard) {
		t.Errorf("ParseShard(nil): %v", err)
	}
}
