package client

import (
	"context"
	"crypto/tls"
	"errors"
	"time"

	"google.golang.org/grpc"

	"cairn.dev/cairn/node/clusterconn"
	clusterv1 "cairn.dev/cairn/proto/cairn/cluster/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// Defaults for Config fields left zero.
const (
	DefaultDialTimeout    = clusterconn.DefaultDialTimeout
	DefaultRequestTimeout = clusterconn.DefaultRequestTimeout
)

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

// Client talks to a raftkv cluster. It is safe for concurrent use; see the package
// documentation for how calls are routed and retried.
type Client struct {
	// conn is the connection to every endpoint; it owns the goroutines of
	// watches and keep-alives.
	conn *clusterconn.Conn

	kv      raftkvv1.KVServiceClient
	watch   raftkvv1.WatchServiceClient
	lease   raftkvv1.LeaseServiceClient
	cluster raftkvv1.ClusterServiceClient
	members clusterv1.MembershipServiceClient
}

// New returns a Client for cfg. It does not wait for any node to be reachable:
// connections are made in the background and calls wait for one (see the package
// documentation).
func New(cfg Config) (*Client, error) {
	conn, err := clusterconn.Dial(clusterconn.Config(cfg), "raftkv")
	if errors.Is(err, clusterconn.ErrNoEndpoints) {
		return nil, ErrNoEndpoints
	}
	if err != nil {
		return nil, err
	}
	cc := conn.ClientConn()
	return &Client{
		conn:    conn,
		kv:      raftkvv1.NewKVServiceClient(cc),
		watch:   raftkvv1.NewWatchServiceClient(cc),
		lease:   raftkvv1.NewLeaseServiceClient(cc),
		cluster: raftkvv1.NewClusterServiceClient(cc),
		members: clusterv1.NewMembershipServiceClient(cc),
	}, nil
}

// Endpoints returns the endpoints the client was configured with.
func (c *Client) Endpoints() []string { return append([]string(nil), c.conn.Config().Endpoints...) }

// Close stops every watch and keep-alive of the client, waits for their
// goroutines to return and closes the connection. Calls in flight fail. Close is
// idempotent.
func (c *Client) Close() error { return c.conn.Close() }

// call runs one unary RPC under the retry policy: reads are retried on Unavailable
// until the deadline; writes are retried only when the failure says they were
// certainly not applied (no leader, not the leader, no quorum, not sent), on
// another member. A call whose context has no deadline gets
// Config.RequestTimeout. Errors are converted by toError.
func call[T any](ctx context.Context, c *Client, op string, kind callKind, rpc func(context.Context, ...grpc.CallOption) (T, error)) (T, error) {
	var zero T
	if c.conn.Closed() {
		return zero, &Error{Op: op, err: ErrClosed}
	}
	ctx, cancel := c.conn.WithTimeout(ctx)
	defer cancel()
	retry := clusterconn.RetryNotApplied
	if kind == kindRead {
		retry = clusterconn.RetryUnavailable
	}
	resp, err := clusterconn.Call(ctx, c.conn, retry, rpc)
	if err != nil {
		return zero, toError(op, kind, err)
	}
	return resp, nil
}
