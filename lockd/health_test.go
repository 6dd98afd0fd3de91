package lockd

import (
	"context"
	"net/http"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"cairn.dev/cairn/node/nodetest"
)

// servingStatus is member m's grpc.health.v1 status of service ("" overall);
// UNKNOWN when the check fails.
func servingStatus(m *testMember, service string) healthpb.HealthCheckResponse_ServingStatus {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(m.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return healthpb.HealthCheckResponse_UNKNOWN
	}
	return resp.GetStatus()
}

// readyz is the status code of member m's admin /readyz (0 when unreachable).
func readyz(m *testMember) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+m.srv.AdminAddr()+"/readyz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitHealth waits until m's overall and LockService health and /readyz all
// say serving (or all say not serving).
func waitHealth(t *testing.T, m *testMember, serving bool) {
	t.Helper()
	want, code := healthpb.HealthCheckResponse_NOT_SERVING, http.StatusServiceUnavailable
	if serving {
		want, code = healthpb.HealthCheckResponse_SERVING, http.StatusOK
	}
	nodetest.WaitFor(t, 20*time.Second, m.id+" health "+want.String(), func() bool {
		return servingStatus(m, "") == want && servingStatus(m, "cairn.lockd.v1.LockService") == want && readyz(m) == code
	})
}

// Regression (issue 12, bug 2): the member frozen by bug 1 (its state machine
// lock held for good) still reported SERVING and /readyz 200. A wedged state
// machine must turn health NOT_SERVING, and SERVING again once it is free.
func TestHealthReportsWedgedStateMachine(t *testing.T) {
	c := newTestCluster(t, 1, func(cfg *Config) { cfg.Server.AdminAddr = "127.0.0.1:0" })
	m := c.member(c.waitLeader())
	waitHealth(t, m, true)

	m.srv.m.mu.Lock() // what a handler stuck under view did
	locked := true
	t.Cleanup(func() {
		if locked {
			m.srv.m.mu.Unlock()
		}
	})
	waitHealth(t, m, false)
	m.srv.m.mu.Unlock()
	locked = false
	waitHealth(t, m, true)
}

// A member that knows no leader is not serving; lockd gets this from the
// shared raftnode health (see raftkv's TestHealthFollowsLeaderKnowledge).
func TestHealthFollowsLeaderKnowledge(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.Server.AdminAddr = "127.0.0.1:0" })
	leader := c.waitLeader()
	follower := c.follower()
	waitHealth(t, follower, true)
	for _, m := range c.live() {
		if m.id != follower.id {
			c.stop(m.id)
		}
	}
	waitHealth(t, follower, false)
	c.restart(leader)
	waitHealth(t, follower, true)
}
