package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// Fault is a kind of nemesis action.
type Fault string

// The nemesis actions. Each runs for Step.Duration and is then healed, unless
// noted otherwise.
const (
	// FaultKill SIGKILLs the target and starts it again after Duration. With
	// Params.Tamper set, the scenario's tamper of that name (Scenario.Tampers)
	// runs on each killed node's files before it starts: a torn write, a
	// corrupted tail.
	FaultKill Fault = "kill"
	// FaultRestart stops the target gracefully (SIGTERM) and starts it again.
	FaultRestart Fault = "restart"
	// FaultRollingRestart gracefully restarts every node in turn, each after the
	// previous one is serving again.
	FaultRollingRestart Fault = "rolling-restart"
	// FaultCrashAll SIGKILLs every node and starts them all again after
	// Duration (tampering with their files as FaultKill does).
	FaultCrashAll Fault = "crash-all"
	// FaultPause SIGSTOPs the target and SIGCONTs it after Duration.
	FaultPause Fault = "pause"
	// FaultPartition cuts the target's peer links to every other node (only the
	// outgoing direction with Params.OneWay) for Duration, then heals. With
	// Params.Delay set, the links among the other nodes get that delay (and
	// Params.Jitter) meanwhile.
	FaultPartition Fault = "partition"
	// FaultDelay delays the target's peer links by Params.Delay ± Params.Jitter
	// for Duration.
	FaultDelay Fault = "delay"
	// FaultMemberReplace removes the target from the Raft group, stops it,
	// wipes its data, starts it empty and adds it back as a new member.
	FaultMemberReplace Fault = "member-replace"
	// FaultFailpoint arms Params.Failpoint with Params.Term on the target over
	// HTTP. If the node exits (an exit or panic term) it is started again; if it
	// is still running after Duration the point is disarmed.
	FaultFailpoint Fault = "failpoint"
	// FaultCPULoad starts Params.Procs busy-looping processes (default
	// DefaultLoadProcs) on the host for Duration, then kills them: the nodes
	// keep running, slowed by a loaded host. The target is not used.
	FaultCPULoad Fault = "cpu-load"
)

// DefaultLoadProcs is the busy processes of a FaultCPULoad step without
// Params.Procs.
const DefaultLoadProcs = 8

// Target says which node a step acts on. Targets are resolved when the step
// runs, since roles change; Step.Pick breaks ties deterministically.
type Target string

// The targets.
const (
	// TargetLeader is the node the group agrees leads it.
	TargetLeader Target = "leader"
	// TargetFollower is one of the followers: the Pick-th modulo their number,
	// in name order.
	TargetFollower Target = "follower"
	// TargetNode is the Pick-th node modulo the node count, in name order,
	// whatever its role.
	TargetNode Target = "node"
	// TargetAll is every node.
	TargetAll Target = "all"
)

// TargetFunc resolves a target a daemon package defines (Scenario.Targets),
// such as "the leader of a partition": it returns the nodes the step acts on
// now; pick is the step's Pick, for choices among candidates.
type TargetFunc func(ctx context.Context, env *Env, pick int) ([]string, error)

// TamperFunc changes the files of node, which is not running, before a kill
// step starts it again (Params.Tamper names it in Scenario.Tampers); rng is
// the step's own random stream. It returns a note for the timeline saying
// what it did.
type TamperFunc func(env *Env, node string, rng *rand.Rand) (note string, err error)

// Params are the fault-specific parameters of a step.
type Params struct {
	OneWay    bool          `json:"one_way,omitempty"`
	Delay     time.Duration `json:"delay,omitempty"`
	Jitter    time.Duration `json:"jitter,omitempty"`
	Failpoint string        `json:"failpoint,omitempty"`
	Term      string        `json:"term,omitempty"`
	// Procs is the busy processes of a FaultCPULoad step.
	Procs int `json:"procs,omitempty"`
	// Tamper names the scenario's TamperFunc a kill step runs on the killed
	// nodes' files before starting them.
	Tamper string `json:"tamper,omitempty"`
}

// Step is one entry of a fault schedule: at At (from the start of the fault
// phase) inject Fault on Target for Duration.
type Step struct {
	At       time.Duration `json:"at"`
	Fault    Fault         `json:"fault"`
	Target   Target        `json:"target"`
	Pick     int           `json:"pick"`
	Duration time.Duration `json:"duration"`
	Params   Params        `json:"params"`
}

func (s Step) String() string {
	out := fmt.Sprintf("%s %s", s.Fault, s.Target)
	if s.Target == TargetFollower || s.Target == TargetNode {
		out += fmt.Sprintf("#%d", s.Pick)
	}
	if s.Duration > 0 {
		out += " for " + s.Duration.String()
	}
	return out
}

// MarshalJSON writes durations as strings ("1.5s") for people reading run dirs.
func (p Params) MarshalJSON() ([]byte, error) {
	type view struct {
		OneWay    bool   `json:"one_way,omitempty"`
		Delay     string `json:"delay,omitempty"`
		Jitter    string `json:"jitter,omitempty"`
		Failpoint string `json:"failpoint,omitempty"`
		Term      string `json:"term,omitempty"`
		Procs     int    `json:"procs,omitempty"`
		Tamper    string `json:"tamper,omitempty"`
	}
	return json.Marshal(view{p.OneWay, durString(p.Delay), durString(p.Jitter), p.Failpoint, p.Term, p.Procs, p.Tamper})
}

// MarshalJSON writes durations as strings.
func (s Step) MarshalJSON() ([]byte, error) {
	type view struct {
		At       string `json:"at"`
		Fault    Fault  `json:"fault"`
		Target   Target `json:"target"`
		Pick     int    `json:"pick"`
		Duration string `json:"duration,omitempty"`
		Params   Params `json:"params"`
	}
	return json.Marshal(view{s.At.String(), s.Fault, s.Target, s.Pick, durString(s.Duration), s.Params})
}

func durString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// LongPhase is the fault phase from which scenarios switch from their short
// schedule (a few faults, seconds apart) to their long one.
const LongPhase = 30 * time.Second

// ByPhase returns a schedule that is short for fault phases under LongPhase
// and long otherwise.
func ByPhase(short, long Schedule) Schedule {
	return func(rng *rand.Rand, phase time.Duration) []Step {
		if phase < LongPhase {
			return short(rng, phase)
		}
		return long(rng, phase)
	}
}

// PauseFor is how long the Raft scenarios pause a node: twice the heartbeat
// (and election) timeout (1s) of the Raft daemons, over twice the leader
// lease (900ms).
const PauseFor = 2 * time.Second

// Schedule generates the fault schedule of a run from rng, for a fault phase
// of the given length. It must take every random choice from rng, so that the
// same seed gives the same schedule.
type Schedule func(rng *rand.Rand, phase time.Duration) []Step

// Every returns a schedule that repeats one step template: the first at
// about every from the start, then one every every ± jitter after the previous
// step ended, while steps fit in the phase. Pick is drawn for each step. At
// least one step is scheduled.
func Every(every, jitter time.Duration, template Step) Schedule {
	return func(rng *rand.Rand, phase time.Duration) []Step {
		var steps []Step
		at := time.Duration(0)
		for {
			gap := every
			if jitter > 0 {
				gap += time.Duration(rng.Int64N(int64(2*jitter))) - jitter
			}
			at += gap
			s := template
			s.At = at
			s.Pick = rng.IntN(1 << 16)
			if len(steps) > 0 && at+s.Duration > phase {
				return steps
			}
			steps = append(steps, s)
			at += s.Duration
		}
	}
}

// Mix returns a schedule that strings together steps drawn from templates at
// random (uniformly), separated by gap ± jitter, while they fit in the phase.
func Mix(gap, jitter time.Duration, templates ...Step) Schedule {
	return func(rng *rand.Rand, phase time.Duration) []Step {
		var steps []Step
		at := time.Duration(0)
		for {
			g := gap
			if jitter > 0 {
				g += time.Duration(rng.Int64N(int64(2*jitter))) - jitter
			}
			at += g
			s := templates[rng.IntN(len(templates))]
			s.At = at
			s.Pick = rng.IntN(1 << 16)
			if len(steps) > 0 && at+s.Duration > phase {
				return steps
			}
			steps = append(steps, s)
			at += s.Duration
		}
	}
}

// Cycle returns a schedule that repeats templates in order, gap ± jitter apart,
// while they fit in the phase; every template is scheduled at least once.
func Cycle(gap, jitter time.Duration, templates ...Step) Schedule {
	return func(rng *rand.Rand, phase time.Duration) []Step {
		var steps []Step
		at := time.Duration(0)
		for i := 0; ; i++ {
			g := gap
			if jitter > 0 {
				g += time.Duration(rng.Int64N(int64(2*jitter))) - jitter
			}
			at += g
			s := templates[i%len(templates)]
			s.At = at
			s.Pick = rng.IntN(1 << 16)
			if i >= len(templates) && at+s.Duration > phase {
				return steps
			}
			steps = append(steps, s)
			at += s.Duration
		}
	}
}

// Sequence returns a schedule that runs the given steps once each, in order,
// gap apart (between the end of one and the start of the next), drawing Pick
// for each. It ignores the phase length.
func Sequence(gap time.Duration, steps ...Step) Schedule {
	return func(rng *rand.Rand, _ time.Duration) []Step {
		out := make([]Step, len(steps))
		at := time.Duration(0)
		for i, s := range steps {
			at += gap
			s.At = at
			s.Pick = rng.IntN(1 << 16)
			out[i] = s
			at += s.Duration
		}
		return out
	}
}
