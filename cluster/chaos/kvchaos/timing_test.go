//go:build chaostiming

package kvchaos

import (
	"testing"

	"cairn.dev/cairn/cluster/chaos"
)

// The scenarios that measure timings or load the whole host. They are built
// only with -tags chaostiming, which `make chaos` sets: beside the parallel
// packages of `make test` their timings would measure the test run, and their
// busy processes would slow everyone else's tests.

func TestFailover(t *testing.T) { chaos.Test(t, Failover()) }
func TestCPULoad(t *testing.T)  { chaos.Test(t, CPULoad()) }
