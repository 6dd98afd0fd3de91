package queuechaos

import (
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// The queued scenarios run a three-node queued group. Each returns a fresh
// Scenario with its own workload (which keeps the drain's state) and checkers.

// The faults of the queued scenarios, as the other Raft daemons' scenarios
// use them: SIGKILL the leader for a second, blackhole its peer links, SIGSTOP
// it for twice the election timeout, restart a node gracefully, SIGKILL every
// node at once.
var (
	queuedKill      = chaos.Step{Fault: chaos.FaultKill, Target: chaos.TargetLeader, Duration: time.Second}
	queuedPartition = chaos.Step{Fault: chaos.FaultPartition, Target: chaos.TargetLeader, Duration: 4 * time.Second}
	queuedPause     = chaos.Step{Fault: chaos.FaultPause, Target: chaos.TargetLeader, Duration: chaos.PauseFor}
	queuedRestart   = chaos.Step{Fault: chaos.FaultRestart, Target: chaos.TargetNode}
	queuedCrashAll  = chaos.Step{Fault: chaos.FaultCrashAll, Target: chaos.TargetAll, Duration: time.Second}
)

// standard is a scenario on a standard queue, judged by TotalQueue and
// Deliveries.
func standard(name string, schedule chaos.Schedule, phase time.Duration) chaos.Scenario {
	w := &Queue{}
	return chaos.Scenario{
		Name:      name,
		Service:   "queued",
		Workloads: []chaos.Workload{w},
		Schedule:  schedule,
		Phase:     phase,
		Checkers:  []chaos.Checker{&TotalQueue{Workload: w}, &Deliveries{Workload: w}},
	}
}

// QueueLeaderKill SIGKILLs the queued leader every ~3 s (long: ~10 s) and
// restarts it after a second, under producers and consumers of a standard
// queue: after the drain no acknowledged message is lost, none appears that
// was not sent, and redeliveries respect visibility and acks.
func QueueLeaderKill() chaos.Scenario {
	return standard("queue-leader-kill",
		chaos.ByPhase(chaos.Every(3*time.Second, time.Second, queuedKill), chaos.Every(10*time.Second, 2*time.Second, queuedKill)),
		9*time.Second)
}

// QueueLeaderPartition cuts the queued leader's peer links for 4 s, every
// ~2 s (long: ~8 s): a deposed leader acknowledges no send, receive or ack it
// cannot commit.
func QueueLeaderPartition() chaos.Scenario {
	return standard("queue-leader-partition",
		chaos.ByPhase(chaos.Every(2*time.Second, 500*time.Millisecond, queuedPartition), chaos.Every(8*time.Second, 2*time.Second, queuedPartition)),
		8*time.Second)
}

// QueuePause SIGSTOPs the queued leader for twice the election timeout, every
// ~2.5 s (long: ~6 s): deliveries the paused leader made must not come back
// before their visibility timeout, nor acked ones at all.
func QueuePause() chaos.Scenario {
	return standard("queue-pause",
		chaos.ByPhase(chaos.Every(2500*time.Millisecond, 500*time.Millisecond, queuedPause), chaos.Every(6*time.Second, 2*time.Second, queuedPause)),
		9500*time.Millisecond)
}

// QueueRestart restarts a queued node (chosen by the seed, the leader or
// not) gracefully every ~2 s (long: ~6 s).
func QueueRestart() chaos.Scenario {
	return standard("queue-restart",
		chaos.ByPhase(chaos.Every(2*time.Second, 500*time.Millisecond, queuedRestart), chaos.Every(6*time.Second, 2*time.Second, queuedRestart)),
		6*time.Second)
}

// QueueFullCrash SIGKILLs every queued node at once under load and starts
// them again, every ~3 s (long: ~10 s); after a final full restart the drain
// must find every acknowledged message.
func QueueFullCrash() chaos.Scenario {
	sc := standard("queue-full-crash",
		chaos.ByPhase(chaos.Every(3*time.Second, time.Second, queuedCrashAll), chaos.Every(10*time.Second, 3*time.Second, queuedCrashAll)),
		8*time.Second)
	sc.RestartBeforeCheck = true
	return sc
}

// QueueFIFO runs four producers, one per message group, and four consumers
// on a FIFO queue while the leader is killed, partitioned and paused: besides
// the total-queue and delivery checks, each group is delivered in send order
// with never two of its messages in flight (FIFOChecker). A dropped delivery
// holds its group for the visibility timeout, so consumers crash less often
// (5%) and producers send every 40 ms: the groups keep up, and the backlog
// left for the drain stays small in long runs.
func QueueFIFO() chaos.Scenario {
	w := &Queue{FIFO: true, Crash: 0.05, SendEvery: 40 * time.Millisecond}
	return chaos.Scenario{
		Name:      "queue-fifo",
		Service:   "queued",
		Workloads: []chaos.Workload{w},
		Schedule: chaos.ByPhase(chaos.Sequence(2*time.Second, queuedKill, queuedPartition, queuedPause),
			chaos.Mix(4*time.Second, time.Second, queuedKill, queuedPartition, queuedPause)),
		Phase:    12 * time.Second,
		Checkers: []chaos.Checker{&TotalQueue{Workload: w}, &Deliveries{Workload: w}, &FIFOChecker{Workload: w}},
	}
}

// QueueDLQ runs the standard workload on a queue with max_receives 3 and a
// dead letter queue, with a poison message (never acked) every 2 s, while the
// leader is killed and paused: every poison message reaches the dead letter
// queue after exactly 3 deliveries, and no message is delivered more than 3
// times from the source (DeadLetter).
func QueueDLQ() chaos.Scenario {
	w := &Queue{QueueName: "chaos-orders", DeadLetter: "chaos-orders-dlq", MaxReceives: 3}
	return chaos.Scenario{
		Name:      "queue-dlq",
		Service:   "queued",
		Workloads: []chaos.Workload{w},
		Schedule: chaos.ByPhase(chaos.Sequence(2*time.Second, queuedKill, queuedPause),
			chaos.Mix(5*time.Second, time.Second, queuedKill, queuedPartition, queuedPause)),
		Phase:    8 * time.Second,
		Checkers: []chaos.Checker{&TotalQueue{Workload: w}, &Deliveries{Workload: w}, &DeadLetter{Workload: w}},
	}
}

// QueuedScenarios returns every queued scenario, in the order `make chaos`
// runs them.
func QueuedScenarios() []chaos.Scenario {
	return []chaos.Scenario{QueueLeaderKill(), QueueLeaderPartition(), QueuePause(), QueueRestart(),
		QueueFullCrash(), QueueFIFO(), QueueDLQ()}
}
