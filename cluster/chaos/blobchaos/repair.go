package blobchaos

import (
	"context"
	"fmt"
	"sort"
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// Defaults of the Repair checker.
const (
	// DefaultRepairBase is the part of the repair bound that does not
	// depend on the data: a DOWN server is declared after blobd's server
	// timeout (5s), a damaged copy is found by the next scrub (the chaos
	// scenarios run it every 2s) and reported by the next heartbeat (1s),
	// and the repair loop runs on the leader.
	DefaultRepairBase = 30 * time.Second
	// DefaultRepairRate is the copy rate the bound allows for on top of
	// the base: one second per DefaultRepairRate bytes acknowledged (half
	// blobd's default repair rate limit of 200 MiB/s per node, for a
	// loaded host).
	DefaultRepairRate = 100 << 20
	// DefaultSettle is how long the status must stay healthy, and how long
	// after the last heal it is watched at least, before the cluster counts
	// as repaired: a copy damaged on disk is only seen once a scrub pass
	// read it and a heartbeat reported it.
	DefaultSettle = 8 * time.Second
)

// Repair judges that after the nemesis stopped, blobd's repair loop
// restored full redundancy within a bound: the repair status (recorded by
// the workload's monitor every RepairEvery, and by the checker itself
// after the workloads stopped) became healthy — no degraded volume, none
// being repaired, no DOWN server holding a volume — no later than Base +
// (acknowledged bytes / Rate) after the last fault was healed, and stayed
// healthy from then on, for Settle at least. The recovery time is the
// start of that last healthy streak.
type Repair struct {
	Workload *Blob
	// Base, Rate and Settle default to DefaultRepairBase,
	// DefaultRepairRate and DefaultSettle.
	Base   time.Duration
	Rate   int64
	Settle time.Duration
}

// Name implements chaos.Checker.
func (c *Repair) Name() string { return "repair" }

func (c *Repair) params() (base time.Duration, rate int64, settle time.Duration) {
	base, rate, settle = c.Base, c.Rate, c.Settle
	if base <= 0 {
		base = DefaultRepairBase
	}
	if rate <= 0 {
		rate = DefaultRepairRate
	}
	if settle <= 0 {
		settle = DefaultSettle
	}
	return base, rate, settle
}

// repairBound is base plus one second per rate bytes of acknowledged PUTs.
func repairBound(ops []chaos.Op, base time.Duration, rate int64) time.Duration {
	var acked int64
	for _, op := range ops {
		if op.Kind == KindPut && op.Outcome == chaos.OK {
			acked += op.Rev
		}
	}
	return base + time.Duration(float64(acked)/float64(rate)*float64(time.Second))
}

// lastHeal is when the last fault of the timeline was healed (0 without
// faults).
func lastHeal(records []chaos.FaultRecord) time.Duration {
	last := time.Duration(0)
	for _, r := range records {
		last = max(last, r.End, r.Start)
	}
	return last
}

// Check implements chaos.Checker: it watches the repair status until it
// has been healthy for Settle (and Settle has passed since the last heal),
// or until the bound and Settle have passed since the last heal, then
// judges the statuses recorded.
func (c *Repair) Check(ctx context.Context, env *chaos.Env) chaos.Verdict {
	base, rate, settle := c.params()
	cfg := c.Workload.config(env.Phase)
	heal := lastHeal(env.Timeline.Records())
	bound := repairBound(env.History.Ops(), base, rate)
	s, err := c.Workload.store(env, cfg)
	if err != nil {
		return chaos.Verdict{Err: fmt.Sprintf("repair status client: %v", err)}
	}
	defer s.Close()
	for ctx.Err() == nil {
		repairStatus(env.History, s, cfg.clientBase+300, cfg.timeout)
		if _, settled := healthySince(env.History.Ops(), heal, settle); settled || env.Now() > heal+bound+settle {
			break
		}
		chaos.Hold(ctx, 250*time.Millisecond)
	}
	return checkRepair(env.History.Ops(), heal, bound, settle)
}

// healthySince returns the start of the last healthy streak of repair
// statuses returned at or after heal, and whether it has lasted settle
// and reaches settle past heal.
func healthySince(ops []chaos.Op, heal, settle time.Duration) (time.Duration, bool) {
	obs := statuses(ops, heal)
	if len(obs) == 0 || !obs[len(obs)-1].Found {
		return -1, false
	}
	i := len(obs) - 1
	for i > 0 && obs[i-1].Found {
		i--
	}
	since, end := obs[i].Return, obs[len(obs)-1].Return
	return since, end-since >= settle && end-heal >= settle
}

// statuses returns the successful repair statuses returned at or after
// heal, in the order they returned.
func statuses(ops []chaos.Op, heal time.Duration) []chaos.Op {
	var out []chaos.Op
	for _, op := range ops {
		if op.Kind == KindRepair && op.Outcome == chaos.OK && op.Return >= heal {
			out = append(out, op)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Return < out[j].Return })
	return out
}

// checkRepair is the pure part of Repair: heal is when the last fault was
// healed, bound the time repair may take from then, settle how long the
// healthy status must last.
func checkRepair(ops []chaos.Op, heal, bound, settle time.Duration) chaos.Verdict {
	v := chaos.Verdict{Checker: "repair"}
	var degraded, maxDegraded, total int
	for _, op := range ops {
		if op.Kind == KindRepair && op.Outcome == chaos.OK {
			total++
			if !op.Found {
				degraded++
			}
			maxDegraded = max(maxDegraded, int(op.Rev))
		}
	}
	obs := statuses(ops, heal)
	seen := fmt.Sprintf("%d statuses (%d not healthy, at most %d volumes degraded)", total, degraded, maxDegraded)
	if len(obs) == 0 {
		v.Err = fmt.Sprintf("no repair status was read after the last heal at %v; %s", heal, seen)
		return v
	}
	since, settled := healthySince(ops, heal, settle)
	last := obs[len(obs)-1]
	switch {
	case since < 0:
		v.Violate("not repaired: the last repair status (%v, %v after the last heal) is not healthy: %s; the bound is %v",
			last.Return, last.Return-heal, last.Value, bound)
		v.Summary = fmt.Sprintf("last heal at %v; not healthy at the end; bound %v; %s", heal, bound, seen)
		return v
	case since-heal > bound:
		v.Violate("repaired late: healthy from %v, %v after the last heal (bound %v)", since, since-heal, bound)
	case !settled:
		v.Violate("not settled: healthy from %v, %v after the last heal, but only watched until %v (settle %v)",
			since, since-heal, last.Return, settle)
	}
	v.Summary = fmt.Sprintf("last heal at %v; healthy again %v after it (bound %v, held %v); %s",
		heal, since-heal, bound, last.Return-since, seen)
	return v
}
