package httpcache

import "sync"

// minSweep is the index size below which it is never swept.
const minSweep = 4096

// sweeper bounds the index: the storage evicts without telling the engine,
// so ids it no longer holds are dropped by a sweep (a Storage.Range) once
// the index has grown to twice what the last sweep found alive.
type sweeper struct {
	mu      sync.Mutex // held during a sweep
	trigger int        // the index size that starts the next sweep (read under mu)
}

// indexAdd indexes a stored variant and starts a background sweep when
// the index outgrew the storage.
func (c *Cache) indexAdd(id string, m *meta) {
	c.idx.add(id, m)
	n, _ := c.idx.size()
	if n < minSweep || !c.sweep.mu.TryLock() {
		return
	}
	if n < c.sweep.trigger || !c.goBackground(func() {
		defer c.sweep.mu.Unlock()
		c.sweepIndex()
	}) {
		c.sweep.mu.Unlock()
	}
}

// sweepIndex drops the ids the storage no longer holds; c.sweep.mu is held.
func (c *Cache) sweepIndex() {
	_, before := c.idx.size()
	live := map[string]struct{}{}
	c.store.Range(func(id string, _ []byte) bool {
		live[id] = struct{}{}
		return true
	})
	c.idx.retain(live, before)
	c.sweep.trigger = max(2*len(live), minSweep)
}
