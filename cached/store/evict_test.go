package store

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// itemCost is the charge of a key/value pair of these lengths.
func itemCost(k, v int) int64 { return int64(k+v) + ItemOverhead }

func TestLRUEvictsLeastRecentlyUsed(t *testing.T) {
	// One shard: one clock; room for exactly 4 items of k?/8 bytes.
	s := newStore(t, Config{Shards: 1, MaxBytes: 4 * itemCost(2, 8)})
	v := make([]byte, 8)
	for _, k := range []string{"k1", "k2", "k3", "k4"} {
		_, err := s.Set(k, v, SetOptions{})
		require.NoError(t, err)
	}
	s.Get("k1") // k2 is now the least recently used
	_, err := s.Set("k5", v, SetOptions{})
	require.NoError(t, err)
	require.Equal(t, 0, s.Exists("k2"))
	require.Equal(t, 4, s.Exists("k1", "k3", "k4", "k5"))
	_, err = s.Set("k3", v, SetOptions{}) // a write is a use too
	require.NoError(t, err)
	_, err = s.Set("k6", v, SetOptions{})
	require.NoError(t, err)
	require.Equal(t, 0, s.Exists("k4"))
	require.Equal(t, int64(2), s.Stats().Evictions)
	checkInvariants(t, s)
}

// TestLRUClockKeepsItsOrderThroughCompaction deletes most of a full shard,
// which compacts the clock, and checks that the hand goes on where it was:
// the next victims are the oldest unused entries after the last one evicted.
func TestLRUClockKeepsItsOrderThroughCompaction(t *testing.T) {
	s := newStore(t, Config{Shards: 1, MaxBytes: 100 * itemCost(4, 8)})
	v := make([]byte, 8)
	set := func(k string) {
		t.Helper()
		_, err := s.Set(k, v, SetOptions{})
		require.NoError(t, err)
	}
	for i := range 100 {
		set(fmt.Sprintf("k%03d", i))
	}
	set("x000") // evicts k000; x000 takes its slot, behind the hand
	require.Equal(t, 0, s.Exists("k000"))
	for i := 10; i < 90; i++ {
		s.Delete(fmt.Sprintf("k%03d", i))
	}
	require.Less(t, len(s.shards[0].clock), 100, "the clock was compacted")
	checkInvariants(t, s)
	for i := range 80 {
		set(fmt.Sprintf("n%03d", i))
	}
	s.Get("k001") // a second chance
	set("x001")
	set("x002")
	require.Equal(t, 0, s.Exists("k002", "k003"))
	require.Equal(t, 1, s.Exists("k001"))
	require.Equal(t, 1, s.Exists("x000"), "the entry behind the hand is looked at last")
	require.Equal(t, 6, s.Exists("k004", "k005", "k006", "k007", "k008", "k009"))
	require.Equal(t, int64(3), s.Stats().Evictions)
	checkInvariants(t, s)
}

// TestLRUClockBoundsItsSearch uses every entry of a shard, so that no entry
// has a clear bit: the search clears clockMaxClears bits and then takes the
// entry under the hand rather than sweep the whole shard.
func TestLRUClockBoundsItsSearch(t *testing.T) {
	const n = clockMaxClears + 100
	s := newStore(t, Config{Shards: 1, MaxBytes: n * itemCost(4, 8)})
	v := make([]byte, 8)
	for i := range n {
		_, err := s.Set(fmt.Sprintf("k%03d", i), v, SetOptions{})
		require.NoError(t, err)
	}
	for i := range n {
		s.Get(fmt.Sprintf("k%03d", i))
	}
	_, err := s.Set("x000", v, SetOptions{})
	require.NoError(t, err)
	require.Equal(t, 0, s.Exists(fmt.Sprintf("k%03d", clockMaxClears)))
	require.Equal(t, int64(1), s.Stats().Evictions)
	checkInvariants(t, s)
}

func TestEvictionNeverEvictsTheKeyBeingWritten(t *testing.T) {
	s := newStore(t, Config{Shards: 1, MaxBytes: 2 * itemCost(1, 10)})
	_, err := s.Set("a", make([]byte, 10), SetOptions{})
	require.NoError(t, err)
	_, err = s.Set("b", make([]byte, 10), SetOptions{})
	require.NoError(t, err)
	s.Get("b")
	// Growing a (the LRU victim candidate) must evict b, not a itself.
	_, err = s.Append("a", make([]byte, 5))
	require.NoError(t, err)
	require.Equal(t, 1, s.Exists("a"))
	require.Equal(t, 0, s.Exists("b"))
	// Larger than the whole limit: refused, and nothing is lost for it.
	_, err = s.Set("a", make([]byte, 200+ItemOverhead), SetOptions{})
	require.ErrorIs(t, err, ErrOutOfMemory)
	require.Equal(t, 1, s.Exists("a"))
	checkInvariants(t, s)
}

func TestNoEviction(t *testing.T) {
	s := newStore(t, Config{Shards: 4, MaxBytes: 3 * itemCost(2, 10), Policy: PolicyNoEviction})
	for _, k := range []string{"k1", "k2", "k3"} {
		_, err := s.Set(k, make([]byte, 10), SetOptions{})
		require.NoError(t, err)
	}
	tests := []struct {
		name    string
		op      func() error
		wantErr error
	}{
		{"new key", func() error { _, err := s.Set("k4", make([]byte, 10), SetOptions{}); return err }, ErrOutOfMemory},
		{"grow", func() error { _, err := s.Append("k1", []byte("x")); return err }, ErrOutOfMemory},
		{"incr new", func() error { _, err := s.IncrBy("n", 1); return err }, ErrOutOfMemory},
		{"same size overwrite", func() error { _, err := s.Set("k1", make([]byte, 10), SetOptions{}); return err }, nil},
		{"shrink", func() error { _, err := s.Set("k2", make([]byte, 1), SetOptions{}); return err }, nil},
		{"fits after shrink", func() error { _, err := s.Set("k2", make([]byte, 10), SetOptions{}); return err }, nil},
	}
	for _, tt := range tests {
		err := tt.op()
		if tt.wantErr == nil {
			require.NoError(t, err, tt.name)
		} else {
			require.ErrorIs(t, err, tt.wantErr, tt.name)
		}
	}
	s.Delete("k3")
	_, err := s.Set("k4", make([]byte, 10), SetOptions{})
	require.NoError(t, err)
	require.Zero(t, s.Stats().Evictions)
	checkInvariants(t, s)
}

// TestEvictAcrossShards fills one shard and then writes to another, which
// has nothing of its own to evict.
func TestEvictAcrossShards(t *testing.T) {
	s := newStore(t, Config{Shards: 2, MaxBytes: 10 * itemCost(4, 100)})
	keysIn := func(shard int) []string {
		var out []string
		for i := 0; len(out) < 20; i++ {
			k := fmt.Sprintf("k%03d", i)
			if sh, _ := s.shardFor(k); sh == &s.shards[shard] {
				out = append(out, k)
			}
		}
		return out
	}
	for _, k := range keysIn(0)[:10] {
		_, err := s.Set(k, make([]byte, 100), SetOptions{})
		require.NoError(t, err)
	}
	for _, k := range keysIn(1)[:5] {
		_, err := s.Set(k, make([]byte, 100), SetOptions{})
		require.NoError(t, err)
	}
	require.Equal(t, int64(5), s.Stats().Evictions)
	require.Equal(t, 10, s.Len())
	checkInvariants(t, s)
}

func TestLFUKeepsFrequentKeys(t *testing.T) {
	clk := newFakeClock()
	const capacity = 200
	s := newStore(t, Config{Shards: 1, MaxBytes: capacity * itemCost(6, 10), Policy: PolicyLFU, Clock: clk.Now})
	v := make([]byte, 10)
	// 20 of 200 slots are hot: a sample of 5 is all hot (and so evicts a
	// hot key) with probability 1e-5, so about 0.05 of 5000 evictions do.
	hot := make([]string, 20)
	for i := range hot {
		hot[i] = fmt.Sprintf("h%05d", i)
		_, err := s.Set(hot[i], v, SetOptions{})
		require.NoError(t, err)
		for range 20 {
			s.Get(hot[i])
		}
	}
	// A scan of cold keys, each written once: LRU would flush the hot set.
	for i := range 5000 {
		_, err := s.Set(fmt.Sprintf("c%05d", i), v, SetOptions{})
		require.NoError(t, err)
	}
	kept := s.Exists(hot...)
	t.Logf("hot keys kept: %d/%d", kept, len(hot))
	require.GreaterOrEqual(t, kept, 18)

	// After long idleness the counters decay and hot keys become evictable.
	clk.Advance(30 * lfuDecayPeriod)
	s.tick()
	for i := range 5000 {
		_, err := s.Set(fmt.Sprintf("d%05d", i), v, SetOptions{})
		require.NoError(t, err)
		s.Get(fmt.Sprintf("d%05d", i))
	}
	require.Less(t, s.Exists(hot...), 4)
	checkInvariants(t, s)
}

func TestLFUCounter(t *testing.T) {
	e := &entry{freq: lfuInitial}
	for range 100 {
		lfuTouch(e, 0)
	}
	require.Greater(t, e.freq, uint8(lfuInitial), "counter grows")
	require.Less(t, e.freq, uint8(30), "counter grows logarithmically")
	f := e.freq
	require.Equal(t, f-3, lfuDecayed(e, 3), "one per period")
	require.Equal(t, uint8(0), lfuDecayed(e, 1000), "saturates at 0")
	e.freq = 255
	lfuTouch(e, 0)
	require.Equal(t, uint8(255), e.freq, "saturates at 255")
}

// TestMemoryLimitUnderWriteFlood writes from many goroutines with mixed
// sizes and policies while a monitor samples usage: neither the enforced
// counter nor Stats().Bytes ever exceeds MaxBytes.
func TestMemoryLimitUnderWriteFlood(t *testing.T) {
	seed := seedFor(t)
	for _, policy := range []Policy{PolicyLRU, PolicyLFU, PolicyNoEviction} {
		t.Run(policy.String(), func(t *testing.T) {
			const maxItem = 4096
			cfg := Config{Shards: 8, MaxBytes: 256 << 10, MaxItemBytes: maxItem, Policy: policy}
			s := newStore(t, cfg)
			var stop atomic.Bool
			var maxUsed, maxStats atomic.Int64
			var monitor sync.WaitGroup
			monitor.Go(func() {
				for !stop.Load() {
					if u := s.used.Load(); u > maxUsed.Load() {
						maxUsed.Store(u)
					}
					if b := s.Stats().Bytes; b > maxStats.Load() {
						maxStats.Store(b)
					}
					runtime.Gosched()
				}
			})
			var writers sync.WaitGroup
			var ooms atomic.Int64
			for w := range 8 {
				writers.Go(func() {
					r := newRand(seed + uint64(w))
					for range 5000 {
						k := fmt.Sprint("k", r.IntN(2000))
						var err error
						switch r.IntN(4) {
						case 0:
							_, err = s.Append(k, make([]byte, r.IntN(256)))
						case 1:
							s.Delete(k)
						default:
							_, err = s.Set(k, make([]byte, r.IntN(maxItem-8)), SetOptions{})
						}
						if err == ErrOutOfMemory {
							ooms.Add(1)
						} else if err != nil && !errors.Is(err, ErrTooLarge) {
							t.Error(err)
							return
						}
					}
				})
			}
			writers.Wait()
			stop.Store(true)
			monitor.Wait()
			st := s.Stats()
			t.Logf("max used %d, max Stats.Bytes %d, limit %d; evictions %d, OOMs %d",
				maxUsed.Load(), maxStats.Load(), cfg.MaxBytes, st.Evictions, ooms.Load())
			require.LessOrEqual(t, maxUsed.Load(), cfg.MaxBytes)
			require.LessOrEqual(t, maxStats.Load(), cfg.MaxBytes)
			require.LessOrEqual(t, st.Bytes, cfg.MaxBytes)
			if policy != PolicyNoEviction {
				require.Positive(t, st.Evictions)
				require.Zero(t, ooms.Load(), "evicting policies never refuse an item that fits")
			}
			checkInvariants(t, s)
		})
	}
}

// TestItemOverhead measures the heap cost of an item (16-byte key, 100-byte
// value) and checks ItemOverhead is within 25% of what is really spent
// beyond len(key)+len(value).
func TestItemOverhead(t *testing.T) {
	const n = 100000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("key:%012d", i) // 16 bytes: the store keeps a copy inside the entry
	}
	val := make([]byte, 100)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := newStore(t, Config{})
	for _, k := range keys {
		_, err := s.Set(k, val, SetOptions{})
		require.NoError(t, err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perItem := float64(after.HeapAlloc-before.HeapAlloc) / n
	overhead := perItem - 116
	t.Logf("heap per item %.0f bytes, overhead beyond key+value %.0f (ItemOverhead = %d)", perItem, overhead, ItemOverhead)
	require.InDelta(t, ItemOverhead, overhead, ItemOverhead/4)
	runtime.KeepAlive(s)
	runtime.KeepAlive(keys)
}

func TestConcurrentMixedOps(t *testing.T) {
	seed := seedFor(t)
	clk := newFakeClock()
	s := newStore(t, Config{Shards: 4, MaxBytes: 64 << 10, Policy: PolicyLFU, Clock: clk.Now})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			r := newRand(seed + uint64(w))
			for range 3000 {
				k := fmt.Sprint("k", r.IntN(300))
				switch r.IntN(10) {
				case 0:
					s.Set(k, make([]byte, r.IntN(200)), SetOptions{TTL: time.Duration(r.IntN(3)) * time.Second})
				case 1:
					s.IncrBy(k, 1)
				case 2:
					s.Append(k, []byte("ab"))
				case 3:
					s.Expire(k, time.Duration(r.IntN(3))*time.Second)
				case 4:
					s.GetDel(k)
				case 5:
					clk.Advance(100 * time.Millisecond)
					s.tick()
				case 6:
					s.Range(func(string, Item) bool { return r.IntN(10) != 0 })
				case 7:
					s.Stats()
				default:
					if it, ok, _ := s.Get(k); ok {
						_ = append([]byte(nil), it.Value...) // read the bytes: -race checks immutability
					}
				}
			}
		})
	}
	wg.Wait()
	checkInvariants(t, s)
}
