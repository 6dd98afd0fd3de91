// Package chaos is the framework of cairn's chaos experiments against real
// cairn binaries: a Scenario starts a cluster through the cluster harness,
// runs workloads of concurrent clients that record every operation (invoke
// and return time, outcome ok, fail or unknown) in a History, injects faults
// from a schedule generated up front from a seed (kill, graceful and rolling
// restart, full-cluster crash, pause, partition, delay, member replace,
// failpoints), and then judges the history with Checkers.
//
// The framework knows no daemon. Each daemon has a package beside it with its
// workloads, checkers and scenarios, and runs them as its tests: kvchaos
// (raftkv: register, watch and lease workloads, porcupine linearizability and
// durability), lockchaos (lockd: locks with a fenced resource, elections),
// cachechaos (cached: ring convergence, near-cache staleness), queuechaos
// (queued: Jepsen's total-queue after a drain, visibility, FIFO order, dead
// letters), streamchaos (streamd: Jepsen's Kafka workload), blobchaos
// (blobd: checksummed objects, repair) and searchchaos (searchd: every
// acknowledged document found through every node). A scenario may
// add targets of its own (Scenario.Targets: "the leader of a partition") and
// tampers that change a killed node's files before it starts again
// (Scenario.Tampers, Params.Tamper). A new daemon
// adds such a package: Workloads that declare their operation kinds (Kinds),
// Checkers, Scenarios, and a test file whose TestMain is Main and whose tests
// call Test.
//
// Run writes a run directory <OutDir>/<scenario>-<seed>/ holding the seed, the
// schedule, the fault timeline as it happened (targets such as "the leader"
// resolved to node names), the history, the verdicts, a report table and the
// node logs, and appends the table to <OutDir>/summary.txt. The same seed
// gives the same fault schedule, so a failure is replayed by running the
// scenario again with its seed.
//
//	rep, err := chaos.Run(chaos.Scenario{
//		Name:      "leader-kill",
//		Service:   "raftkv",
//		Workloads: []chaos.Workload{&kvchaos.KV{}},
//		Schedule:  chaos.Every(3*time.Second, time.Second, chaos.Step{Fault: chaos.FaultKill, Target: chaos.TargetLeader, Duration: time.Second}),
//		Phase:     10 * time.Second,
//		Checkers:  []chaos.Checker{&kvchaos.Linearizability{}, &kvchaos.Durability{}},
//	}, chaos.Options{Seed: seed, OutDir: dir, Binary: bin, Logger: logger})
//	if err == nil && !rep.Pass { fmt.Print(rep) }
//
// `make chaos` runs the long version of every scenario of every daemon
// package. See docs/chaos.md.
package chaos
