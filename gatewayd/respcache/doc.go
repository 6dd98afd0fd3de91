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
// Vary: an entry remembers the values of the headers its response's Vary
// names, as the storing request sent them; a request with other values
// misses. A key holds one variant at a time, the last stored.
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
// # Goroutines
//
// A Cache owns the goroutines of its asynchronous Store writes; Close
// waits for them. Every method is safe for concurrent use.
package respcache
