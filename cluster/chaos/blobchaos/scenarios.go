package blobchaos

import (
	"math/rand/v2"
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// The blobd scenarios run the harness's five blobd nodes (each a voter of
// the metadata Raft group, a volume server and an object API front end)
// with the Blob workload, judged by Repair and then Objects. Each returns a
// fresh Scenario with its own workload (which keeps the keys and the
// drain's state).
//
// blobd marks a volume server DOWN after 5 s without a heartbeat
// (--server-timeout) and then repairs its volumes onto the others; faults
// that should make it repair last longer than that. Every scenario runs the
// scrubber every 2 s (--scrub-interval; the default is a day), so that damaged
// copies are found within the repair bound.
var (
	// A volume server that is not the metadata leader SIGKILLed for 8 s.
	volumeKill = chaos.Step{Fault: chaos.FaultKill, Target: chaos.TargetFollower, Duration: 8 * time.Second}
	// The metadata leader SIGKILLed for 2 s.
	leaderKill = chaos.Step{Fault: chaos.FaultKill, Target: chaos.TargetLeader, Duration: 2 * time.Second}
	// The metadata leader's, or another node's, peer links cut for 4 s.
	partitionLeader = chaos.Step{Fault: chaos.FaultPartition, Target: chaos.TargetLeader, Duration: 4 * time.Second}
	partitionNode   = chaos.Step{Fault: chaos.FaultPartition, Target: chaos.TargetFollower, Duration: 4 * time.Second}
	// The metadata leader, or another node, SIGSTOPped for 3 s.
	pauseLeader = chaos.Step{Fault: chaos.FaultPause, Target: chaos.TargetLeader, Duration: 3 * time.Second}
	pauseNode   = chaos.Step{Fault: chaos.FaultPause, Target: chaos.TargetFollower, Duration: 3 * time.Second}
	// Every node SIGKILLed at once, started after a second.
	crashAll = chaos.Step{Fault: chaos.FaultCrashAll, Target: chaos.TargetAll, Duration: time.Second}
	// A node SIGKILLed, its volume files damaged (tamper), started after
	// a second.
	damage = func(tamper string) chaos.Step {
		return chaos.Step{Fault: chaos.FaultKill, Target: chaos.TargetNode, Duration: time.Second,
			Params: chaos.Params{Tamper: tamper}}
	}
)

// blobdArgs are the blobd flags of every scenario.
func blobdArgs() map[string][]string {
	return map[string][]string{"blobd": {"--scrub-interval", "2s"}}
}

// scenario is a blobd scenario with the Blob workload and both checkers.
func scenario(name string, schedule chaos.Schedule, phase time.Duration) chaos.Scenario {
	w := &Blob{}
	return chaos.Scenario{
		Name:      name,
		Service:   "blobd",
		Workloads: []chaos.Workload{w},
		Schedule:  schedule,
		Phase:     phase,
		ExtraArgs: blobdArgs(),
		// Repair first: it watches the status from the last heal, and
		// the drain's reads then run on a repaired cluster.
		Checkers: []chaos.Checker{&Repair{Workload: w}, &Objects{Workload: w}},
		Tampers:  tampers(),
	}
}

// BlobVolumeKill SIGKILLs a volume server that is not the metadata leader
// for 8 s (long: every ~20 s): writes go on to the other four, reads of its
// chunks go to other replicas, it is marked DOWN and its volumes are
// repaired elsewhere; once back it serves again.
func BlobVolumeKill() chaos.Scenario {
	return scenario("blob-volume-kill",
		chaos.ByPhase(chaos.Sequence(2*time.Second, volumeKill), chaos.Every(20*time.Second, 3*time.Second, volumeKill)),
		10*time.Second)
}

// BlobLeaderKill SIGKILLs the metadata leader for 2 s every ~3 s (long:
// ~10 s): writes acknowledged before the failover survive it, and none
// acknowledged by the old leader is lost.
func BlobLeaderKill() chaos.Scenario {
	return scenario("blob-leader-kill",
		chaos.ByPhase(chaos.Every(3*time.Second, time.Second, leaderKill), chaos.Every(10*time.Second, 2*time.Second, leaderKill)),
		8*time.Second)
}

// BlobPartition cuts the peer links of the metadata leader, then of
// another node, for 4 s each (long: drawn, ~8 s apart): a deposed leader
// acknowledges no PUT it cannot commit, and a cut-off volume server's
// replicas are written elsewhere.
func BlobPartition() chaos.Scenario {
	return scenario("blob-partition",
		chaos.ByPhase(chaos.Sequence(2*time.Second, partitionLeader, partitionNode),
			chaos.Mix(8*time.Second, 2*time.Second, partitionLeader, partitionNode)),
		12*time.Second)
}

// BlobPause SIGSTOPs the metadata leader, then another node, for 3 s each
// (long: drawn, ~6 s apart): a paused leader wakes deposed, and a paused
// volume server's slow replicas do not make PUTs lie.
func BlobPause() chaos.Scenario {
	return scenario("blob-pause",
		chaos.ByPhase(chaos.Sequence(2*time.Second, pauseLeader, pauseNode),
			chaos.Mix(6*time.Second, 2*time.Second, pauseLeader, pauseNode)),
		8*time.Second)
}

// BlobCrashAll SIGKILLs every node at once under load and starts them a
// second later, every ~3 s (long: ~10 s); the checks run after a final
// graceful restart of the whole cluster. Every acknowledged object was
// fsynced on its replicas and its manifest committed before its ack, so
// none is lost.
func BlobCrashAll() chaos.Scenario {
	sc := scenario("blob-crash-all",
		chaos.ByPhase(chaos.Every(3*time.Second, time.Second, crashAll), chaos.Every(10*time.Second, 3*time.Second, crashAll)),
		6*time.Second)
	sc.RestartBeforeCheck = true
	return sc
}

// BlobCorrupt SIGKILLs a node, damages its volume files and starts it a
// second later: in the short run one node three times, 3 s apart, with
// each tamper in turn (a flipped needle, a truncated .dat, a deleted
// volume), so the other replicas always hold a good copy; in the long run
// a node drawn each time, every ~12 s, with a tamper drawn each time (the
// scrubber and the repair loop have restored the earlier damage by then).
// Reads never return the damaged bytes, and repair restores every copy.
func BlobCorrupt() chaos.Scenario {
	return scenario("blob-corrupt",
		chaos.ByPhase(oneNode(3*time.Second, damage(TamperFlip), damage(TamperTruncate), damage(TamperDelete)),
			chaos.Every(12*time.Second, 2*time.Second, damage(TamperAny))),
		12*time.Second)
}

// oneNode is chaos.Sequence with one Pick, drawn once, for every step: with
// TargetNode, the steps all hit the same node.
func oneNode(gap time.Duration, steps ...chaos.Step) chaos.Schedule {
	seq := chaos.Sequence(gap, steps...)
	return func(rng *rand.Rand, phase time.Duration) []chaos.Step {
		out := seq(rng, phase)
		for i := range out {
			out[i].Pick = out[0].Pick
		}
		return out
	}
}

// BlobdScenarios returns every blobd scenario, in the order `make chaos`
// runs them.
func BlobdScenarios() []chaos.Scenario {
	return []chaos.Scenario{BlobVolumeKill(), BlobLeaderKill(), BlobPartition(), BlobPause(), BlobCrashAll(), BlobCorrupt()}
}
