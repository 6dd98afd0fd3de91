// Package edgechaos holds the chaos scenario of the CDN edge (`cairn
// gatewayd --role edge`). The Traffic workload runs the edges' HTTP origin
// in the test process (the scenario points every edge at it with
// --origin), sends GETs through all three edges, and publishes purges
// through the edges' admin API (cairn.edge.v1 PurgeAll) after bumping the
// purged objects' versions at the origin. It breaks its own origin on a
// fixed share of the fault phase — slowed by added latency, then killed
// (listener closed: connections refused) — while the nemesis SIGKILLs and
// restarts edge nodes, purges in flight included. After the load it waits
// until every edge has applied the last purge (GetStats.last_purge) and
// reads every purged object through every edge.
//
// The origin serves three families of objects:
//
//   - /sie/<i>: `Cache-Control: public, max-age=1, stale-if-error=60`,
//     fixed content; the edges run with --grace 1s, so that the response's
//     own stale-if-error window, not the edge's grace, keeps them served;
//   - /priv/<i> (`private, max-age=60`) and /nostore/<i> (`no-store`):
//     a body naming the client (X-Client) and the request (X-Request-Id)
//     it answers;
//   - /pv/g<g>/<i>: `public, max-age=3600`, Surrogate-Key `grp-g<g>
//     obj-g<g>-<i>`, a body holding the object's version; some are 96 KiB
//     (above the memory tier's largest object with --cache-memory 1MiB:
//     they live in the disk tier and survive a restart), some 2 KiB.
//
// The checkers judge the history:
//
//   - StaleIfErrorChecker: while the origin is down, every edge that
//     served a /sie object before the origin died and has not restarted
//     since answers it 200 with its content;
//   - PrivacyChecker: no 200 answer to a private or no-store URL names
//     another client or another request (a shared cache stored it);
//   - PurgeChecker: once a purge was acknowledged (PurgeAll returned with
//     no edge pending), an edge known to have applied it (named applied by
//     that purge or a later acknowledged one) never serves a version older
//     than the one the purge was published for; at the end every edge has
//     caught up with the last purge and serves the latest version of every
//     object.
package edgechaos
