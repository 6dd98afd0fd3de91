package kvchaos

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"cairn.dev/cairn/cluster/chaos"
	"cairn.dev/cairn/raftkv/kvcheck"
)

// Linearizability checks the register operations with porcupine (per key). An
// inconclusive check is a failure. On a failure it writes porcupine's HTML
// visualisation to linearizability.html in the run directory.
type Linearizability struct {
	// Timeout bounds the check; default 2 minutes.
	Timeout time.Duration
}

// Name implements chaos.Checker.
func (c *Linearizability) Name() string { return "linearizability" }

// Check implements chaos.Checker.
func (c *Linearizability) Check(_ context.Context, env *chaos.Env) chaos.Verdict {
	v := chaos.Verdict{Checker: c.Name()}
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
			v.Violate("history is not linearizable")
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

// Name implements chaos.Checker.
func (c *Durability) Name() string { return "durability" }

// Check implements chaos.Checker.
func (c *Durability) Check(ctx context.Context, env *chaos.Env) chaos.Verdict {
	v := chaos.Verdict{Checker: c.Name()}
	prefix := c.Prefix
	if prefix == "" {
		prefix = "kv/"
	}
	cl, err := NewClient(env, 10*time.Second)
	if err != nil {
		v.Err = err.Error()
		return v
	}
	defer cl.Close()
	final, _, err := ReadFinal(ctx, cl, prefix+"ack/")
	if err != nil {
		v.Err = fmt.Sprintf("read the final state: %v", err)
		return v
	}
	return checkDurable(env.History.Ops(), final)
}

// checkDurable is the pure part of Durability.
func checkDurable(ops []chaos.Op, final map[string]Final) chaos.Verdict {
	v := chaos.Verdict{Checker: "durability"}
	acked, unknown, unknownPresent := 0, 0, 0
	for _, op := range ops {
		if op.Kind != KindPutUnique {
			continue
		}
		f, ok := final[op.Key]
		switch op.Outcome {
		case chaos.OK:
			acked++
			switch {
			case !ok:
				v.Violate("acknowledged write %s=%q (op %d, rev %d) lost", op.Key, op.Value, op.ID, op.Rev)
			case f.Value != op.Value:
				v.Violate("acknowledged write %s=%q (op %d) reads back %q", op.Key, op.Value, op.ID, f.Value)
			}
		case chaos.Unknown:
			unknown++
			if ok {
				unknownPresent++
			}
		case chaos.Fail:
			if ok {
				v.Violate("write %s=%q (op %d) failed with a definite error (%s) but is present", op.Key, op.Value, op.ID, op.Err)
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

// Name implements chaos.Checker.
func (c *MinorityWrites) Name() string { return "minority-writes" }

// Check implements chaos.Checker.
func (c *MinorityWrites) Check(_ context.Context, env *chaos.Env) chaos.Verdict {
	return checkMinority(env.History.Ops(), env.Timeline.Records())
}

func checkMinority(ops []chaos.Op, faults []chaos.FaultRecord) chaos.Verdict {
	v := chaos.Verdict{Checker: "minority-writes"}
	attempted, unknown, failed := 0, 0, 0
	for _, f := range faults {
		if f.Fault != chaos.FaultPartition || f.Params.OneWay || f.Start < 0 || f.End < 0 {
			continue
		}
		for _, op := range ops {
			if !kinds.IsWrite(op.Kind) || !slices.Contains(f.Nodes, op.Via) || op.Call < f.Start || !op.Done() || op.Return > f.End {
				continue
			}
			attempted++
			switch op.Outcome {
			case chaos.OK:
				v.Violate("write %s=%q (op %d) through isolated %s acknowledged during partition %d", op.Key, op.Value, op.ID, op.Via, f.Step)
			case chaos.Unknown:
				unknown++
			default:
				failed++
			}
		}
	}
	v.Summary = fmt.Sprintf("%d writes through isolated nodes during partitions: %d failed, %d unknown", attempted, failed, unknown)
	return v
}

// Linearizable returns the register operations of ops as a kvcheck history.
// Operations that never returned are unknown.
func Linearizable(ops []chaos.Op) kvcheck.History {
	var out kvcheck.History
	for _, op := range ops {
		var in kvcheck.Input
		switch op.Kind {
		case KindGet:
			in = kvcheck.Get(op.Key)
		case KindPut:
			in = kvcheck.Put(op.Key, op.Value)
		case KindCAS:
			var expect kvcheck.Value
			if op.Expect != nil {
				expect = kvcheck.Value(*op.Expect)
			}
			in = kvcheck.CAS(op.Key, expect, op.Value)
		default:
			continue
		}
		o := kvcheck.Operation{Client: op.Client, Input: in, Call: int64(op.Call), Return: int64(op.Return)}
		switch {
		case !op.Done() || op.Outcome == chaos.Unknown:
			o.Output = kvcheck.Output{Outcome: kvcheck.OutcomeUnknown}
			o.Return = o.Call
		case op.Outcome == chaos.Fail:
			o.Output = kvcheck.Output{Outcome: kvcheck.OutcomeFail}
		default:
			o.Output = kvcheck.Output{Outcome: kvcheck.OutcomeOK, Succeeded: op.Succeeded}
			if op.Kind == KindGet && op.Found {
				o.Output.Value = kvcheck.Present(op.Value) // a get's Value is what it read
			}
		}
		out = append(out, o)
	}
	return out
}
