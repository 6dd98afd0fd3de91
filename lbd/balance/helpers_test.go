package balance

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("balance.seed", 0, "seed for the tests' random choices (0 = from the clock)")

// testSeed returns the seed of a test's random choices and logs it, so that a
// failure can be replayed with -balance.seed.
func testSeed(t testing.TB) uint64 {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -balance.seed=%d)", seed, seed)
	return seed
}

// makeBackends returns backends b0, b1, … with the given weights.
func makeBackends(weights ...int) []*Backend {
	bs := make([]*Backend, len(weights))
	for i, w := range weights {
		bs[i] = NewBackend(fmt.Sprintf("b%d", i), fmt.Sprintf("127.0.0.1:%d", 9000+i), w)
	}
	return bs
}

// equalBackends returns n backends of weight 1.
func equalBackends(n int) []*Backend {
	ws := make([]int, n)
	for i := range ws {
		ws[i] = 1
	}
	return makeBackends(ws...)
}

func mustNew(t testing.TB, alg Algorithm, bs []*Backend, opts Options) Picker {
	t.Helper()
	p, err := New(alg, bs, opts)
	if err != nil {
		t.Fatalf("New(%s): %v", alg, err)
	}
	return p
}

// randomKeys returns n keys hashed from random IPv4 addresses.
func randomKeys(rnd *rand.Rand, n int) []uint64 {
	keys := make([]uint64, n)
	var ip [4]byte
	for i := range keys {
		v := rnd.Uint32()
		ip[0], ip[1], ip[2], ip[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
		keys[i] = HashKey(ip[:])
	}
	return keys
}

// counts tallies picks by backend name.
func counts(t testing.TB, p Picker, keys []uint64, picks int) map[string]int {
	t.Helper()
	c := map[string]int{}
	for i := range picks {
		var key uint64
		if len(keys) > 0 {
			key = keys[i%len(keys)]
		}
		b := p.Pick(key, nil)
		if b == nil {
			t.Fatalf("pick %d: nil", i)
		}
		c[b.Name]++
	}
	return c
}

// checkShares fails unless each backend's count is within tol (relative) of
// its weight's share of the total.
func checkShares(t *testing.T, bs []*Backend, c map[string]int, tol float64) {
	t.Helper()
	total, wsum := 0, 0
	for _, b := range bs {
		total += c[b.Name]
		wsum += b.Weight()
	}
	for _, b := range bs {
		want := float64(total) * float64(b.Weight()) / float64(wsum)
		if got := float64(c[b.Name]); got < want*(1-tol) || got > want*(1+tol) {
			t.Errorf("%s (weight %d): %v picks, want %.0f ±%.0f%%", b.Name, b.Weight(), got, want, tol*100)
		}
	}
}
