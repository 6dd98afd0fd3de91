package raftkv

import (
	"testing"

	"cairn.dev/cairn/node/raftnode/rafttest"
)

// waitHealth waits until m's overall and KVService health and /readyz all
// say serving (or all say not serving).
func waitHealth(t *testing.T, m *testMember, serving bool) {
	t.Helper()
	rafttest.WaitHealth(t, m.Conn, m.Server.AdminAddr(), m.ID, "cairn.raftkv.v1.KVService", serving)
}

// Regression (issue 12, bug 2): a member cut off from the others, with no
// leader, reported SERVING and /readyz 200. It must say NOT_SERVING and 503
// once it has known no leader for an election timeout, and SERVING again when
// a leader is back.
func TestHealthFollowsLeaderKnowledge(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.Server.AdminAddr = "127.0.0.1:0" })
	leader := c.WaitLeader()
	for _, m := range c.Live() {
		waitHealth(t, m, true)
	}
	var survivor *testMember
	var others []string
	for _, m := range c.Live() {
		if m.ID != leader && survivor == nil {
			survivor = m
		} else {
			others = append(others, m.ID)
		}
	}
	for _, id := range others {
		c.Stop(id)
	}
	waitHealth(t, survivor, false)

	c.Restart(others[0])
	waitHealth(t, survivor, true)
	waitHealth(t, c.Member(others[0]), true)
}
