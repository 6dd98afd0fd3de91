// Package upstream chooses which target of an upstream receives a request and
// keeps the upstream's health: a Pool per configured upstream balances
// requests over its targets (smooth weighted round robin, power-of-two-choices
// least request, or weighted random), stops traffic to the whole upstream with
// a circuit breaker, and ejects single failing targets for a while (outlier
// detection).
//
// Use:
//
//	pool, err := upstream.New(spec, upstream.Options{Resolver: res, Logger: log})
//	...
//	target, release, err := pool.Pick("")
//	switch {
//	case errors.Is(err, upstream.ErrCircuitOpen), errors.Is(err, upstream.ErrNoTargets):
//		// answer with the route's fallback
//	}
//	outcome := proxy(target.Address)
//	release(upstream.Result{Kind: kindOf(outcome), Latency: outcome.Duration})
//
// Every Pick that returns a release function must be followed by exactly one
// call of it, whatever became of the request: it returns the target's
// in-flight slot and feeds the breaker and the outlier detector.
//
// Targets come from the upstream's static list or, for an upstream that names
// a service, from Options.Resolver, a registry.Watcher that calls the pool
// back with the full instance list on every change (registry.Resolver watches
// the raftkv registry, so membership changes need no configuration reload;
// instances advertise themselves with registry.Register).
//
// Time comes from Options.Now and randomness from Options.Rand, so tests drive
// the breaker and the ejections with a fake clock and replay random choices
// from a seed.
package upstream
