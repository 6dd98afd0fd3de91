package balance

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func TestRoundRobinIgnoresWeights(t *testing.T) {
	bs := makeBackends(5, 1, 1)
	p := mustNew(t, RoundRobin, bs, Options{})
	var seq []string
	for range 6 {
		seq = append(seq, p.Pick(0, nil).Name)
	}
	want := []string{"b0", "b1", "b2", "b0", "b1", "b2"}
	for i := range want {
		if seq[i] != want[i] {
			t.Fatalf("sequence %v, want %v", seq, want)
		}
	}
}

func TestSmoothWRR(t *testing.T) {
	bs := makeBackends(5, 1, 1)
	p := mustNew(t, WeightedRoundRobin, bs, Options{})
	const cycles = 1000
	c := map[string]int{}
	run, maxRun := 0, 0
	var prev string
	for i := range 7 * cycles {
		name := p.Pick(0, nil).Name
		c[name]++
		if name == prev {
			run++
		} else {
			run = 1
		}
		prev = name
		maxRun = max(maxRun, run)
		if (i+1)%7 == 0 { // every cycle hands out exactly the weights
			if c["b0"] != 5*(i+1)/7 || c["b1"] != (i+1)/7 || c["b2"] != (i+1)/7 {
				t.Fatalf("after %d picks: %v, want 5:1:1 exactly", i+1, c)
			}
		}
	}
	if maxRun >= 5 {
		t.Errorf("weights 5,1,1 gave a run of %d of b0; smooth WRR interleaves", maxRun)
	}
}

func TestSmoothWRRRandomWeights(t *testing.T) {
	rnd := rand.New(rand.NewPCG(testSeed(t), 2))
	ws := make([]int, 2+rnd.IntN(8))
	total := 0
	for i := range ws {
		ws[i] = 1 + rnd.IntN(20)
		total += ws[i]
	}
	bs := makeBackends(ws...)
	p := mustNew(t, WeightedRoundRobin, bs, Options{})
	c := counts(t, p, nil, 3*total)
	for i, b := range bs {
		if c[b.Name] != 3*ws[i] {
			t.Errorf("weights %v: %s picked %d times in 3 cycles, want %d", ws, b.Name, c[b.Name], 3*ws[i])
		}
	}
}

// TestWeightSnapshot: weighted round robin keeps the weights it was built
// with; a picker built afterwards sees the new ones.
func TestWeightSnapshot(t *testing.T) {
	bs := makeBackends(1, 1)
	p := mustNew(t, WeightedRoundRobin, bs, Options{})
	bs[0].SetWeight(3)
	if c := counts(t, p, nil, 100); c["b0"] != 50 {
		t.Errorf("old picker after SetWeight: %v, want 50:50", c)
	}
	p = mustNew(t, WeightedRoundRobin, bs, Options{})
	if c := counts(t, p, nil, 100); c["b0"] != 75 {
		t.Errorf("new picker after SetWeight: %v, want 75:25", c)
	}
}

func TestRandomDistribution(t *testing.T) {
	seed := testSeed(t)
	for _, alg := range []Algorithm{Random, PowerOfTwo} { // p2c with nothing in flight: the first draw wins
		bs := makeBackends(1, 2, 3, 4)
		p := mustNew(t, alg, bs, Options{Seed: seed})
		checkShares(t, bs, counts(t, p, nil, 100000), 0.05)
	}
}

// TestLoadAwareDistribution: when every pick stays in flight, the load-aware
// algorithms spread it by weight.
func TestLoadAwareDistribution(t *testing.T) {
	seed := testSeed(t)
	for _, alg := range []Algorithm{LeastConn, LeastTime} {
		bs := makeBackends(3, 1, 2)
		for _, b := range bs {
			b.End(time.Millisecond) // equal latencies
		}
		p := mustNew(t, alg, bs, Options{Seed: seed})
		for range 600 {
			p.Pick(0, nil).Begin()
		}
		for i, want := range []int64{300, 100, 200} {
			if got := bs[i].Inflight(); got < want-1 || got > want+1 {
				t.Errorf("%s: %s (weight %d) has %d in flight, want %d±1", alg, bs[i].Name, bs[i].Weight(), got, want)
			}
		}
	}
}

func TestLeastConnTiesRotate(t *testing.T) {
	bs := makeBackends(1, 1, 1)
	p := mustNew(t, LeastConn, bs, Options{})
	c := counts(t, p, nil, 300)
	for _, b := range bs {
		if c[b.Name] != 100 {
			t.Errorf("idle backends: %v, want 100 each", c)
		}
	}
}

func TestLeastConnPrefersIdle(t *testing.T) {
	bs := makeBackends(1, 1, 1)
	bs[0].Begin()
	bs[2].Begin()
	p := mustNew(t, LeastConn, bs, Options{})
	for range 10 {
		if b := p.Pick(0, nil); b != bs[1] {
			t.Fatalf("picked %s, want the idle b1", b.Name)
		}
	}
	// Per unit of weight: 4 in flight at weight 8 beats 1 at weight 1.
	bs = makeBackends(8, 1)
	for range 4 {
		bs[0].Begin()
	}
	bs[1].Begin()
	p = mustNew(t, LeastConn, bs, Options{})
	if b := p.Pick(0, nil); b != bs[0] {
		t.Fatalf("picked %s, want b0 (4/8 < 1/1)", b.Name)
	}
	// Weights are read live.
	bs[0].SetWeight(2)
	if b := p.Pick(0, nil); b != bs[1] {
		t.Fatalf("after SetWeight(2): picked %s, want b1 (1/1 < 4/2)", b.Name)
	}
}

func TestP2CPrefersIdle(t *testing.T) {
	bs := makeBackends(1, 1, 1)
	for range 50 {
		bs[0].Begin()
	}
	p := mustNew(t, PowerOfTwo, bs, Options{Seed: testSeed(t)})
	c := counts(t, p, nil, 3000)
	// b0 is one of two distinct draws and always loses.
	if c["b0"] != 0 {
		t.Errorf("busy b0 was picked %d times of 3000: %v", c["b0"], c)
	}
	if c["b1"] < 1200 || c["b2"] < 1200 {
		t.Errorf("idle backends should share the picks: %v", c)
	}
}

func TestLeastTime(t *testing.T) {
	bs := makeBackends(1, 1, 1)
	bs[0].End(10 * time.Millisecond)
	bs[1].End(time.Millisecond)
	p := mustNew(t, LeastTime, bs, Options{})
	if b := p.Pick(0, nil); b != bs[2] {
		t.Fatalf("picked %s, want the unmeasured b2 first", b.Name)
	}
	bs[2].End(5 * time.Millisecond)
	for range 10 {
		if b := p.Pick(0, nil); b != bs[1] {
			t.Fatalf("picked %s, want the fast b1", b.Name)
		}
	}
	// In flight counts: (1ms+ε)·21 > (5ms+ε)·1.
	for range 20 {
		bs[1].Begin()
	}
	if b := p.Pick(0, nil); b != bs[2] {
		t.Fatalf("picked %s, want b2 once the fast b1 has 20 in flight", b.Name)
	}
	// An unmeasured backend that already has work is scored with the mean
	// latency of the others, not tried again and again.
	fresh := NewBackend("fresh", "x:1", 1)
	for range 5 {
		fresh.Begin()
	}
	p = mustNew(t, LeastTime, append(bs, fresh), Options{})
	if b := p.Pick(0, nil); b != bs[2] {
		t.Fatalf("picked %s, want b2 over an unmeasured backend with 5 in flight", b.Name)
	}
	// With nothing measured, in flight per weight decides.
	a, b := NewBackend("a", "x:1", 1), NewBackend("b", "x:2", 1)
	a.Begin()
	a.Begin()
	b.Begin()
	p = mustNew(t, LeastTime, []*Backend{a, b}, Options{})
	if got := p.Pick(0, nil); got != b {
		t.Fatalf("nothing measured: picked %s, want b (1 in flight vs 2)", got.Name)
	}
}

// TestSkip: every algorithm honours skip: nil when all are rejected, the one
// left when all but one are, never a rejected one.
func TestSkip(t *testing.T) {
	seed := testSeed(t)
	rnd := rand.New(rand.NewPCG(seed, 3))
	keys := randomKeys(rnd, 200)
	for _, alg := range allAlgorithms {
		bs := makeBackends(1, 2, 3, 4, 5)
		p := mustNew(t, alg, bs, Options{Seed: seed})
		all := func(*Backend) bool { return true }
		for _, k := range keys {
			if b := p.Pick(k, all); b != nil {
				t.Fatalf("%s: everything skipped, Pick = %s", alg, b.Name)
			}
		}
		for _, keep := range bs {
			others := func(b *Backend) bool { return b != keep }
			for _, k := range keys {
				if b := p.Pick(k, others); b != keep {
					t.Fatalf("%s: only %s accepted, Pick = %v", alg, keep.Name, b)
				}
			}
		}
		for range 50 {
			rejected := map[*Backend]bool{}
			for _, b := range bs {
				rejected[b] = rnd.IntN(2) == 0
			}
			rejected[bs[rnd.IntN(len(bs))]] = false
			skip := func(b *Backend) bool { return rejected[b] }
			for _, k := range keys {
				b := p.Pick(k, skip)
				if b == nil || rejected[b] {
					t.Fatalf("%s: Pick = %v with rejected %v", alg, b, rejected)
				}
				if alg.Hashing() {
					// A key whose own backend is accepted stays on it.
					if own := p.Pick(k, nil); !rejected[own] && b != own {
						t.Fatalf("%s: key %#x moved from %s to %s though %s was not skipped", alg, k, own.Name, b.Name, own.Name)
					}
				}
			}
		}
	}
}

// TestSkipSpreadsHashing: a skipped backend's keys spread over the others
// rather than all landing on one neighbour.
func TestSkipSpreadsHashing(t *testing.T) {
	keys := randomKeys(rand.New(rand.NewPCG(testSeed(t), 4)), 20000)
	for _, alg := range []Algorithm{RingHash, Maglev} {
		bs := equalBackends(5)
		p := mustNew(t, alg, bs, Options{})
		skip := func(b *Backend) bool { return b == bs[0] }
		c := map[string]int{}
		for _, k := range keys {
			if p.Pick(k, nil) == bs[0] {
				c[p.Pick(k, skip).Name]++
			}
		}
		for _, b := range bs[1:] {
			if c[b.Name] == 0 {
				t.Errorf("%s: none of b0's keys went to %s when b0 was skipped: %v", alg, b.Name, c)
			}
		}
	}
}

func TestPickDoesNotAllocate(t *testing.T) {
	for _, alg := range allAlgorithms {
		bs := makeBackends(1, 2, 3, 4, 5, 6, 7, 8)
		for _, b := range bs {
			b.Begin() // ring_hash sums in-flight counts only for a busy backend
			b.End(time.Millisecond)
			b.Begin()
		}
		p := mustNew(t, alg, bs, Options{Seed: 1})
		skip := func(b *Backend) bool { return b == bs[3] || b == bs[5] }
		key := uint64(0)
		allocs := testing.AllocsPerRun(1000, func() {
			key += golden
			p.Pick(key, nil)
			p.Pick(key, skip)
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per Pick", alg, allocs/2)
		}
	}
}

// TestConcurrentPick runs picks, Begin/End and SetWeight at once on every
// algorithm (run with -race).
func TestConcurrentPick(t *testing.T) {
	seed := testSeed(t)
	for _, alg := range allAlgorithms {
		bs := makeBackends(1, 2, 3, 4)
		p := mustNew(t, alg, bs, Options{Seed: seed})
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				rnd := rand.New(rand.NewPCG(seed, uint64(g)))
				for i := range 2000 {
					var skip func(*Backend) bool
					if i%3 == 0 {
						skip = func(b *Backend) bool { return b == bs[0] }
					}
					b := p.Pick(rnd.Uint64(), skip)
					if b == nil {
						t.Errorf("%s: Pick = nil", alg)
						return
					}
					b.Begin()
					b.End(time.Duration(1 + rnd.IntN(1000)))
				}
			})
		}
		wg.Go(func() {
			for i := range 2000 {
				bs[i%4].SetWeight(1 + i%10)
			}
		})
		wg.Wait()
		for _, b := range bs {
			if n := b.Inflight(); n != 0 {
				t.Errorf("%s: %s has %d in flight after every End", alg, b.Name, n)
			}
		}
	}
}
