// Package lbchaos holds the chaos scenario of lbd, the load balancer. The
// Traffic workload runs three HTTP backends in the test process
// (backend-1..3, each logging every request it receives), registers them
// in the cluster's raftkv registry, and rewrites the cluster's lb file so
// that the lbd pair balances them as one pool (HTTP health checks every
// 500 ms, fall 2, rise 2; 2 retries; outlier ejection after 3 failures).
// Clients send idempotent GETs, fast ones and 1.2 s slow ones, through
// the virtual address for the whole run, while the workload kills one
// backend (listener and connections closed), pauses one (it takes
// requests and answers none), slows one (400 ms) and drains one through
// the admin API while slow requests to it are in flight, and the nemesis
// kills the active lbd node. A monitor records every node's role and the
// pool's health and lease counters every 100 ms. The checkers:
//
//   - NoDeadBackendChecker: after the fall bound no client request reaches a
//     killed or paused backend and no lbd node leases it, until it is
//     healed; it gets traffic again soon after;
//   - DrainChecker: the requests in flight to a drained backend complete;
//     after a margin for raftkv's watch none reaches it until it is enabled;
//   - NoErrorChecker: every GET is answered 200 except within a takeover
//     window (in flight at the active node's kill, or sent before the other
//     node served);
//   - TakeoverChecker: after each kill of the active node the other one
//     reports "active" and serves within ha_ttl + 2 s, measured and logged.
package lbchaos
