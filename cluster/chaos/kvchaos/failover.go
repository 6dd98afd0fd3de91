package kvchaos

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"

	"cairn.dev/cairn/cluster/chaos"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// KindRaftStatus is an observation of one node's Raft state by the TermWatch
// workload: Via is the node, Rev its term, Value the leader it names, Found
// whether it leads.
const KindRaftStatus chaos.OpKind = "raft-status"

// Failover SIGKILLs the leader every ~3 s (long: ~4 s), restarting it after a
// second, under a steady load of linearizable reads and writes, and measures
// for every kill how long it took until a write and a linearizable read
// issued after the kill succeeded (the Stall checker); the history is also
// checked with porcupine and for durability.
func Failover() chaos.Scenario {
	kill := chaos.Step{Fault: chaos.FaultKill, Target: chaos.TargetLeader, Duration: time.Second}
	return chaos.Scenario{
		Name:      "failover",
		Service:   "raftkv",
		Workloads: []chaos.Workload{&KV{Clients: 4}},
		Schedule:  chaos.ByPhase(chaos.Every(3*time.Second, 500*time.Millisecond, kill), chaos.Every(4*time.Second, time.Second, kill)),
		Phase:     18 * time.Second,
		Checkers:  []chaos.Checker{&Stall{Max: FailoverBound}, &Linearizability{}, &Durability{}},
	}
}

// FailoverBound is the longest a write or a linearizable read may stall after
// a leader kill in the Failover scenario. The stall is the heartbeat timeout
// (1 s) until a follower may campaign, plus its jitter (up to a quarter of
// that), an election round and the client's retry: 1.1-1.3 s on the 2-core
// test host. The goal is 1.5 s; the bound leaves room for a host loaded by
// other work, and still fails the 2-3 s stalls measured before the contact
// watch. See docs/raftkv.md, Failover.
const FailoverBound = 2 * time.Second

// CPULoad runs 8 busy-looping processes on the host for 12 s (long: 30 s,
// twice) under the KV workload, with no other fault, and checks that no node
// saw the Raft term change meanwhile (StableTerm): a loaded host must not make
// a healthy leader lose its followers.
func CPULoad() chaos.Scenario {
	short := chaos.Step{Fault: chaos.FaultCPULoad, Target: chaos.TargetAll, Duration: 12 * time.Second, Params: chaos.Params{Procs: 8}}
	long := short
	long.Duration = 30 * time.Second
	return chaos.Scenario{
		Name:      "cpu-load",
		Service:   "raftkv",
		Workloads: []chaos.Workload{&KV{Clients: 4}, &TermWatch{}},
		Schedule:  chaos.ByPhase(chaos.Sequence(time.Second, short), chaos.Every(35*time.Second, 0, long)),
		Phase:     14 * time.Second,
		Checkers:  []chaos.Checker{&StableTerm{}, &Linearizability{}},
	}
}

// TermWatch polls every node's Status every Every (default 100 ms) over a
// connection of its own per node and records each answer as a KindRaftStatus
// event.
type TermWatch struct {
	Every time.Duration
}

// Name implements chaos.Workload.
func (w *TermWatch) Name() string { return "term-watch" }

// Kinds implements chaos.Workload.
func (w *TermWatch) Kinds() chaos.Kinds { return chaos.Kinds{KindRaftStatus: chaos.ClassEvent} }

// Run implements chaos.Workload.
func (w *TermWatch) Run(ctx context.Context, env *chaos.Env) error {
	every := w.Every
	if every <= 0 {
		every = 100 * time.Millisecond
	}
	var wg sync.WaitGroup
	for _, name := range env.Nodes() {
		n, ok := env.Node(name)
		if !ok {
			return fmt.Errorf("term-watch: no node %s", name)
		}
		cc, err := grpc.NewClient(n.GRPCAddr, grpc.WithTransportCredentials(env.TransportCredentials()))
		if err != nil {
			return fmt.Errorf("term-watch: dial %s: %w", name, err)
		}
		defer cc.Close()
		cs := raftkvv1.NewClusterServiceClient(cc)
		wg.Go(func() {
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				sctx, cancel := context.WithTimeout(ctx, time.Second)
				resp, err := cs.Status(sctx, &raftkvv1.StatusRequest{})
				cancel()
				if err != nil {
					continue // a dead or slow node: no observation
				}
				env.History.Event(chaos.Op{Kind: KindRaftStatus, Via: name, Rev: int64(resp.GetRaftTerm()),
					Value: resp.GetLeaderId(), Found: resp.GetState() == "leader"})
			}
		})
	}
	wg.Wait()
	return nil
}

// StableTerm checks that no node's Raft term changed during a cpu-load fault
// (or in the second after it): the term before the fault is the highest any
// node reported before it began.
type StableTerm struct{}

// Name implements chaos.Checker.
func (c *StableTerm) Name() string { return "stable-term" }

// Check implements chaos.Checker.
func (c *StableTerm) Check(_ context.Context, env *chaos.Env) chaos.Verdict {
	v := chaos.Verdict{Checker: c.Name()}
	ops := env.History.Ops()
	faults, observed := 0, 0
	for _, rec := range env.Timeline.Records() {
		if rec.Fault != chaos.FaultCPULoad || rec.Start < 0 {
			continue
		}
		faults++
		end := rec.End
		if end < 0 {
			end = env.Now()
		}
		end += time.Second
		before := int64(-1)
		for _, op := range ops {
			if op.Kind == KindRaftStatus && op.Call < rec.Start {
				before = max(before, op.Rev)
			}
		}
		if before < 0 {
			v.Err = fmt.Sprintf("no Raft status observed before the load at %v", rec.Start)
			return v
		}
		for _, op := range ops {
			if op.Kind != KindRaftStatus || op.Call < rec.Start || op.Call > end {
				continue
			}
			observed++
			if op.Rev != before {
				v.Violate("%s reported term %d at %v, during the load that began at %v in term %d (leader %q)",
					op.Via, op.Rev, op.Call.Round(time.Millisecond), rec.Start.Round(time.Millisecond), before, op.Value)
			}
		}
	}
	if faults == 0 {
		v.Err = "no cpu-load fault ran"
		return v
	}
	v.Summary = fmt.Sprintf("%d cpu-load faults, %d status observations during them, term unchanged in %d", faults, observed, observed-v.Count)
	return v
}

// Stall measures, for every leader kill, the time from the kill until the
// first write and the first linearizable read that were issued after it
// succeeded, and reports a violation for each that took longer than Max (no
// bound when Max is 0). A kill after which nothing succeeded before the run
// ended is a violation too.
type Stall struct {
	Max time.Duration
}

// Name implements chaos.Checker.
func (c *Stall) Name() string { return "stall" }

// Check implements chaos.Checker.
func (c *Stall) Check(_ context.Context, env *chaos.Env) chaos.Verdict {
	v := chaos.Verdict{Checker: c.Name()}
	ops := env.History.Ops()
	var writes, reads []time.Duration
	for _, rec := range env.Timeline.Records() {
		if rec.Fault != chaos.FaultKill || rec.Start < 0 {
			continue
		}
		w, wok := firstOKAfter(ops, rec.Start, func(op chaos.Op) bool { return kinds.IsWrite(op.Kind) })
		r, rok := firstOKAfter(ops, rec.Start, func(op chaos.Op) bool { return op.Kind == KindGet })
		for _, m := range []struct {
			what  string
			stall time.Duration
			ok    bool
		}{{"write", w, wok}, {"read", r, rok}} {
			switch {
			case !m.ok:
				v.Violate("kill of %v at %v: no %s succeeded afterwards", rec.Nodes, rec.Start.Round(time.Millisecond), m.what)
			case c.Max > 0 && m.stall > c.Max:
				v.Violate("kill of %v at %v: first %s %v later (bound %v)", rec.Nodes, rec.Start.Round(time.Millisecond), m.what, m.stall.Round(time.Millisecond), c.Max)
			}
		}
		if wok {
			writes = append(writes, w)
		}
		if rok {
			reads = append(reads, r)
		}
	}
	if len(writes)+len(reads) == 0 {
		v.Err = "no leader kill ran"
		return v
	}
	v.Summary = fmt.Sprintf("%d kills; stall until a write: %s; until a linearizable read: %s", len(writes), stallList(writes), stallList(reads))
	return v
}

// firstOKAfter returns how long after t the first successful operation that
// match accepts and that was issued at or after t returned.
func firstOKAfter(ops []chaos.Op, t time.Duration, match func(chaos.Op) bool) (time.Duration, bool) {
	best, found := time.Duration(0), false
	for _, op := range ops {
		if op.Outcome == chaos.OK && op.Call >= t && match(op) && (!found || op.Return < best) {
			best, found = op.Return, true
		}
	}
	return best - t, found
}

// stallList formats stalls in kill order, then their maximum.
func stallList(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.Round(time.Millisecond).String()
	}
	return fmt.Sprintf("%s (max %v)", strings.Join(parts, " "), slices.Max(ds).Round(time.Millisecond))
}
