// Package edge is the CDN edge role of gatewayd (`cairn gatewayd --role
// edge`): an HTTP(S) server answering from an RFC 9111 cache
// (gatewayd/httpcache over the memory and disk tiers of
// gatewayd/httpcache/cachestore) in front of an origin — blobd, whose
// object /<bucket>/<key> is served with its stored Cache-Control and
// Surrogate-Key, or any HTTP origin (package origin).
//
// A request goes through, in order: the per-IP request limit and the edge
// rules (deny list, redirects, rewrites, normalisation, A/B buckets: package
// rules), the image transform parameters (package imageopt), then the
// cache under the key path?query (plus the A/B buckets). A miss goes
// through the shield tier: the edge owning the URL (rendezvous hash over
// the edges, package origin) fetches from the origin, so the origin sees one
// request per object; image transforms and compression (package compress)
// apply to what comes back, and the cache keeps one variant per encoding.
// An attack detector (package protect) watching origin fetches switches the
// cache to serving stale content while the origin is overwhelmed.
//
// Purges travel through raftkv (package purge): every edge watches the
// purge records, applies each, acknowledges it, and catches up after a
// restart from the last one it applied. The admin API
// (cairn.edge.v1.EdgeService) reports statistics, inspects cached variants
// and publishes purges. With a DNS address the node also answers the CDN
// hostname with the edge nearest to the client (package geodns).
package edge
