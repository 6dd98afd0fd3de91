package lbchaos

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// Bounds the checkers hold lbd to.
const (
	// inflightMargin is how long requests already picked for a backend may
	// still reach it after lbd stopped choosing it (connect and write of a
	// request on a loaded host).
	inflightMargin = 1500 * time.Millisecond
	// detectBound is when, after a backend dies or stops answering, lbd
	// must have stopped sending it requests: fall checks at the interval
	// (plus jitter), the last one timing out, and the in-flight margin.
	detectBound = checkFall*checkInterval*(100+checkJitterPct)/100 + checkTimeout + inflightMargin
	// returnBound is how soon after a backend is healed it must get
	// client requests again: rise checks, an outlier ejection that may
	// still run, and room for a loaded host.
	returnBound = time.Duration(checkRise)*checkInterval + maxEjection + 3*time.Second
	// drainMargin is how long a drain set through one lbd node may take to
	// reach the others through raftkv's watch.
	drainMargin = time.Second
	// takeoverBound is how soon after the active lbd node is killed the
	// other one must hold the virtual address: the lockd session TTL and
	// 2 s.
	takeoverBound = haTTL + 2*time.Second
)

// never stands for a window that did not end.
const never = time.Duration(1 << 62)

// snapshot returns a copy of what the workload recorded.
func (w *Traffic) snapshot() (arrivals []arrival, windows []window, roles []roleSample, stats []statSample) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]arrival(nil), w.arrivals...), append([]window(nil), w.windows...),
		append([]roleSample(nil), w.roles...), append([]statSample(nil), w.stats...)
}

// takeover is one kill of the active lbd node and what followed.
type takeover struct {
	Killed string
	Start  time.Duration // the kill
	// RoleAt is when the monitor first saw another node report role
	// "active" after the kill; ServeAt is the first answer (200) to a
	// request sent after that: the new active node serves the virtual
	// address. -1: never.
	RoleAt, ServeAt time.Duration
	NewActive       string
}

// until is the end of the takeover's window: requests in flight at the
// kill or sent before the new node served may fail.
func (t takeover) until() time.Duration {
	if t.ServeAt < 0 {
		return never
	}
	return t.ServeAt
}

// overlaps reports whether an op from call to ret falls in the window.
func (t takeover) overlaps(call, ret time.Duration) bool {
	if ret < 0 {
		ret = never
	}
	return ret >= t.Start && call < t.until()
}

// takeovers measures every kill of the active lbd node in the timeline.
func takeovers(records []chaos.FaultRecord, roles []roleSample, ops []chaos.Op) []takeover {
	var out []takeover
	for _, r := range records {
		if r.Fault != chaos.FaultKill || r.Start < 0 || len(r.Nodes) == 0 {
			continue
		}
		t := takeover{Killed: r.Nodes[0], Start: r.Start, RoleAt: -1, ServeAt: -1}
		for _, s := range roles {
			if s.At >= r.Start && s.Node != t.Killed && s.Role == "active" && (t.RoleAt < 0 || s.At < t.RoleAt) {
				t.RoleAt, t.NewActive = s.At, s.Node
			}
		}
		if t.RoleAt >= 0 {
			for _, o := range ops {
				if o.Kind == KindGet && o.Outcome == chaos.OK && o.Rev == 200 && o.Call >= t.RoleAt && (t.ServeAt < 0 || o.Return < t.ServeAt) {
					t.ServeAt = o.Return
				}
			}
		}
		out = append(out, t)
	}
	return out
}

// inTakeover reports whether an op overlaps any takeover window.
func inTakeover(ts []takeover, call, ret time.Duration) bool {
	for _, t := range ts {
		if t.overlaps(call, ret) {
			return true
		}
	}
	return false
}

// lbdDown returns, per lbd node, the intervals from each kill to its
// readiness (never, if it did not become ready).
func lbdDown(records []chaos.FaultRecord) map[string][][2]time.Duration {
	out := map[string][][2]time.Duration{}
	for _, r := range records {
		if r.Start < 0 {
			continue
		}
		end := r.Ready
		if end < 0 {
			end = never
		}
		for _, n := range r.Nodes {
			out[n] = append(out[n], [2]time.Duration{r.Start, end})
		}
	}
	return out
}

// leaseIncreases returns, for backend, every rise of an lbd node's lease
// counter between two of its samples taken within [from, to] (pairs across a
// restart of the node are skipped: its counters start again).
func leaseIncreases(stats []statSample, down map[string][][2]time.Duration, backend string, from, to time.Duration) []string {
	byNode := map[string][]statSample{}
	for _, s := range stats {
		if s.Backend == backend && s.At >= from && s.At <= to {
			byNode[s.Node] = append(byNode[s.Node], s)
		}
	}
	var out []string
	nodes := make([]string, 0, len(byNode))
	for n := range byNode {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	for _, n := range nodes {
		ss := byNode[n]
		sort.Slice(ss, func(i, j int) bool { return ss[i].At < ss[j].At })
		for i := 1; i < len(ss); i++ {
			a, b := ss[i-1], ss[i]
			if b.Total <= a.Total || spans(down[n], a.At, b.At) {
				continue
			}
			out = append(out, fmt.Sprintf("%s leased %s %d times between %v and %v", n, backend, b.Total-a.Total, a.At, b.At))
		}
	}
	return out
}

// spans reports whether any interval meets [from, to].
func spans(ws [][2]time.Duration, from, to time.Duration) bool {
	for _, w := range ws {
		if w[0] <= to && w[1] >= from {
			return true
		}
	}
	return false
}

// clientArrivals returns the client requests (not health checks) backend
// received in [from, to).
func clientArrivals(arrivals []arrival, backend string, from, to time.Duration) []arrival {
	var out []arrival
	for _, a := range arrivals {
		if a.Backend == backend && a.RequestID != "" && a.At >= from && a.At < to {
			out = append(out, a)
		}
	}
	return out
}

// NoDeadBackendChecker: once a backend is killed or paused, after the fall
// threshold (fall × interval with jitter, the last check's timeout) and
// the in-flight margin, no client request reaches it — by its own request
// log — and no lbd node leases it — by the lease counters the nodes report
// — until it is healed; and within returnBound of the heal it gets client
// requests again (it passed its rise checks).
type NoDeadBackendChecker struct{ Workload *Traffic }

// Name implements chaos.Checker.
func (c *NoDeadBackendChecker) Name() string { return "no-dead-backend" }

// Check implements chaos.Checker.
func (c *NoDeadBackendChecker) Check(_ context.Context, env *chaos.Env) chaos.Verdict {
	v := chaos.Verdict{Checker: c.Name()}
	arrivals, windows, _, stats := c.Workload.snapshot()
	records := env.Timeline.Records()
	down := lbdDown(records)
	runEnd := env.Now()
	judged := 0
	var notes []string
	for _, win := range windows {
		if win.Kind != KindBackendKill && win.Kind != KindBackendPause {
			continue
		}
		judged++
		to := win.End
		if to < 0 {
			to = never
		}
		from := win.Start + detectBound
		for _, a := range clientArrivals(arrivals, win.Backend, from, to) {
			v.Violate("%s %s was %s at %v, yet request %s reached it at %v (past the fall bound %v)", win.Kind, win.Backend, verb(win.Kind), win.Start, a.RequestID, a.At, detectBound)
		}
		for _, s := range leaseIncreases(stats, down, win.Backend, from, to) {
			v.Violate("%s %s at %v, past the fall bound %v: %s", win.Kind, win.Backend, win.Start, detectBound, s)
		}
		notes = append(notes, fmt.Sprintf("%s %s %v..%v marked down after %s", win.Kind, win.Backend, win.Start, win.End, detection(stats, down, win)))
		if win.End >= 0 && win.End+returnBound <= runEnd && len(clientArrivals(arrivals, win.Backend, win.End, win.End+returnBound)) == 0 {
			v.Violate("%s %s healed at %v got no client request within %v", win.Kind, win.Backend, win.End, returnBound)
		}
	}
	if judged == 0 {
		v.Err = "no backend was killed or paused"
	}
	v.Summary = fmt.Sprintf("fall bound %v; %s", detectBound, strings.Join(notes, "; "))
	return v
}

func verb(kind chaos.OpKind) string {
	if kind == KindBackendPause {
		return "paused"
	}
	return "killed"
}

// detection says how long after win began each lbd node that was up then
// first reported its backend unhealthy (a node restarted meanwhile starts
// with every backend down).
func detection(stats []statSample, down map[string][][2]time.Duration, win window) string {
	first := map[string]time.Duration{}
	for _, s := range stats {
		if s.Backend != win.Backend || spans(down[s.Node], win.Start, win.Start) || s.At < win.Start || (win.End >= 0 && s.At > win.End) || s.Healthy {
			continue
		}
		if t, ok := first[s.Node]; !ok || s.At < t {
			first[s.Node] = s.At
		}
	}
	if len(first) == 0 {
		return "(never seen unhealthy)"
	}
	var parts []string
	for n, t := range first {
		parts = append(parts, fmt.Sprintf("%s %v", n, (t-win.Start).Round(time.Millisecond)))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// DrainChecker: every client request a backend was handling when the
// drain was asked for, or that reached it before the drain returned,
// completes, answered 200 by that backend (requests that went
// through an lbd node killed meanwhile excepted); from drainMargin after
// the drain returned until it is enabled no client request reaches it and
// no lbd node leases it.
type DrainChecker struct{ Workload *Traffic }

// Name implements chaos.Checker.
func (c *DrainChecker) Name() string { return "drain" }

// Check implements chaos.Checker.
func (c *DrainChecker) Check(_ context.Context, env *chaos.Env) chaos.Verdict {
	v := chaos.Verdict{Checker: c.Name()}
	arrivals, windows, roles, stats := c.Workload.snapshot()
	records := env.Timeline.Records()
	ops := env.History.Ops()
	ts := takeovers(records, roles, ops)
	down := lbdDown(records)
	byID := map[string]chaos.Op{}
	for _, o := range ops {
		if o.Kind == KindGet {
			byID[o.Key] = o
		}
	}
	drains, judged, exempt := 0, 0, 0
	for _, win := range windows {
		if win.Kind != KindBackendDrain {
			continue
		}
		drains++
		if win.Err != "" {
			v.Violate("drain of %s at %v could not be set: %s", win.Backend, win.Invoked, win.Err)
			continue
		}
		for _, a := range arrivals {
			if a.Backend != win.Backend || a.RequestID == "" || a.At >= win.Start || (a.End >= 0 && a.End <= win.Invoked) {
				continue
			}
			o, ok := byID[a.RequestID]
			if !ok {
				v.Violate("request %s in flight at %s when drained has no client record", a.RequestID, win.Backend)
				continue
			}
			if inTakeover(ts, o.Call, o.Return) {
				exempt++
				continue
			}
			judged++
			if a.Status != 200 || o.Outcome != chaos.OK || o.Rev != 200 || o.Value != win.Backend {
				v.Violate("request %s (%v..%v) in flight at %s when it was drained at %v did not complete: backend status %d, client %s status %d from %q %s",
					a.RequestID, o.Call, o.Return, win.Backend, win.Invoked, a.Status, o.Outcome, o.Rev, o.Value, o.Err)
			}
		}
		to := win.End
		if to < 0 {
			to = never
		}
		for _, a := range clientArrivals(arrivals, win.Backend, win.Start+drainMargin, to) {
			v.Violate("%s drained at %v (returned %v), yet request %s reached it at %v", win.Backend, win.Invoked, win.Start, a.RequestID, a.At)
		}
		for _, s := range leaseIncreases(stats, down, win.Backend, win.Start+drainMargin, to) {
			v.Violate("%s drained at %v: %s", win.Backend, win.Start, s)
		}
	}
	switch {
	case drains == 0:
		v.Err = "no backend was drained"
	case judged == 0:
		v.Err = "no request was in flight to a drained backend: nothing to judge"
	}
	v.Summary = fmt.Sprintf("%d drains; %d requests in flight at a drain judged (%d through a killed lbd node, excepted); margin %v", drains, judged, exempt, drainMargin)
	return v
}

// NoErrorChecker: every GET through the virtual address is answered 200
// by a backend, retries on, whatever the backends suffer — except the
// requests in flight when the active lbd node was killed or sent before the
// other one served the virtual address (TakeoverChecker bounds that window).
type NoErrorChecker struct{ Workload *Traffic }

// Name implements chaos.Checker.
func (c *NoErrorChecker) Name() string { return "no-client-error" }

// Check implements chaos.Checker.
func (c *NoErrorChecker) Check(_ context.Context, env *chaos.Env) chaos.Verdict {
	v := chaos.Verdict{Checker: c.Name()}
	_, _, roles, _ := c.Workload.snapshot()
	ops := env.History.Ops()
	ts := takeovers(env.Timeline.Records(), roles, ops)
	ok, exempt, exemptFailed := 0, 0, 0
	for _, o := range ops {
		if o.Kind != KindGet || !o.Done() || strings.Contains(o.Err, "workload stopped") {
			continue
		}
		good := o.Outcome == chaos.OK && o.Rev == 200 && o.Value != ""
		if inTakeover(ts, o.Call, o.Return) {
			exempt++
			if !good {
				exemptFailed++
			}
			continue
		}
		if !good {
			v.Violate("GET %s at %v..%v, outside any lbd takeover: %s status %d backend %q %s", o.Key, o.Call, o.Return, o.Outcome, o.Rev, o.Value, o.Err)
			continue
		}
		ok++
	}
	if ok == 0 {
		v.Err = "no request was answered"
	}
	v.Summary = fmt.Sprintf("%d GETs answered 200 outside takeovers; %d within %d takeover windows (%d of them failed, allowed)", ok, exempt, len(ts), exemptFailed)
	return v
}

// TakeoverChecker: after every kill of the active lbd node, another node
// reports role "active" and serves the virtual address (a request sent
// after it did so is answered) within takeoverBound of the kill.
type TakeoverChecker struct{ Workload *Traffic }

// Name implements chaos.Checker.
func (c *TakeoverChecker) Name() string { return "takeover" }

// Check implements chaos.Checker.
func (c *TakeoverChecker) Check(_ context.Context, env *chaos.Env) chaos.Verdict {
	v := chaos.Verdict{Checker: c.Name()}
	_, _, roles, _ := c.Workload.snapshot()
	ts := takeovers(env.Timeline.Records(), roles, env.History.Ops())
	var notes []string
	for _, t := range ts {
		switch {
		case t.RoleAt < 0:
			v.Violate("active %s killed at %v: no other node ever reported role active", t.Killed, t.Start)
			continue
		case t.ServeAt < 0:
			v.Violate("active %s killed at %v: %s reported active at %v but no request sent afterwards was answered", t.Killed, t.Start, t.NewActive, t.RoleAt)
			continue
		}
		role, serve := t.RoleAt-t.Start, t.ServeAt-t.Start
		env.Logger.Info("lbchaos: takeover measured", "killed", t.Killed, "new_active", t.NewActive, "role_after", role, "serving_after", serve, "bound", takeoverBound)
		notes = append(notes, fmt.Sprintf("%s→%s active %v, serving %v", t.Killed, t.NewActive, role.Round(time.Millisecond), serve.Round(time.Millisecond)))
		if role > takeoverBound || serve > takeoverBound {
			v.Violate("active %s killed at %v: %s reported active after %v and served after %v, over the bound %v (ha_ttl %v + 2s)", t.Killed, t.Start, t.NewActive, role, serve, takeoverBound, haTTL)
		}
	}
	if len(ts) == 0 {
		v.Err = "the active lbd node was never killed"
	}
	v.Summary = fmt.Sprintf("bound %v; %s", takeoverBound, strings.Join(notes, "; "))
	return v
}
