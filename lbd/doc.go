// Package lbd is cairn's load balancer daemon: TCP, UDP and HTTP frontends
// spreading traffic over pools of backends with a choice of algorithms,
// active and passive health checks, slow start and draining, members
// discovered in the raftkv registry, and an HA group in which one node,
// elected through lockd, holds the virtual address.
//
// Pieces, each its own package:
//
//   - lbd/lbconfig: the frontends-and-pools document (YAML), reloaded live.
//   - lbd/balance: the algorithms (round robin, smooth weighted round
//     robin, least connections, least response time, power of two choices,
//     random, ring hash with bounded loads, Maglev).
//   - lbd/health: active checks (TCP, HTTP, gRPC) with rise/fall and jitter,
//     outlier ejection with backoff, slow start.
//   - lbd/pool: one pool's members, health, admin state and picker.
//   - lbd/l4: the TCP and UDP proxies; lbd/l7: the HTTP frontend over
//     node/httpproxy; lbd/ha: the lockd election of the active node.
//
// This package wires them: Server (New, Serve, Close), the admin gRPC
// service cairn.lbd.v1.LBService, the shared admin state in raftkv, and the
// stats endpoint (/lb/stats on the admin HTTP port, JSON; Prometheus
// metrics on /metrics).
package lbd
