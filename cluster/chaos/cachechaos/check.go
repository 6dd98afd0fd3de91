package cachechaos

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// CacheChecker judges the CacheKV workload under node kills:
//
//   - reads never fail (a miss is fine) and never return a value that was not
//     written to their key by a Set invoked before the read returned;
//   - after each kill, within Bound, every live node reports the same ring
//     (members and epoch) without the dead node, and every Set invoked from
//     Start+Bound until the restart succeeds;
//   - after each restart, within Bound, every node reports the same ring with
//     the restarted node in it, a Get is served by it, and every Set invoked
//     from End+Bound on succeeds (judged when the run lasted that long; at
//     least one restart must be judged);
//   - with NoMissWhileDead (replicas ≥ 2), every Get of a key whose Set was
//     acknowledged before the kill, invoked after the kill and returned before
//     the restart began (the fault's End, taken before the node is started),
//     finds it. Reads after that are not judged: the restarted node owns its
//     keys again with an empty store.
type CacheChecker struct {
	// Bound is the convergence bound: the registry TTL plus a margin.
	Bound time.Duration
	// NoMissWhileDead requires acknowledged keys to stay readable while a node
	// is dead.
	NoMissWhileDead bool
}

// Name implements chaos.Checker.
func (c *CacheChecker) Name() string { return "cache" }

// Check implements chaos.Checker.
func (c *CacheChecker) Check(_ context.Context, env *chaos.Env) chaos.Verdict {
	return checkCache(env.History.Ops(), env.Timeline.Records(), env.Nodes(), c.Bound, c.NoMissWhileDead)
}

// ringAgreed returns the first time at or after from (and before until) at
// which every node of want answered its latest ring query since from with the
// same members and epoch, and that member set satisfies ok.
func ringAgreed(rings []chaos.Op, want []string, from, until time.Duration, ok func(members []string) bool) (time.Duration, bool) {
	type obs struct {
		fine    bool
		members string
		epoch   int64
	}
	latest := map[string]obs{}
	for _, op := range rings {
		if op.Call < from || !op.Done() {
			continue
		}
		if op.Return > until {
			break
		}
		latest[op.Via] = obs{fine: op.Outcome == chaos.OK, members: op.Value, epoch: op.Rev}
		first, agreed := latest[want[0]], true
		for _, n := range want {
			o, seen := latest[n]
			if !seen || !o.fine || o.members != first.members || o.epoch != first.epoch {
				agreed = false
				break
			}
		}
		if agreed && ok(strings.Split(first.members, ",")) {
			return op.Return, true
		}
	}
	return 0, false
}

func without(list []string, s string) []string {
	var out []string
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// checkCache is the pure part of CacheChecker.
func checkCache(ops []chaos.Op, faults []chaos.FaultRecord, nodes []string, bound time.Duration, noMiss bool) chaos.Verdict {
	v := chaos.Verdict{Checker: "cache"}
	written := map[string]map[string]time.Duration{} // key -> value -> invoke time
	var rings []chaos.Op
	end := time.Duration(0)
	for _, op := range ops {
		end = max(end, op.Call, op.Return)
		switch op.Kind {
		case KindCacheSet:
			if written[op.Key] == nil {
				written[op.Key] = map[string]time.Duration{}
			}
			written[op.Key][op.Value] = op.Call
		case KindCacheRing:
			rings = append(rings, op)
		}
	}
	sort.Slice(rings, func(i, j int) bool { return rings[i].Return < rings[j].Return })

	reads, misses, errs := 0, 0, 0
	for _, op := range ops {
		if op.Kind != KindCacheGet || !op.Done() {
			continue
		}
		reads++
		switch {
		case op.Outcome != chaos.OK:
			errs++
			v.Violate("read of %s (op %d) failed: %s", op.Key, op.ID, op.Err)
		case !op.Found:
			misses++
		default:
			if at, ok := written[op.Key][op.Value]; !ok || at > op.Return {
				v.Violate("read of %s (op %d, served by %s) returned %q, never written to it before", op.Key, op.ID, op.Via, op.Value)
			}
		}
	}

	kills, judged := 0, 0
	var notes []string
	for _, f := range faults {
		if f.Fault != chaos.FaultKill || len(f.Nodes) != 1 || f.Start < 0 || f.End < 0 {
			continue
		}
		kills++
		dead := f.Nodes[0]
		live := without(nodes, dead)
		// The ring drops the dead node.
		conv, ok := ringAgreed(rings, live, f.Start, f.End, func(m []string) bool { return !slices.Contains(m, dead) })
		switch {
		case !ok:
			v.Violate("kill of %s (step %d): the live nodes never agreed on a ring without it while it was dead (%v–%v)", dead, f.Step, f.Start, f.End)
		case conv > f.Start+bound:
			v.Violate("kill of %s (step %d): the ring converged %v after the kill, over the bound %v", dead, f.Step, conv-f.Start, bound)
		default:
			notes = append(notes, fmt.Sprintf("%s dropped in %v", dead, (conv-f.Start).Round(time.Millisecond)))
		}
		// Writes are served again, and acknowledged keys stay readable.
		acked := map[string]bool{}
		for _, op := range ops {
			if op.Kind == KindCacheSet && op.Outcome == chaos.OK && op.Return < f.Start {
				acked[op.Key] = true
			}
		}
		for _, op := range ops {
			switch {
			case op.Kind == KindCacheSet && op.Call >= f.Start+bound && op.Done() && op.Return <= f.End && op.Outcome != chaos.OK:
				v.Violate("set of %s (op %d) at %v, %v after the kill of %s, failed: %s", op.Key, op.ID, op.Call, op.Call-f.Start, dead, op.Err)
			case noMiss && op.Kind == KindCacheGet && acked[op.Key] && op.Call >= f.Start && op.Done() && op.Return <= f.End && op.Outcome == chaos.OK && !op.Found:
				v.Violate("read of %s (op %d) at %v missed while %s was dead, though a set of it was acknowledged before the kill", op.Key, op.ID, op.Call, dead)
			}
		}
		// The restarted node rejoins and serves.
		if end < f.End+bound {
			notes = append(notes, fmt.Sprintf("rejoin of %s not judged (run ended %v after the restart)", dead, (end-f.End).Round(time.Millisecond)))
			continue
		}
		judged++
		back, ok := ringAgreed(rings, nodes, f.End, f.End+bound, func(m []string) bool { return slices.Contains(m, dead) })
		if !ok {
			v.Violate("restart of %s (step %d): no common ring with it within %v", dead, f.Step, bound)
		} else {
			notes = append(notes, fmt.Sprintf("%s back in %v", dead, (back-f.End).Round(time.Millisecond)))
		}
		served := false
		for _, op := range ops {
			if op.Kind == KindCacheGet && op.Outcome == chaos.OK && op.Via == dead && op.Call >= f.End && op.Return <= f.End+bound {
				served = true
				break
			}
		}
		if !served {
			v.Violate("restart of %s (step %d): it served no read within %v", dead, f.Step, bound)
		}
		next := end
		for _, g := range faults {
			if g.Start > f.End && g.Start < next {
				next = g.Start
			}
		}
		for _, op := range ops {
			if op.Kind == KindCacheSet && op.Call >= f.End+bound && op.Done() && op.Return <= next && op.Outcome != chaos.OK {
				v.Violate("set of %s (op %d) at %v, %v after %s restarted, failed: %s", op.Key, op.ID, op.Call, op.Call-f.End, dead, op.Err)
			}
		}
	}
	if kills > 0 && judged == 0 {
		v.Violate("no restart could be judged: the run ended within %v of every restart", bound)
	}
	v.Summary = fmt.Sprintf("%d reads (%d misses, %d errors), %d kills, %d restarts judged, bound %v; %s",
		reads, misses, errs, kills, judged, bound, strings.Join(notes, "; "))
	return v
}

// NearChecker judges the NearStale workload: a near-cache read invoked more
// than Bound after a Set of its key was acknowledged never returns an older
// value, the near cache served hits, and (when the run had faults) a RESET
// was seen on the streams.
type NearChecker struct {
	// Bound is the staleness bound; default 1s.
	Bound time.Duration
}

// Name implements chaos.Checker.
func (c *NearChecker) Name() string { return "near-cache" }

// Check implements chaos.Checker.
func (c *NearChecker) Check(_ context.Context, env *chaos.Env) chaos.Verdict {
	bound := c.Bound
	if bound <= 0 {
		bound = time.Second
	}
	return checkNear(env.History.Ops(), len(env.Timeline.Records()) > 0, bound)
}

// seqOf returns n of a NearStale value "w-<n>", -1 if it is not one.
func seqOf(v string) int {
	var n int
	if _, err := fmt.Sscanf(v, "w-%d", &n); err != nil {
		return -1
	}
	return n
}

// checkNear is the pure part of NearChecker. Writes of a key are sequential
// (one writer), so their values' sequence numbers order them.
func checkNear(ops []chaos.Op, faulted bool, bound time.Duration) chaos.Verdict {
	v := chaos.Verdict{Checker: "near-cache"}
	acks := map[string][]chaos.Op{} // key -> acknowledged sets, by return time
	resets, hits := 0, int64(-1)
	for _, op := range ops {
		switch {
		case op.Kind == KindCacheSet && op.Outcome == chaos.OK:
			acks[op.Key] = append(acks[op.Key], op)
		case op.Kind == KindCacheReset:
			resets++
		case op.Kind == KindNearStats:
			hits = op.Rev
		}
	}
	for _, a := range acks {
		sort.Slice(a, func(i, j int) bool { return a[i].Return < a[j].Return })
	}
	var stale []time.Duration // per stale read: time since the newer write was acknowledged
	reads, errs := 0, 0
	worst := map[int]time.Duration{} // op id of the overwrite -> longest staleness seen
	for _, op := range ops {
		if op.Kind != KindNearGet || !op.Done() {
			continue
		}
		reads++
		if op.Outcome != chaos.OK {
			errs++
			v.Violate("near read of %s (op %d) failed: %s", op.Key, op.ID, op.Err)
			continue
		}
		a := acks[op.Key]
		i := sort.Search(len(a), func(i int) bool { return a[i].Return >= op.Call }) // a[:i] acknowledged before the read
		if i == 0 {
			continue
		}
		newest := a[i-1]
		for _, w := range a[:i] { // the highest sequence acknowledged before the read
			if seqOf(w.Value) > seqOf(newest.Value) {
				newest = w
			}
		}
		if op.Found && seqOf(op.Value) >= seqOf(newest.Value) {
			continue
		}
		if !op.Found {
			continue // a miss is never stale
		}
		age := op.Call - newest.Return
		stale = append(stale, age)
		worst[newest.ID] = max(worst[newest.ID], age)
		if age > bound {
			v.Violate("near read of %s (op %d) at %v returned %q, %v after %q was acknowledged (bound %v)",
				op.Key, op.ID, op.Call, op.Value, age, newest.Value, bound)
		}
	}
	if hits <= 0 {
		v.Violate("the near cache served no hits (%d): nothing was measured", hits)
	}
	if faulted && resets == 0 {
		v.Violate("no RESET was seen on any stream although nodes were killed")
	}
	sort.Slice(stale, func(i, j int) bool { return stale[i] < stale[j] })
	p := func(q float64) time.Duration {
		if len(stale) == 0 {
			return 0
		}
		return stale[min(len(stale)-1, int(q*float64(len(stale))))]
	}
	overwrites := 0
	for _, a := range acks {
		overwrites += len(a)
	}
	v.Summary = fmt.Sprintf("%d near reads (%d errors), %d near hits, %d acknowledged overwrites, %d stale reads of %d overwrites: p50 %v, p99 %v, max %v (bound %v); %d RESETs",
		reads, errs, hits, overwrites, len(stale), len(worst), p(0.5), p(0.99), p(1), bound, resets)
	return v
}
