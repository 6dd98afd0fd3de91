package kvchaos

import (
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// The raftkv scenarios. Each returns a fresh Scenario (workloads hold no state
// between runs, but checkers and workloads are not shared between scenarios).

// LeaderKill SIGKILLs the leader every ~3 s (long: ~10 s), restarting it after a
// second, and checks the KV history with porcupine and the unique writes for
// durability.
func LeaderKill() chaos.Scenario {
	kill := chaos.Step{Fault: chaos.FaultKill, Target: chaos.TargetLeader, Duration: time.Second}
	return chaos.Scenario{
		Name:      "leader-kill",
		Service:   "raftkv",
		Workloads: []chaos.Workload{&KV{}},
		Schedule:  chaos.ByPhase(chaos.Every(3*time.Second, time.Second, kill), chaos.Every(10*time.Second, 2*time.Second, kill)),
		Phase:     10 * time.Second,
		Checkers:  []chaos.Checker{&Linearizability{}, &Durability{}},
	}
}

// LeaderPartition blackholes the leader's peer links for 5 s while the links of
// the other nodes get 75 ms ± 25 ms of delay.
func LeaderPartition() chaos.Scenario {
	part := chaos.Step{Fault: chaos.FaultPartition, Target: chaos.TargetLeader, Duration: 5 * time.Second,
		Params: chaos.Params{Delay: 75 * time.Millisecond, Jitter: 25 * time.Millisecond}}
	return chaos.Scenario{
		Name:      "leader-partition",
		Service:   "raftkv",
		Workloads: []chaos.Workload{&KV{}},
		Schedule:  chaos.ByPhase(chaos.Every(2*time.Second, 500*time.Millisecond, part), chaos.Every(8*time.Second, 2*time.Second, part)),
		Phase:     7 * time.Second,
		Checkers:  []chaos.Checker{&Linearizability{}, &Durability{}},
	}
}

// PausedLeaderReads SIGSTOPs the leader for twice the election timeout while
// clients pinned to every node (through in-process client proxies) keep
// reading, so that some read from the old leader as soon as it resumes: no read
// may be stale (porcupine). Short request timeouts make the pinned clients
// issue fresh reads right after the resume.
func PausedLeaderReads() chaos.Scenario {
	pause := chaos.Step{Fault: chaos.FaultPause, Target: chaos.TargetLeader, Duration: chaos.PauseFor}
	return chaos.Scenario{
		Name:          "paused-leader-reads",
		Service:       "raftkv",
		ClientProxies: true,
		Workloads: []chaos.Workload{
			&KV{Clients: 6, Pinned: true, Timeout: time.Second},
			&KV{Clients: 2, ClientBase: 100},
		},
		Schedule: chaos.ByPhase(chaos.Every(3*time.Second, 500*time.Millisecond, pause), chaos.Every(6*time.Second, 2*time.Second, pause)),
		Phase:    9 * time.Second,
		Checkers: []chaos.Checker{&Linearizability{}},
	}
}

// MinorityClient partitions one node (chosen by the seed) from the others
// while clients pinned to it keep writing through its client proxy: none of
// their writes may be acknowledged during the partition, and no acknowledged
// write may be lost.
func MinorityClient() chaos.Scenario {
	part := chaos.Step{Fault: chaos.FaultPartition, Target: chaos.TargetNode, Duration: 4 * time.Second}
	return chaos.Scenario{
		Name:          "minority-client",
		Service:       "raftkv",
		ClientProxies: true,
		Workloads: []chaos.Workload{
			&KV{Clients: 6, Pinned: true},
			&KV{Clients: 2, ClientBase: 100},
		},
		Schedule: chaos.ByPhase(chaos.Every(2*time.Second, 500*time.Millisecond, part), chaos.Every(6*time.Second, 2*time.Second, part)),
		Phase:    7 * time.Second,
		Checkers: []chaos.Checker{&Linearizability{}, &Durability{}, &MinorityWrites{}},
	}
}

// Failpoints crashes random nodes between the fsync of an applied batch and its
// acknowledgement (raftkv/after-apply=1*exit) and, in the long version, while
// a snapshot is being persisted (raftnode/during-snapshot-persist=1*exit, with
// --snapshot-threshold 64 and --snapshot-interval 500ms so that snapshots come
// every second or so under load). Crashed nodes are restarted; the KV history
// is checked with porcupine and the unique writes for durability.
func Failpoints() chaos.Scenario {
	afterApply := chaos.Step{Fault: chaos.FaultFailpoint, Target: chaos.TargetNode, Duration: 5 * time.Second,
		Params: chaos.Params{Failpoint: "raftkv/after-apply", Term: "1*exit"}}
	duringSnap := chaos.Step{Fault: chaos.FaultFailpoint, Target: chaos.TargetNode, Duration: 3 * time.Second,
		Params: chaos.Params{Failpoint: "raftnode/during-snapshot-persist", Term: "1*exit"}}
	longSnap := duringSnap
	longSnap.Duration = 10 * time.Second
	return chaos.Scenario{
		Name:      "failpoints",
		Service:   "raftkv",
		ExtraArgs: map[string][]string{"raftkv": {"--snapshot-threshold", "64", "--trailing-logs", "64", "--snapshot-interval", "500ms"}},
		Workloads: []chaos.Workload{&KV{}},
		Schedule: chaos.ByPhase(
			chaos.Sequence(time.Second, afterApply, duringSnap, afterApply),
			chaos.Cycle(5*time.Second, 2*time.Second, afterApply, longSnap),
		),
		Phase:    10 * time.Second,
		Checkers: []chaos.Checker{&Linearizability{}, &Durability{}},
	}
}

// FullCrash SIGKILLs every node at once under load and starts them again; after
// a final full restart every acknowledged write must be there.
func FullCrash() chaos.Scenario {
	crash := chaos.Step{Fault: chaos.FaultCrashAll, Target: chaos.TargetAll, Duration: time.Second}
	return chaos.Scenario{
		Name:               "full-crash",
		Service:            "raftkv",
		Workloads:          []chaos.Workload{&KV{}},
		Schedule:           chaos.ByPhase(chaos.Every(3*time.Second, time.Second, crash), chaos.Every(10*time.Second, 3*time.Second, crash)),
		Phase:              8 * time.Second,
		RestartBeforeCheck: true,
		Checkers:           []chaos.Checker{&Durability{}, &Linearizability{}},
	}
}

// MemberReplace removes a follower from the group under load, wipes it, starts
// it empty and adds it back as a new member.
func MemberReplace() chaos.Scenario {
	replace := chaos.Step{Fault: chaos.FaultMemberReplace, Target: chaos.TargetFollower}
	return chaos.Scenario{
		Name:       "member-replace",
		Service:    "raftkv",
		Membership: Membership,
		Workloads:  []chaos.Workload{&KV{}},
		Schedule:   chaos.ByPhase(chaos.Every(2*time.Second, 500*time.Millisecond, replace), chaos.Every(8*time.Second, 2*time.Second, replace)),
		Phase:      6 * time.Second,
		Checkers:   []chaos.Checker{&Linearizability{}, &Durability{}},
	}
}

// WatchLeaderChange runs a watcher on the KV workload's keys while the leader is
// killed or paused: the watch must resume on its own and deliver every revision
// exactly once, in order, matching the acknowledged writes and the final state.
func WatchLeaderChange() chaos.Scenario {
	kill := chaos.Step{Fault: chaos.FaultKill, Target: chaos.TargetLeader, Duration: time.Second}
	pause := chaos.Step{Fault: chaos.FaultPause, Target: chaos.TargetLeader, Duration: chaos.PauseFor}
	return chaos.Scenario{
		Name:      "watch-leader-change",
		Service:   "raftkv",
		Workloads: []chaos.Workload{&KV{Clients: 4}, &Watch{}},
		Schedule:  chaos.ByPhase(chaos.Sequence(2*time.Second, kill, pause, kill), chaos.Mix(5*time.Second, 2*time.Second, kill, pause)),
		Phase:     10 * time.Second,
		Checkers:  []chaos.Checker{&WatchChecker{Contiguous: true}, &Linearizability{}},
	}
}

// LeaseLeaderChange runs the lease workload while the leader is killed or
// paused: a kept-alive lease never expires and keeps its key, and the key of an
// expired lease is never read after the expiry was observed.
func LeaseLeaderChange() chaos.Scenario {
	kill := chaos.Step{Fault: chaos.FaultKill, Target: chaos.TargetLeader, Duration: time.Second}
	pause := chaos.Step{Fault: chaos.FaultPause, Target: chaos.TargetLeader, Duration: chaos.PauseFor}
	return chaos.Scenario{
		Name:      "lease-leader-change",
		Service:   "raftkv",
		Workloads: []chaos.Workload{&KV{Clients: 2}, &Leases{}},
		Schedule:  chaos.ByPhase(chaos.Sequence(2*time.Second, pause, kill, pause), chaos.Mix(5*time.Second, 2*time.Second, kill, pause)),
		Phase:     10 * time.Second,
		Checkers:  []chaos.Checker{&LeaseChecker{}, &Linearizability{}},
	}
}

// Mixed draws from every other nemesis action: kills, graceful and rolling
// restarts, pauses, partitions (two-way and one-way), delays and member
// replacement, with the KV, watch and lease workloads and every checker.
func Mixed() chaos.Scenario {
	templates := []chaos.Step{
		{Fault: chaos.FaultKill, Target: chaos.TargetNode, Duration: time.Second},
		{Fault: chaos.FaultRestart, Target: chaos.TargetLeader},
		{Fault: chaos.FaultRollingRestart, Target: chaos.TargetAll},
		{Fault: chaos.FaultPause, Target: chaos.TargetNode, Duration: chaos.PauseFor},
		{Fault: chaos.FaultPartition, Target: chaos.TargetLeader, Duration: 3 * time.Second},
		{Fault: chaos.FaultPartition, Target: chaos.TargetLeader, Duration: 3 * time.Second, Params: chaos.Params{OneWay: true}},
		{Fault: chaos.FaultDelay, Target: chaos.TargetNode, Duration: 3 * time.Second, Params: chaos.Params{Delay: 100 * time.Millisecond, Jitter: 50 * time.Millisecond}},
		{Fault: chaos.FaultMemberReplace, Target: chaos.TargetFollower},
	}
	return chaos.Scenario{
		Name:       "mixed",
		Service:    "raftkv",
		Membership: Membership,
		Workloads:  []chaos.Workload{&KV{Clients: 6}, &Watch{Prefix: "kv/"}, &Leases{}},
		Schedule:   chaos.Mix(2*time.Second, time.Second, templates...),
		Phase:      10 * time.Second,
		Checkers:   []chaos.Checker{&Linearizability{}, &Durability{}, &WatchChecker{}, &LeaseChecker{}},
	}
}

// RaftKVScenarios returns every raftkv scenario, in the order `make chaos` runs
// them.
func RaftKVScenarios() []chaos.Scenario {
	return []chaos.Scenario{
		LeaderKill(), LeaderPartition(), PausedLeaderReads(), MinorityClient(), Failpoints(),
		FullCrash(), MemberReplace(), WatchLeaderChange(), LeaseLeaderChange(), Mixed(),
		Failover(), CPULoad(),
	}
}
