package lockchaos

import (
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// The lockd scenarios run a three-node lockd group beside a three-node raftkv
// group (the fenced resource); faults hit the lockd nodes only.

// lockdFaults are the faults of the lockd scenarios: SIGKILL the leader,
// blackhole its peer links, SIGSTOP it for twice the election timeout.
var (
	lockdKill      = chaos.Step{Fault: chaos.FaultKill, Target: chaos.TargetLeader, Duration: time.Second}
	lockdPartition = chaos.Step{Fault: chaos.FaultPartition, Target: chaos.TargetLeader, Duration: 3 * time.Second}
	lockdPause     = chaos.Step{Fault: chaos.FaultPause, Target: chaos.TargetLeader, Duration: chaos.PauseFor}
)

// LockFencing runs 8 contenders on 2 locks, each holder writing to its lock's
// fenced raftkv resource, some holders crashing or stalling past their TTL and
// writing late, while the lockd leader is killed, partitioned and paused. It
// checks mutual exclusion, token order and fencing (LockChecker) and liveness.
func LockFencing() chaos.Scenario {
	w := &Locks{Stall: 0.08, Crash: 0.04}
	return chaos.Scenario{
		Name:       "lock-fencing",
		Service:    "lockd",
		Companions: []string{"raftkv"},
		Workloads:  []chaos.Workload{w},
		Schedule: chaos.ByPhase(chaos.Sequence(2*time.Second, lockdKill, lockdPartition, lockdPause),
			chaos.Mix(4*time.Second, time.Second, lockdKill, lockdPartition, lockdPause)),
		Phase:    12 * time.Second,
		Checkers: []chaos.Checker{&LockChecker{Workload: w}, &LockLivenessChecker{Workload: w}},
	}
}

// LockLiveness makes a quarter of the holders crash (drop their connections
// without releasing) on 3 locks while the lockd leader is killed and
// partitioned: every waiter must be granted or time out, and a crashed
// holder's lock must reach the next waiter within TTL + an election timeout
// (+ margin) of the crash, or of the end of a fault overlapping that window.
func LockLiveness() chaos.Scenario {
	w := &Locks{Locks: 3, Crash: 0.25, Stall: 0.05}
	return chaos.Scenario{
		Name:       "lock-liveness",
		Service:    "lockd",
		Companions: []string{"raftkv"},
		Workloads:  []chaos.Workload{w},
		Schedule: chaos.ByPhase(chaos.Sequence(3*time.Second, lockdKill, lockdPartition),
			chaos.Mix(5*time.Second, time.Second, lockdKill, lockdPartition, lockdPause)),
		Phase:    10 * time.Second,
		Checkers: []chaos.Checker{&LockLivenessChecker{Workload: w}, &LockChecker{Workload: w}},
	}
}

// LockElection runs 4 campaigners on one election (some stalling while they
// lead) and 3 observers on raw Observe streams while the lockd leader is
// killed, partitioned and paused: at most one leader per token, no overlapping
// leaderships, and every stream sees every change in order.
func LockElection() chaos.Scenario {
	return chaos.Scenario{
		Name:      "lock-election",
		Service:   "lockd",
		Workloads: []chaos.Workload{&Election{}},
		Schedule: chaos.ByPhase(chaos.Sequence(2*time.Second, lockdKill, lockdPause, lockdPartition),
			chaos.Mix(4*time.Second, time.Second, lockdKill, lockdPartition, lockdPause)),
		Phase:    12 * time.Second,
		Checkers: []chaos.Checker{&ElectionChecker{}},
	}
}

// LockdScenarios returns every lockd scenario, in the order `make chaos` runs
// them.
func LockdScenarios() []chaos.Scenario {
	return []chaos.Scenario{LockFencing(), LockLiveness(), LockElection()}
}
