package chaos

import (
	"context"
	"hash/fnv"
)

// Workload drives the cluster and records every operation in env.History.
// The daemon packages (kvchaos, lockchaos, cachechaos, …) implement it; Run
// calls Run of every workload of a scenario concurrently, once, and Kinds
// before the workloads start.
type Workload interface {
	// Name names the workload in logs and in its random streams.
	Name() string
	// Kinds classifies every operation kind the workload records. A kind it
	// records but does not list counts as a read.
	Kinds() Kinds
	// Run issues operations until ctx is done and returns once every goroutine
	// it started has stopped. An error means the workload could not run at all.
	Run(ctx context.Context, env *Env) error
}

// Stream returns the number of the random stream of client i of the named
// workload, for Env.Rand: the same name and i always give the same stream, so
// that the same seed gives every client the same choices.
func Stream(name string, i int) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64() + uint64(i)
}
