package respcache

import (
	"context"
	"net/http"
)

// flight is one in-progress miss.
type flight struct {
	done chan struct{} // closed when fn returned (or panicked)
	e    *Entry        // fn's result; read after done
}

// Do coalesces concurrent misses for key on this node. The first caller
// runs fn, which answers its own request (typically through a Recorder)
// and returns the entry it stored or nil; Do then returns (that entry,
// true, nil). A caller arriving while fn runs waits for it and returns
// (entry, false, nil) when the entry may answer r (serve it with
// Entry.Serve), or (nil, false, nil) when the first request stored nothing
// usable for r — forward r on its own then. If ctx ends first it returns
// ctx's error. A panic in fn (net/http's ErrAbortHandler, say) releases
// the waiters with nil before propagating.
func (c *Cache) Do(ctx context.Context, key string, r *http.Request, fn func() *Entry) (*Entry, bool, error) {
	c.flightMu.Lock()
	if f, ok := c.flights[key]; ok {
		c.flightMu.Unlock()
		c.stats.coalesced.Add(1)
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
		_, maxAge := requestBypass(r.Header)
		if f.e != nil && f.e.usable(r, c.now(), maxAge) {
			return f.e, false, nil
		}
		return nil, false, nil
	}
	f := &flight{done: make(chan struct{})}
	c.flights[key] = f
	c.flightMu.Unlock()
	defer func() {
		c.flightMu.Lock()
		delete(c.flights, key)
		c.flightMu.Unlock()
		close(f.done)
	}()
	f.e = fn()
	return f.e, true, nil
}
