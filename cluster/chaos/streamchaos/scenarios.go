package streamchaos

import (
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// The streamd scenarios run a three-node streamd cluster with the Stream
// workload (a topic of 4 partitions, replication 3) judged by LogChecker and
// GroupChecker. Each returns a fresh Scenario with its own workload (which
// keeps the drain's state).
//
// streamd fences a node the controller has not heard from for 3 s (its
// session timeout): it leaves every ISR and loses its leaderships. The
// faults last longer than that where they should move leadership (a kill, a
// partition, a pause), so the new leader and the fenced old one are both
// exercised.
var (
	// A partition leader SIGKILLed for 4 s.
	streamKill = chaos.Step{Fault: chaos.FaultKill, Target: TargetPartitionLeader, Duration: 4 * time.Second}
	// The controller's or a partition leader's peer links cut for 5 s.
	streamPartitionController = chaos.Step{Fault: chaos.FaultPartition, Target: chaos.TargetLeader, Duration: 5 * time.Second}
	streamPartitionLeader     = chaos.Step{Fault: chaos.FaultPartition, Target: TargetPartitionLeader, Duration: 5 * time.Second}
	// The controller or a partition leader SIGSTOPped for 4 s.
	streamPauseController = chaos.Step{Fault: chaos.FaultPause, Target: chaos.TargetLeader, Duration: 4 * time.Second}
	streamPauseLeader     = chaos.Step{Fault: chaos.FaultPause, Target: TargetPartitionLeader, Duration: 4 * time.Second}
	// Every node restarted gracefully in turn.
	streamRolling = chaos.Step{Fault: chaos.FaultRollingRestart, Target: chaos.TargetAll}
	// Every node SIGKILLed at once, started after a second.
	streamCrashAll = chaos.Step{Fault: chaos.FaultCrashAll, Target: chaos.TargetAll, Duration: time.Second}
	// A node SIGKILLed, the tail of one of its segments torn, started after
	// 2 s.
	streamTornTail = chaos.Step{Fault: chaos.FaultKill, Target: chaos.TargetNode, Duration: 2 * time.Second,
		Params: chaos.Params{Tamper: TamperTornTail}}
)

// scenario is a streamd scenario with the Stream workload and both checkers.
func scenario(name string, schedule chaos.Schedule, phase time.Duration) chaos.Scenario {
	w := &Stream{}
	return chaos.Scenario{
		Name:      name,
		Service:   "streamd",
		Workloads: []chaos.Workload{w},
		Schedule:  schedule,
		Phase:     phase,
		Checkers:  []chaos.Checker{&LogChecker{Workload: w}, &GroupChecker{Workload: w}},
		Targets:   map[chaos.Target]chaos.TargetFunc{TargetPartitionLeader: partitionLeader(w.config().topic)},
		Tampers:   map[string]chaos.TamperFunc{TamperTornTail: tornTail},
		// A partition moves to a new leader once the old one is fenced,
		// after streamd's 3 s session timeout.
		RecoveryBound: 15 * time.Second,
	}
}

// StreamLeaderKill SIGKILLs the leader of a partition (drawn by the seed)
// for 4 s, every ~3 s (long: ~10 s): acknowledged records survive the
// failover, and the returning old leader truncates what it did not commit.
func StreamLeaderKill() chaos.Scenario {
	return scenario("stream-leader-kill",
		chaos.ByPhase(chaos.Every(3*time.Second, time.Second, streamKill), chaos.Every(10*time.Second, 2*time.Second, streamKill)),
		8*time.Second)
}

// StreamPartition cuts the peer links of the controller (the Raft leader)
// and of a partition leader, in turn (long: drawn), for 5 s each: a leader
// cut off from the ISR acknowledges nothing it cannot replicate, and the
// controller elected in the majority fences it.
func StreamPartition() chaos.Scenario {
	return scenario("stream-partition",
		chaos.ByPhase(chaos.Cycle(2*time.Second, 500*time.Millisecond, streamPartitionController, streamPartitionLeader),
			chaos.Mix(6*time.Second, 2*time.Second, streamPartitionController, streamPartitionLeader)),
		10*time.Second)
}

// StreamPause SIGSTOPs the controller and a partition leader, in turn
// (long: drawn), for 4 s each: past the session timeout, so a paused leader
// wakes up fenced and must not acknowledge or serve anything as leader.
func StreamPause() chaos.Scenario {
	return scenario("stream-pause",
		chaos.ByPhase(chaos.Cycle(2*time.Second, 500*time.Millisecond, streamPauseController, streamPauseLeader),
			chaos.Mix(6*time.Second, 2*time.Second, streamPauseController, streamPauseLeader)),
		8*time.Second)
}

// StreamRollingRestart restarts every node gracefully in turn, each once the
// cluster is ready again (long: every ~10 s).
func StreamRollingRestart() chaos.Scenario {
	return scenario("stream-rolling-restart",
		chaos.ByPhase(chaos.Sequence(2*time.Second, streamRolling), chaos.Every(10*time.Second, 2*time.Second, streamRolling)),
		4*time.Second)
}

// StreamCrashAll SIGKILLs every node at once under load and starts them a
// second later, every ~3 s (long: ~10 s); the checks run after a final
// graceful restart of the whole cluster. Every acknowledged record was
// fsynced on the ISR before its ack, so none is lost.
func StreamCrashAll() chaos.Scenario {
	sc := scenario("stream-crash-all",
		chaos.ByPhase(chaos.Every(3*time.Second, time.Second, streamCrashAll), chaos.Every(10*time.Second, 3*time.Second, streamCrashAll)),
		6*time.Second)
	sc.RestartBeforeCheck = true
	return sc
}

// StreamTornTail SIGKILLs a node, tears the tail of one of its partition
// segments (cuts bytes off it or flips one, see tornTail) and starts it
// again, twice (long: every ~8 s): the node recovers the replica at its
// last valid batch, catches up from the leader and rejoins the ISR, and no
// acknowledged record is lost.
func StreamTornTail() chaos.Scenario {
	return scenario("stream-torn-tail",
		chaos.ByPhase(chaos.Sequence(2*time.Second, streamTornTail, streamTornTail), chaos.Every(8*time.Second, 2*time.Second, streamTornTail)),
		8*time.Second)
}

// StreamdScenarios returns every streamd scenario, in the order `make chaos`
// runs them.
func StreamdScenarios() []chaos.Scenario {
	return []chaos.Scenario{StreamLeaderKill(), StreamPartition(), StreamPause(), StreamRollingRestart(),
		StreamCrashAll(), StreamTornTail()}
}
