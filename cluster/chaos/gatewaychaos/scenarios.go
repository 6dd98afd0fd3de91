package gatewaychaos

import (
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// gatewayKill SIGKILLs one gateway node for 4 s.
var gatewayKill = chaos.Step{Fault: chaos.FaultKill, Target: chaos.TargetNode, Duration: 4 * time.Second}

// GatewayFaults runs the Traffic workload on three gateway nodes (raftkv
// holds their configuration, cached their global rate limits) while the
// workload breaks its upstreams and the nemesis kills gateway nodes (twice;
// long: every ~12 s), judged by the four checkers of the package doc.
func GatewayFaults() chaos.Scenario {
	w := &Traffic{}
	return chaos.Scenario{
		Name:       "gateway-faults",
		Service:    "gatewayd",
		Companions: []string{"raftkv", "cached"},
		Workloads:  []chaos.Workload{w},
		// Short: kills at ~9 s and ~22 s, one while target b fails and one
		// while every target is down (the workload's upstream faults run at
		// 15-40%, 45-60% and 65-80% of the phase).
		Schedule: chaos.ByPhase(chaos.Sequence(9*time.Second, gatewayKill, gatewayKill),
			chaos.Every(12*time.Second, 3*time.Second, gatewayKill)),
		Phase: 28 * time.Second, // under chaos.LongPhase: the short schedule
		Checkers: []chaos.Checker{
			&EjectionChecker{Workload: w},
			&BreakerChecker{Workload: w},
			&RateLimitChecker{Workload: w},
			&NoDropChecker{Workload: w},
		},
		// The circuit must be seen closing after the last upstream fault
		// (which ends at 80% of the phase, 24 s, past the last kill's end).
		Tail:          10 * time.Second,
		RecoveryBound: 5 * time.Second,
	}
}

// GatewaydScenarios returns every gatewayd scenario, in the order `make
// chaos` runs them.
func GatewaydScenarios() []chaos.Scenario { return []chaos.Scenario{GatewayFaults()} }
