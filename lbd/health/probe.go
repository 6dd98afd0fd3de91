package health

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Probe is one kind of active check. Check returns nil when addr (host:port)
// is healthy, or an error saying why not; it must return by ctx's deadline and
// leave nothing running behind it. Probes are safe for concurrent use: the
// Monitor checks many backends with the same Probe at once.
type Probe interface {
	Check(ctx context.Context, addr string) error
}

// ProbeFunc adapts a function to the Probe interface.
type ProbeFunc func(ctx context.Context, addr string) error

// Check calls f(ctx, addr).
func (f ProbeFunc) Check(ctx context.Context, addr string) error { return f(ctx, addr) }

// TCPProbe returns a Probe that passes when a TCP connection to addr opens;
// it closes the connection at once.
func TCPProbe() Probe {
	return ProbeFunc(func(ctx context.Context, addr string) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// GRPCProbe returns a Probe that calls grpc.health.v1 Health/Check for service
// ("" is the server as a whole) and passes when the answer is SERVING. Each
// check opens its own connection and closes it before returning, so nothing
// outlives the check. tlsConf nil means plaintext.
func GRPCProbe(service string, tlsConf *tls.Config) Probe {
	creds := insecure.NewCredentials()
	if tlsConf != nil {
		creds = credentials.NewTLS(tlsConf)
	}
	return &grpcProbe{service: service, creds: creds}
}

type grpcProbe struct {
	service string
	creds   credentials.TransportCredentials
}

func (p *grpcProbe) Check(ctx context.Context, addr string) error {
	// passthrough: the address is dialed as given, like the other probes,
	// without gRPC's own DNS resolver.
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(p.creds))
	if err != nil {
		return fmt.Errorf("grpc health check of %s: %w", addr, err)
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: p.service})
	if err != nil {
		return fmt.Errorf("grpc health check of %s: %w", addr, err)
	}
	if st := resp.GetStatus(); st != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("%w: service %q is %s", ErrNotServing, p.service, st)
	}
	return nil
}
