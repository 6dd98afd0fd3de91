package chaos

import "time"

// The lockd scenarios run a three-node lockd group beside a three-node raftkv
// group (the fenced resource); faults hit the lockd nodes only.

// lockdFaults are the faults of the lockd scenarios: SIGKILL the leader,
// blackhole its peer links, SIGSTOP it for twice the election timeout.
var (
	lockdKill      = Step{Fault: FaultKill, Target: TargetLeader, Duration: time.Second}
	lockdPartition = Step{Fault: FaultPartition, Target: TargetLeader, Duration: 3 * time.Second}
	lockdPause     = Step{Fault: FaultPause, Target: TargetLeader, Duration: pauseFor}
)

// LockFencing runs 8 contenders on 2 locks, each holder writing to its lock's
// fenced raftkv resource, some holders crashing or stalling past their TTL and
// writing late, while the lockd leader is killed, partitioned and paused. It
// checks mutual exclusion, token order and fencing (LockChecker) and liveness.
func LockFencing() Scenario {
	w := &Locks{Stall: 0.08, Crash: 0.04}
	return Scenario{
		Name:       "lock-fencing",
		Service:    "lockd",
		Companions: []string{"raftkv"},
		Workloads:  []Workload{w},
		Schedule: byPhase(Sequence(2*time.Second, lockdKill, lockdPartition, lockdPause),
			Mix(4*time.Second, time.Second, lockdKill, lockdPartition, lockdPause)),
		Phase:    12 * time.Second,
		Checkers: []Checker{&LockChecker{Workload: w}, &LockLivenessChecker{Workload: w}},
	}
}

// LockLiveness makes a quarter of the holders crash (drop their connections
// without releasing) on 3 locks while the lockd leader is killed and
// partitioned: every waiter must be granted or time out, and a crashed
// holder's lock must reach the next waiter within TTL + an election timeout
// (+ margin) of the crash, or of the end of a fault overlapping that window.
func LockLiveness() Scenario {
	w := &Locks{Locks: 3, Crash: 0.25, Stall: 0.05}
	return Scenario{
		Name:       "lock-liveness",
		Service:    "lockd",
		Companions: []string{"raftkv"},
		Workloads:  []Workload{w},
		Schedule: byPhase(Sequence(3*time.Second, lockdKill, lockdPartition),
			Mix(5*time.Second, time.Second, lockdKill, lockdPartition, lockdPause)),
		Phase:    10 * time.Second,
		Checkers: []Checker{&LockLivenessChecker{Workload: w}, &LockChecker{Workload: w}},
	}
}

// LockElection runs 4 campaigners on one election (some stalling while they
// lead) and 3 observers on raw Observe streams while the lockd leader is
// killed, partitioned and paused: at most one leader per token, no overlapping
// leaderships, and every stream sees every change in order.
func LockElection() Scenario {
	return Scenario{
		Name:      "lock-election",
		Service:   "lockd",
		Workloads: []Workload{&Election{}},
		Schedule: byPhase(Sequence(2*time.Second, lockdKill, lockdPause, lockdPartition),
			Mix(4*time.Second, time.Second, lockdKill, lockdPartition, lockdPause)),
		Phase:    12 * time.Second,
		Checkers: []Checker{&ElectionChecker{}},
	}
}

// LockdScenarios returns every lockd scenario, in the order `make chaos` runs
// them.
func LockdScenarios() []Scenario {
	return []Scenario{LockFencing(), LockLiveness(), LockElection()}
}
