// Package ratelimit is gatewayd's rate limiter: token buckets per policy and
// key, counted on each gateway node (local policies) or shared by all nodes
// through cached (global policies), and the RateLimit-* and Retry-After
// response fields.
//
// # Use
//
//	l := ratelimit.New(ratelimit.Config{
//		Store: ratelimit.CachedStore{Client: cachedClient}, // nil: no sharing
//		Nodes: liveGatewayNodes,
//	})
//	defer l.Close()
//	d := l.Allow(ctx, ratelimit.Policy{ID: "kv#0", Limit: 10, Per: time.Minute, Global: true}, consumer)
//	ratelimit.SetHeaders(w.Header(), d)
//	if !d.Allowed { /* 429 */ }
//
// # Buckets
//
// Every bucket is kept in the GCRA form: one number, the theoretical arrival
// time (TAT) at which the bucket is full again. A policy of Limit per Per
// with burst B refills one token every Per/Limit (rounded up to the
// nanosecond, so never faster) and holds at most B. Decisions are a function
// of the sequence of Allow calls and the readings of Config.Now (read once
// per call), so tests drive them with a fake clock.
//
// Local buckets live in a sharded table bounded by Config.MaxKeys: looking up
// an existing key takes one shard lock and allocates nothing; a new key in a
// full shard evicts the least recently used bucket; full buckets at the cold
// end are dropped as traffic passes (a full bucket and an absent one are the
// same, so that loses nothing).
//
// Global buckets live in the store under "gw:rl:<policy id>:<key>" and are
// changed only by compare-and-set (cached: GetItem, then Set with IfVersion
// or IfAbsent, with a TTL that ends once the bucket would be full). A node
// does not ask the store per request: it leases
// n = max(1, min(B/4, available/(2·nodes))) tokens with one write and spends
// them locally for at most Config.LeaseLife; tokens left when a lease expires
// are given back with the key's next lease, and Close gives back all leases.
// Only a request that finds its lease empty waits on the store (concurrent
// ones on a node share one lease request), for at most Config.LeaseTimeout.
// A lease that finds the shared bucket empty makes the node deny the key
// locally until the bucket holds a token again.
//
// When the store does not answer (an error, or LeaseTimeout) the node decides
// global policies by a local bucket of its share, Limit/nodes per Per with
// burst B/nodes, for Config.StoreBackoff before trying the store again, and
// logs that at most once a minute.
//
// # Error bound
//
// With r = Limit/Per, B the burst and a run that starts with the key's
// shared bucket full (or absent) at t0, while the store holds the key and
// answers, all gateway nodes together admit at most
//
//	B + r·(t − t0)
//
// requests for the key by any time t. Over an arbitrary window of length w
// the bound is B + r·(w + LeaseLife): tokens leased before the window may be
// spent early in it. Then, case by case:
//
//   - a gateway node that dies (or is killed without Close) strands its
//     unspent leases, at most max(1, B/4) tokens per key: under-admission
//     only, the bound holds;
//   - a give-back or lease write whose outcome is unknown is not retried:
//     under-admission only;
//   - the shared key lost (its cached node died, or it was evicted) restarts
//     the bucket full: over-admission of at most B, once per loss;
//   - gateway clocks that differ by δ add at most r·δ;
//   - while the store is unreachable, each node admits at most
//     B/nodes + (r/nodes)·w in a window w (both rounded down, but never
//     below one token: with Limit or B below the node count the total may
//     exceed the bound by that rounding): the total holds the bound as long
//     as Nodes() counts the live nodes, plus the leases outstanding when the
//     store went away (at most max(1, B/4) per node); a node cut off from a
//     store the others still reach over-admits by its share.
//
// A local policy admits at most B + r·w per node in any window w; evicting a
// bucket that was not full (more than MaxKeys keys active at once) forgets
// it: over-admission of at most B for that key.
//
// # Concurrency
//
// A Limiter is safe for concurrent use and starts no goroutine; Close gives
// leases back and is the owner's to call once it no longer calls Allow.
package ratelimit
