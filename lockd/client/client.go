package client

import (
	"context"
	"crypto/tls"
	"errors"
	"time"

	"google.golang.org/grpc"

	"cairn.dev/cairn/node/clusterconn"
	clusterv1 "cairn.dev/cairn/proto/cairn/cluster/v1"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// Defaults for Config fields left zero.
const (
	DefaultDialTimeout    = clusterconn.DefaultDialTimeout
	DefaultRequestTimeout = clusterconn.DefaultRequestTimeout
)

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

// Client talks to a lockd cluster. It is safe for concurrent use; see the package
// documentation for how calls are routed and retried.
type Client struct {
	// conn is the connection to every endpoint; it owns the keep-alive and
	// observe goroutines.
	conn *clusterconn.Conn

	sessions  lockdv1.SessionServiceClient
	locks     lockdv1.LockServiceClient
	sems      lockdv1.SemaphoreServiceClient
	elections lockdv1.ElectionServiceClient
	cluster   lockdv1.ClusterServiceClient
	members   clusterv1.MembershipServiceClient
}

// New returns a Client for cfg. It does not wait for any node: connections are
// made in the background and calls wait for a ready one.
func New(cfg Config) (*Client, error) {
	conn, err := clusterconn.Dial(clusterconn.Config(cfg), "lockd")
	if errors.Is(err, clusterconn.ErrNoEndpoints) {
		return nil, ErrNoEndpoints
	}
	if err != nil {
		return nil, err
	}
	cc := conn.ClientConn()
	c := &Client{
		conn:      conn,
		sessions:  lockdv1.NewSessionServiceClient(cc),
		locks:     lockdv1.NewLockServiceClient(cc),
		sems:      lockdv1.NewSemaphoreServiceClient(cc),
		elections: lockdv1.NewElectionServiceClient(cc),
		cluster:   lockdv1.NewClusterServiceClient(cc),
		members:   clusterv1.NewMembershipServiceClient(cc),
	}
	conn.FollowLeader(c.leads, leaderRefresh)
	return c, nil
}

// leaderRefresh is how often a Client asks the nodes which one leads.
const leaderRefresh = time.Second

// leads asks the node ctx is pinned to whether it leads.
func (c *Client) leads(ctx context.Context) (bool, error) {
	resp, err := c.cluster.Status(ctx, &lockdv1.StatusRequest{}, grpc.WaitForReady(true))
	return resp.GetState() == "leader", err
}

// Close stops every keep-alive and observer of the client, waits for their
// goroutines and closes the connection. Sessions are not closed: they expire
// after their TTL (close them first for a prompt release). Close is idempotent.
func (c *Client) Close() error { return c.conn.Close() }

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

// call runs one unary RPC under the retry policy: kindRead and kindIdempotent
// calls are retried on Unavailable until the deadline, kindWrite calls only when
// the failure says they were certainly not applied (no leader, not the leader,
// no quorum, not sent). A non-blocking call whose context has no deadline gets
// Config.RequestTimeout. Errors are converted by toError.
func call[T any](ctx context.Context, c *Client, op string, kind callKind, blocking bool, rpc func(context.Context, ...grpc.CallOption) (T, error)) (T, error) {
	var zero T
	if c.conn.Closed() {
		return zero, errs.Local(op, ErrClosed)
	}
	var cancel context.CancelFunc
	if blocking {
		ctx, cancel = context.WithCancel(ctx)
	} else {
		ctx, cancel = c.conn.WithTimeout(ctx)
	}
	defer cancel()
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

// Status asks the cluster (any ready node) for that node's view of the group.
func (c *Client) Status(ctx context.Context) (*lockdv1.StatusResponse, error) {
	return call(ctx, c, "status", kindRead, false, func(ctx context.Context, co ...grpc.CallOption) (*lockdv1.StatusResponse, error) {
		return c.cluster.Status(ctx, &lockdv1.StatusRequest{}, co...)
	})
}

// MemberList lists the members of the group and names the leader.
func (c *Client) MemberList(ctx context.Context) (*clusterv1.MemberListResponse, error) {
	return call(ctx, c, "member-list", kindRead, false, func(ctx context.Context, co ...grpc.CallOption) (*clusterv1.MemberListResponse, error) {
		return c.members.MemberList(ctx, &clusterv1.MemberListRequest{}, co...)
	})
}

// MemberAdd adds node id at addr as a voter (or a learner). It is never retried.
func (c *Client) MemberAdd(ctx context.Context, id, addr string, learner bool) (*clusterv1.MemberAddResponse, error) {
	req := &clusterv1.MemberAddRequest{Id: id, Address: addr, IsLearner: learner}
	return call(ctx, c, "member-add", kindWrite, false, func(ctx context.Context, co ...grpc.CallOption) (*clusterv1.MemberAddResponse, error) {
		return c.members.MemberAdd(ctx, req, co...)
	})
}

// MemberRemove removes node id from the group. It is never retried.
func (c *Client) MemberRemove(ctx context.Context, id string) (*clusterv1.MemberRemoveResponse, error) {
	req := &clusterv1.MemberRemoveRequest{Id: id}
	return call(ctx, c, "member-remove", kindWrite, false, func(ctx context.Context, co ...grpc.CallOption) (*clusterv1.MemberRemoveResponse, error) {
		return c.members.MemberRemove(ctx, req, co...)
	})
}
