package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"cairn.dev/cairn/cluster"
)

// ReadyTimeout bounds how long the nemesis waits for the cluster to be ready
// after healing a fault (and for a leader when resolving TargetLeader).
const ReadyTimeout = 30 * time.Second

// Membership is a client of the Raft membership of the service under test,
// which FaultMemberReplace drives. The nemesis uses it from one goroutine and
// closes it.
type Membership interface {
	// Members returns the IDs of the group's members.
	Members(ctx context.Context) ([]string, error)
	// Add adds node id, reachable at addr, as a voter.
	Add(ctx context.Context, id, addr string) error
	// Remove removes node id from the group.
	Remove(ctx context.Context, id string) error
	// Close releases the client.
	Close() error
}

// nemesis runs a fault schedule against env's cluster. It is used by one
// goroutine.
type nemesis struct {
	env *Env
	// membership dials a Membership client (Scenario.Membership); nil when the
	// scenario has none.
	membership func(env *Env, endpoints []string) (Membership, error)
	// targets and tampers are the scenario's (Scenario.Targets, Tampers).
	targets map[Target]TargetFunc
	tampers map[string]TamperFunc
}

// run executes steps in order, each at its At offset from phaseStart (or right
// after the previous one if that ran late), until ctx is done. It records every
// step, and any failure to carry it out, in the timeline.
func (n *nemesis) run(ctx context.Context, phaseStart time.Time, steps []Step) {
	for i, s := range steps {
		if wait := time.Until(phaseStart.Add(s.At)); wait > 0 {
			t := time.NewTimer(wait) // the workload runs between faults
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return
		}
		n.step(ctx, i, s)
	}
}

// step carries out one step and records it.
func (n *nemesis) step(ctx context.Context, i int, s Step) {
	env := n.env
	rec := FaultRecord{Step: i, Fault: s.Fault, Target: s.Target, Params: s.Params, Start: -1, End: -1, Ready: -1}
	idx := env.Timeline.add(rec)
	set := func(fn func(*FaultRecord)) { env.Timeline.update(idx, fn) }
	fail := func(err error) {
		env.Logger.Error("nemesis: step failed", "step", i, "fault", s.Fault, "err", err)
		set(func(r *FaultRecord) { r.Err = err.Error() })
	}

	nodes, leader, err := n.resolve(ctx, s)
	set(func(r *FaultRecord) { r.Nodes, r.Leader = nodes, leader })
	if err != nil {
		fail(fmt.Errorf("resolve %s: %w", s.Target, err))
		return
	}
	env.Logger.Info("nemesis: inject", "step", i, "fault", s.Fault, "target", s.Target, "resolved", nodes, "leader", leader, "for", s.Duration, "params", s.Params)
	began := func() { set(func(r *FaultRecord) { r.Start = env.Now() }) }
	healed := func() { set(func(r *FaultRecord) { r.End = env.Now() }) }
	note := func(s string) { set(func(r *FaultRecord) { r.Note = s }) }

	if err := n.inject(ctx, s, nodes, began, healed, note); err != nil {
		fail(err)
		if r := env.Timeline.Records()[idx]; r.Start >= 0 {
			// Leave nothing broken behind: heal what can be healed (a kill
			// records its end before starting the nodes, so they may be
			// down although End is set).
			n.cleanup(nodes)
			if r.End < 0 {
				healed()
			}
		}
	}
	wctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	if err := env.Cluster.WaitReady(wctx); err != nil {
		fail(fmt.Errorf("cluster not ready %v after the fault: %w", ReadyTimeout, err))
		return
	}
	set(func(r *FaultRecord) { r.Ready = env.Now() })
	env.Logger.Info("nemesis: healed and ready", "step", i, "fault", s.Fault, "nodes", nodes)
}

// resolve returns the nodes a step's target names now, and the leader if it was
// looked up.
func (n *nemesis) resolve(ctx context.Context, s Step) (nodes []string, leader string, err error) {
	all := n.env.Nodes()
	if fn, ok := n.targets[s.Target]; ok {
		lctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
		defer cancel()
		nodes, err := fn(lctx, n.env, s.Pick)
		if err == nil && len(nodes) == 0 {
			err = errors.New("no node")
		}
		return nodes, "", err
	}
	switch s.Target {
	case TargetAll:
		return all, "", nil
	case TargetNode:
		return []string{all[s.Pick%len(all)]}, "", nil
	}
	lctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	leader, err = n.env.Cluster.WaitLeader(lctx, n.env.Service)
	if err != nil {
		return nil, "", err
	}
	switch s.Target {
	case TargetLeader:
		return []string{leader}, leader, nil
	case TargetFollower:
		var followers []string
		for _, name := range all {
			if name != leader {
				followers = append(followers, name)
			}
		}
		if len(followers) == 0 {
			return nil, leader, errors.New("no follower")
		}
		return []string{followers[s.Pick%len(followers)]}, leader, nil
	}
	return nil, leader, fmt.Errorf("unknown target %q", s.Target)
}

// others returns the nodes of the service not in nodes.
func (n *nemesis) others(nodes []string) []string {
	var out []string
	for _, name := range n.env.Nodes() {
		if !slices.Contains(nodes, name) {
			out = append(out, name)
		}
	}
	return out
}

// Hold waits for d, or until ctx ends: it lets the workload run under a fault,
// and paces workloads between requests. It reports whether d passed (false:
// ctx ended first).
func Hold(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// inject carries out the fault of s on nodes, calling began when it is in place
// and healed when it has been undone.
func (n *nemesis) inject(ctx context.Context, s Step, nodes []string, began, healed func(), note func(string)) error {
	c := n.env.Cluster
	switch s.Fault {
	case FaultKill, FaultCrashAll:
		var tamper func() error
		if s.Params.Tamper != "" {
			tamper = func() error { return n.tamper(s, nodes, note) }
		}
		if err := killFor(ctx, c, nodes, s.Duration, s.Fault == FaultCrashAll, began, tamper, healed); err != nil {
			return err
		}
		return n.waitNodes(ctx, nodes)

	case FaultRestart, FaultRollingRestart:
		began()
		for _, name := range nodes {
			rctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
			err := c.Restart(rctx, name)
			if err == nil && s.Fault == FaultRollingRestart {
				err = c.WaitReady(rctx)
			}
			cancel()
			if err != nil {
				return err
			}
		}
		healed()
		return nil

	case FaultPause:
		h := n.env.Cluster
		began()
		for _, name := range nodes {
			if err := h.Pause(name); err != nil {
				return err
			}
		}
		Hold(ctx, s.Duration)
		for _, name := range nodes {
			if err := h.Resume(name); err != nil {
				return err
			}
		}
		healed()
		return nil

	case FaultPartition:
		h := n.env.Cluster
		rest := n.others(nodes)
		// The partition starts when the proxies drop traffic, not when it is asked
		// for: a write sent before that may still be acknowledged through an
		// isolated node, and the minority-writes checker counts from Start.
		err := h.Partition(nodes, rest, s.Params.OneWay)
		began()
		if err != nil {
			return err
		}
		if s.Params.Delay > 0 {
			for _, name := range rest {
				if err := h.Delay(name, s.Params.Delay, s.Params.Jitter); err != nil {
					return err
				}
			}
		}
		Hold(ctx, s.Duration)
		if err := h.Heal(); err != nil {
			return err
		}
		healed()
		return nil

	case FaultDelay:
		h := n.env.Cluster
		began()
		for _, name := range nodes {
			if err := h.Delay(name, s.Params.Delay, s.Params.Jitter); err != nil {
				return err
			}
		}
		Hold(ctx, s.Duration)
		if err := h.Heal(); err != nil {
			return err
		}
		healed()
		return nil

	case FaultMemberReplace:
		return n.replace(ctx, nodes, began, healed)

	case FaultFailpoint:
		return n.failpoint(ctx, s, nodes, began, healed, note)

	case FaultCPULoad:
		procs := s.Params.Procs
		if procs <= 0 {
			procs = DefaultLoadProcs
		}
		return loadCPU(ctx, procs, s.Duration, began, healed)
	}
	return fmt.Errorf("unknown fault %q", s.Fault)
}

// cleanup undoes whatever a failed step may have left: it heals the network,
// resumes and starts the nodes. Errors are logged only.
func (n *nemesis) cleanup(nodes []string) {
	c := n.env.Cluster
	for _, name := range nodes {
		_ = c.Resume(name)
	}
	_ = c.Heal()
	for _, name := range nodes {
		if err := c.Start(name); err != nil && !errors.Is(err, cluster.ErrAlreadyRunning) {
			n.env.Logger.Warn("nemesis: cleanup start", "node", name, "err", err)
		}
	}
}

// procs is the part of the cluster handle that kill faults drive;
// *cluster.Cluster implements it.
type procs interface {
	Kill(name string) error
	Start(name string) error
}

// killFor SIGKILLs nodes (one after the other, or all at once when together),
// runs tamper (when not nil) on their files, lets the workload run for d (or
// until ctx ends) and starts them again. It
// calls began just before the first kill and healed just before the first
// start, so the fault's recorded window [Start, End] lies inside the time every
// node was down: a started node may serve (and re-register) before Start
// returns, and a checker that requires something "while the node is dead" must
// not count its first moments back. An error leaves the nodes as they are (step's cleanup starts them).
func killFor(ctx context.Context, c procs, nodes []string, d time.Duration, together bool, began func(), tamper func() error, healed func()) error {
	began()
	if together {
		var wg sync.WaitGroup
		errs := make([]error, len(nodes))
		for i, name := range nodes {
			wg.Go(func() { errs[i] = c.Kill(name) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
	} else {
		for _, name := range nodes {
			if err := c.Kill(name); err != nil {
				return err
			}
		}
	}
	if tamper != nil {
		if err := tamper(); err != nil {
			return err
		}
	}
	Hold(ctx, d)
	healed()
	for _, name := range nodes {
		if err := c.Start(name); err != nil {
			return err
		}
	}
	return nil
}

// tamper runs the scenario's tamper s.Params.Tamper on each of nodes (all
// stopped) with a random stream drawn from the step, and notes what it did.
func (n *nemesis) tamper(s Step, nodes []string, note func(string)) error {
	fn := n.tampers[s.Params.Tamper]
	if fn == nil {
		return fmt.Errorf("no tamper %q", s.Params.Tamper)
	}
	var notes []string
	for i, name := range nodes {
		rng := n.env.Rand(Stream("tamper", s.Pick*len(nodes)+i))
		msg, err := fn(n.env, name, rng)
		if err != nil {
			return fmt.Errorf("tamper %s on %s: %w", s.Params.Tamper, name, err)
		}
		n.env.Logger.Info("nemesis: tampered", "tamper", s.Params.Tamper, "node", name, "what", msg)
		notes = append(notes, name+": "+msg)
	}
	note(strings.Join(notes, "; "))
	return nil
}

// waitNodes waits until every node in nodes serves.
func (n *nemesis) waitNodes(ctx context.Context, nodes []string) error {
	wctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	for _, name := range nodes {
		if err := n.env.Cluster.WaitNode(wctx, name); err != nil {
			return err
		}
	}
	return nil
}

// replace removes each node from the group, stops it, wipes its data, starts it
// empty and adds it back.
func (n *nemesis) replace(ctx context.Context, nodes []string, began, healed func()) error {
	c := n.env.Cluster
	if n.membership == nil {
		return fmt.Errorf("scenario has no Membership for %s", n.env.Service)
	}
	for _, name := range nodes {
		node, ok := n.env.Node(name)
		if !ok {
			return fmt.Errorf("unknown node %s", name)
		}
		addr := node.GRPCAddr
		// Talk to the other nodes: the one leaving stops answering.
		var eps []string
		for _, o := range n.others([]string{name}) {
			if on, ok := n.env.Node(o); ok {
				eps = append(eps, on.GRPCAddr)
			}
		}
		cl, err := n.membership(n.env, eps)
		if err != nil {
			return err
		}
		defer cl.Close()
		began()
		if err := memberChange(ctx, cl, name, false, func(ctx context.Context) error {
			return cl.Remove(ctx, name)
		}); err != nil {
			return fmt.Errorf("member remove %s: %w", name, err)
		}
		if err := c.Stop(name); err != nil && !errors.Is(err, cluster.ErrNotRunning) {
			return err
		}
		if err := c.Wipe(name); err != nil {
			return err
		}
		if err := c.Start(name); err != nil {
			return err
		}
		if err := memberChange(ctx, cl, name, true, func(ctx context.Context) error {
			return cl.Add(ctx, name, addr)
		}); err != nil {
			return fmt.Errorf("member add %s: %w", name, err)
		}
		healed()
		if err := n.waitNodes(ctx, []string{name}); err != nil {
			return err
		}
	}
	return nil
}

// memberChange runs a membership change until the member list shows it done
// (want = whether id should be a member), retrying after unknown outcomes and
// transient errors, within ReadyTimeout.
func memberChange(ctx context.Context, cl Membership, id string, want bool, change func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	var last error
	for {
		lctx, lcancel := context.WithTimeout(ctx, 5*time.Second)
		members, err := cl.Members(lctx)
		lcancel()
		if err == nil {
			if slices.Contains(members, id) == want {
				return nil
			}
			cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
			last = change(cctx)
			ccancel()
			if last == nil {
				return nil
			}
		} else {
			last = err
		}
		t := time.NewTimer(200 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(ctx.Err(), last)
		case <-t.C:
		}
	}
}

// exited reports whether node name is known to have stopped running; waiting
// for its process to go (within a few seconds) covers a node that is exiting.
func (n *nemesis) exited(ctx context.Context, name string) bool {
	deadline := time.Now().Add(5 * time.Second)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := n.env.Cluster.Status(sctx)
		cancel()
		if err == nil {
			for _, ns := range st {
				if ns.Name == name && !ns.Alive {
					return true
				}
			}
		}
		Hold(ctx, 100*time.Millisecond)
	}
	return false
}

// failpoint arms a failpoint on the nodes and restarts those that exit.
func (n *nemesis) failpoint(ctx context.Context, s Step, nodes []string, began, healed func(), note func(string)) error {
	c := n.env.Cluster
	admin := map[string]string{}
	for _, name := range nodes {
		node, ok := n.env.Node(name)
		if !ok {
			return fmt.Errorf("unknown node %s", name)
		}
		admin[name] = node.AdminAddr
	}
	began()
	for _, name := range nodes {
		if err := ArmFailpoint(ctx, admin[name], s.Params.Failpoint, s.Params.Term); err != nil {
			return err
		}
	}
	// Wait for the armed nodes to exit, at most Duration.
	deadline := time.Now().Add(s.Duration)
	exited := map[string]bool{}
	for time.Now().Before(deadline) && len(exited) < len(nodes) && ctx.Err() == nil {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := c.Status(sctx)
		cancel()
		if err == nil {
			for _, ns := range st {
				if slices.Contains(nodes, ns.Name) && !ns.Alive {
					exited[ns.Name] = true
				}
			}
		}
		Hold(ctx, 100*time.Millisecond)
	}
	var fired, idle []string
	for _, name := range nodes {
		if !exited[name] {
			err := DisarmFailpoint(ctx, admin[name], s.Params.Failpoint)
			if err == nil {
				idle = append(idle, name)
				continue
			}
			// The failpoint may have fired after the last look: a node that
			// exited meanwhile refuses the disarm, and is restarted instead.
			if !n.exited(ctx, name) {
				return err
			}
		}
		fired = append(fired, name)
		if err := c.Start(name); err != nil {
			return err
		}
	}
	healed()
	sort.Strings(fired)
	note(fmt.Sprintf("exited (restarted): %v; still running (disarmed): %v", fired, idle))
	return n.waitNodes(ctx, fired)
}
