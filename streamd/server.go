package streamd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/node/rpcerr"
	streamdpeerv1 "cairn.dev/cairn/proto/cairn/streamd/peer/v1"
	streamdraftv1 "cairn.dev/cairn/proto/cairn/streamd/raft/v1"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/streamd/meta"
)

// Version is reported by Status.
const Version = "0.1.0"

// MetaFileName is the controller state machine's database inside DataDir;
// PartitionsDir holds the partition logs.
const (
	MetaFileName  = "streamd-meta.db"
	PartitionsDir = "partitions"
)

// Server is one streamd node: a member of the controller's Raft group (the
// streamd/meta state machine on the Raft-daemon skeleton) and the host of
// its partition replicas, which it leads or follows as the controller says.
type Server struct {
	cfg    Config
	logger *slog.Logger
	now    func() time.Time

	d    *raftnode.Daemon
	node *raftnode.Node
	meta *meta.Store

	parts    *partitions
	fetchers *fetchers
	peers    *node.ConnPool
	ctrl     *controller

	// fetchWake is closed and replaced whenever a partition this node leads
	// takes an append: followers' long polls wait on it.
	fetchMu   sync.Mutex
	fetchWake chan struct{}

	// waiters counts the long-polling fetches and streams on this node.
	waiters atomic.Int64
	// roundRobin picks partitions for keyless produces that name none.
	roundRobin atomic.Uint32
	// incarnation identifies this run of the process (its start time);
	// registered is set once the controller has recorded it (and so fenced
	// this node if it restarted), which registeredKick announces.
	incarnation    int64
	registered     atomic.Bool
	registeredKick chan struct{}
	// ready is set once every local replica has been opened.
	ready atomic.Bool
}

// New validates cfg, opens the metadata database and prepares the server. It
// binds the listeners (so ports from ":0" are known through Addr) but serves
// nothing until Serve.
func New(cfg Config, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("member", cfg.ID)
	d, err := raftnode.NewDaemon(cfg.daemonConfig(), logger)
	if err != nil {
		return nil, err
	}
	st, err := meta.Open(filepath.Join(cfg.DataDir, MetaFileName), meta.Options{Logger: logger})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("streamd: open metadata: %w", err)
	}
	d.OnRelease(func() {
		if err := st.Close(); err != nil {
			logger.Warn("metadata close", "err", err)
		}
	})
	s := &Server{
		cfg:            cfg,
		logger:         logger,
		now:            time.Now,
		d:              d,
		meta:           st,
		fetchWake:      make(chan struct{}),
		incarnation:    time.Now().UnixNano(),
		registeredKick: make(chan struct{}, 1),
	}
	overrides, err := node.ParseDialOverrides(cfg.DialOverrides)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("streamd: dial_overrides: %w", err)
	}
	s.peers = node.NewConnPool(node.DialConfig{TLS: cfg.Server.TLS, MaxMsgBytes: cfg.Server.MaxRecvMsgBytes}, overrides)
	d.OnRelease(s.peers.Close)
	s.parts = newPartitions(s, filepath.Join(cfg.DataDir, PartitionsDir))
	s.fetchers = newFetchers(s)
	s.ctrl = newController(s)
	// Released in reverse: partitions close after the fetchers stopped.
	d.OnRelease(s.parts.closeAll)
	d.OnRelease(s.fetchers.close)
	n, err := d.StartRaft(st, raftnode.RaftOptions{OnLeadership: s.ctrl.onLeadership, ToStatus: toStatus})
	if err != nil {
		d.Close()
		return nil, err
	}
	s.node = n
	if err := d.Server().Registry().Register(newCollector(s)); err != nil {
		d.Close()
		return nil, fmt.Errorf("streamd: metrics: %w", err)
	}
	g := d.GRPC()
	streamdv1.RegisterTopicServiceServer(g, &topicService{s: s})
	streamdv1.RegisterStreamServiceServer(g, &streamService{s: s})
	streamdv1.RegisterGroupServiceServer(g, &groupService{s: s})
	streamdv1.RegisterClusterServiceServer(g, &clusterService{s: s})
	streamdpeerv1.RegisterReplicaServiceServer(g, &replicaService{s: s})
	streamdpeerv1.RegisterControllerServiceServer(g, &controllerService{s: s})
	d.RunWhileServing(s.reconcileLoop)
	d.RunWhileServing(s.heartbeatLoop)
	d.RunWhileServing(s.ctrl.run)
	d.RunWhileServing(s.isrLoop)
	d.RunWhileServing(s.maintenanceLoop)
	return s, nil
}

// Addr is the bound gRPC address.
func (s *Server) Addr() string { return s.d.Addr() }

// AdminAddr is the bound admin HTTP address ("" when disabled).
func (s *Server) AdminAddr() string { return s.d.AdminAddr() }

// Node exposes the controller's Raft host, for tests and tools in this module.
func (s *Server) Node() *raftnode.Node { return s.node }

// Meta exposes the controller's state machine, for tests in this module.
func (s *Server) Meta() *meta.Store { return s.meta }

// ReadyNotify is closed once the server serves and has joined its group.
func (s *Server) ReadyNotify() <-chan struct{} { return s.d.ReadyNotify() }

// Serve starts Raft and serves until ctx is cancelled, Close is called or the
// state machine fails; then it stops gracefully: long polls end, follower
// fetchers stop, controller leadership is handed over, Raft stops, RPCs
// drain, partition logs and the metadata database close.
func (s *Server) Serve(ctx context.Context) error { return s.d.Serve(ctx) }

// Close stops the server (see Serve) and waits for it. Idempotent.
func (s *Server) Close() { s.d.Close() }

func (s *Server) stopping() <-chan struct{} { return s.d.Stopping() }

// header builds a response header.
func (s *Server) header() *streamdv1.ResponseHeader {
	return &streamdv1.ResponseHeader{ClusterId: s.cfg.ClusterID, MemberId: s.cfg.ID, ControllerTerm: s.node.Term(), ControllerIndex: s.meta.LastApplied()}
}

// propose stamps cmd with this node's clock, commits it through the
// controller (forwarded from a follower) and returns its result; a failure
// the state machine recorded comes back as meta's sentinel.
func (s *Server) propose(ctx context.Context, cmd *streamdraftv1.Command) (*streamdraftv1.CommandResult, error) {
	select {
	case <-s.stopping():
		return nil, ErrShuttingDown
	default:
	}
	cmd.UnixNanos = s.now().UnixNano()
	res, err := raftnode.Propose[streamdraftv1.CommandResult](ctx, s.node.Apply, cmd)
	if err != nil {
		return nil, err
	}
	if err := meta.ResultError(res); err != nil {
		return res, err
	}
	return res, nil
}

// sleep waits for d, wake or ctx; it returns false when ctx ended or the
// server is stopping.
func (s *Server) sleep(ctx context.Context, wake <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-wake:
	case <-ctx.Done():
		return false
	case <-s.stopping():
		return false
	}
	return true
}

// replicaFetchWake returns the channel closed at the next append to a
// partition this node leads.
func (s *Server) replicaFetchWake() <-chan struct{} {
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	return s.fetchWake
}

// wakeReplicaFetches wakes followers' long polls after an append.
func (s *Server) wakeReplicaFetches() {
	s.fetchMu.Lock()
	close(s.fetchWake)
	s.fetchWake = make(chan struct{})
	s.fetchMu.Unlock()
}

// nodeAddr is a node's registered gRPC address ("" when unknown).
func (s *Server) nodeAddr(id string) string {
	n, err := s.meta.Node(id)
	if err != nil || n == nil {
		return ""
	}
	return n.GetAddr()
}

// fencedNode reports whether the controller has fenced the node.
func (s *Server) fencedNode(id string) bool {
	n, err := s.meta.Node(id)
	return err != nil || n == nil || n.GetFenced()
}

// notLeader says that leader leads the partition, with its address.
func (s *Server) notLeader(topic string, partition int32, leader string) error {
	return rpcerr.WithMetadata(fmt.Errorf("%w: %s/%d is led by %s", ErrNotLeader, topic, partition, leader),
		rpcerr.KeyLeader, leader, rpcerr.KeyLeaderAddr, s.nodeAddr(leader))
}

// enterWait counts a waiting fetch; it fails with ErrTooMany past
// Config.MaxWaiters. Call the returned func when the wait ends.
func (s *Server) enterWait() (func(), error) {
	if n := s.waiters.Add(1); n > int64(s.cfg.MaxWaiters) {
		s.waiters.Add(-1)
		return nil, fmt.Errorf("%w: %d fetches wait on this node, the limit (max_waiters) is %d", ErrTooMany, n-1, s.cfg.MaxWaiters)
	}
	return func() { s.waiters.Add(-1) }, nil
}

// topic returns the named topic from this node's metadata. A topic the node
// does not know may have been created a moment ago through another node:
// then it waits until its metadata has caught up with the controller (a
// linearizable read) and looks again, so a client that created a topic
// finds it on any node.
func (s *Server) topic(ctx context.Context, name string) (*streamdraftv1.TopicRecord, error) {
	return s.topicFor(ctx, name, -1)
}

// topicFor is topic for a request that names partition part (-1: none): a
// partition the node does not know yet (added a moment ago) is looked up
// again after a linearizable read too.
func (s *Server) topicFor(ctx context.Context, name string, part int32) (*streamdraftv1.TopicRecord, error) {
	t, err := s.meta.Topic(name)
	if err == nil && part < t.GetPartitions() {
		return t, nil
	}
	if err != nil && !errors.Is(err, meta.ErrTopicNotFound) {
		return nil, err
	}
	if err := s.node.LinearizableRead(ctx); err != nil {
		return nil, err
	}
	return s.meta.Topic(name)
}
