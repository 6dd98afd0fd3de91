package node

import (
	"os"
	"runtime/debug"
)

// DaemonGCPercent is the garbage collector target a daemon runs with when the
// GOGC environment variable does not set one. Daemons keep little live heap
// and allocate per request, so the default of 100 runs a collection every few
// megabytes; 400 spends a few more megabytes of memory for a fraction of the
// collector's CPU.
const DaemonGCPercent = 400

// SetDaemonGC applies DaemonGCPercent unless GOGC is set, and returns the
// percentage in effect.
func SetDaemonGC() int {
	if v, ok := os.LookupEnv("GOGC"); ok && v != "" {
		p := debug.SetGCPercent(100) // read the current value ...
		debug.SetGCPercent(p)        // ... and keep it
		return p
	}
	debug.SetGCPercent(DaemonGCPercent)
	return DaemonGCPercent
}
