package origin

import (
	"sync"
	"time"
)

// ejector remembers which shield nodes failed: a node that failed n times
// in a row is ejected for base·2^(n-1), at most max, from its last failure.
// It is safe for concurrent use.
type ejector struct {
	base, max time.Duration
	now       func() time.Time

	mu    sync.Mutex // protects nodes
	nodes map[string]*ejection
}

// ejection is one node's record of failures.
type ejection struct {
	fails int       // failures in a row
	until time.Time // ejected before this instant
}

func newEjector(base, max time.Duration, now func() time.Time) *ejector {
	return &ejector{base: base, max: max, now: now, nodes: map[string]*ejection{}}
}

// down reports whether name is ejected now.
func (e *ejector) down(name string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.nodes[name]
	return ok && e.now().Before(x.until)
}

// fail records a failure of name and returns how long it is ejected.
func (e *ejector) fail(name string) time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.nodes[name]
	if !ok {
		x = &ejection{}
		e.nodes[name] = x
	}
	x.fails++
	d := e.base
	for i := 1; i < x.fails && d < e.max; i++ {
		d *= 2
	}
	d = min(d, e.max)
	x.until = e.now().Add(d)
	return d
}

// ok records a success of name: its failures are forgotten.
func (e *ejector) ok(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.nodes, name)
}

// keep forgets every node not in names (nodes that left).
func (e *ejector) keep(names map[string]bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for n := range e.nodes {
		if !names[n] {
			delete(e.nodes, n)
		}
	}
}

// ejected returns the nodes ejected now and until when.
func (e *ejector) ejected() map[string]time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	out := map[string]time.Time{}
	for n, x := range e.nodes {
		if now.Before(x.until) {
			out[n] = x.until
		}
	}
	return out
}
