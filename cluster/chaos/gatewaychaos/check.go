package gatewaychaos

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"

	"cairn.dev/cairn/cluster/chaos"
	gatewaydv1 "cairn.dev/cairn/proto/cairn/gatewayd/v1"
)

// downWindows returns, per gateway node, the intervals during which the
// nemesis had it down (from the kill to its readiness, -1 ends mean never).
func downWindows(env *chaos.Env) map[string][][2]time.Duration {
	out := map[string][][2]time.Duration{}
	for _, r := range env.Timeline.Records() {
		end := r.Ready
		if end < 0 {
			end = r.End
		}
		if end < 0 {
			end = 1 << 62
		}
		for _, n := range r.Nodes {
			out[n] = append(out[n], [2]time.Duration{r.Start, end})
		}
	}
	return out
}

// overlaps reports whether [from, to] meets any window, widened by margin.
func overlaps(ws [][2]time.Duration, from, to, margin time.Duration) bool {
	for _, w := range ws {
		if from <= w[1]+margin && to >= w[0]-margin {
			return true
		}
	}
	return false
}

// opsOf returns the completed operations of kind.
func opsOf(env *chaos.Env, kind chaos.OpKind) []chaos.Op {
	var out []chaos.Op
	for _, o := range env.History.Ops() {
		if o.Kind == kind && o.Done() {
			out = append(out, o)
		}
	}
	return out
}

// fields splits an op's Value "target|fallback|gen".
func fields(o chaos.Op) (target, fallback, gen string) {
	parts := strings.SplitN(o.Value, "|", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return parts[0], parts[1], parts[2]
}

// EjectionChecker: while target b answers 500s, each gateway node sends it
// at most outlierFailures requests (plus those already in flight from its
// clients) per ejection period that can begin in the window; the first
// ejection lasts outlierEjection and the next twice that (capped at
// outlierMax). Without ejection a node would send b a third of its traffic.
type EjectionChecker struct{ Workload *Traffic }

// Name implements chaos.Checker.
func (c *EjectionChecker) Name() string { return "outlier-ejection" }

// Check implements chaos.Checker.
func (c *EjectionChecker) Check(_ context.Context, env *chaos.Env) chaos.Verdict {
	v := chaos.Verdict{Checker: c.Name()}
	w := c.Workload
	w.mu.Lock()
	win, ok := w.windows[KindUpstreamFail]
	arrivals := w.arrivals
	w.mu.Unlock()
	if !ok {
		v.Err = "the failing-target window never happened"
		return v
	}
	via := map[string]string{} // request id -> gateway node
	for _, o := range env.History.Ops() {
		if o.Kind == KindSvc || o.Kind == KindLimited {
			via[o.Key] = o.Via
		}
	}
	// Ejection periods that can begin within the window: the first after the
	// failures, the next when it ends, each twice as long (capped).
	periods, t, d := 0, time.Duration(0), outlierEjection
	for t < win[1]-win[0] {
		periods++
		t += d
		d = min(2*d, outlierMax)
	}
	inflight := svcClientsPerGW + 1
	bound := periods * (outlierFailures + inflight)
	down := downWindows(env)
	counts := map[string]int{}
	for _, a := range arrivals {
		if a.Target == failedTarget && a.At >= win[0] && a.At < win[1] {
			counts[via[a.RequestID]]++
		}
	}
	judged := 0
	for _, node := range env.Nodes() {
		if overlaps(down[node], win[0], win[1], 0) {
			continue // a restarted node starts with no ejections
		}
		judged++
		if counts[node] > bound {
			v.Violate("%s sent %d requests to failing target %s in [%v, %v); with ejection after %d failures at most %d (%d ejection periods × (%d + %d in flight))",
				node, counts[node], failedTarget, win[0], win[1], outlierFailures, bound, periods, outlierFailures, inflight)
		}
	}
	if judged == 0 {
		v.Err = "every gateway node was down during the failing-target window; nothing to judge"
	}
	v.Summary = fmt.Sprintf("requests to failing target %s per gateway node over %v: %v (bound %d)", failedTarget, win[1]-win[0], counts, bound)
	return v
}

// BreakerChecker: while every target is down, the route's circuit opens —
// answers become the fallback — and once they are back it closes: every
// request sent after open_for and a margin is answered by an upstream.
type BreakerChecker struct{ Workload *Traffic }

// Name implements chaos.Checker.
func (c *BreakerChecker) Name() string { return "circuit-breaker" }

// closeMargin is the time beyond open_for the circuit may take to close
// after the targets return: half-open probes and the pooled connections'
// redial.
const closeMargin = 3 * time.Second

// Check implements chaos.Checker.
func (c *BreakerChecker) Check(_ context.Context, env *chaos.Env) chaos.Verdict {
	v := chaos.Verdict{Checker: c.Name()}
	c.Workload.mu.Lock()
	win, ok := c.Workload.windows[KindUpstreamKill]
	c.Workload.mu.Unlock()
	if !ok {
		v.Err = "the all-targets-down window never happened"
		return v
	}
	down := downWindows(env)
	fallbacks, during, after, afterOK := 0, 0, 0, 0
	for _, o := range opsOf(env, KindSvc) {
		if o.Outcome != chaos.OK || overlaps(down[o.Via], o.Call, o.Return, time.Second) {
			continue
		}
		_, fb, _ := fields(o)
		switch {
		case o.Call >= win[0]+time.Second && o.Return < win[1]:
			during++
			if fb == "1" {
				fallbacks++
			}
		case o.Call >= win[1]+breakerOpenFor+closeMargin:
			after++
			if o.Rev == 200 {
				afterOK++
			} else {
				v.Violate("%s %s at %v (after the targets returned at %v): status %d, want 200 (circuit still open?)", o.Via, o.Key, o.Call, win[1], o.Rev)
			}
		}
	}
	if during == 0 {
		v.Err = "no request was answered while every target was down"
	} else if fallbacks == 0 {
		v.Violate("none of %d answers while every target was down was the fallback: the circuit never opened", during)
	}
	if after == 0 {
		v.Err = "no request was sent after the circuit should have closed (the run ended too soon)"
	}
	v.Summary = fmt.Sprintf("targets down %v..%v: %d/%d answers were the fallback; afterwards %d/%d answered 200", win[0], win[1], fallbacks, during, afterOK, after)
	return v
}

// RateLimitChecker: the globally limited route admits (answers anything but
// 429) at most burst + rate × elapsed over the run, though gateway nodes
// die; a dead node strands only its unused lease, so admissions stay above
// half the rate.
type RateLimitChecker struct{ Workload *Traffic }

// Name implements chaos.Checker.
func (c *RateLimitChecker) Name() string { return "global-rate-limit" }

// Check implements chaos.Checker.
func (c *RateLimitChecker) Check(_ context.Context, env *chaos.Env) chaos.Verdict {
	v := chaos.Verdict{Checker: c.Name()}
	ops := opsOf(env, KindLimited)
	if len(ops) == 0 {
		v.Err = "no request to the limited route"
		return v
	}
	first, last := ops[0].Call, ops[0].Return
	admitted, limited, unknown := 0, 0, 0
	for _, o := range ops {
		first, last = min(first, o.Call), max(last, o.Return)
		switch {
		case o.Outcome != chaos.OK:
			unknown++
		case o.Rev == 429:
			limited++
		default:
			admitted++
		}
	}
	elapsed := last - first
	bound := limitBurst + int(float64(limitRate)*elapsed.Seconds()) + 1
	if admitted > bound {
		v.Violate("%d requests admitted in %v, more than burst %d + %d/s × elapsed = %d", admitted, elapsed, limitBurst, limitRate, bound)
	}
	floor := int(float64(limitRate) * elapsed.Seconds() / 2)
	if admitted < floor {
		v.Violate("only %d requests admitted in %v, under half the rate (%d): leases lost beyond the bound?", admitted, elapsed, floor)
	}
	if limited == 0 {
		v.Violate("no request was limited: the offered load never exceeded the limit, so nothing was tested")
	}
	v.Summary = fmt.Sprintf("%d admitted, %d limited, %d unanswered in %v; bound %d (burst %d + %d/s)", admitted, limited, unknown, elapsed, bound, limitBurst, limitRate)
	return v
}

// NoDropChecker: every request to a gateway node that stayed up was
// answered, configuration changes included, and with a status its
// upstreams explain: 200, an upstream's own 500 (target b failing), or
// 502/503/504 and the fallback only while every target was down (and
// open_for and a margin after). It also checks the configuration changed
// under load and every node ends on the last version.
type NoDropChecker struct{ Workload *Traffic }

// Name implements chaos.Checker.
func (c *NoDropChecker) Name() string { return "no-dropped-request" }

// Check implements chaos.Checker.
func (c *NoDropChecker) Check(ctx context.Context, env *chaos.Env) chaos.Verdict {
	v := chaos.Verdict{Checker: c.Name()}
	w := c.Workload
	w.mu.Lock()
	kill, killed := w.windows[KindUpstreamKill]
	last, versions := w.lastVersion, w.versions
	w.mu.Unlock()
	down := downWindows(env)
	answered := 0
	for _, o := range env.History.Ops() {
		if o.Kind != KindSvc || o.Return < 0 || overlaps(down[o.Via], o.Call, o.Return, time.Second) {
			continue
		}
		if o.Outcome != chaos.OK {
			if strings.Contains(o.Err, "workload stopped") {
				continue
			}
			v.Violate("%s %s at %v: no answer from a gateway node that was up: %s", o.Via, o.Key, o.Call, o.Err)
			continue
		}
		answered++
		target, fb, _ := fields(o)
		inKill := killed && o.Return >= kill[0] && o.Call < kill[1]+breakerOpenFor+closeMargin
		switch {
		case o.Rev == 200:
		case o.Rev == 500 && target != "":
		case inKill && (o.Rev == 502 || o.Rev == 504 || (o.Rev == 503 && fb == "1")):
		default:
			v.Violate("%s %s at %v..%v: status %d (target %q, fallback %q) that no upstream state explains", o.Via, o.Key, o.Call, o.Return, o.Rev, target, fb)
		}
	}
	if versions < 3 {
		v.Violate("only %d configuration versions were applied under load", versions)
	}
	for _, node := range env.Nodes() {
		n, _ := env.Node(node)
		conn, err := grpc.NewClient("passthrough:///"+n.GRPCAddr, grpc.WithTransportCredentials(env.TransportCredentials()))
		if err != nil {
			v.Err = err.Error()
			return v
		}
		var got int64
		ok := chaos.WaitFor(15*time.Second, func() bool {
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			resp, err := gatewaydv1.NewGatewayServiceClient(conn).GetConfig(cctx, &gatewaydv1.GetConfigRequest{})
			if err == nil {
				got = resp.GetVersion()
			}
			return err == nil && got == last
		})
		conn.Close()
		if !ok {
			v.Violate("%s serves configuration version %d, not the last one applied (%d)", node, got, last)
		}
	}
	v.Summary = fmt.Sprintf("%d answered requests judged; %d configuration versions applied under load, last %d on every node", answered, versions, last)
	return v
}
