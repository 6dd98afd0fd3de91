// Package cachebench is the engine of `cairn bench cache`: a closed-loop load
// generator for cached that goes through the smart client (cached/client), so
// every request reaches its key's owner directly.
//
// Scenarios:
//
//   - set: every request writes a key.
//   - get: the key space is preloaded, then every request reads (Batch keys
//     per MGet when Batch > 1).
//   - aside: cache-aside, the workload of a real cache: every request reads a
//     key and, on a miss, writes it (as if loaded from a database). With a
//     Zipf key distribution and a memory limit on the nodes, the hit ratio
//     measures how well eviction keeps the hot keys.
//
// Keys are drawn uniformly, or from a Zipf distribution with exponent Zipf
// (> 1; math/rand/v2's Zipf) over Keys keys. Latencies are kept per client
// and merged for exact percentiles. Target chooses the protocol: the smart
// gRPC client (TargetCached), or plain RESP to one server (TargetRESP), so the
// same workload runs against cached and redis-server. At the end of a
// TargetCached run the nodes' counters (memory, evictions) are read with
// Stats.
//
//	cfg := cachebench.DefaultConfig()
//	cfg.Endpoints = []string{"127.0.0.1:7200"}
//	res, err := cachebench.Run(ctx, cfg)
//	cachebench.WriteTable(os.Stdout, res)
package cachebench
