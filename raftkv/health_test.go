package raftkv

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
	resp, err := healthpb.NewHealthClient(m.Conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return healthpb.HealthCheckResponse_UNKNOWN
	}
	return resp.GetStatus()
}

// readyz is the status code of member m's admin /readyz (0 when unreachable).
func readyz(m *testMember) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+m.Server.AdminAddr()+"/readyz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitHealth waits until m's overall and KVService health and /readyz all say
// serving (or all say not serving).
func waitHealth(t *testing.T, m *testMember, serving bool) {
	t.Helper()
	want, code := healthpb.HealthCheckResponse_NOT_SERVING, http.StatusServiceUnavailable
	if serving {
		want, code = healthpb.HealthCheckResponse_SERVING, http.StatusOK
	}
	nodetest.WaitFor(t, 20*time.Second, m.ID+" health "+want.String(), func() bool {
		return servingStatus(m, "") == want && servingStatus(m, "cairn.raftkv.v1.KVService") == want && readyz(m) == code
	})
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
