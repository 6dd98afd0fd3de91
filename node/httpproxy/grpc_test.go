package httpproxy

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// grpcUpstream starts a grpc-go server with the health service (service
// "svc" SERVING) and returns its address and health server.
func grpcUpstream(t *testing.T, creds credentials.TransportCredentials) (string, *health.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(grpc.Creds(creds))
	hs := health.NewServer()
	hs.SetServingStatus("svc", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s, hs)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(ln)
	}()
	t.Cleanup(func() {
		s.Stop()
		<-done
	})
	return ln.Addr().String(), hs
}

func TestGRPCPassThrough(t *testing.T) {
	pk := newTestPKI(t)
	upPair := pk.issue(t, "upstream", "upstream.test")
	frontPair := pk.issue(t, "front", "front.test")
	cases := []struct {
		name        string
		upCreds     func() credentials.TransportCredentials
		transport   TransportConfig
		scheme      string
		server      func() ServerConfig
		clientCreds credentials.TransportCredentials
	}{
		{
			name:        "h2c",
			upCreds:     insecure.NewCredentials,
			transport:   TransportConfig{Protocol: ProtocolH2C},
			scheme:      "http",
			server:      func() ServerConfig { return ServerConfig{H2C: true} },
			clientCreds: insecure.NewCredentials(),
		},
		{
			name: "tls",
			upCreds: func() credentials.TransportCredentials {
				return credentials.NewTLS(&tls.Config{GetCertificate: pk.store(t, upPair).GetCertificate})
			},
			transport:   TransportConfig{Protocol: ProtocolH2, TLS: pk.clientTLS("upstream.test")},
			scheme:      "https",
			server:      func() ServerConfig { return ServerConfig{TLS: pk.store(t, frontPair)} },
			clientCreds: credentials.NewTLS(pk.clientTLS("front.test")),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			upAddr, hs := grpcUpstream(t, tc.upCreds())
			p := newProxy(t, Config{})
			tr := newTransport(t, tc.transport)
			addr, _ := front(t, p, Upstream{Name: "grpc", Target: upAddr, Scheme: tc.scheme, Transport: tr}, tc.server())
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(tc.clientCreds))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			client := healthpb.NewHealthClient(conn)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			// Unary with a status in trailers.
			resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "svc"})
			if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Fatalf("check: %v %v", resp, err)
			}
			// A trailers-only error status.
			_, err = client.Check(ctx, &healthpb.HealthCheckRequest{Service: "nope"})
			if status.Code(err) != codes.NotFound {
				t.Fatalf("check unknown: %v, want NotFound", err)
			}
			// Server streaming: every update arrives while the stream is open.
			stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: "svc"})
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []healthpb.HealthCheckResponse_ServingStatus{
				healthpb.HealthCheckResponse_SERVING, healthpb.HealthCheckResponse_NOT_SERVING,
			} {
				m, err := stream.Recv()
				if err != nil || m.GetStatus() != want {
					t.Fatalf("watch: %v %v, want %v", m, err, want)
				}
				hs.SetServingStatus("svc", healthpb.HealthCheckResponse_NOT_SERVING)
			}
		})
	}
}
