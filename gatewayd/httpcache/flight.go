package httpcache

import (
	"time"
)

// hitForPassTTL is how long a variant whose response was uncacheable is
// fetched by each request on its own, without coalescing.
const hitForPassTTL = 10 * time.Second

// maxHitForPass bounds the hit-for-pass memory.
const maxHitForPass = 100000

// flight is one origin fetch (miss or revalidation) for a variant that
// other requests for it wait on.
type flight struct {
	done chan struct{}
	// Set by the leader before done is closed:
	stored bool   // the response was stored (or a 304 refreshed it) under id
	id     string // the variant id the response was stored under
	failed bool   // the origin failed (error or 5xx): followers apply stale-if-error
}

// join returns the flight for id, and whether the caller leads it (it must
// then call land). Followers wait on f.done.
func (c *Cache) join(id string) (f *flight, leader bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.flights[id]; f != nil {
		return f, false
	}
	f = &flight{done: make(chan struct{})}
	c.flights[id] = f
	return f, true
}

// tryLead starts a flight for id unless one is running.
func (c *Cache) tryLead(id string) (*flight, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.flights[id] != nil {
		return nil, false
	}
	f := &flight{done: make(chan struct{})}
	c.flights[id] = f
	return f, true
}

// land ends a flight and wakes its followers.
func (c *Cache) land(id string, f *flight) {
	c.mu.Lock()
	if c.flights[id] == f {
		delete(c.flights, id)
	}
	c.mu.Unlock()
	close(f.done)
}

// markPass remembers that id's response was uncacheable.
func (c *Cache) markPass(id string) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.hitForPass) >= maxHitForPass {
		for k, until := range c.hitForPass {
			if !now.Before(until) {
				delete(c.hitForPass, k)
			}
		}
		if len(c.hitForPass) >= maxHitForPass {
			clear(c.hitForPass)
		}
	}
	c.hitForPass[id] = now.Add(hitForPassTTL)
}

// isPass reports whether id is in hit-for-pass.
func (c *Cache) isPass(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	until, ok := c.hitForPass[id]
	if ok && !c.now().Before(until) {
		delete(c.hitForPass, id)
		return false
	}
	return ok
}

func (c *Cache) clearPass(id string) {
	c.mu.Lock()
	delete(c.hitForPass, id)
	c.mu.Unlock()
}
