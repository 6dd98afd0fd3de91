package clusterconn

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
)

// StreamWindow and ConnWindow are the fixed flow-control windows of every gRPC
// connection in cairn: the clients' here, and the nodes' (node.Dial and the
// node's server). Setting them turns off gRPC's bandwidth-delay estimator,
// which otherwise answers received data with a PING once per round trip until
// its window reaches 16 MiB, and small messages never take it there: on a busy
// Raft pipeline that was a ping and a ping ack, each a write and a wake-up on
// both sides, for nearly every append. With the fixed windows 64 uncontended
// lockd clients did about 20 % more cycles per second on a 2-CPU host (half
// from the nodes' connections, half from the clients').
const (
	StreamWindow = 4 << 20
	ConnWindow   = 16 << 20
)

// maxReconnectDelay caps gRPC's backoff between connection attempts to a member,
// so that a restarted member is found again quickly.
const maxReconnectDelay = 2 * time.Second

// Conn is one client's connection to the members of a cairn service, and the
// owner of the goroutines that use it. It is safe for concurrent use. Close stops
// those goroutines, waits for them, then closes the connection.
type Conn struct {
	cfg    Config
	cc     *grpc.ClientConn
	router *router // the followed leader; see FollowLeader
	reach  *reach  // the latest dial outcome of each endpoint

	// ctx is canceled by Close; it stops every goroutine started by Go.
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex // protects closed and wg.Add
	closed bool
	wg     sync.WaitGroup // goroutines started by Go
}

// Dial returns a Conn over every endpoint of cfg.WithDefaults(service). The
// target is "cairn-<service>:///<service>", resolved by a manual resolver
// registered on this connection only, which hands each endpoint (with its host as
// TLS server name) to this package's balancer: round robin over the ready
// members, or the leader first once FollowLeader is on. Like grpc.NewClient, Dial does not
// wait for any member: connections are made in the background. Errors are those of
// WithDefaults (ErrNoEndpoints among them) or of grpc.NewClient, prefixed by
// "<service> client: ". The caller closes the Conn.
func Dial(cfg Config, service string) (*Conn, error) {
	cfg, err := cfg.WithDefaults(service)
	if err != nil {
		return nil, err
	}
	scheme := "cairn-" + service
	r := manual.NewBuilderWithScheme(scheme)
	rt := &router{lost: make(chan struct{}, 1)}
	addrs := make([]resolver.Address, 0, len(cfg.Endpoints))
	for _, ep := range cfg.Endpoints {
		host, _, _ := net.SplitHostPort(ep)
		addrs = append(addrs, resolver.Address{Addr: ep, ServerName: host, BalancerAttributes: routerAttributes(rt)})
	}
	r.InitialState(resolver.State{Addresses: addrs})
	rc := newReach()
	cc, err := grpc.NewClient(scheme+":///"+service, dialOptions(cfg, grpc.WithResolvers(r),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"`+balancerName+`":{}}]}`),
		grpc.WithContextDialer(rc.dialer), grpc.WithStatsHandler(sentTracker{}))...)
	if err != nil {
		return nil, fmt.Errorf("%s client: %w", service, err)
	}
	c := &Conn{cfg: cfg, cc: cc, router: rt, reach: rc}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// dialOptions returns the options of every connection of cfg: transport
// credentials, the reconnect backoff and DialTimeout as the minimum connect
// timeout, the flow-control windows, followed by extra.
func dialOptions(cfg Config, extra ...grpc.DialOption) []grpc.DialOption {
	creds := insecure.NewCredentials()
	if cfg.TLS != nil {
		creds = credentials.NewTLS(cfg.TLS)
	}
	bc := backoff.DefaultConfig
	bc.MaxDelay = maxReconnectDelay
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bc, MinConnectTimeout: cfg.DialTimeout}),
		grpc.WithInitialWindowSize(StreamWindow),
		grpc.WithInitialConnWindowSize(ConnWindow),
	}
	return append(opts, extra...)
}

// DialEndpoint returns a new connection to endpoint alone (host:port, not
// necessarily one of the configured endpoints), with the Conn's TLS and dial
// timeout. It works after Close too: callers that must refuse check Closed. The
// caller closes the returned connection.
func (c *Conn) DialEndpoint(endpoint string) (*grpc.ClientConn, error) {
	return grpc.NewClient("passthrough:///"+endpoint, dialOptions(c.cfg)...)
}

// ClientConn returns the underlying connection, for generated service clients.
// It is closed by Close; callers must not close it themselves.
func (c *Conn) ClientConn() *grpc.ClientConn { return c.cc }

// Config returns the configuration with defaults applied. Callers must not
// modify its Endpoints.
func (c *Conn) Config() Config { return c.cfg }

// Context returns a context that Close cancels. Goroutines started by Go derive
// their contexts from it, or stop on it, so that Close does not wait forever.
func (c *Conn) Context() context.Context { return c.ctx }

// WithTimeout returns ctx bounded by Config.RequestTimeout if ctx has no
// deadline, and a child of ctx otherwise. The caller must call cancel.
func (c *Conn) WithTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.cfg.RequestTimeout)
}

// Go runs f in a goroutine owned by c and returns true, or returns false without
// running f once Close has begun. f must return soon after Context is done.
func (c *Conn) Go(f func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
	return true
}

// Closed reports whether Close has been called.
func (c *Conn) Closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Close cancels Context, waits for every goroutine started by Go to return and
// closes the connection; calls in flight fail. It must not be called from such a
// goroutine. Close is idempotent: later calls return nil at once.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	return c.cc.Close()
}
