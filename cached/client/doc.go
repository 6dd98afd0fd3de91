// Package client is the Go client of cached, cairn's consistent-hashed
// in-memory cache, and the caching patterns built on it: cache-aside with
// request coalescing (GetOrLoad), write-through (WriteThrough), write-behind
// (WriteBehind) and a near cache kept coherent by invalidation streams
// (NearCache).
//
// # Routing
//
// New fetches the ring (RingService.Ring) from any configured endpoint and
// builds the same cached/ring the nodes use, from the members and vnodes the
// node reported, so that client and nodes agree on every key's owner. Each
// call goes straight to the owner over one gRPC connection per member (a
// smart client: no forwarding hop). The ring is fetched again every
// Config.RefreshInterval and as soon as a call finds a node unreachable; a
// ring with a lower epoch than the current one is ignored.
//
// # Failures
//
// A cache miss is always safe, so reads never fail because a node is down:
// Get, GetItem and MGet ask the owner, then the next replicas in ring order
// (ring.Owners(key, replicas), replicas as the cluster reports it) and, if
// none answers within RequestTimeout, report a miss. With one replica (the
// default) a down owner's keys are misses until the ring drops it. Reads do
// return the caller's context error, ErrClosed, and errors a node answered
// with (an oversized key, say).
//
// Writes (Set, Delete, Touch, IncrBy) go to the owner only and are never
// retried: if it is unreachable the error matches ErrUnavailable and the
// write may or may not have been applied. A write that loses its race with a
// ring change may land on the old owner and be invisible to readers of the
// new one; caches tolerate that because every value can be recomputed.
//
// Errors wrap the gRPC status of a node's answer: status.Code(err) sees it.
//
// # Goroutines
//
// A Client owns a ring refresher and the loads of GetOrLoad; Close stops and
// waits for them. NearCache and WriteBehind own their goroutines and must be
// closed before the Client they use.
//
// # Example
//
//	c, err := client.New(client.Config{Endpoints: []string{"127.0.0.1:7200"}})
//	if err != nil { ... }
//	defer c.Close()
//	_, err = c.Set(ctx, "user:123", []byte(`{"name":"John"}`), client.WithTTL(time.Hour))
//	val, ok, err := c.Get(ctx, "user:123")
//	val, err = c.GetOrLoad(ctx, "user:124", time.Hour, func(ctx context.Context) ([]byte, error) {
//		return db.LoadUser(ctx, 124)
//	})
package client
