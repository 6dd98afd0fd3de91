package upstream

import (
	"context"
	"slices"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// Resolver turns a service name into its current targets.
type Resolver interface {
	// Watch calls fn with the full target list of service now (or as soon as
	// it is known) and again after every change, from one goroutine at a
	// time, until stop is called or ctx ends. fn must not block for long and
	// must not call stop. stop ends the watch and returns once fn is no
	// longer running and will not be called again; it may be called more
	// than once.
	Watch(ctx context.Context, service string, fn func([]gwconfig.Target)) (stop func())
}

// StaticResolver is a fixed service → targets table, for tests and for
// setups without a registry. An unknown service resolves to no targets.
type StaticResolver map[string][]gwconfig.Target

// Watch calls fn once, before it returns, with a copy of the service's
// targets; the list never changes, so stop does nothing.
func (s StaticResolver) Watch(_ context.Context, service string, fn func([]gwconfig.Target)) (stop func()) {
	fn(slices.Clone(s[service]))
	return func() {}
}
