package client

import (
	"context"
	"crypto/tls"
	"errors"
	"time"

	"google.golang.org/grpc"

	"cairn.dev/cairn/node/clusterconn"
	clusterv1 "cairn.dev/cairn/proto/cairn/cluster/v1"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// Defaults for Config fields left zero.
const (
	DefaultDialTimeout    = clusterconn.DefaultDialTimeout
	DefaultRequestTimeout = clusterconn.DefaultRequestTimeout
)

// Config configures a Client.
type Config struct {
	// Endpoints are the host:port gRPC addresses of any queued nodes; at least one.
	Endpoints []string
	// DialTimeout bounds each connection attempt to a node. Default 5s.
	DialTimeout time.Duration
	// RequestTimeout bounds a call whose context has no deadline; a Receive
	// gets its long-poll wait on top. Consume streams are bounded by their
	// context only. Default 10s.
	RequestTimeout time.Duration
	// TLS configures transport security; nil means plaintext.
	TLS *tls.Config
}

// Client talks to a queued cluster. It is safe for concurrent use; see the
// package documentation for how calls are routed and retried.
type Client struct {
	conn *clusterconn.Conn

	queues  queuedv1.QueueServiceClient
	topics  queuedv1.TopicServiceClient
	cluster queuedv1.ClusterServiceClient
	members clusterv1.MembershipServiceClient
}

// New returns a Client for cfg. It does not wait for any node: connections are
// made in the background and calls wait for a ready one.
func New(cfg Config) (*Client, error) {
	conn, err := clusterconn.Dial(clusterconn.Config(cfg), "queued")
	if errors.Is(err, clusterconn.ErrNoEndpoints) {
		return nil, ErrNoEndpoints
	}
	if err != nil {
		return nil, err
	}
	cc := conn.ClientConn()
	c := &Client{
		conn:    conn,
		queues:  queuedv1.NewQueueServiceClient(cc),
		topics:  queuedv1.NewTopicServiceClient(cc),
		cluster: queuedv1.NewClusterServiceClient(cc),
		members: clusterv1.NewMembershipServiceClient(cc),
	}
	conn.FollowLeader(c.leads, leaderRefresh)
	return c, nil
}

// leaderRefresh is how often a Client asks the nodes which one leads.
const leaderRefresh = time.Second

func (c *Client) leads(ctx context.Context) (bool, error) {
	resp, err := c.cluster.Status(ctx, &queuedv1.StatusRequest{}, grpc.WaitForReady(true))
	return resp.GetState() == "leader", err
}

// Close closes the connections; open Consumers fail. Idempotent.
func (c *Client) Close() error { return c.conn.Close() }

// callKind says how a call may be retried.
type callKind int

const (
	// kindRead has no side effect: retried on Unavailable.
	kindRead callKind = iota
	// kindIdempotent changes state but repeating it has the same effect:
	// retried on Unavailable.
	kindIdempotent
	// kindWrite is retried only when it was certainly not applied.
	kindWrite
)

// call runs one unary RPC under the retry policy. A call whose context has
// no deadline gets Config.RequestTimeout plus extra.
func call[T any](ctx context.Context, c *Client, op string, kind callKind, extra time.Duration, rpc func(context.Context, ...grpc.CallOption) (T, error)) (T, error) {
	var zero T
	if c.conn.Closed() {
		return zero, errs.Local(op, ErrClosed)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.conn.Config().RequestTimeout+extra)
		defer cancel()
	}
	retry := clusterconn.RetryNotApplied
	if kind != kindWrite {
		retry = clusterconn.RetryUnavailable
	}
	resp, err := clusterconn.Call(ctx, c.conn, retry, rpc)
	if err != nil {
		return zero, toError(op, kind, err)
	}
	return resp, nil
}

// Status asks a node for its view of the group.
func (c *Client) Status(ctx context.Context) (*queuedv1.StatusResponse, error) {
	return call(ctx, c, "status", kindRead, 0, func(ctx context.Context, co ...grpc.CallOption) (*queuedv1.StatusResponse, error) {
		return c.cluster.Status(ctx, &queuedv1.StatusRequest{}, co...)
	})
}

// MemberList lists the members of the group and names the leader.
func (c *Client) MemberList(ctx context.Context) (*clusterv1.MemberListResponse, error) {
	return call(ctx, c, "member-list", kindRead, 0, func(ctx context.Context, co ...grpc.CallOption) (*clusterv1.MemberListResponse, error) {
		return c.members.MemberList(ctx, &clusterv1.MemberListRequest{}, co...)
	})
}
