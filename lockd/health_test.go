package lockd

import (
	"testing"

	"cairn.dev/cairn/node/raftnode/rafttest"
)

// waitHealth waits until m's overall and LockService health and /readyz all
// say serving (or all say not serving).
func waitHealth(t *testing.T, m *testMember, serving bool) {
	t.Helper()
	rafttest.WaitHealth(t, m.Conn, m.Server.AdminAddr(), m.ID, "cairn.lockd.v1.LockService", serving)
}

// Regression (issue 12, bug 2): the member frozen by bug 1 (its state machine
// lock held for good) still reported SERVING and /readyz 200. A wedged state
// machine must turn health NOT_SERVING, and SERVING again once it is free.
func TestHealthReportsWedgedStateMachine(t *testing.T) {
	c := newTestCluster(t, 1, func(cfg *Config) { cfg.Server.AdminAddr = "127.0.0.1:0" })
	m := c.Member(c.WaitLeader())
	waitHealth(t, m, true)

	m.Server.m.mu.Lock() // what a handler stuck under view did
	locked := true
	t.Cleanup(func() {
		if locked {
			m.Server.m.mu.Unlock()
		}
	})
	waitHealth(t, m, false)
	m.Server.m.mu.Unlock()
	locked = false
	waitHealth(t, m, true)
}

// A member that knows no leader is not serving; lockd gets this from the
// shared raftnode health (see raftkv's TestHealthFollowsLeaderKnowledge).
func TestHealthFollowsLeaderKnowledge(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.Server.AdminAddr = "127.0.0.1:0" })
	leader := c.WaitLeader()
	follower := c.Follower()
	waitHealth(t, follower, true)
	for _, m := range c.Live() {
		if m.ID != follower.ID {
			c.Stop(m.ID)
		}
	}
	waitHealth(t, follower, false)
	c.Restart(leader)
	waitHealth(t, follower, true)
}
