package chaos

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"cairn.dev/cairn/raftkv/kvcheck"
)

// maxViolations caps the violations a verdict lists; the count stays exact.
const maxViolations = 50

// Checker judges a run after its workloads stopped (and, where the scenario says
// so, after a full restart of the cluster).
type Checker interface {
	// Name names the checker in the report.
	Name() string
	// Check returns the verdict. It may read the cluster through env.
	Check(ctx context.Context, env *Env) Verdict
}

// Verdict is one checker's conclusion. It passes when Err is empty and there
// are no violations.
type Verdict struct {
	Checker string `json:"checker"`
	// Summary says what was checked, for the report.
	Summary string `json:"summary"`
	// Violations lists what broke the checked property (at most maxViolations;
	// Count has the total).
	Violations []string `json:"violations,omitempty"`
	Count      int      `json:"violation_count"`
	// Err is why the checker could not decide; it fails the run.
	Err string `json:"err,omitempty"`
}

// Pass reports whether the verdict is a pass.
func (v Verdict) Pass() bool { return v.Err == "" && v.Count == 0 }

func (v *Verdict) violate(format string, args ...any) {
	v.Count++
	if len(v.Violations) < maxViolations {
		v.Violations = append(v.Violations, fmt.Sprintf(format, args...))
	}
}

// Linearizability checks the register operations with porcupine (per key). An
// inconclusive check is a failure. On a failure it writes porcupine's HTML
// visualisation to linearizability.html in the run directory.
type Linearizability struct {
	// Timeout bounds the check; default 2 minutes.
	Timeout time.Duration
}

// Name implements Checker.
func (c *Linearizability) Name() string { return "linearizability" }

// Check implements Checker.
func (c *Linearizability) Check(_ context.Context, env *Env) Verdict {
	v := Verdict{Checker: c.Name()}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	h := Linearizable(env.History.Ops())
	res, err := kvcheck.Check(h, timeout)
	if err != nil {
		v.Err = err.Error()
		return v
	}
	v.Summary = "porcupine: " + res.String()
	if !res.Ok() {
		if res.Inconclusive() {
			v.Err = "porcupine timed out after " + timeout.String() + " (inconclusive is a failure)"
		} else {
			v.violate("history is not linearizable")
		}
		path := filepath.Join(env.Dir, "linearizability.html")
		if err := res.WriteVisualization(path); err != nil {
			v.Summary += "; visualisation failed: " + err.Error()
		} else {
			v.Summary += "; visualisation: " + path
		}
	}
	return v
}

// Durability checks that every unique key whose write was acknowledged exists at
// the end with the value written.
type Durability struct {
	// Prefix is the KV workload's prefix; default "kv/".
	Prefix string
}

// Name implements Checker.
func (c *Durability) Name() string { return "durability" }

// Check implements Checker.
func (c *Durability) Check(ctx context.Context, env *Env) Verdict {
	v := Verdict{Checker: c.Name()}
	prefix := c.Prefix
	if prefix == "" {
		prefix = "kv/"
	}
	cl, err := env.NewClient(10 * time.Second)
	if err != nil {
		v.Err = err.Error()
		return v
	}
	defer cl.Close()
	final, _, err := readFinal(ctx, cl, prefix+"ack/")
	if err != nil {
		v.Err = fmt.Sprintf("read the final state: %v", err)
		return v
	}
	return checkDurable(env.History.Ops(), final)
}

// checkDurable is the pure part of Durability.
func checkDurable(ops []Op, final map[string]finalKV) Verdict {
	v := Verdict{Checker: "durability"}
	acked, unknown, unknownPresent := 0, 0, 0
	for _, op := range ops {
		if op.Kind != KindPutUnique {
			continue
		}
		f, ok := final[op.Key]
		switch op.Outcome {
		case OK:
			acked++
			switch {
			case !ok:
				v.violate("acknowledged write %s=%q (op %d, rev %d) lost", op.Key, op.Value, op.ID, op.Rev)
			case f.Value != op.Value:
				v.violate("acknowledged write %s=%q (op %d) reads back %q", op.Key, op.Value, op.ID, f.Value)
			}
		case Unknown:
			unknown++
			if ok {
				unknownPresent++
			}
		case Fail:
			if ok {
				v.violate("write %s=%q (op %d) failed with a definite error (%s) but is present", op.Key, op.Value, op.ID, op.Err)
			}
		}
	}
	v.Summary = fmt.Sprintf("%d acknowledged unique writes checked; %d unknown outcomes, of which %d applied", acked, unknown, unknownPresent)
	return v
}

// MinorityWrites checks that no write sent through a node cut off from the
// majority was acknowledged: a write by a pinned client, invoked after a
// partition isolating its node was in place and returned before it healed, must
// fail or stay unknown.
type MinorityWrites struct{}

// Name implements Checker.
func (c *MinorityWrites) Name() string { return "minority-writes" }

// Check implements Checker.
func (c *MinorityWrites) Check(_ context.Context, env *Env) Verdict {
	return checkMinority(env.History.Ops(), env.Timeline.Records())
}

func checkMinority(ops []Op, faults []FaultRecord) Verdict {
	v := Verdict{Checker: "minority-writes"}
	attempted, unknown, failed := 0, 0, 0
	for _, f := range faults {
		if f.Fault != FaultPartition || f.Params.OneWay || f.Start < 0 || f.End < 0 {
			continue
		}
		for _, op := range ops {
			if !op.Kind.IsWrite() || !contains(f.Nodes, op.Via) || op.Call < f.Start || !op.Done() || op.Return > f.End {
				continue
			}
			attempted++
			switch op.Outcome {
			case OK:
				v.violate("write %s=%q (op %d) through isolated %s acknowledged during partition %d", op.Key, op.Value, op.ID, op.Via, f.Step)
			case Unknown:
				unknown++
			default:
				failed++
			}
		}
	}
	v.Summary = fmt.Sprintf("%d writes through isolated nodes during partitions: %d failed, %d unknown", attempted, failed, unknown)
	return v
}
