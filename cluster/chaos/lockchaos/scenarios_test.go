package lockchaos

import (
	"testing"

	"cairn.dev/cairn/cluster/chaos"
)

func TestMain(m *testing.M) { chaos.Main(m) }

// One test per lockd scenario, like the raftkv ones: short by default, long
// with -chaos.duration or CAIRN_CHAOS_DURATION.

func TestLockFencing(t *testing.T)  { chaos.Test(t, LockFencing()) }
func TestLockLiveness(t *testing.T) { chaos.Test(t, LockLiveness()) }
func TestLockElection(t *testing.T) { chaos.Test(t, LockElection()) }
