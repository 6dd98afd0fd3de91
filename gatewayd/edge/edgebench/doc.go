// Package edgebench benchmarks HTTP caches (cairn's edge and the caching
// proxies it is compared with) with a fixed origin and a seeded, skewed
// workload.
//
// The origin (StartOrigin) serves N deterministic objects. An object is
// named by its path: /<size in bytes>/<id>, optionally behind any prefix
// ("/r3/1024/17" is object 17 of 1 KiB), so a run can use a key space no
// cache has seen yet by changing the prefix. Every answer carries
// Cache-Control: public, max-age=<MaxAge>, a strong ETag and a fixed
// Last-Modified; If-None-Match answers 304. The origin counts what it
// serves; GET /stats returns the counts as JSON (OriginStats).
//
// The load generator (Run) keeps Concurrency workers busy, each on its own
// keep-alive connection to one of the targets, for Warmup (not measured)
// and then Duration. Each request picks an object rank from a Zipf
// distribution with exponent Zipf over Objects objects (rank 0 the most
// popular), from a per-worker generator seeded by Seed, and the object's
// size from the size mix (a fixed function of the object, so an object
// always has the same size). A 200 is a hit when the cache says so:
// X-Cache starting with HIT or STALE, an RFC 9211 Cache-Status with "hit",
// or an Age above 0. With OriginStats set, the origin's request count
// during the measured phase gives a second hit ratio that needs no header.
// Storm mode instead sends Concurrency requests for one cold object at
// once, to count how many reach the origin (request coalescing).
//
//	o, _ := edgebench.StartOrigin("127.0.0.1:0", edgebench.DefaultOriginConfig())
//	cfg := edgebench.DefaultConfig()
//	cfg.Targets = []string{"http://127.0.0.1:6081"}
//	cfg.OriginStats = "http://" + o.Addr() + "/stats"
//	res, err := edgebench.Run(ctx, cfg)
package edgebench
