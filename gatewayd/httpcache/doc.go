// Package httpcache is the CDN edge's HTTP cache engine: a shared cache
// (RFC 9111, with RFC 5861 stale-while-revalidate and stale-if-error,
// RFC 9213 CDN-Cache-Control, Surrogate-Control and Surrogate-Key, RFC 9211
// Cache-Status) over a Storage that keeps its objects (package cachestore:
// memory and disk tiers).
//
// Use (Serve writes the whole answer; fetch is the origin or shield):
//
//	c, err := httpcache.New(httpcache.Options{Storage: store, Name: "edge-1"})
//	...
//	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
//		c.Serve(w, r, r.URL.RequestURI(), origin.Fetch)
//	})
//	defer c.Close()
//
// # What is stored
//
// GET responses (a HEAD miss fetches the GET) with a status in 200..599
// other than 206 and 304, unless the request says no-store, or the response
// says no-store (Cache-Control or Surrogate-Control) or private, carries
// Set-Cookie (never stored: a shared cache must not replay one user's
// cookie to another), has Vary: *, answers a request with Authorization
// without public, s-maxage or must-revalidate, or is larger than
// Options.MaxObjectBytes. It needs a freshness lifetime, explicit or
// heuristic (Last-Modified, for heuristically cacheable statuses or
// public), and either a lifetime above zero, a validator (ETag,
// Last-Modified) or a stale-* window. Uncacheable responses put their
// variant in "hit-for-pass" for a short while: requests then fetch on their
// own, without waiting on each other.
//
// # Freshness
//
// CDN-Cache-Control, when present, replaces Cache-Control entirely (RFC
// 9213); otherwise Surrogate-Control max-age (stripped downstream) comes
// first, then s-maxage, max-age, Expires - Date, and the heuristic
// (Options.HeuristicFraction of Date - Last-Modified, at most
// Options.HeuristicMax). Age follows RFC 9111 §4.2.3. A response with
// no-cache is stored and revalidated on every use; must-revalidate,
// proxy-revalidate and s-maxage (which implies proxy-revalidate for a
// shared cache) forbid serving it stale: an origin failure then answers 504.
//
// Request directives: no-cache, max-age=0 and Pragma: no-cache revalidate;
// max-age=N, min-fresh=N and max-stale[=N] constrain what is served;
// only-if-cached answers 504 when nothing usable is stored; no-store keeps
// the response out of the cache.
//
// Stale entries: within a response's stale-while-revalidate window one is
// served at once and revalidated once in the background; on an origin
// error (a failed fetch, or 500/502/503/504) it is served within its
// stale-if-error window or Options.Grace. In under-attack mode
// (SetUnderAttack) stale entries within Grace are served without fetching.
// A soft purge marks entries stale from that instant.
//
// # Coalescing
//
// Concurrent misses (and revalidations) of one variant make one fetch: the
// first request leads it, its response streams to its client while it is
// written to the storage, and the others wait for the commit and are
// answered from the stored object (HIT, Cache-Status "collapsed"). When the
// response is not storable the waiters fetch on their own and the variant
// is "hit-for-pass" for 10 s (requests fetch without waiting on each
// other; a cacheable response found meanwhile is stored again). When the
// origin fails (a transport error, or an uncacheable 500/502/503/504) the
// waiters do not ask it again: they get the stale entry when allowed, else
// 502 (504 for an entry that must be revalidated). Requests with no-store or
// Authorization never lead nor join a fetch. Fetches of GET and HEAD are
// sent as GET without the client's conditionals and Range (the cache
// answers those itself from the full response), with Accept-Encoding set to
// the coding the variant is normalised to.
//
// # Variants, purges, restart
//
// A key holds one variant per combination of the values of the headers its
// response's Vary names (normalised: names case-insensitive, values trimmed
// and whitespace-collapsed, Accept-Encoding reduced to the best of br,
// zstd, gzip, identity the client accepts). The storage id of a variant is
// the key, a NUL byte, and a hash of the Vary values. Surrogate-Key tags
// are stored with the response and stripped downstream unless the request
// carries Cairn-Debug: 1. Purges remove (or soft-mark) by key, key prefix
// or tag through indexes that New rebuilds from Storage.Range, so a disk
// tier that survived a restart is purgeable at once.
//
// The storage evicts without telling the engine; the index forgets what it
// evicted in a background sweep (a Storage.Range) whenever it has grown to
// twice what the previous sweep found, so it stays bounded by the storage.
//
// Metadata is encoded in a versioned binary layout (meta.go); New deletes
// objects whose metadata it cannot read.
package httpcache
