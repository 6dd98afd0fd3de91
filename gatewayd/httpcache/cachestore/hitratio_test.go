package cachestore

import (
	clist "container/list"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// zipf draws ranks 0..n-1 with P(k) ∝ 1/(k+1)^s for any s > 0 (the
// standard library's rand.Zipf needs s > 1).
type zipf struct {
	cdf []float64
	rng *rand.Rand
}

func newZipf(rng *rand.Rand, n int, s float64) *zipf {
	cdf := make([]float64, n)
	sum := 0.0
	for k := range n {
		sum += 1 / math.Pow(float64(k+1), s)
		cdf[k] = sum
	}
	for k := range cdf {
		cdf[k] /= sum
	}
	return &zipf{cdf: cdf, rng: rng}
}

func (z *zipf) next() int { return min(sort.SearchFloat64s(z.cdf, z.rng.Float64()), len(z.cdf)-1) }

// workload is a request trace over keys with per-key body sizes.
type workload struct {
	ids   []string
	sizes []int64
	trace []int32
}

// newWorkload draws a trace of m requests over n keys; the key ranks are
// shuffled so that popularity is unrelated to the id; body sizes are
// uniform in [minSize, maxSize].
func newWorkload(seed uint64, n, m int, s float64, minSize, maxSize int64) *workload {
	rng := rand.New(rand.NewPCG(seed, seed^0xdecafbad))
	w := &workload{ids: make([]string, n), sizes: make([]int64, n), trace: make([]int32, m)}
	perm := rng.Perm(n)
	for i := range n {
		w.ids[i] = fmt.Sprintf("https://cdn.example.test/assets/%d", perm[i])
		w.sizes[i] = minSize + rng.Int64N(maxSize-minSize+1)
	}
	z := newZipf(rng, n, s)
	for i := range w.trace {
		w.trace[i] = int32(z.next())
	}
	return w
}

// totalBytes is what all keys cost in memory.
func (w *workload) totalBytes() int64 {
	var t int64
	for i, id := range w.ids {
		t += memCost(id, nil, w.sizes[i])
	}
	return t
}

// hitRatioStore replays w against a memory-only Store of budget bytes, as
// the engine would: Get, and on a miss Create/Write/Commit.
func hitRatioStore(tb testing.TB, w *workload, budget int64, seed uint64) float64 {
	s, err := Open(Options{MemoryBytes: budget, Seed: seed})
	require.NoError(tb, err)
	defer s.Close()
	zeros := make([]byte, 1<<20)
	hits := 0
	for _, k := range w.trace {
		id := w.ids[k]
		if _, b, ok := s.Get(id); ok {
			b.Close()
			hits++
			continue
		}
		wr, err := s.Create(id, nil, w.sizes[k])
		if err != nil {
			continue
		}
		wr.Write(zeros[:w.sizes[k]])
		wr.Commit() // ErrNotAdmitted is a normal outcome
	}
	require.LessOrEqual(tb, s.Usage().MemoryBytes, budget)
	return float64(hits) / float64(len(w.trace))
}

// hitRatioLRU replays w against a plain byte-bounded LRU charging the same
// costs.
func hitRatioLRU(w *workload, budget int64) float64 {
	type item struct {
		key  int32
		cost int64
	}
	l := clist.New()
	idx := map[int32]*clist.Element{}
	var used int64
	hits := 0
	for _, k := range w.trace {
		if el, ok := idx[k]; ok {
			l.MoveToFront(el)
			hits++
			continue
		}
		cost := memCost(w.ids[k], nil, w.sizes[k])
		if cost > budget/16 { // the Store's default MaxMemoryObject
			continue
		}
		idx[k] = l.PushFront(item{k, cost})
		used += cost
		for used > budget {
			el := l.Back()
			it := el.Value.(item)
			l.Remove(el)
			delete(idx, it.key)
			used -= it.cost
		}
	}
	return float64(hits) / float64(len(w.trace))
}

// TestHitRatioTinyLFUvsLRU replays seeded Zipf traces over 100k keys and
// compares the Store's hit ratio with a plain LRU's at the same budgets.
func TestHitRatioTinyLFUvsLRU(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	requests := 300_000
	if raceEnabled {
		requests = 60_000
	}
	for _, s := range []float64{0.9, 1.0} {
		w := newWorkload(seed, 100_000, requests, s, 256, 4096)
		for _, frac := range []float64{0.005, 0.02} {
			budget := int64(float64(w.totalBytes()) * frac)
			tiny := hitRatioStore(t, w, budget, seed)
			lru := hitRatioLRU(w, budget)
			t.Logf("zipf s=%.1f keys=100000 requests=%d budget=%d bytes (%.1f%% of the key set): W-TinyLFU hit ratio %.4f, LRU %.4f",
				s, requests, budget, frac*100, tiny, lru)
			require.GreaterOrEqual(t, tiny, lru, "s=%.1f budget %.1f%%", s, frac*100)
		}
	}
}

// BenchmarkHitRatio reports both hit ratios on a 1M-request trace (metrics
// tinylfu-hit% and lru-hit%).
func BenchmarkHitRatio(b *testing.B) {
	for _, s := range []float64{0.9, 1.0} {
		b.Run(fmt.Sprintf("zipf%.1f", s), func(b *testing.B) {
			w := newWorkload(42, 100_000, 1_000_000, s, 256, 4096)
			budget := w.totalBytes() / 100
			var tiny, lru float64
			for b.Loop() {
				tiny = hitRatioStore(b, w, budget, 42)
				lru = hitRatioLRU(w, budget)
			}
			b.ReportMetric(tiny*100, "tinylfu-hit%")
			b.ReportMetric(lru*100, "lru-hit%")
		})
	}
}

// TestScanResistance: a scan of one-hit wonders does not flush a hot set
// (an LRU of the same size would lose all of it).
func TestScanResistance(t *testing.T) {
	s := openStore(t, Options{MemoryBytes: 256 << 10})
	body := make([]byte, 1000)
	hot := make([]string, 150) // ~175 KiB of the 256 KiB
	for i := range hot {
		hot[i] = fmt.Sprint("hot-", i)
	}
	for range 5 {
		for _, id := range hot {
			if _, b, ok := s.Get(id); ok {
				b.Close()
				continue
			}
			put(s, id, "", body)
		}
	}
	for i := range 20_000 {
		id := fmt.Sprint("scan-", i)
		if _, _, ok := s.Get(id); !ok {
			put(s, id, "", body)
		}
	}
	kept := 0
	for _, id := range hot {
		if _, b, ok := s.Get(id); ok {
			b.Close()
			kept++
		}
	}
	u := s.Usage()
	t.Logf("hot objects kept after the scan: %d of %d; usage %+v", kept, len(hot), u)
	require.GreaterOrEqual(t, kept, len(hot)*95/100)
	require.Greater(t, u.Rejected, int64(15_000))
}
