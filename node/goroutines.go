package node

import "sync"

// Goroutines runs goroutines owned by a server, so that its stop can wait for
// all of them: Go starts one unless Close was called, Wait returns once every
// goroutine Go started has returned. The zero value is ready to use; methods
// are safe for concurrent use. The goroutines themselves must return when
// their owner stops (a closed channel or cancelled context the owner holds).
type Goroutines struct {
	mu     sync.Mutex // protects closed and wg.Add
	closed bool
	wg     sync.WaitGroup
}

// Go runs f in a new goroutine and reports true, or, after Close, runs nothing
// and reports false.
func (g *Goroutines) Go(f func()) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		f()
	}()
	return true
}

// Close makes later calls of Go refuse. It does not wait; see Wait.
func (g *Goroutines) Close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// Wait waits for every goroutine started by Go.
func (g *Goroutines) Wait() { g.wg.Wait() }
