package chaos

import (
	"math/rand/v2"
	"time"
)

// longPhase is the fault phase from which scenarios switch from their short
// schedule (a few faults, seconds apart) to their long one.
const longPhase = 30 * time.Second

// byPhase uses short for fault phases under longPhase and long otherwise.
func byPhase(short, long Schedule) Schedule {
	return func(rng *rand.Rand, phase time.Duration) []Step {
		if phase < longPhase {
			return short(rng, phase)
		}
		return long(rng, phase)
	}
}

// pauseFor is how long pauses last: twice the election timeout (1s), longer
// than the leader lease (500ms).
const pauseFor = 2 * time.Second

// The raftkv scenarios. Each returns a fresh Scenario (workloads hold no state
// between runs, but checkers and workloads are not shared between scenarios).

// LeaderKill SIGKILLs the leader every ~3 s (long: ~10 s), restarting it after a
// second, and checks the KV history with porcupine and the unique writes for
// durability.
func LeaderKill() Scenario {
	kill := Step{Fault: FaultKill, Target: TargetLeader, Duration: time.Second}
	return Scenario{
		Name:      "leader-kill",
		Workloads: []Workload{&KV{}},
		Schedule:  byPhase(Every(3*time.Second, time.Second, kill), Every(10*time.Second, 2*time.Second, kill)),
		Phase:     10 * time.Second,
		Checkers:  []Checker{&Linearizability{}, &Durability{}},
	}
}

// LeaderPartition blackholes the leader's peer links for 5 s while the links of
// the other nodes get 75 ms ± 25 ms of delay.
func LeaderPartition() Scenario {
	part := Step{Fault: FaultPartition, Target: TargetLeader, Duration: 5 * time.Second,
		Params: Params{Delay: 75 * time.Millisecond, Jitter: 25 * time.Millisecond}}
	return Scenario{
		Name:      "leader-partition",
		Workloads: []Workload{&KV{}},
		Schedule:  byPhase(Every(2*time.Second, 500*time.Millisecond, part), Every(8*time.Second, 2*time.Second, part)),
		Phase:     7 * time.Second,
		Checkers:  []Checker{&Linearizability{}, &Durability{}},
	}
}

// PausedLeaderReads SIGSTOPs the leader for twice the election timeout while
// clients pinned to every node (through in-process client proxies) keep
// reading, so that some read from the old leader as soon as it resumes: no read
// may be stale (porcupine). Short request timeouts make the pinned clients
// issue fresh reads right after the resume.
func PausedLeaderReads() Scenario {
	pause := Step{Fault: FaultPause, Target: TargetLeader, Duration: pauseFor}
	return Scenario{
		Name:          "paused-leader-reads",
		ClientProxies: true,
		Workloads: []Workload{
			&KV{Clients: 6, Pinned: true, Timeout: time.Second},
			&KV{Clients: 2, ClientBase: 100},
		},
		Schedule: byPhase(Every(3*time.Second, 500*time.Millisecond, pause), Every(6*time.Second, 2*time.Second, pause)),
		Phase:    9 * time.Second,
		Checkers: []Checker{&Linearizability{}},
	}
}

// MinorityClient partitions one node (chosen by the seed) from the others
// while clients pinned to it keep writing through its client proxy: none of
// their writes may be acknowledged during the partition, and no acknowledged
// write may be lost.
func MinorityClient() Scenario {
	part := Step{Fault: FaultPartition, Target: TargetNode, Duration: 4 * time.Second}
	return Scenario{
		Name:          "minority-client",
		ClientProxies: true,
		Workloads: []Workload{
			&KV{Clients: 6, Pinned: true},
			&KV{Clients: 2, ClientBase: 100},
		},
		Schedule: byPhase(Every(2*time.Second, 500*time.Millisecond, part), Every(6*time.Second, 2*time.Second, part)),
		Phase:    7 * time.Second,
		Checkers: []Checker{&Linearizability{}, &Durability{}, &MinorityWrites{}},
	}
}

// Failpoints crashes random nodes between the fsync of an applied batch and its
// acknowledgement (raftkv/after-apply=1*exit) and, in the long version, while
// a snapshot is being persisted (raftnode/during-snapshot-persist=1*exit, with
// --snapshot-threshold 64 and --snapshot-interval 500ms so that snapshots come
// every second or so under load). Crashed nodes are restarted; the KV history
// is checked with porcupine and the unique writes for durability.
func Failpoints() Scenario {
	afterApply := Step{Fault: FaultFailpoint, Target: TargetNode, Duration: 5 * time.Second,
		Params: Params{Failpoint: "raftkv/after-apply", Term: "1*exit"}}
	duringSnap := Step{Fault: FaultFailpoint, Target: TargetNode, Duration: 3 * time.Second,
		Params: Params{Failpoint: "raftnode/during-snapshot-persist", Term: "1*exit"}}
	longSnap := duringSnap
	longSnap.Duration = 10 * time.Second
	return Scenario{
		Name:      "failpoints",
		ExtraArgs: map[string][]string{"raftkv": {"--snapshot-threshold", "64", "--trailing-logs", "64", "--snapshot-interval", "500ms"}},
		Workloads: []Workload{&KV{}},
		Schedule: byPhase(
			Sequence(time.Second, afterApply, duringSnap, afterApply),
			Cycle(5*time.Second, 2*time.Second, afterApply, longSnap),
		),
		Phase:    10 * time.Second,
		Checkers: []Checker{&Linearizability{}, &Durability{}},
	}
}

// FullCrash SIGKILLs every node at once under load and starts them again; after
// a final full restart every acknowledged write must be there.
func FullCrash() Scenario {
	crash := Step{Fault: FaultCrashAll, Target: TargetAll, Duration: time.Second}
	return Scenario{
		Name:               "full-crash",
		Workloads:          []Workload{&KV{}},
		Schedule:           byPhase(Every(3*time.Second, time.Second, crash), Every(10*time.Second, 3*time.Second, crash)),
		Phase:              8 * time.Second,
		RestartBeforeCheck: true,
		Checkers:           []Checker{&Durability{}, &Linearizability{}},
	}
}

// MemberReplace removes a follower from the group under load, wipes it, starts
// it empty and adds it back as a new member.
func MemberReplace() Scenario {
	replace := Step{Fault: FaultMemberReplace, Target: TargetFollower}
	return Scenario{
		Name:      "member-replace",
		Workloads: []Workload{&KV{}},
		Schedule:  byPhase(Every(2*time.Second, 500*time.Millisecond, replace), Every(8*time.Second, 2*time.Second, replace)),
		Phase:     6 * time.Second,
		Checkers:  []Checker{&Linearizability{}, &Durability{}},
	}
}

// WatchLeaderChange runs a watcher on the KV workload's keys while the leader is
// killed or paused: the watch must resume on its own and deliver every revision
// exactly once, in order, matching the acknowledged writes and the final state.
func WatchLeaderChange() Scenario {
	kill := Step{Fault: FaultKill, Target: TargetLeader, Duration: time.Second}
	pause := Step{Fault: FaultPause, Target: TargetLeader, Duration: pauseFor}
	return Scenario{
		Name:      "watch-leader-change",
		Workloads: []Workload{&KV{Clients: 4}, &Watch{}},
		Schedule:  byPhase(Sequence(2*time.Second, kill, pause, kill), Mix(5*time.Second, 2*time.Second, kill, pause)),
		Phase:     10 * time.Second,
		Checkers:  []Checker{&WatchChecker{Contiguous: true}, &Linearizability{}},
	}
}

// LeaseLeaderChange runs the lease workload while the leader is killed or
// paused: a kept-alive lease never expires and keeps its key, and the key of an
// expired lease is never read after the expiry was observed.
func LeaseLeaderChange() Scenario {
	kill := Step{Fault: FaultKill, Target: TargetLeader, Duration: time.Second}
	pause := Step{Fault: FaultPause, Target: TargetLeader, Duration: pauseFor}
	return Scenario{
		Name:      "lease-leader-change",
		Workloads: []Workload{&KV{Clients: 2}, &Leases{}},
		Schedule:  byPhase(Sequence(2*time.Second, pause, kill, pause), Mix(5*time.Second, 2*time.Second, kill, pause)),
		Phase:     10 * time.Second,
		Checkers:  []Checker{&LeaseChecker{}, &Linearizability{}},
	}
}

// Mixed draws from every other nemesis action: kills, graceful and rolling
// restarts, pauses, partitions (two-way and one-way), delays and member
// replacement, with the KV, watch and lease workloads and every checker.
func Mixed() Scenario {
	templates := []Step{
		{Fault: FaultKill, Target: TargetNode, Duration: time.Second},
		{Fault: FaultRestart, Target: TargetLeader},
		{Fault: FaultRollingRestart, Target: TargetAll},
		{Fault: FaultPause, Target: TargetNode, Duration: pauseFor},
		{Fault: FaultPartition, Target: TargetLeader, Duration: 3 * time.Second},
		{Fault: FaultPartition, Target: TargetLeader, Duration: 3 * time.Second, Params: Params{OneWay: true}},
		{Fault: FaultDelay, Target: TargetNode, Duration: 3 * time.Second, Params: Params{Delay: 100 * time.Millisecond, Jitter: 50 * time.Millisecond}},
		{Fault: FaultMemberReplace, Target: TargetFollower},
	}
	return Scenario{
		Name:      "mixed",
		Workloads: []Workload{&KV{Clients: 6}, &Watch{Prefix: "kv/"}, &Leases{}},
		Schedule:  Mix(2*time.Second, time.Second, templates...),
		Phase:     10 * time.Second,
		Checkers:  []Checker{&Linearizability{}, &Durability{}, &WatchChecker{}, &LeaseChecker{}},
	}
}

// RaftKVScenarios returns every raftkv scenario, in the order `make chaos` runs
// them.
func RaftKVScenarios() []Scenario {
	return []Scenario{
		LeaderKill(), LeaderPartition(), PausedLeaderReads(), MinorityClient(), Failpoints(),
		FullCrash(), MemberReplace(), WatchLeaderChange(), LeaseLeaderChange(), Mixed(),
	}
}
