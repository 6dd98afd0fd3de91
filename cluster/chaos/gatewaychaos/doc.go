// Package gatewaychaos holds the chaos scenarios of gatewayd. The Traffic
// workload runs three upstream HTTP servers in the test process, applies a
// gateway configuration that routes to them (and a new version of it every
// couple of seconds, under load), and sends requests through every gateway
// node while it breaks its own upstreams on a seeded schedule — one target
// answering 500s, one slowed by a fault proxy, then all of them killed —
// and the nemesis kills gateway nodes. The checkers then judge, from the
// clients' history and the upstreams' request logs:
//
//   - EjectionChecker: once a target fails, each gateway node stops sending
//     it requests after the outlier rule's consecutive failures (plus the
//     requests already in flight) until its ejection ends;
//   - BreakerChecker: with every target down the circuit opens (fast
//     fallback answers that reach no upstream) and it closes again within
//     open_for and a margin once they are back;
//   - RateLimitChecker: a global limit shared through cached admits no more
//     than burst + rate × elapsed over the whole run, gateway kills
//     included, and not far below it;
//   - NoDropChecker: every request to a gateway node that stayed up got an
//     answer its upstreams' state explains — configuration changes drop
//     none — and every node ends on the last configuration version.
package gatewaychaos
