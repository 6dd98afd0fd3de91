package client

import (
	"context"
	"sync"
)

// flightGroup runs at most one call of a function per key at a time: callers
// that ask for a key while its call is in flight wait for that call's result
// instead of starting their own. The zero value is ready to use.
//
// The call runs in a goroutine of its own, under a context that keeps the
// first caller's values but not its cancellation: each caller waits only as
// long as its own context allows, and the call is canceled when every caller
// has stopped waiting (or when the owner's context ends).
type flightGroup[T any] struct {
	mu    sync.Mutex // protects calls
	calls map[string]*flight[T]

	// joined, if set (by tests), is called whenever a caller starts waiting
	// for an in-flight call, after it is counted.
	joined func(key string)
}

// flight is one in-flight call.
type flight[T any] struct {
	done    chan struct{} // closed when val and err are set
	val     T
	err     error
	waiters int // guarded by flightGroup.mu
	cancel  context.CancelFunc
}

// do returns the result of fn for key, from a call in flight or a new one,
// and whether the result was shared with other callers. fn is started with
// start, which runs it in a goroutine owned by the caller's owner and returns
// false once that owner is closing; then do returns errClosed. owner ends the
// calls it starts.
func (g *flightGroup[T]) do(ctx context.Context, owner context.Context, key string, start func(func()) bool,
	errClosed error, fn func(context.Context) (T, error)) (v T, shared bool, err error) {
	g.mu.Lock()
	if g.calls == nil {
		g.calls = map[string]*flight[T]{}
	}
	f, ok := g.calls[key]
	if ok {
		f.waiters++
		joined := g.joined
		g.mu.Unlock()
		if joined != nil {
			joined(key)
		}
		return g.wait(ctx, key, f, true)
	}
	callCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(owner, cancel)
	f = &flight[T]{done: make(chan struct{}), waiters: 1, cancel: cancel}
	g.calls[key] = f
	g.mu.Unlock()

	started := start(func() {
		defer stop()
		defer cancel()
		val, err := fn(callCtx)
		g.mu.Lock()
		if g.calls[key] == f {
			delete(g.calls, key)
		}
		g.mu.Unlock()
		f.val, f.err = val, err
		close(f.done)
	})
	if !started {
		stop()
		cancel()
		g.mu.Lock()
		delete(g.calls, key)
		g.mu.Unlock()
		var zero T
		f.err = errClosed
		close(f.done)
		return zero, false, errClosed
	}
	return g.wait(ctx, key, f, false)
}

// wait waits for f or for ctx; the last waiter to give up cancels the call.
func (g *flightGroup[T]) wait(ctx context.Context, key string, f *flight[T], shared bool) (T, bool, error) {
	select {
	case <-f.done:
		return f.val, shared || f.sharedLocked(g), f.err
	case <-ctx.Done():
	}
	g.mu.Lock()
	f.waiters--
	last := f.waiters == 0
	if last && g.calls[key] == f {
		// Nobody wants the result: forget the call so that a new caller starts a
		// fresh one rather than joining a canceled one.
		delete(g.calls, key)
	}
	g.mu.Unlock()
	if last {
		f.cancel()
	}
	var zero T
	return zero, shared, ctx.Err()
}

// sharedLocked reports whether other callers waited for f.
func (f *flight[T]) sharedLocked(g *flightGroup[T]) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return f.waiters > 1
}
