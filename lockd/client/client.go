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

	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// Defaults for Config fields left zero.
const (
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 10 * time.Second
)

// resolverScheme is the scheme of the per-client manual resolver, registered on
// the connection only (grpc.WithResolvers), never globally.
const resolverScheme = "cairn-lockd"

// Config configures a Client.
type Config struct {
	// Endpoints are the host:port gRPC addresses of any lockd nodes; at least one.
	Endpoints []string
	// DialTimeout bounds each connection attempt to a node. Default 5s.
	DialTimeout time.Duration
	// RequestTimeout bounds a non-blocking call whose context has no deadline.
	// Blocking calls (Acquire with wait, Campaign) are bounded by their context
	// only. Default 10s.
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
		return out, fmt.Errorf("lockd client: Config.DialTimeout must not be negative, got %v", out.DialTimeout)
	}
	if out.RequestTimeout < 0 {
		return out, fmt.Errorf("lockd client: Config.RequestTimeout must not be negative, got %v", out.RequestTimeout)
	}
	out.Endpoints = nil
	for _, ep := range cfg.Endpoints {
		ep = strings.TrimSpace(ep)
		if ep == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(ep); err != nil {
			return out, fmt.Errorf("lockd client: Config.Endpoints: %q is not host:port: %w", ep, err)
		}
		out.Endpoints = append(out.Endpoints, ep)
	}
	if len(out.Endpoints) == 0 {
		return out, ErrNoEndpoints
	}
	return out, nil
}

// Client talks to a lockd cluster. It is safe for concurrent use; see the package
// documentation for how calls are routed and retried.
type Client struct {
	cfg  Config
	conn *grpc.ClientConn

	sessions  lockdv1.SessionServiceClient
	locks     lockdv1.LockServiceClient
	sems      lockdv1.SemaphoreServiceClient
	elections lockdv1.ElectionServiceClient
	cluster   lockdv1.ClusterServiceClient

	// ctx is cancelled by Close; it stops every goroutine the client started.
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex // protects closed and wg.Add
	closed bool
	wg     sync.WaitGroup // keep-alive and observe goroutines
}

// New returns a Client for cfg. It does not wait for any node: connections are
// made in the background and calls wait for a ready one.
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
	creds := insecure.NewCredentials()
	if cfg.TLS != nil {
		creds = credentials.NewTLS(cfg.TLS)
	}
	bc := backoff.DefaultConfig
	bc.MaxDelay = 2 * time.Second
	conn, err := grpc.NewClient(resolverScheme+":///lockd",
		grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bc, MinConnectTimeout: cfg.DialTimeout}),
		grpc.WithResolvers(r),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`))
	if err != nil {
		return nil, fmt.Errorf("lockd client: %w", err)
	}
	c := &Client{
		cfg:       cfg,
		conn:      conn,
		sessions:  lockdv1.NewSessionServiceClient(conn),
		locks:     lockdv1.NewLockServiceClient(conn),
		sems:      lockdv1.NewSemaphoreServiceClient(conn),
		elections: lockdv1.NewElectionServiceClient(conn),
		cluster:   lockdv1.NewClusterServiceClient(conn),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// Close stops every keep-alive and observer of the client, waits for their
// goroutines and closes the connection. Sessions are not closed: they expire
// after their TTL (close them first for a prompt release). Close is idempotent.
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

// goFunc runs f in a goroutine owned by the client; false once it is closed.
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

// callKind says how a call may be retried.
type callKind int

const (
	// kindRead has no side effect: retried on Unavailable.
	kindRead callKind = iota
	// kindIdempotent changes state but repeating it has the same effect (an
	// acquire by the same session): retried on Unavailable, and without a default
	// timeout when blocking.
	kindIdempotent
	// kindWrite is tried once.
	kindWrite
)

// call runs one unary RPC under the retry policy.
func call[T any](ctx context.Context, c *Client, op string, kind callKind, blocking bool, rpc func(context.Context, ...grpc.CallOption) (T, error)) (T, error) {
	var zero T
	if c.isClosed() {
		return zero, &Error{Op: op, err: ErrClosed}
	}
	var cancel context.CancelFunc
	if _, ok := ctx.Deadline(); ok || blocking {
		ctx, cancel = context.WithCancel(ctx)
	} else {
		ctx, cancel = context.WithTimeout(ctx, c.cfg.RequestTimeout)
	}
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

// retryBackoff is exponential backoff with jitter.
type retryBackoff struct{ next time.Duration }

const (
	retryBase = 20 * time.Millisecond
	retryMax  = time.Second
)

func (b *retryBackoff) delay() time.Duration {
	if b.next == 0 {
		b.next = retryBase
	}
	d := b.next/2 + rand.N(b.next/2+1)
	b.next = min(2*b.next, retryMax)
	return d
}

// wait sleeps for the next step; false, at once, if ctx would end first.
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

func (b *retryBackoff) reset() { b.next = 0 }

// Status asks the cluster (any ready node) for that node's view of the group.
func (c *Client) Status(ctx context.Context) (*lockdv1.StatusResponse, error) {
	return call(ctx, c, "status", kindRead, false, func(ctx context.Context, co ...grpc.CallOption) (*lockdv1.StatusResponse, error) {
		return c.cluster.Status(ctx, &lockdv1.StatusRequest{}, co...)
	})
}

// MemberList lists the members of the group and names the leader.
func (c *Client) MemberList(ctx context.Context) (*lockdv1.MemberListResponse, error) {
	return call(ctx, c, "member-list", kindRead, false, func(ctx context.Context, co ...grpc.CallOption) (*lockdv1.MemberListResponse, error) {
		return c.cluster.MemberList(ctx, &lockdv1.MemberListRequest{}, co...)
	})
}

// MemberAdd adds node id at addr as a voter (or a learner). It is never retried.
func (c *Client) MemberAdd(ctx context.Context, id, addr string, learner bool) (*lockdv1.MemberAddResponse, error) {
	req := &lockdv1.MemberAddRequest{Id: id, Address: addr, IsLearner: learner}
	return call(ctx, c, "member-add", kindWrite, false, func(ctx context.Context, co ...grpc.CallOption) (*lockdv1.MemberAddResponse, error) {
		return c.cluster.MemberAdd(ctx, req, co...)
	})
}

// MemberRemove removes node id from the group. It is never retried.
func (c *Client) MemberRemove(ctx context.Context, id string) (*lockdv1.MemberRemoveResponse, error) {
	req := &lockdv1.MemberRemoveRequest{Id: id}
	return call(ctx, c, "member-remove", kindWrite, false, func(ctx context.Context, co ...grpc.CallOption) (*lockdv1.MemberRemoveResponse, error) {
		return c.cluster.MemberRemove(ctx, req, co...)
	})
}
