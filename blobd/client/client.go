package client

import (
	"context"
	"crypto/tls"
	"errors"
	"time"

	"google.golang.org/grpc"

	"cairn.dev/cairn/node/clusterconn"
	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
	clusterv1 "cairn.dev/cairn/proto/cairn/cluster/v1"
)

// Defaults for Config fields left zero.
const (
	DefaultDialTimeout    = clusterconn.DefaultDialTimeout
	DefaultRequestTimeout = clusterconn.DefaultRequestTimeout
)

// MaxDataMessageBytes is the most data the client puts in one message of an
// upload stream (the server's limit).
const MaxDataMessageBytes = 1 << 20

// Config configures a Client.
type Config struct {
	// Endpoints are the host:port gRPC addresses of any blobd nodes; at
	// least one.
	Endpoints []string
	// DialTimeout bounds each connection attempt to a node. Default 5s.
	DialTimeout time.Duration
	// RequestTimeout bounds a unary call whose context has no deadline.
	// Transfers (Put, Get, UploadPart) are bounded by their context only.
	// Default 10s.
	RequestTimeout time.Duration
	// TLS configures transport security; nil means plaintext.
	TLS *tls.Config
}

// Client talks to a blobd cluster. It is safe for concurrent use; see the
// package documentation for how calls are routed and retried.
type Client struct {
	conn *clusterconn.Conn

	buckets blobdv1.BucketServiceClient
	objects blobdv1.ObjectServiceClient
	admin   blobdv1.AdminServiceClient
	cluster blobdv1.ClusterServiceClient
	members clusterv1.MembershipServiceClient
}

// New returns a Client for cfg. It does not wait for any node: connections
// are made in the background and calls wait for a ready one.
func New(cfg Config) (*Client, error) {
	conn, err := clusterconn.Dial(clusterconn.Config(cfg), "blobd")
	if errors.Is(err, clusterconn.ErrNoEndpoints) {
		return nil, ErrNoEndpoints
	}
	if err != nil {
		return nil, err
	}
	cc := conn.ClientConn()
	c := &Client{
		conn:    conn,
		buckets: blobdv1.NewBucketServiceClient(cc),
		objects: blobdv1.NewObjectServiceClient(cc),
		admin:   blobdv1.NewAdminServiceClient(cc),
		cluster: blobdv1.NewClusterServiceClient(cc),
		members: clusterv1.NewMembershipServiceClient(cc),
	}
	conn.FollowLeaderForMarked(c.leads, leaderRefresh)
	return c, nil
}

// leaderRefresh is how often a Client asks the nodes which one leads.
const leaderRefresh = time.Second

func (c *Client) leads(ctx context.Context) (bool, error) {
	resp, err := c.cluster.Status(ctx, &blobdv1.StatusRequest{}, grpc.WaitForReady(true))
	return resp.GetState() == "leader", err
}

// Close closes the connections; transfers in progress fail. Idempotent.
func (c *Client) Close() error { return c.conn.Close() }

// callKind says how a call may be retried and where it goes.
type callKind int

const (
	// kindRead has no side effect: retried on Unavailable.
	kindRead callKind = iota
	// kindIdempotent changes state but repeating it has the same effect:
	// retried on Unavailable; sent to the leader.
	kindIdempotent
	// kindWrite is retried only when it was certainly not applied; sent to
	// the leader.
	kindWrite
	// kindData is a write any node does as well (a server-side copy):
	// retried only when certainly not applied; sent round robin.
	kindData
)

// call runs one unary RPC under the retry policy. A call whose context has
// no deadline gets Config.RequestTimeout.
func call[T any](ctx context.Context, c *Client, op string, kind callKind, rpc func(context.Context, ...grpc.CallOption) (T, error)) (T, error) {
	var zero T
	if c.conn.Closed() {
		return zero, errs.Local(op, ErrClosed)
	}
	ctx, cancel := c.conn.WithTimeout(ctx)
	defer cancel()
	retry := clusterconn.RetryNotApplied
	switch kind {
	case kindRead, kindIdempotent:
		retry = clusterconn.RetryUnavailable
	}
	if kind == kindWrite || kind == kindIdempotent {
		ctx = clusterconn.ToLeader(ctx)
	}
	resp, err := clusterconn.Call(ctx, c.conn, retry, rpc)
	if err != nil {
		if kind == kindData {
			kind = kindWrite
		}
		return zero, toError(op, kind, err)
	}
	return resp, nil
}

// Status asks a node for its view of the metadata group.
func (c *Client) Status(ctx context.Context) (*blobdv1.StatusResponse, error) {
	return call(ctx, c, "status", kindRead, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.StatusResponse, error) {
		return c.cluster.Status(ctx, &blobdv1.StatusRequest{}, co...)
	})
}

// MemberList lists the members of the metadata group and names the leader.
func (c *Client) MemberList(ctx context.Context) (*clusterv1.MemberListResponse, error) {
	return call(ctx, c, "member-list", kindRead, func(ctx context.Context, co ...grpc.CallOption) (*clusterv1.MemberListResponse, error) {
		return c.members.MemberList(ctx, &clusterv1.MemberListRequest{}, co...)
	})
}
