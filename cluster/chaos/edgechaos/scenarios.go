package edgechaos

import (
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// edgeKill SIGKILLs one edge node for 3 s.
var edgeKill = chaos.Step{Fault: chaos.FaultKill, Target: chaos.TargetNode, Duration: 3 * time.Second}

// EdgeFaults runs the Traffic workload on three edge nodes (raftkv carries
// their purges; blobd, their default origin, runs unused) pointed at the
// workload's own origin, with a 1 MiB memory tier (the large /pv objects
// go to the disk tier) and a 1 s grace. The workload slows its origin
// (10–30% of the phase) and kills it (45–75%, at most 20 s) while the
// nemesis kills edges (short: at ~4 s, ~11 s and ~18 s, the last two
// during the outage; long: every ~8 s), purges in flight included. It binds
// the origin's listener, which the workload's Run serves and closes: run
// the scenario once.
func EdgeFaults() (chaos.Scenario, error) {
	o, err := listenOrigin()
	if err != nil {
		return chaos.Scenario{}, err
	}
	w := &Traffic{origin: o}
	return chaos.Scenario{
		Name:       "edge-faults",
		Service:    "edge",
		Companions: []string{"raftkv", "blobd"},
		ExtraArgs: map[string][]string{"edge": {
			"--origin", o.URL(),
			"--grace", "1s",
			"--cache-memory", "1048576",
		}},
		Workloads: []chaos.Workload{w},
		Schedule: chaos.ByPhase(chaos.Sequence(4*time.Second, edgeKill, edgeKill, edgeKill),
			chaos.Every(8*time.Second, 2*time.Second, edgeKill)),
		Phase:         28 * time.Second, // under chaos.LongPhase: the short schedule
		Checkers:      []chaos.Checker{&StaleIfErrorChecker{}, &PrivacyChecker{}, &PurgeChecker{}},
		Tail:          3 * time.Second,
		RecoveryBound: 10 * time.Second,
		// Beside another chaos cluster on a two-core host, an edge's
		// stale copy was not served while the origin was down (twice
		// in two runs; it passes alone).
		Alone: true,
	}, nil
}
