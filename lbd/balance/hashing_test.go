package balance

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

var hashingAlgorithms = []Algorithm{RingHash, Maglev}

func TestHashingDistribution(t *testing.T) {
	keys := randomKeys(rand.New(rand.NewPCG(testSeed(t), 5)), 100000)
	for _, tc := range []struct {
		alg Algorithm
		tol float64
	}{
		// The ring's shares vary with where the points fall (about
		// 1/sqrt(points) each); Maglev's table is even to a few entries.
		{RingHash, 0.2},
		{Maglev, 0.05},
	} {
		for _, ws := range [][]int{{1, 1, 1, 1, 1}, {1, 2, 3}, {10, 1, 5, 7}} {
			bs := makeBackends(ws...)
			p := mustNew(t, tc.alg, bs, Options{})
			c := counts(t, p, keys, len(keys))
			t.Logf("%s weights %v: %v", tc.alg, ws, c)
			checkShares(t, bs, c, tc.tol)
		}
	}
}

// TestHashingStable: pickers built from the same set, in any order, map
// every key alike.
func TestHashingStable(t *testing.T) {
	rnd := rand.New(rand.NewPCG(testSeed(t), 6))
	keys := randomKeys(rnd, 10000)
	for _, alg := range hashingAlgorithms {
		bs := makeBackends(1, 2, 3, 1, 1, 4)
		p1 := mustNew(t, alg, bs, Options{})
		shuffled := slices.Clone(bs)
		rnd.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		// Fresh Backends with the same names and weights, as another lbd
		// node would have.
		again := make([]*Backend, len(shuffled))
		for i, b := range shuffled {
			again[i] = NewBackend(b.Name, b.Addr, b.Weight())
		}
		p2 := mustNew(t, alg, again, Options{})
		for _, k := range keys {
			if a, b := p1.Pick(k, nil), p2.Pick(k, nil); a.Name != b.Name {
				t.Fatalf("%s: key %#x goes to %s in one picker and %s in the other", alg, k, a.Name, b.Name)
			}
		}
	}
}

// TestHashingDisruption: adding a backend to N moves at most about 1/(N+1)
// of the keys (on the ring, only to the new one); removing one moves only its
// keys on the ring and at most about 1/N with maglev.
func TestHashingDisruption(t *testing.T) {
	const eps = 0.03
	keys := randomKeys(rand.New(rand.NewPCG(testSeed(t), 7)), 100000)
	for _, alg := range hashingAlgorithms {
		for _, n := range []int{2, 3, 5, 10, 20} {
			bs := equalBackends(n + 1)
			before := mustNew(t, alg, bs[:n], Options{})
			after := mustNew(t, alg, bs, Options{})
			added := bs[n]
			moved, elsewhere := 0, 0
			for _, k := range keys {
				a, b := before.Pick(k, nil), after.Pick(k, nil)
				if a != b {
					moved++
					if b != added {
						elsewhere++
					}
				}
			}
			frac := float64(moved) / float64(len(keys))
			t.Logf("%s: adding 1 to %d moved %.4f of the keys (1/(N+1) = %.4f)", alg, n, frac, 1/float64(n+1))
			if frac > 1/float64(n+1)+eps {
				t.Errorf("%s: adding 1 to %d moved %.4f of the keys, want ≤ %.4f", alg, n, frac, 1/float64(n+1)+eps)
			}
			if alg == RingHash && elsewhere > 0 {
				t.Errorf("ring_hash: adding 1 to %d moved %d keys between old backends", n, elsewhere)
			}

			// Remove a middle one from the N+1.
			gone := bs[n/2]
			rest := slices.Delete(slices.Clone(bs), n/2, n/2+1)
			after = mustNew(t, alg, bs, Options{})
			removed := mustNew(t, alg, rest, Options{})
			moved, stray := 0, 0
			for _, k := range keys {
				a, b := after.Pick(k, nil), removed.Pick(k, nil)
				if a != b {
					moved++
					if a != gone {
						stray++
					}
				}
			}
			frac = float64(moved) / float64(len(keys))
			t.Logf("%s: removing 1 of %d moved %.4f of the keys (1/N = %.4f)", alg, n+1, frac, 1/float64(n+1))
			if frac > 1/float64(n+1)+eps {
				t.Errorf("%s: removing 1 of %d moved %.4f of the keys, want ≤ %.4f", alg, n+1, frac, 1/float64(n+1)+eps)
			}
			if alg == RingHash && stray > 0 {
				t.Errorf("ring_hash: removing 1 of %d moved %d keys of other backends", n+1, stray)
			}
		}
	}
}

// TestBoundedLoads: with the ring's load bound, however the keys fall (one hot
// key, or random ones) no backend holds more than ceil(c·T·w/W) of the T in
// flight.
func TestBoundedLoads(t *testing.T) {
	rnd := rand.New(rand.NewPCG(testSeed(t), 8))
	for _, tc := range []struct {
		weights []int
		c       float64
		hot     bool
	}{
		{[]int{1, 1, 1, 1}, 1.25, true},
		{[]int{1, 1, 1, 1}, 1, true},
		{[]int{1, 2, 3, 4}, 1.25, true},
		{[]int{1, 1, 1, 1, 1, 1, 1, 1}, 1.1, false},
		{[]int{5, 1, 1}, 2, true},
	} {
		name := fmt.Sprintf("w%v_c%v_hot%v", tc.weights, tc.c, tc.hot)
		bs := makeBackends(tc.weights...)
		W := 0
		for _, w := range tc.weights {
			W += w
		}
		p := mustNew(t, RingHash, bs, Options{LoadFactor: tc.c})
		hot := rnd.Uint64()
		own := p.Pick(hot, nil)
		for T := 1; T <= 2000; T++ {
			key := hot
			if !tc.hot {
				key = rnd.Uint64()
			}
			p.Pick(key, nil).Begin()
			for i, b := range bs {
				bound := int64(math.Ceil(tc.c * float64(T) * float64(tc.weights[i]) / float64(W)))
				if b.Inflight() > bound {
					t.Fatalf("%s: after %d picks %s (weight %d) has %d in flight, over the bound %d", name, T, b.Name, tc.weights[i], b.Inflight(), bound)
				}
			}
		}
		// Once the work ends the key comes home.
		for _, b := range bs {
			for b.Inflight() > 0 {
				b.End(0)
			}
		}
		if again := p.Pick(hot, nil); again != own {
			t.Errorf("%s: with nothing in flight the hot key went to %s, not its own %s", name, again.Name, own.Name)
		}
	}
}

// TestUnboundedRing: LoadFactor +Inf turns the bound off: a hot key stays on
// its backend.
func TestUnboundedRing(t *testing.T) {
	bs := equalBackends(4)
	p := mustNew(t, RingHash, bs, Options{LoadFactor: math.Inf(1)})
	own := p.Pick(12345, nil)
	for range 100 {
		b := p.Pick(12345, nil)
		if b != own {
			t.Fatalf("unbounded ring moved the hot key from %s to %s", own.Name, b.Name)
		}
		b.Begin()
	}
}

// TestMaglevSmallTable: a tiny prime table still works and fills every entry.
func TestMaglevSmallTable(t *testing.T) {
	for _, size := range []int{2, 3, 7, 13} {
		bs := makeBackends(1, 3, 2)
		p := mustNew(t, Maglev, bs, Options{TableSize: size}).(*maglev)
		for i, o := range p.table {
			if o < 0 || int(o) >= len(bs) {
				t.Fatalf("size %d: entry %d is %d", size, i, o)
			}
		}
	}
}

// TestRingCapped: huge weights scale every backend's points down to the cap
// rather than building a ring of millions of points.
func TestRingCapped(t *testing.T) {
	bs := makeBackends(MaxWeight, MaxWeight, MaxWeight, MaxWeight, MaxWeight, 1)
	p := mustNew(t, RingHash, bs, Options{RingSize: MaxRingSize}).(*ringHash)
	if len(p.points) > maxRingPoints+len(bs) {
		t.Fatalf("ring has %d points, the cap is %d", len(p.points), maxRingPoints)
	}
	if p.Pick(1, nil) == nil {
		t.Fatal("Pick = nil")
	}
}

// TestRingLookup: the slot index finds the same point as a binary search of
// the ring, for random keys and keys on and beside the points.
func TestRingLookup(t *testing.T) {
	rnd := rand.New(rand.NewPCG(testSeed(t), 9))
	for _, ws := range [][]int{{1}, {1, 2}, {3, 1, 4, 1, 5}, {100, 200}} {
		bs := makeBackends(ws...)
		p := mustNew(t, RingHash, bs, Options{LoadFactor: math.Inf(1)}).(*ringHash)
		keys := []uint64{0, math.MaxUint64}
		for range 2000 {
			keys = append(keys, rnd.Uint64())
		}
		for _, pt := range p.points[:min(len(p.points), 500)] {
			keys = append(keys, pt-1, pt, pt+1)
		}
		for _, key := range keys {
			k, _ := slices.BinarySearch(p.points, key)
			if k == len(p.points) {
				k = 0
			}
			if got, want := p.Pick(key, nil), bs[p.owners[k]]; got.Name != want.Name {
				// bs is in name order, as the ring's backends are here.
				t.Fatalf("weights %v: key %#x went to %s, the ring's next point belongs to %s", ws, key, got.Name, want.Name)
			}
		}
	}
}
