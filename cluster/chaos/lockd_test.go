package chaos

import "testing"

// One test per lockd scenario, like the raftkv ones: short by default, long
// with -chaos.duration or CAIRN_CHAOS_DURATION.

func TestLockFencing(t *testing.T)  { runScenario(t, LockFencing()) }
func TestLockLiveness(t *testing.T) { runScenario(t, LockLiveness()) }
func TestLockElection(t *testing.T) { runScenario(t, LockElection()) }
