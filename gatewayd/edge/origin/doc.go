// Package origin is where an edge node gets what its cache misses: an
// Origin (blobd through its gRPC client, or any HTTP server) and the
// shield tier in front of it.
//
// # Origins
//
// An Origin has the shape of httpcache.Fetch: Fetch(ctx, r) returns the
// origin's answer to r, whose body the caller reads and closes. Blob
// serves /<bucket>/<key> from blobd as an HTTP server would (GET, HEAD, a
// single Range, conditional requests, the object's stored headers, its
// user metadata "surrogate-key" as Surrogate-Key); HTTP forwards to a base
// URL through node/httpproxy's Transport.
//
// # Shield
//
// Without a shield every edge node that misses an object asks the origin
// for it. A Shield makes one node, the key's owner, responsible for each
// object: the owner is chosen by rendezvous (highest random weight)
// hashing of the request's key over the node names, so when a node joins
// or leaves only the keys it gains or loses move. A node that misses sends
// the request to the owner's HTTP address with the header
//
//	Cairn-Shield: <this node's name>
//
// and the owner answers from its own cache, fetching from the origin
// itself on a miss (IsShieldHop tells its handler, and its Shield, that
// the request must not be forwarded again). The origin thus sees about one
// request per object however many edges miss it.
//
// An owner that cannot be reached, or that answers 502, 503 or 504 of its
// own (not one it relays from the origin, which it marks with the header
// Cairn-Shield-Owner), is ejected for a while — EjectBase after its first
// failure, doubling with each failure in a row up to EjectMax — and the
// requests it owns go straight to the origin meanwhile. After the
// ejection, the next request tries the owner again; a success clears its
// record.
//
// A typical edge handler:
//
//	sh, err := origin.NewShield("edge-1", nodes, origin.NewBlob(bc), tlsConf, origin.ShieldOptions{})
//	...
//	http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		cache.Serve(w, r, key, sh.Fetch) // a hop is fetched from the origin, never forwarded
//	})
package origin
