package queued

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/node/raftnode"
	queuedraftv1 "cairn.dev/cairn/proto/cairn/queued/raft/v1"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
	"cairn.dev/cairn/queued/store"
)

// Version is reported by Status.
const Version = "0.1.0"

// DBFileName is the state machine's database inside Config.DataDir.
const DBFileName = "queued.db"

// Server is one queued member: the bbolt-backed state machine (queued/store)
// and the queued services on the Raft-daemon skeleton (raftnode.Daemon), which
// owns the gRPC server, the Raft node and the lifecycle.
type Server struct {
	cfg    Config
	logger *slog.Logger
	limits limits
	now    func() time.Time

	d     *raftnode.Daemon
	node  *raftnode.Node
	store *store.Store

	queues *queueService
	topics *topicService

	// waiters counts the long polls and Consume streams waiting on this node.
	waiters atomic.Int64
	// leaderKick wakes the sweep loop when this node becomes leader.
	leaderKick chan struct{}
}

// New validates cfg, opens the message database and prepares the server. It
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
	st, err := store.Open(filepath.Join(cfg.DataDir, DBFileName), store.Options{NoSync: cfg.NoSync, Logger: logger})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("queued: open store: %w", err)
	}
	d.OnRelease(func() {
		if err := st.Close(); err != nil {
			logger.Warn("store close", "err", err)
		}
	})
	s := &Server{
		cfg:        cfg,
		logger:     logger,
		limits:     cfg.limits(),
		now:        time.Now,
		d:          d,
		store:      st,
		leaderKick: make(chan struct{}, 1),
	}
	n, err := d.StartRaft(st, raftnode.RaftOptions{OnLeadership: s.onLeadership, ToStatus: toStatus})
	if err != nil {
		d.Close()
		return nil, err
	}
	s.node = n
	s.queues = &queueService{s: s}
	s.topics = &topicService{s: s}
	if err := d.Server().Registry().Register(newQueueCollector(s)); err != nil {
		d.Close()
		return nil, fmt.Errorf("queued: metrics: %w", err)
	}
	g := d.GRPC()
	queuedv1.RegisterQueueServiceServer(g, s.queues)
	queuedv1.RegisterTopicServiceServer(g, s.topics)
	queuedv1.RegisterClusterServiceServer(g, &clusterService{s: s})
	d.RunWhileServing(s.sweepLoop)
	return s, nil
}

// Addr is the bound gRPC address.
func (s *Server) Addr() string { return s.d.Addr() }

// AdminAddr is the bound admin HTTP address ("" when disabled).
func (s *Server) AdminAddr() string { return s.d.AdminAddr() }

// Config returns the server's configuration (SQSAddr, TLS, for the SQS API).
func (s *Server) Config() Config { return s.cfg }

// Logger is the server's logger.
func (s *Server) Logger() *slog.Logger { return s.logger }

// Node exposes the Raft host, for tests and tools in this module.
func (s *Server) Node() *raftnode.Node { return s.node }

// Store exposes the state machine, for tests in this module.
func (s *Server) Store() *store.Store { return s.store }

// QueueService is the in-process implementation of cairn.queued.v1.QueueService,
// for front ends that speak other protocols (queued/sqs) over the same
// validation, long polling and error contract: call it as a gRPC client would;
// its errors are gRPC status errors with rpcerr reasons. Safe for concurrent
// use; calls end when the server stops.
func (s *Server) QueueService() queuedv1.QueueServiceServer { return s.queues }

// TopicService is the in-process implementation of cairn.queued.v1.TopicService
// (see QueueService).
func (s *Server) TopicService() queuedv1.TopicServiceServer { return s.topics }

// RunWhileServing registers the loop of a front end that serves beside the
// gRPC services (queued/sqs): Serve starts it once Raft is up and, at
// shutdown, cancels it and waits for it before Raft stops. Call it before
// Serve.
func (s *Server) RunWhileServing(loop func(ctx context.Context)) { s.d.RunWhileServing(loop) }

// OnRelease registers f to run when the server releases what it holds (after
// Serve has stopped, or on Close of a server never served): a front end
// closes its listener there. Functions run last registered first.
func (s *Server) OnRelease(f func()) { s.d.OnRelease(f) }

// Waiting is the number of long polls and Consume streams waiting on this
// node now (also the cairn_queued_waiting_receivers metric).
func (s *Server) Waiting() int64 { return s.waiters.Load() }

// ReadyNotify is closed once the server serves and has joined its group.
func (s *Server) ReadyNotify() <-chan struct{} { return s.d.ReadyNotify() }

// Stopping is closed when shutdown begins: front ends stop taking requests.
func (s *Server) Stopping() <-chan struct{} { return s.d.Stopping() }

// Serve starts Raft and serves until ctx is cancelled, Close is called or the
// state machine fails; then it stops gracefully: long polls and Consume
// streams end (a poll with nothing returns empty, a stream with Unavailable),
// leadership is handed over, Raft stops, RPCs drain within the shutdown
// timeout and the database is closed (see raftnode.Daemon).
func (s *Server) Serve(ctx context.Context) error { return s.d.Serve(ctx) }

// Close stops the server: a running Serve stops gracefully and Close waits for
// it; a server never served releases its listeners and database. Idempotent.
func (s *Server) Close() { s.d.Close() }

func (s *Server) stopping() <-chan struct{} { return s.d.Stopping() }

func (s *Server) onLeadership(leader bool) {
	if !leader {
		return
	}
	select {
	case s.leaderKick <- struct{}{}:
	default:
	}
}

// header builds a response header; index 0 means the locally applied index.
func (s *Server) header(index uint64) *queuedv1.ResponseHeader {
	if index == 0 {
		index = s.store.LastApplied()
	}
	return &queuedv1.ResponseHeader{ClusterId: s.cfg.ClusterID, MemberId: s.cfg.ID, RaftTerm: s.node.Term(), RaftIndex: index}
}

// fillHeader completes the header of a response the state machine produced,
// which carries the entry's index when it set one.
func (s *Server) fillHeader(h *queuedv1.ResponseHeader) *queuedv1.ResponseHeader {
	return s.header(h.GetRaftIndex())
}

// propose stamps cmd with this node's clock, commits it (forwarded to the
// leader from a follower; raftnode batches concurrent proposals into one
// append and fsync on the leader and one forwarding call on a follower) and
// decodes its result; a whole-command failure recorded in the result is
// returned as the matching sentinel.
func (s *Server) propose(ctx context.Context, cmd *queuedraftv1.Command) (*queuedraftv1.CommandResult, error) {
	return s.proposeVia(ctx, cmd, s.node.Apply)
}

// proposeAsLeader is propose for the sweep, which only the leader makes: it
// fails with raftnode.ErrNotLeader instead of forwarding.
func (s *Server) proposeAsLeader(ctx context.Context, cmd *queuedraftv1.Command) (*queuedraftv1.CommandResult, error) {
	return s.proposeVia(ctx, cmd, s.node.ApplyAsLeader)
}

func (s *Server) proposeVia(ctx context.Context, cmd *queuedraftv1.Command, apply func(context.Context, []byte) ([]byte, error)) (*queuedraftv1.CommandResult, error) {
	select {
	case <-s.stopping():
		return nil, ErrShuttingDown
	default:
	}
	cmd.UnixNanos = s.now().UnixNano()
	res, err := raftnode.Propose[queuedraftv1.CommandResult](ctx, apply, cmd)
	if err != nil {
		return nil, err
	}
	if res.GetError() != "" {
		return nil, errorFromReason(res.GetError(), res.GetErrorMessage(), res.GetErrorField())
	}
	return res, nil
}

// barrier waits until a local read is linearizable.
func (s *Server) barrier(ctx context.Context) error {
	return s.node.LinearizableRead(ctx)
}

// enterWait counts a waiting receiver; it fails with ErrTooMany past
// Config.MaxWaiters. Call the returned func when the wait ends.
func (s *Server) enterWait() (func(), error) {
	if n := s.waiters.Add(1); n > int64(s.cfg.MaxWaiters) {
		s.waiters.Add(-1)
		return nil, fmt.Errorf("%w: %d receivers wait on this node, the limit (max_waiters) is %d", ErrTooMany, n-1, s.cfg.MaxWaiters)
	}
	return func() { s.waiters.Add(-1) }, nil
}
