package client

import (
	"context"
	"crypto/tls"
	"errors"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/clusterconn"
	"cairn.dev/cairn/node/rpcerr"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
)

// Defaults for Config fields left zero.
const (
	DefaultDialTimeout    = clusterconn.DefaultDialTimeout
	DefaultRequestTimeout = clusterconn.DefaultRequestTimeout
)

// Config configures a Client.
type Config struct {
	// Endpoints are the host:port gRPC addresses of any streamd nodes; at
	// least one. The client learns the others from them.
	Endpoints []string
	// DialTimeout bounds each connection attempt to a node. Default 5s.
	DialTimeout time.Duration
	// RequestTimeout bounds a call whose context has no deadline; a fetch
	// gets its long-poll wait on top. Default 10s.
	RequestTimeout time.Duration
	// TLS configures transport security; nil means plaintext.
	TLS *tls.Config
}

// Sentinel errors. Errors returned by the client are *Error values that
// match these with errors.Is.
var (
	// ErrNoEndpoints is returned by New when Config.Endpoints is empty.
	ErrNoEndpoints = errors.New("streamd client: no endpoints")
	// ErrClosed is returned by calls made after Close.
	ErrClosed = errors.New("streamd client: client closed")
	// ErrUnknownOutcome marks a write that may or may not have been applied.
	ErrUnknownOutcome = errors.New("streamd client: outcome of write unknown")
	// ErrInvalidArgument: the server refused a malformed request.
	ErrInvalidArgument = errors.New("streamd client: invalid argument")
	// ErrLimitExceeded: a size or count is over its limit.
	ErrLimitExceeded = errors.New("streamd client: limit exceeded")
	// ErrTopicNotFound: the topic does not exist.
	ErrTopicNotFound = errors.New("streamd client: topic not found")
	// ErrTopicExists: a topic of that name exists with another configuration.
	ErrTopicExists = errors.New("streamd client: topic exists")
	// ErrPartitionNotFound: the topic has no such partition.
	ErrPartitionNotFound = errors.New("streamd client: partition not found")
	// ErrOffsetOutOfRange: the offset is before the log start or past its end.
	ErrOffsetOutOfRange = errors.New("streamd client: offset out of range")
	// ErrOffsetMismatch: an append with an expected offset found another end
	// offset (CurrentEnd returns it).
	ErrOffsetMismatch = errors.New("streamd client: offset mismatch")
	// ErrNotEnoughReplicas: fewer in-sync replicas than min_insync_replicas.
	ErrNotEnoughReplicas = errors.New("streamd client: not enough in-sync replicas")
	// ErrPartitionOffline: the partition has no leader.
	ErrPartitionOffline = errors.New("streamd client: partition offline")
	// ErrGroupNotFound: the group has no members and no committed offsets.
	ErrGroupNotFound = errors.New("streamd client: group not found")
	// ErrRebalance: the group is rebalancing, or the member's generation or
	// membership is gone: commit and join again.
	ErrRebalance = errors.New("streamd client: group rebalancing")
	// ErrNotAssigned: a commit named a partition not assigned to the member.
	ErrNotAssigned = errors.New("streamd client: partition not assigned")
)

// errs builds every error the client returns.
var errs = clusterconn.Errors{
	Client:  "streamd client",
	Unknown: ErrUnknownOutcome,
	Sentinels: map[rpcerr.Reason]error{
		rpcerr.InvalidArgument:     ErrInvalidArgument,
		rpcerr.CorruptBatch:        ErrInvalidArgument,
		rpcerr.LimitExceeded:       ErrLimitExceeded,
		rpcerr.TopicNotFound:       ErrTopicNotFound,
		rpcerr.TopicExists:         ErrTopicExists,
		rpcerr.PartitionNotFound:   ErrPartitionNotFound,
		rpcerr.OffsetOutOfRange:    ErrOffsetOutOfRange,
		rpcerr.OffsetMismatch:      ErrOffsetMismatch,
		rpcerr.NotEnoughReplicas:   ErrNotEnoughReplicas,
		rpcerr.PartitionOffline:    ErrPartitionOffline,
		rpcerr.GroupNotFound:       ErrGroupNotFound,
		rpcerr.RebalanceInProgress: ErrRebalance,
		rpcerr.IllegalGeneration:   ErrRebalance,
		rpcerr.UnknownGroupMember:  ErrRebalance,
		rpcerr.NotAssigned:         ErrNotAssigned,
	},
	// Refused before anything was appended.
	KnownOutcome: []rpcerr.Reason{rpcerr.NotEnoughReplicas, rpcerr.PartitionOffline},
}

// Error is the error of a failed call.
type Error = clusterconn.Error

// CurrentEnd returns the partition's end offset that an append with an
// expected offset found instead (ErrOffsetMismatch); ok is false for other
// errors.
func CurrentEnd(err error) (end int64, ok bool) {
	if !errors.Is(err, ErrOffsetMismatch) {
		return 0, false
	}
	info, _ := rpcerr.FromError(err)
	v, perr := strconv.ParseInt(info.Metadata[rpcerr.KeyEndOffset], 10, 64)
	return v, perr == nil
}

// IsUnknownOutcome reports whether err comes from a write that may have
// been applied.
func IsUnknownOutcome(err error) bool { return errors.Is(err, ErrUnknownOutcome) }

// Client talks to a streamd cluster: topic and group calls go to the
// controller (any node forwards topic writes), produces and fetches go
// straight to each partition's leader, found from cached metadata that is
// refreshed when a node says it does not lead. Safe for concurrent use.
type Client struct {
	conn *clusterconn.Conn

	topics  streamdv1.TopicServiceClient
	stream  streamdv1.StreamServiceClient
	groups  streamdv1.GroupServiceClient
	cluster streamdv1.ClusterServiceClient

	mu       sync.Mutex // protects the fields below
	meta     map[string]*topicMeta
	nodes    map[string]*grpc.ClientConn // by address
	producer *producerState
}

// topicMeta is what the client knows of a topic's partitions.
type topicMeta struct {
	partitions int32
	leaders    []string // leader address per partition, "" when unknown
	fetched    time.Time
}

// New returns a Client for cfg. It does not wait for any node.
func New(cfg Config) (*Client, error) {
	conn, err := clusterconn.Dial(clusterconn.Config(cfg), "streamd")
	if errors.Is(err, clusterconn.ErrNoEndpoints) {
		return nil, ErrNoEndpoints
	}
	if err != nil {
		return nil, err
	}
	cc := conn.ClientConn()
	c := &Client{
		conn:    conn,
		topics:  streamdv1.NewTopicServiceClient(cc),
		stream:  streamdv1.NewStreamServiceClient(cc),
		groups:  streamdv1.NewGroupServiceClient(cc),
		cluster: streamdv1.NewClusterServiceClient(cc),
		meta:    map[string]*topicMeta{},
		nodes:   map[string]*grpc.ClientConn{},
	}
	conn.FollowLeader(c.leads, time.Second)
	return c, nil
}

func (c *Client) leads(ctx context.Context) (bool, error) {
	resp, err := c.cluster.Status(ctx, &streamdv1.StatusRequest{}, grpc.WaitForReady(true))
	return resp.GetState() == "leader", err
}

// Close closes every connection. Idempotent.
func (c *Client) Close() error {
	c.mu.Lock()
	nodes := c.nodes
	c.nodes = map[string]*grpc.ClientConn{}
	c.mu.Unlock()
	for _, n := range nodes {
		_ = n.Close()
	}
	return c.conn.Close()
}

// call runs a unary RPC through the controller-following connection. A read
// (write false) is retried on Unavailable; a write only when it was
// certainly not applied.
func call[T any](ctx context.Context, c *Client, op string, write bool, rpc func(context.Context, ...grpc.CallOption) (T, error)) (T, error) {
	var zero T
	if c.conn.Closed() {
		return zero, errs.Local(op, ErrClosed)
	}
	ctx, cancel := c.conn.WithTimeout(ctx)
	defer cancel()
	retry := clusterconn.RetryUnavailable
	if write {
		retry = clusterconn.RetryNotApplied
	}
	resp, err := clusterconn.Call(ctx, c.conn, retry, rpc)
	if err != nil {
		return zero, errs.Wrap(op, write, err)
	}
	return resp, nil
}

// Status asks a node for its view of the controller group.
func (c *Client) Status(ctx context.Context) (*streamdv1.StatusResponse, error) {
	return call(ctx, c, "status", false, func(ctx context.Context, co ...grpc.CallOption) (*streamdv1.StatusResponse, error) {
		return c.cluster.Status(ctx, &streamdv1.StatusRequest{}, co...)
	})
}

// Metadata returns the nodes, the controller and the named topics (all when
// none is named) with their partitions' leaders.
func (c *Client) Metadata(ctx context.Context, topics ...string) (*streamdv1.MetadataResponse, error) {
	resp, err := call(ctx, c, "metadata", false, func(ctx context.Context, co ...grpc.CallOption) (*streamdv1.MetadataResponse, error) {
		return c.stream.Metadata(ctx, &streamdv1.MetadataRequest{Topics: topics}, co...)
	})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	for _, t := range resp.GetTopics() {
		c.meta[t.GetName()] = metaOf(t)
	}
	c.mu.Unlock()
	return resp, nil
}

func metaOf(t *streamdv1.Topic) *topicMeta {
	m := &topicMeta{partitions: int32(len(t.GetPartitions())), leaders: make([]string, len(t.GetPartitions())), fetched: time.Now()}
	for _, p := range t.GetPartitions() {
		if int(p.GetPartition()) < len(m.leaders) {
			m.leaders[p.GetPartition()] = p.GetLeaderAddr()
		}
	}
	return m
}

// metadataMaxAge is how long cached partition leaders are trusted before
// they are asked for again.
const metadataMaxAge = 30 * time.Second

// topicMeta returns the cached metadata of topic, fetching it when missing
// or old.
func (c *Client) topicMeta(ctx context.Context, topic string) (*topicMeta, error) {
	c.mu.Lock()
	m := c.meta[topic]
	c.mu.Unlock()
	if m != nil && time.Since(m.fetched) < metadataMaxAge {
		return m, nil
	}
	if _, err := c.Metadata(ctx, topic); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if m = c.meta[topic]; m == nil {
		return nil, errs.Local("metadata", ErrTopicNotFound)
	}
	return m, nil
}

// forget drops the cached metadata of topic, after a node said it does
// not lead one of its partitions.
func (c *Client) forget(topic string) {
	c.mu.Lock()
	delete(c.meta, topic)
	c.mu.Unlock()
}

// nodeClient returns a StreamService client for the node at addr, or the
// controller-following connection's when addr is "".
func (c *Client) nodeClient(addr string) (streamdv1.StreamServiceClient, error) {
	if addr == "" {
		return c.stream, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cc := c.nodes[addr]; cc != nil {
		return streamdv1.NewStreamServiceClient(cc), nil
	}
	if c.conn.Closed() {
		return nil, ErrClosed
	}
	cc, err := c.conn.DialEndpoint(addr)
	if err != nil {
		return nil, err
	}
	c.nodes[addr] = cc
	return streamdv1.NewStreamServiceClient(cc), nil
}

// partitionCall runs rpc against the leader of topic's partition, retrying
// (after refreshing the leaders) while the failure says it was not applied
// or, when retryAll, on any Unavailable failure. A write that fails after
// any attempt that may have been applied (Unavailable, a deadline, a
// cancellation, without a reason that says otherwise) fails with an unknown
// outcome, whatever the last attempt's failure was: a later refusal, or a
// metadata refresh that found no node, says nothing of the earlier attempt.
func partitionCall[T any](ctx context.Context, c *Client, op, topic string, part int32, write, retryAll bool, rpc func(context.Context, streamdv1.StreamServiceClient) (T, error)) (T, error) {
	var zero T
	if c.conn.Closed() {
		return zero, errs.Local(op, ErrClosed)
	}
	ctx, cancel := c.conn.WithTimeout(ctx)
	defer cancel()
	var b clusterconn.Backoff
	maybeApplied := false // an earlier attempt of the write may have been applied
	var last error        // the previous attempt's failure, reported if time runs out
	fail := func(err error) (T, error) {
		if last != nil && ctx.Err() != nil {
			err = errs.Wrap(op, write, last)
		}
		if maybeApplied {
			return zero, unknownOutcome(op, err)
		}
		return zero, err
	}
	for {
		m, err := c.topicMeta(ctx, topic)
		if err != nil {
			return fail(err)
		}
		addr := ""
		if part >= 0 && part < int32(len(m.leaders)) {
			addr = m.leaders[part]
		}
		sc, err := c.nodeClient(addr)
		if err != nil {
			return fail(errs.Local(op, err))
		}
		resp, err := rpc(ctx, sc)
		if err == nil {
			return resp, nil
		}
		werr := errs.Wrap(op, write, err)
		if IsUnknownOutcome(werr) {
			maybeApplied = true
		}
		reason := rpcerr.ReasonOf(err)
		again := rpcerr.TryOther(err) || reason == rpcerr.PartitionOffline || reason == rpcerr.NotEnoughReplicas ||
			(isUnavailable(err) && (retryAll || !write))
		if again {
			c.forget(topic)
		}
		if !again || !b.Wait(ctx) {
			return fail(werr)
		}
		last = err
	}
}

// unknownOutcome returns err as an *Error of op marked as a write whose
// outcome is unknown.
func unknownOutcome(op string, err error) error {
	var ce *Error
	if !errors.As(errs.Wrap(op, true, err), &ce) {
		return err
	}
	out := *ce
	out.Unknown = true
	return &out
}

// isUnavailable reports whether err has code Unavailable.
func isUnavailable(err error) bool { return status.Code(err) == codes.Unavailable }
