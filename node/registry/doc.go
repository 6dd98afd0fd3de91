// Package registry is cairn's service registry on raftkv: a running instance
// of a service advertises itself under a lease, and clients (gatewayd's
// upstream pools, lbd's backends) watch the service's instances, so
// membership changes need no configuration reload.
//
// An instance is the key <prefix><service>/<id> (prefix DefaultPrefix by
// default) holding the JSON Entry {"address":"host:port","weight":n}, written
// under a lease that the registering process keeps alive: when the process
// dies, the lease expires and the key with it.
//
// Use:
//
//	// the instance
//	deregister, err := registry.Register(ctx, kv, "", "orders", "orders-1", "10.0.0.7:8080", 1, 10*time.Second)
//	...
//	defer deregister() // revokes the lease: the entry is gone at once
//
//	// a client
//	res := registry.NewResolver(kv, "", logger)
//	stop := res.Watch(ctx, "orders", func(list []registry.Instance) {
//		// the full, current list, sorted by ID, after every change
//	})
//	defer stop()
//
// Consumers depend on the Watcher interface; Static is a fixed table for
// tests and setups without raftkv.
package registry
