// Package respcache is the gateway's response cache: a shared HTTP cache
// (RFC 9111) in two tiers, a bounded in-memory LRU on each gateway node in
// front of a Store shared by all of them (CachedStore keeps entries in
// cached under "gw:rc:<key>").
//
// The gateway uses it per cacheable route:
//
//	key := respcache.Key(route.Name, r, route.Cache)
//	if e, ok := c.Lookup(ctx, key, r); ok {
//		e.Serve(w, r) // status, headers, Age, X-Cache: HIT, Cache-Status, body
//		return
//	}
//	e, ran, err := c.Do(ctx, key, r, func() *respcache.Entry {
//		rec := c.NewRecorder(w, int64(route.Cache.MaxBody))
//		var ttl time.Duration
//		var ok bool
//		... proxy to rec; in ModifyResponse: ttl, ok = respcache.Storable(r, resp, route.Cache)
//		if !ok || failed { return nil }
//		return rec.Finish(ctx, key, r, resp.StatusCode, resp.Header, ttl)
//	})
//	// ran: this request was answered by fn. Otherwise serve e if non-nil,
//	// else forward on its own (the first request stored nothing usable).
//
// # Semantics
//
// Storable decides what a shared cache may keep and for how long (see its
// doc). Lookup is bypassed by a request's Cache-Control no-cache or
// max-age=0 (and Pragma: no-cache); a request max-age=N accepts only
// entries at most N seconds old. Entries are never revalidated: a stale
// entry is a miss. HEAD requests share GET's entries (Key maps HEAD to
// GET; Serve writes no body for HEAD); only GET responses are stored.
//
// A hit answers a conditional request (If-None-Match against the entry's
// ETag, else If-Modified-Since against its Last-Modified) with 304. The
// Recorder marks misses with X-Cache: MISS and Cache-Status fwd=uri-miss.
//
// Vary: an entry remembers the values of the headers its response's Vary
// names, as the storing request sent them; a request with other values
// misses. A key holds one variant at a time, the last stored, so requests
// alternating between variants would keep replacing each other: list the
// headers an upstream varies on (Accept-Encoding, say) in the route's
// key_headers to give each variant its own key.
//
// # Tiers
//
// Lookup tries the local LRU, then the Store (bounded by
// Config.StoreTimeout; a Store error or timeout is a miss, logged). An
// entry found in the Store is kept locally for the rest of its lifetime.
// Finish stores locally at once and in the Store asynchronously (bounded
// in number and time; failures are logged and never reach the client).
// Entries are encoded in a compact versioned binary form (EncodeEntry,
// DecodeEntry); an entry of another version is a miss.
//
// Ages and lifetimes are measured on the clock of the node that stored an
// entry (StoredAt travels with it): clock skew between gateway nodes
// lengthens or shortens a shared entry's life by the skew.
//
// # Metrics
//
// Stats returns the counters; RegisterMetrics exports them to Prometheus
// as cairn_gateway_cache_*.
//
// # Goroutines
//
// A Cache owns the goroutines of its asynchronous Store writes; Close
// waits for them. Every method is safe for concurrent use.
package respcache
