package transcode

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
)

// MaxRecvMsgSize bounds one upstream reply message on a Conn (grpc-go's
// default is 4 MiB; a raftkv range page may be larger).
const MaxRecvMsgSize = 16 << 20

// connScheme is the resolver scheme of every Conn; the resolver is local
// to its ClientConn (grpc.WithResolvers), so Conns never share one.
const connScheme = "cairn-transcode"

// Conn is a gRPC client connection to one upstream's targets, balanced
// round robin, whose target list the owner replaces with SetTargets (e.g.
// on every registry change) without dropping calls in flight. It
// implements grpc.ClientConnInterface and is safe for concurrent use. A
// Conn with no targets fails calls at once with UNAVAILABLE.
type Conn struct {
	cc       *grpc.ClientConn
	resolver *manual.Resolver
	logger   *slog.Logger

	mu      sync.Mutex // protects targets and closed; serializes resolver updates
	targets []string
	closed  bool
}

// NewConn returns a Conn with no targets that speaks TLS with tlsConfig
// (nil: plaintext). Each target's host is the TLS server name unless
// tlsConfig.ServerName says otherwise. The caller must Close it.
func NewConn(tlsConfig *tls.Config, logger *slog.Logger) (*Conn, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	creds := insecure.NewCredentials()
	if tlsConfig != nil {
		creds = credentials.NewTLS(tlsConfig.Clone())
	}
	r := manual.NewBuilderWithScheme(connScheme)
	r.InitialState(resolver.State{}) // no targets yet: fail calls fast, do not wait
	cc, err := grpc.NewClient(connScheme+":///upstream",
		grpc.WithResolvers(r),
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxRecvMsgSize)),
	)
	if err != nil {
		return nil, fmt.Errorf("transcode: new connection: %w", err)
	}
	cc.Connect()
	return &Conn{cc: cc, resolver: r, logger: logger}, nil
}

// SetTargets replaces the upstream's targets (host:port each; duplicates
// are merged). Calls in flight finish on the connections they use;
// connections to removed targets close when idle. It returns ErrClosed
// after Close.
func (c *Conn) SetTargets(targets []string) error {
	ts := slices.Clone(targets)
	slices.Sort(ts)
	ts = slices.Compact(ts)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if slices.Equal(ts, c.targets) {
		return nil
	}
	addrs := make([]resolver.Address, 0, len(ts))
	for _, t := range ts {
		a := resolver.Address{Addr: t}
		if host, _, err := net.SplitHostPort(t); err == nil {
			a.ServerName = host
		}
		addrs = append(addrs, a)
	}
	c.resolver.UpdateState(resolver.State{Addresses: addrs})
	c.logger.Debug("transcode targets", "targets", ts)
	c.targets = ts
	return nil
}

// Targets returns the current targets, sorted.
func (c *Conn) Targets() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.targets)
}

// Invoke makes a unary call (grpc.ClientConnInterface).
func (c *Conn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	return c.cc.Invoke(ctx, method, args, reply, opts...)
}

// NewStream opens a stream (grpc.ClientConnInterface).
func (c *Conn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return c.cc.NewStream(ctx, desc, method, opts...)
}

// Close closes the connection; calls in flight fail with CANCELED. It is
// idempotent.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	return c.cc.Close()
}
