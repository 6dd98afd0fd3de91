package registry

import (
	"cmp"
	"context"
	"slices"
)

// Watcher turns a service name into its current instances.
type Watcher interface {
	// Watch calls fn with the full instance list of service, sorted by ID,
	// now (or as soon as it is known) and again after every change, from one
	// goroutine at a time, until stop is called or ctx ends. fn owns the
	// slice it is given; it must not block for long and must not call stop.
	// stop ends the watch and returns once fn is no longer running and will
	// not be called again; it may be called more than once.
	Watch(ctx context.Context, service string, fn func([]Instance)) (stop func())
}

// Static is a fixed service → instances table, for tests and for setups
// without a registry. An unknown service resolves to no instances.
type Static map[string][]Instance

// Watch calls fn once, before it returns, with a copy of the service's
// instances sorted by ID; the list never changes, so stop does nothing.
func (s Static) Watch(_ context.Context, service string, fn func([]Instance)) (stop func()) {
	list := slices.Clone(s[service])
	sortByID(list)
	fn(list)
	return func() {}
}

// sortByID sorts list by ID, keeping the given order among equal IDs.
func sortByID(list []Instance) {
	slices.SortStableFunc(list, func(a, b Instance) int { return cmp.Compare(a.ID, b.ID) })
}
