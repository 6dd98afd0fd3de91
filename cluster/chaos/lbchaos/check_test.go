package lbchaos

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

const sec = time.Second

func TestTakeoversMeasureRoleAndService(t *testing.T) {
	records := []chaos.FaultRecord{{Fault: chaos.FaultKill, Target: TargetActive, Nodes: []string{"lbd-1"}, Start: 5 * sec, End: 11 * sec, Ready: 12 * sec}}
	roles := []roleSample{
		{Node: "lbd-2", At: 4 * sec, Role: "standby"},
		{Node: "lbd-2", At: 6 * sec, Role: "standby"},
		{Node: "lbd-1", At: 12 * sec, Role: "standby"},
		{Node: "lbd-2", At: 8 * sec, Role: "active"},
		{Node: "lbd-2", At: 9 * sec, Role: "active"},
	}
	ops := []chaos.Op{
		{Kind: KindGet, Call: 4*sec + 900*time.Millisecond, Return: 5*sec + 100*time.Millisecond, Outcome: chaos.Unknown},
		{Kind: KindGet, Call: 7 * sec, Return: 7*sec + 10*time.Millisecond, Outcome: chaos.OK, Rev: 200}, // before the role: not proof
		{Kind: KindGet, Call: 8*sec + 50*time.Millisecond, Return: 8*sec + 500*time.Millisecond, Outcome: chaos.OK, Rev: 200},
		{Kind: KindGet, Call: 8*sec + 100*time.Millisecond, Return: 8*sec + 200*time.Millisecond, Outcome: chaos.OK, Rev: 200},
		{Kind: KindGet, Call: 8*sec + 150*time.Millisecond, Return: 8*sec + 160*time.Millisecond, Outcome: chaos.OK, Rev: 503},
	}
	ts := takeovers(records, roles, ops)
	if len(ts) != 1 {
		t.Fatalf("takeovers = %d, want 1", len(ts))
	}
	got := ts[0]
	if got.Killed != "lbd-1" || got.NewActive != "lbd-2" || got.RoleAt != 8*sec || got.ServeAt != 8*sec+200*time.Millisecond {
		t.Fatalf("takeover = %+v, want lbd-1→lbd-2, role at 8s, serving at 8.2s", got)
	}
	for _, c := range []struct {
		call, ret time.Duration
		in        bool
	}{
		{4 * sec, 4*sec + 500*time.Millisecond, false}, // done before the kill
		{4*sec + 900*time.Millisecond, 5*sec + 100*time.Millisecond, true},
		{7 * sec, 7*sec + 10*time.Millisecond, true},
		{8*sec + 300*time.Millisecond, 8*sec + 400*time.Millisecond, false}, // sent after it served
		{4 * sec, -1, true},
	} {
		if in := inTakeover(ts, c.call, c.ret); in != c.in {
			t.Errorf("inTakeover(%v, %v) = %v, want %v", c.call, c.ret, in, c.in)
		}
	}
}

func TestTakeoverNeverServedCoversTheRest(t *testing.T) {
	records := []chaos.FaultRecord{{Fault: chaos.FaultKill, Nodes: []string{"lbd-2"}, Start: 5 * sec, End: 11 * sec, Ready: -1}}
	ts := takeovers(records, nil, nil)
	if len(ts) != 1 || ts[0].RoleAt != -1 || ts[0].ServeAt != -1 || !inTakeover(ts, 100*sec, 101*sec) {
		t.Fatalf("takeovers = %+v, want one never served, covering every later op", ts)
	}
}

func TestLeaseIncreasesWithinWindowOnly(t *testing.T) {
	stats := []statSample{
		{Node: "lbd-1", Backend: "backend-2", At: 1 * sec, Total: 5},
		{Node: "lbd-1", Backend: "backend-2", At: 2 * sec, Total: 10},
		{Node: "lbd-1", Backend: "backend-2", At: 3 * sec, Total: 10},
		{Node: "lbd-1", Backend: "backend-1", At: 3 * sec, Total: 1},
		{Node: "lbd-1", Backend: "backend-1", At: 4 * sec, Total: 90}, // another backend
		{Node: "lbd-1", Backend: "backend-2", At: 4 * sec, Total: 12},
		{Node: "lbd-2", Backend: "backend-2", At: 3 * sec, Total: 0},
		{Node: "lbd-2", Backend: "backend-2", At: 4 * sec, Total: 0},
		{Node: "lbd-1", Backend: "backend-2", At: 9 * sec, Total: 40}, // after the window
	}
	got := leaseIncreases(stats, nil, "backend-2", 2*sec, 5*sec)
	if len(got) != 1 || !strings.Contains(got[0], "lbd-1 leased backend-2 2 times between 3s and 4s") {
		t.Fatalf("leaseIncreases = %q, want lbd-1's rise from 10 to 12 only", got)
	}
	// A restart of the node between two samples restarts its counters.
	down := map[string][][2]time.Duration{"lbd-1": {{3*sec + 100*time.Millisecond, 3*sec + 900*time.Millisecond}}}
	if got := leaseIncreases(stats, down, "backend-2", 2*sec, 5*sec); len(got) != 0 {
		t.Fatalf("leaseIncreases across a restart = %q, want none", got)
	}
}

func TestClientArrivalsSkipHealthChecks(t *testing.T) {
	arrivals := []arrival{
		{Backend: "backend-1", Path: "/healthz", At: 2 * sec},
		{Backend: "backend-1", RequestID: "c1-1", Path: "/item", At: 2 * sec},
		{Backend: "backend-2", RequestID: "c1-2", Path: "/item", At: 2 * sec},
		{Backend: "backend-1", RequestID: "c1-3", Path: "/item", At: 5 * sec},
	}
	got := clientArrivals(arrivals, "backend-1", 1*sec, 5*sec)
	if len(got) != 1 || got[0].RequestID != "c1-1" {
		t.Fatalf("clientArrivals = %+v, want c1-1 only", got)
	}
}

func TestKillScheduleFitsThePhase(t *testing.T) {
	for _, phase := range []time.Duration{10 * sec, cycle, 3 * time.Minute} {
		steps := killSchedule(rand.New(rand.NewPCG(7, 1)), phase)
		if len(steps) == 0 || steps[0].Target != TargetActive || steps[0].Fault != chaos.FaultKill {
			t.Fatalf("phase %v: steps %v, want kills of the active node", phase, steps)
		}
		for i, st := range steps {
			if i > 0 && st.At+st.Duration > phase {
				t.Errorf("phase %v: step %d ends at %v, past the phase", phase, i, st.At+st.Duration)
			}
			if i > 0 && st.At-(steps[i-1].At+steps[i-1].Duration) < 17*sec {
				t.Errorf("phase %v: step %d starts %v after the previous ended, want ≥ 17s", phase, i, st.At-(steps[i-1].At+steps[i-1].Duration))
			}
		}
	}
	if n := len(killSchedule(rand.New(rand.NewPCG(7, 1)), cycle)); n != 2 {
		t.Errorf("short phase: %d kills, want 2", n)
	}
}
