package ec

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var testSeed = flag.Uint64("ec.seed", 0, "seed of the randomized tests in blobd/ec (0: from the clock)")

// newRand returns a generator seeded from -ec.seed or the clock, and logs the
// seed so a failure can be replayed.
func newRand(t testing.TB) *rand.Rand {
	t.Helper()
	seed := *testSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -ec.seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

func randomBytes(rng *rand.Rand, n int) []byte {
	// ChaCha8 seeded from rng: fast (also under -race) and replayable.
	var seed [32]byte
	for i := range 4 {
		binary.LittleEndian.PutUint64(seed[8*i:], rng.Uint64())
	}
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(seed).Read(b)
	return b
}

// textBytes returns n bytes of log-like text: compressible, but not trivially.
func textBytes(rng *rand.Rand, n int) []byte {
	words := []string{"GET", "PUT", "DELETE", "bucket", "object", "/images/", "/videos/",
		"200", "404", "503", "latency_ms=", "user=", "region=eu-west", "ok", "retry", "chunk"}
	b := make([]byte, 0, n+64)
	for len(b) < n {
		b = fmt.Appendf(b, "%d %s %s%d %s%d\n", 1700000000+rng.IntN(1e6),
			words[rng.IntN(len(words))], words[rng.IntN(len(words))], rng.IntN(5000),
			words[10+rng.IntN(3)], rng.IntN(300))
	}
	return b[:n]
}

// allSchemes returns every scheme up to 6+3.
func allSchemes() []Scheme {
	var ss []Scheme
	for d := 1; d <= 6; d++ {
		for p := 0; p <= 3; p++ {
			ss = append(ss, Scheme{Data: d, Parity: p})
		}
	}
	return ss
}

// subsets calls fn with every subset of {0..n-1} of exactly k elements.
func subsets(n, k int, fn func([]int)) {
	var rec func(start int, cur []int)
	rec = func(start int, cur []int) {
		if len(cur) == k {
			fn(cur)
			return
		}
		for i := start; i < n; i++ {
			rec(i+1, append(cur, i))
		}
	}
	rec(0, make([]int, 0, k))
}

// cloneShards deep-copies a shard set.
func cloneShards(shards [][]byte) [][]byte {
	out := make([][]byte, len(shards))
	for i, s := range shards {
		if s != nil {
			out[i] = append([]byte(nil), s...)
		}
	}
	return out
}
