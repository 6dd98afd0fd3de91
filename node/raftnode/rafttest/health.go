package rafttest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"cairn.dev/cairn/node/nodetest"
)

// HealthTimeout bounds WaitHealth: health follows leader knowledge within an
// election timeout and a check interval, far less on an idle machine.
const HealthTimeout = 20 * time.Second

// WaitHealth waits until the member reached over conn, with its admin server at
// adminAddr and named name in failures, reports serving (or, with serving
// false, not serving) everywhere a client looks: the overall grpc.health.v1
// status, the status of service, and /readyz (200 or 503).
func WaitHealth(t testing.TB, conn *grpc.ClientConn, adminAddr, name, service string, serving bool) {
	t.Helper()
	want, code := healthpb.HealthCheckResponse_NOT_SERVING, http.StatusServiceUnavailable
	if serving {
		want, code = healthpb.HealthCheckResponse_SERVING, http.StatusOK
	}
	nodetest.WaitFor(t, HealthTimeout, name+" health "+want.String(), func() bool {
		return ServingStatus(conn, "") == want && ServingStatus(conn, service) == want && Readyz(adminAddr) == code
	})
}

// ServingStatus is the grpc.health.v1 status of service ("" overall) of the
// member reached over conn; UNKNOWN when the check fails.
func ServingStatus(conn *grpc.ClientConn, service string) healthpb.HealthCheckResponse_ServingStatus {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return healthpb.HealthCheckResponse_UNKNOWN
	}
	return resp.GetStatus()
}

// Readyz is the status code of the admin server's /readyz at adminAddr (0 when
// unreachable).
func Readyz(adminAddr string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+adminAddr+"/readyz", nil)
	if err != nil {
		return 0
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
