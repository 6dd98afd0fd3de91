package lbchaos

import (
	"context"
	"errors"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"cairn.dev/cairn/cluster/chaos"
	lbdv1 "cairn.dev/cairn/proto/cairn/lbd/v1"

	"google.golang.org/grpc"
)

// TargetActive is the lbd node that reports role "active": the one holding
// the virtual address.
const TargetActive chaos.Target = "active"

// activeKill SIGKILLs the active lbd node for 6 s: past the takeover bound,
// so the other node must take over while it is dead.
var activeKill = chaos.Step{Fault: chaos.FaultKill, Target: TargetActive, Duration: 6 * time.Second}

// killSchedule kills the active node at 5 s (while the workload's first
// backend kill runs) and then every 26 s ± 3 s (after each kill ends: 20 s
// ± 3 s), while kills fit in the phase; at least once. The short phase
// (40 s) gets two: at 5 s and around 31 s, after the round's drain.
func killSchedule(rng *rand.Rand, phase time.Duration) []chaos.Step {
	var steps []chaos.Step
	at := 5 * time.Second
	for len(steps) == 0 || at+activeKill.Duration <= phase {
		s := activeKill
		s.At, s.Pick = at, rng.IntN(1<<16)
		steps = append(steps, s)
		at += s.Duration + 20*time.Second + time.Duration(rng.Int64N(int64(6*time.Second))) - 3*time.Second
	}
	return steps
}

// LBFaults runs the Traffic workload through an lbd HA pair (raftkv holds
// the registry and the shared admin state, lockd the election) while the
// workload kills, pauses, slows and drains its backends and the nemesis
// kills the active lbd node (short: twice; long: every ~26 s), judged by the
// four checkers of the package doc.
func LBFaults() chaos.Scenario {
	w := &Traffic{}
	return chaos.Scenario{
		Name:       "lb-faults",
		Service:    "lbd",
		Companions: []string{"raftkv", "lockd"},
		Workloads:  []chaos.Workload{w},
		Schedule:   killSchedule,
		Phase:      cycle, // one round of backend faults
		Targets:    map[chaos.Target]chaos.TargetFunc{TargetActive: activeNode},
		Checkers: []chaos.Checker{
			&NoDeadBackendChecker{Workload: w},
			&DrainChecker{Workload: w},
			&NoErrorChecker{Workload: w},
			&TakeoverChecker{Workload: w},
		},
		// A healed backend must be seen getting traffic again.
		Tail:          returnBound,
		RecoveryBound: 10 * time.Second,
	}
}

// LBScenarios returns every lbd scenario, in the order `make chaos` runs
// them.
func LBScenarios() []chaos.Scenario { return []chaos.Scenario{LBFaults()} }

// activeNode resolves TargetActive: it asks every lbd node for its role
// until exactly one says "active".
func activeNode(ctx context.Context, env *chaos.Env, _ int) ([]string, error) {
	var last error
	for {
		var active []string
		for _, name := range env.Nodes() {
			n, ok := env.Node(name)
			if !ok {
				continue
			}
			role, err := nodeRole(ctx, env, n.GRPCAddr)
			if err != nil {
				last = err
				continue
			}
			if role == "active" {
				active = append(active, name)
			}
		}
		if len(active) == 1 {
			return active, nil
		}
		sort.Strings(active)
		last = errors.Join(last, errors.New("nodes reporting active: ["+strings.Join(active, ", ")+"]"))
		if !chaos.Hold(ctx, 100*time.Millisecond) {
			return nil, errors.Join(ctx.Err(), last)
		}
	}
}

func nodeRole(ctx context.Context, env *chaos.Env, addr string) (string, error) {
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(env.TransportCredentials()))
	if err != nil {
		return "", err
	}
	defer conn.Close()
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	resp, err := lbdv1.NewLBServiceClient(conn).GetStatus(cctx, &lbdv1.GetStatusRequest{})
	if err != nil {
		return "", err
	}
	return resp.GetRole(), nil
}
