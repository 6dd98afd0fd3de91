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
	c := &Client{
		conn:    conn,
		kv:      raftkvv1.NewKVServiceClient(cc),
		watch:   raftkvv1.NewWatchServiceClient(cc),
		lease:   raftkvv1.NewLeaseServiceClient(cc),
		cluster: raftkvv1.NewClusterServiceClient(cc),
		members: clusterv1.NewMembershipServiceClient(cc),
	}
	conn.FollowLeaderForMarked(c.leads, leaderRefresh)
	return c, nil
}

// leaderRefresh is how often a Client asks the members which one leads (and
// at once when a write finds the leader it followed gone).
const leaderRefresh = time.Second

// leads asks the member ctx is pinned to whether it leads.
func (c *Client) leads(ctx context.Context) (bool, error) {
	resp, err := c.cluster.Status(ctx, &raftkvv1.StatusRequest{}, grpc.WaitForReady(true))
	return resp.GetState() == "leader", err
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
		return zero, errs.Local(op, ErrClosed)
	}
	ctx, cancel := c.conn.WithTimeout(ctx)
	defer cancel()
	retry := clusterconn.RetryNotApplied
	if kind == kindRead {
		retry = clusterconn.RetryUnavailable
	} else {
		// Writes go to the leader, which would otherwise receive them
		// forwarded by a follower, one hop later.
		ctx = clusterconn.ToLeader(ctx)
	}
	resp, err := clusterconn.Call(ctx, c.conn, retry, rpc)
	if err != nil {
		return zero, toError(op, kind, err)
	}
	return resp, nil
}
