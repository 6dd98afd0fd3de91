package upstream

import "errors"

// Sentinel errors; match them with errors.Is.
var (
	// ErrNoTargets is returned by Pick when the pool has no target that may
	// receive a request: the list is empty (a service with no registered
	// instance, or a resolver that has not answered yet).
	ErrNoTargets = errors.New("upstream: no targets available")
	// ErrCircuitOpen is returned by Pick while the breaker is open, and while
	// it is half-open with every probe already admitted.
	ErrCircuitOpen = errors.New("upstream: circuit open")
	// ErrClosed is returned by Pick after Close.
	ErrClosed = errors.New("upstream: pool closed")
	// ErrInvalidSpec is returned by New for an upstream spec it cannot run
	// (unknown balance, neither targets nor service, a service without a
	// resolver); the error wraps it with the detail.
	ErrInvalidSpec = errors.New("upstream: invalid upstream spec")
)
