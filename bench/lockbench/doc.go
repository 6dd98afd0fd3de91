// Package lockbench is the engine of `cairn bench lock`: closed-loop load on a
// distributed lock service, with the same scenarios run against lockd, etcd
// (its lock recipe, spoken over etcd's gRPC API with hand-encoded protobuf)
// and Redis (SET NX PX and a compare-and-delete script, over a hand-written
// RESP client).
//
// Scenarios (Config.Scenario):
//
//   - ScenarioUncontended: every client has a lock of its own and acquires and
//     releases it back to back. Latency is one acquire+release cycle.
//   - ScenarioContended: every client contends for one lock. Each grant is a
//     hand-off; the hand-off time is from the previous holder invoking its
//     release to the next holder's acquire returning. Throughput is grants per
//     second.
//   - ScenarioMany: clients acquire and release locks picked at random among
//     Config.Locks names (little contention, many live locks).
//
// A Target is reached through a Driver, which hands out Lockers, one per
// client; each Locker owns its session (lockd session, etcd lease, Redis
// connection).
//
//	cfg := lockbench.DefaultConfig()
//	cfg.Target, cfg.Endpoints = lockbench.TargetLockd, []string{"127.0.0.1:7100"}
//	cfg.Scenario = lockbench.ScenarioContended
//	res, err := lockbench.Run(ctx, cfg)
//	lockbench.WriteTable(os.Stdout, res)
package lockbench
