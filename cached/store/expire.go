package store

import "time"

// Active expiry parameters; see the package doc.
const (
	expiryInterval = 100 * time.Millisecond
	expiryBatch    = 20
	expiryRounds   = 16 // batches per shard per cycle at most
	expiryBudget   = 25 * time.Millisecond
)

// run is the active-expiry goroutine started by New and stopped by Close.
func (s *Store) run() {
	defer s.wg.Done()
	t := time.NewTicker(expiryInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.tick()
		}
	}
}

// tick refreshes the coarse LFU clock and runs one active-expiry cycle. It
// may run concurrently with any other method (tests call it directly).
func (s *Store) tick() {
	s.period.Store(s.periodOf(s.nowNano()))
	s.expireCycle(expiryBudget)
}

// expireCycle visits every shard once, starting where the previous cycle
// stopped, and returns the number of keys it expired. It stops early when
// budget (real time, since it bounds CPU use) runs out.
func (s *Store) expireCycle(budget time.Duration) int {
	start := time.Now()
	first := int(s.expiryNext.Load())
	total := 0
	for i := range s.shards {
		idx := (first + i) & int(s.mask)
		total += s.expireShard(&s.shards[idx])
		if time.Since(start) > budget {
			s.expiryNext.Store(uint64(idx + 1))
			return total
		}
	}
	return total
}

// expireShard examines sh's keys with a TTL expiryBatch at a time, from a
// cursor that persists across cycles, and continues while more than a
// quarter of a batch had expired.
func (s *Store) expireShard(sh *shard) int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	total := 0
	for range expiryRounds {
		if len(sh.ttl) == 0 {
			break
		}
		now := s.nowNano()
		batch := min(expiryBatch, len(sh.ttl))
		expired := 0
		for range batch {
			if len(sh.ttl) == 0 {
				break
			}
			if sh.cur >= len(sh.ttl) {
				sh.cur = 0
			}
			e := sh.ttl[sh.cur]
			if e.expiredAt(now) {
				s.remove(sh, e) // moves the last ttl entry to sh.cur
				sh.expirations++
				s.notify(ChangeExpire, e)
				expired++
			} else {
				sh.cur++
			}
		}
		total += expired
		if expired*4 <= batch {
			break
		}
	}
	return total
}
