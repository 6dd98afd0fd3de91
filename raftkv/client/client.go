package client

import (
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// Defaults for Config fields left zero.
const (
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 10 * time.Second
)

// resolverScheme is the scheme of the per-client manual resolver. It is registered
// on the connection only (grpc.WithResolvers), never globally.
const resolverScheme = "cairn-raftkv"

// Config configures a Client.
type Config struct {
	// Endpoints are the host:port gRPC addresses of any raftkv nodes; at least one.
	Endpoints []string
	// DialTimeout bounds each connection attempt to a node. Default 5s.
	DialTimeout time.Duration
	// RequestTimeout bounds a unary call whose context has no deadline. Default 10s.
	RequestTimeout time.Duration
	// TLS configures transport security; nil means plaintext.
	TLS *tls.Config
}

func (cfg *Config) withDefaults() (Config, error) {
	out := *cfg
	if out.DialTimeout == 0 {
		out.DialTimeout = DefaultDialTimeout
	}
	if out.RequestTimeout == 0 {
		out.RequestTimeout = DefaultRequestTimeout
	}
	if out.DialTimeout < 0 {
		return out, fmt.Errorf("raftkv client: Config.DialTimeout must not be negative, got %v", out.DialTimeout)
	}
	if out.RequestTimeout < 0 {
		return out, fmt.Errorf("raftkv client: Config.RequestTimeout must not be negative, got %v", out.RequestTimeout)
	}
	out.Endpoints = nil
	for _, ep := range cfg.Endpoints {
		ep = strings.TrimSpace(ep)
		if ep == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(ep); err != nil {
			return out, fmt.Errorf("raftkv client: Config.Endpoints: %q is not host:port: %w", ep, err)
		}
		out.Endpoints = append(out.Endpoints, ep)
	}
	if len(out.Endpoints) == 0 {
		return out, ErrNoEndpoints
	}
	return out, nil
}

// Client talks to a raftkv cluster. It is safe for concurrent use; see the package
// documentation for how calls are routed and retried.
type Client struct {
	cfg  Config
	conn *grpc.ClientConn

	kv      raftkvv1.KVServiceClient
	watch   raftkvv1.WatchServiceClient
	lease   raftkvv1.LeaseServiceClient
	cluster raftkvv1.ClusterServiceClient

	// ctx is canceled by Close; it stops every goroutine the client started.
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex // protects closed and wg.Add
	closed bool
	wg     sync.WaitGroup // the goroutines of watches and keep-alives
}

// New returns a Client for cfg. It does not wait for any node to be reachable:
// connections are made in the background and calls wait for one (see the package
// documentation).
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r := manual.NewBuilderWithScheme(resolverScheme)
	addrs := make([]resolver.Address, 0, len(cfg.Endpoints))
	for _, ep := range cfg.Endpoints {
		host, _, _ := net.SplitHostPort(ep)
		addrs = append(addrs, resolver.Address{Addr: ep, ServerName: host})
	}
	r.InitialState(resolver.State{Addresses: addrs})

	conn, err := grpc.NewClient(resolverScheme+":///raftkv", dialOptions(cfg, grpc.WithResolvers(r),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`))...)
	if err != nil {
		return nil, fmt.Errorf("raftkv client: %w", err)
	}
	c := &Client{
		cfg:     cfg,
		conn:    conn,
		kv:      raftkvv1.NewKVServiceClient(conn),
		watch:   raftkvv1.NewWatchServiceClient(conn),
		lease:   raftkvv1.NewLeaseServiceClient(conn),
		cluster: raftkvv1.NewClusterServiceClient(conn),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// dialOptions returns the options shared by the cluster connection and the
// per-endpoint connections of Status.
func dialOptions(cfg Config, extra ...grpc.DialOption) []grpc.DialOption {
	creds := insecure.NewCredentials()
	if cfg.TLS != nil {
		creds = credentials.NewTLS(cfg.TLS)
	}
	bc := backoff.DefaultConfig
	bc.MaxDelay = 2 * time.Second // a restarted node is found again quickly
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bc, MinConnectTimeout: cfg.DialTimeout}),
	}
	return append(opts, extra...)
}

// Endpoints returns the endpoints the client was configured with.
func (c *Client) Endpoints() []string { return append([]string(nil), c.cfg.Endpoints...) }

// Close stops every watch and keep-alive of the client, waits for their
// goroutines to return and closes the connection. Calls in flight fail. Close is
// idempotent.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	return c.conn.Close()
}

// goFunc runs f in a goroutine owned by the client. It returns false, without
// running f, once the client is closed.
func (c *Client) goFunc(f func()) bool {
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

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// withTimeout applies RequestTimeout when ctx has no deadline.
func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.cfg.RequestTimeout)
}

// call runs one unary RPC under the retry policy: reads are retried on Unavailable
// until the deadline, writes are tried once. Errors are converted by toError.
func call[T any](ctx context.Context, c *Client, op string, kind callKind, rpc func(context.Context, ...grpc.CallOption) (T, error)) (T, error) {
	var zero T
	if c.isClosed() {
		return zero, &Error{Op: op, err: ErrClosed}
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	var b retryBackoff
	for {
		resp, err := rpc(ctx, grpc.WaitForReady(true))
		if err == nil {
			return resp, nil
		}
		if kind == kindWrite || status.Code(err) != codes.Unavailable || !b.wait(ctx) {
			return zero, toError(op, kind, err)
		}
	}
}

// retryBackoff is the exponential backoff with jitter between retries of a read
// or between reconnections of a stream.
type retryBackoff struct{ next time.Duration }

const (
	retryBase = 20 * time.Millisecond
	retryMax  = time.Second
)

// delay returns the next backoff step.
func (b *retryBackoff) delay() time.Duration {
	if b.next == 0 {
		b.next = retryBase
	}
	d := b.next/2 + rand.N(b.next/2+1)
	b.next = min(2*b.next, retryMax)
	return d
}

// wait sleeps for the next backoff step. It returns false, at once, if ctx would
// end first.
func (b *retryBackoff) wait(ctx context.Context) bool {
	d := b.delay()
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// reset restarts the backoff after a success.
func (b *retryBackoff) reset() { b.next = 0 }
