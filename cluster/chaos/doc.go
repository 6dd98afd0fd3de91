// Package chaos runs chaos experiments against real cairn binaries: a Scenario
// starts a cluster through the cluster harness, runs workloads of concurrent
// clients that record every operation (invoke and return time, outcome ok, fail
// or unknown) in a History, injects faults from a schedule generated up front
// from a seed (kill, graceful and rolling restart, full-cluster crash, pause,
// partition, delay, member replace, failpoints), and then judges the history
// with Checkers: porcupine linearizability, durability of acknowledged writes,
// watch and lease properties.
//
// Run writes a run directory <OutDir>/<scenario>-<seed>/ holding the seed, the
// schedule, the fault timeline as it happened (targets such as "the leader"
// resolved to node names), the history, the verdicts, a report table, the node
// logs and, when the history is not linearizable, porcupine's visualisation.
// The same seed gives the same fault schedule, so a failure is replayed by
// running the scenario again with its seed.
//
//	rep, err := chaos.Run(chaos.Scenario{
//		Name:      "leader-kill",
//		Workloads: []chaos.Workload{&chaos.KV{}},
//		Schedule:  chaos.Every(3*time.Second, time.Second, chaos.Step{Fault: chaos.FaultKill, Target: chaos.TargetLeader, Duration: time.Second}),
//		Phase:     10 * time.Second,
//		Checkers:  []chaos.Checker{&chaos.Linearizability{}, &chaos.Durability{}},
//	}, chaos.Options{Seed: seed, OutDir: dir, Binary: bin, Logger: logger})
//	if err == nil && !rep.Pass { fmt.Print(rep) }
//
// The raftkv scenarios are the tests of this package; `make chaos` runs their
// long versions. See docs/chaos.md.
package chaos
