package sqlchaos

import (
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// The SQL scenarios: a three-node raftkv cluster whose nodes serve
// PostgreSQL clients, the SQL workloads' clients pinned to the nodes in turn
// (ClusterDialer), and raftkv faults. Each returns a fresh Scenario.

// BankLeaderKill runs the bank workload while the raftkv leader is SIGKILLed
// every ~3 s (long: ~10 s) and restarted after a second.
func BankLeaderKill() chaos.Scenario {
	kill := chaos.Step{Fault: chaos.FaultKill, Target: chaos.TargetLeader, Duration: time.Second}
	w := &Bank{}
	return chaos.Scenario{
		Name:      "sql-bank-leader-kill",
		Service:   "raftkv",
		Workloads: []chaos.Workload{w},
		Schedule:  chaos.ByPhase(chaos.Every(3*time.Second, time.Second, kill), chaos.Every(10*time.Second, 2*time.Second, kill)),
		Phase:     10 * time.Second,
		Checkers:  []chaos.Checker{&BankChecker{Workload: w}},
	}
}

// LastItemPartition runs the last-item workload while the leader's peer
// links are cut for 5 s (the other links delayed 75 ms ± 25 ms meanwhile),
// and a follower is killed, in turn; no buy through the isolated leader may
// commit.
func LastItemPartition() chaos.Scenario {
	part := chaos.Step{Fault: chaos.FaultPartition, Target: chaos.TargetLeader, Duration: 5 * time.Second,
		Params: chaos.Params{Delay: 75 * time.Millisecond, Jitter: 25 * time.Millisecond}}
	kill := chaos.Step{Fault: chaos.FaultKill, Target: chaos.TargetFollower, Duration: time.Second}
	// Transactions time out well within a partition, so that those of the
	// isolated node's clients return (and are judged) before it heals.
	w := &LastItem{Timeout: 2 * time.Second}
	return chaos.Scenario{
		Name:      "sql-last-item-partition",
		Service:   "raftkv",
		Workloads: []chaos.Workload{w},
		Schedule:  chaos.ByPhase(chaos.Cycle(2*time.Second, 500*time.Millisecond, part, kill), chaos.Cycle(6*time.Second, 2*time.Second, part, kill)),
		Phase:     12 * time.Second,
		Checkers:  []chaos.Checker{&LastItemChecker{Workload: w}, &MinorityCommits{}},
	}
}

// ListAppendFaults runs the list-append workload under kills of the leader
// and of followers, leader partitions, leader pauses and graceful restarts,
// drawn at random; the history must be strictly serializable, and no
// transaction through an isolated node may commit.
func ListAppendFaults() chaos.Scenario {
	templates := []chaos.Step{
		{Fault: chaos.FaultKill, Target: chaos.TargetLeader, Duration: time.Second},
		{Fault: chaos.FaultKill, Target: chaos.TargetFollower, Duration: time.Second},
		{Fault: chaos.FaultPartition, Target: chaos.TargetLeader, Duration: 5 * time.Second},
		{Fault: chaos.FaultPause, Target: chaos.TargetLeader, Duration: chaos.PauseFor},
		{Fault: chaos.FaultRestart, Target: chaos.TargetNode},
	}
	w := &ListAppend{Timeout: 2 * time.Second} // see LastItemPartition
	return chaos.Scenario{
		Name:      "sql-list-append-faults",
		Service:   "raftkv",
		Workloads: []chaos.Workload{w},
		Schedule:  chaos.Mix(2*time.Second, time.Second, templates...),
		Phase:     14 * time.Second,
		Checkers:  []chaos.Checker{&ListAppendChecker{Workload: w}, &MinorityCommits{}},
	}
}

// FullCrash runs all three workloads while every node is SIGKILLed at once
// and started again; the checkers read the tables after a final full
// restart.
func FullCrash() chaos.Scenario {
	crash := chaos.Step{Fault: chaos.FaultCrashAll, Target: chaos.TargetAll, Duration: time.Second}
	bank := &Bank{Clients: 3}
	item := &LastItem{Clients: 3, ClientBase: 100}
	lists := &ListAppend{Clients: 3, ClientBase: 200}
	return chaos.Scenario{
		Name:               "sql-full-crash",
		Service:            "raftkv",
		Workloads:          []chaos.Workload{bank, item, lists},
		Schedule:           chaos.ByPhase(chaos.Every(4*time.Second, time.Second, crash), chaos.Every(12*time.Second, 3*time.Second, crash)),
		Phase:              10 * time.Second,
		RestartBeforeCheck: true,
		Checkers: []chaos.Checker{
			&BankChecker{Workload: bank},
			&LastItemChecker{Workload: item},
			&ListAppendChecker{Workload: lists},
		},
	}
}

// SQLScenarios returns every SQL scenario, in the order `make chaos` runs
// them.
func SQLScenarios() []chaos.Scenario {
	return []chaos.Scenario{BankLeaderKill(), LastItemPartition(), ListAppendFaults(), FullCrash()}
}
