package searchchaos

import (
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// The searchd scenarios run three searchd nodes (and streamd beside them,
// which holds every index's writes) with the Docs workload on an index of 3
// shards with 1 replica, judged by DocsChecker. A searchd node missing for
// more than 10 s has its copies replaced on the other nodes, so the kills
// last longer than that.
var (
	// A searchd node SIGKILLed for 12 s: its copies are replaced from the
	// surviving copies, then it returns and resumes or drops its own.
	searchKill = chaos.Step{Fault: chaos.FaultKill, Target: chaos.TargetNode, Duration: 12 * time.Second}
	// The metadata leader's peer links cut, or it SIGSTOPped, for 5 s.
	searchPartitionLeader = chaos.Step{Fault: chaos.FaultPartition, Target: chaos.TargetLeader, Duration: 5 * time.Second}
	searchPauseNode       = chaos.Step{Fault: chaos.FaultPause, Target: chaos.TargetNode, Duration: 5 * time.Second}
	// Every searchd node SIGKILLed at once, started after a second.
	searchCrashAll = chaos.Step{Fault: chaos.FaultCrashAll, Target: chaos.TargetAll, Duration: time.Second}
)

// scenario is a searchd scenario with the Docs workload and its checker.
func scenario(name string, schedule chaos.Schedule, phase time.Duration) chaos.Scenario {
	w := &Docs{}
	return chaos.Scenario{
		Name:       name,
		Service:    "searchd",
		Companions: []string{"streamd"},
		Workloads:  []chaos.Workload{w},
		Schedule:   schedule,
		Phase:      phase,
		Checkers:   []chaos.Checker{&DocsChecker{Workload: w}},
		// A write needs its shard's partition (streamd, untouched) and the
		// metadata only for mappings, so writes resume quickly; a killed
		// coordinator's clients move on to the next node.
		RecoveryBound: 15 * time.Second,
	}
}

// SearchNodeKill SIGKILLs a searchd node for 12 s, then cuts the
// metadata leader's peer links for 5 s, then SIGSTOPs a node for 5 s
// (long: the three drawn, ~15 s apart): searches keep answering from the
// other copies, the lost copies are rebuilt from healthy ones, placement
// moves to a new leader, a paused node's copies catch up when it wakes, and
// no acknowledged write is lost or resurrected.
func SearchNodeKill() chaos.Scenario {
	return scenario("search-node-kill",
		chaos.ByPhase(chaos.Sequence(2*time.Second, searchKill, searchPartitionLeader, searchPauseNode),
			chaos.Mix(15*time.Second, 3*time.Second, searchKill, searchPartitionLeader, searchPauseNode)),
		26*time.Second)
}

// SearchCrashAll SIGKILLs every searchd node at once under load and starts
// them a second later (long: every ~10 s); the checks run after a final
// graceful restart. Copies resume from their last commit and replay their
// partitions, so nothing acknowledged is lost.
func SearchCrashAll() chaos.Scenario {
	sc := scenario("search-crash-all",
		chaos.ByPhase(chaos.Every(4*time.Second, time.Second, searchCrashAll), chaos.Every(10*time.Second, 3*time.Second, searchCrashAll)),
		6*time.Second)
	sc.RestartBeforeCheck = true
	return sc
}

// SearchdScenarios returns every searchd scenario, in the order `make
// chaos` runs them.
func SearchdScenarios() []chaos.Scenario {
	return []chaos.Scenario{SearchNodeKill(), SearchCrashAll()}
}
