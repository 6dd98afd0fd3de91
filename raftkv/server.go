package raftkv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"cairn.dev/cairn/node/raftnode"
	raftkvraftv1 "cairn.dev/cairn/proto/cairn/raftkv/raft/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv/mvcc"
)

// Version is reported by Status.
const Version = "0.1.0"

// Server is one raftkv member: its store and services on the Raft-daemon
// skeleton (raftnode.Daemon), which owns the gRPC server, the Raft node and the
// lifecycle.
type Server struct {
	cfg    Config
	logger *slog.Logger
	limits limits

	d      *raftnode.Daemon
	node   *raftnode.Node
	store  *mvcc.Store
	hub    *watchHub
	lessor *lessor
	// keepAlive serves LeaseKeepAlive streams.
	keepAlive *raftnode.KeepAliveRelay[raftkvv1.LeaseKeepAliveRequest, raftkvv1.LeaseKeepAliveResponse]
}

// New opens the store and prepares the server. It binds the listeners (so ports from
// ":0" are known through Addr) but serves nothing until Serve.
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
	store, err := mvcc.Open(filepath.Join(cfg.DataDir, DBFileName), mvcc.Options{
		NoSync: cfg.NoSync, Logger: logger,
		CommitInterval: cfg.BackendBatchInterval, CommitEntries: cfg.BackendBatchLimit,
	})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("raftkv: open store: %w", err)
	}
	d.OnRelease(func() {
		if err := store.Close(); err != nil {
			logger.Warn("store close", "err", err)
		}
	})
	s := &Server{
		cfg:    cfg,
		logger: logger,
		limits: cfg.limits(),
		d:      d,
		store:  store,
		hub:    newWatchHub(),
		lessor: newLessor(store, logger),
	}
	sm := &stateMachine{store: store, hub: s.hub, lessor: s.lessor, logger: logger}
	n, err := d.StartRaft(sm, raftnode.RaftOptions{OnLeadership: s.lessor.setLeader, ToStatus: toStatus})
	if err != nil {
		d.Close()
		return nil, err
	}
	s.node = n
	s.keepAlive = s.newKeepAliveRelay()
	g := d.GRPC()
	raftkvv1.RegisterKVServiceServer(g, &kvService{s: s})
	raftkvv1.RegisterWatchServiceServer(g, &watchService{s: s})
	raftkvv1.RegisterLeaseServiceServer(g, &leaseService{s: s})
	raftkvv1.RegisterClusterServiceServer(g, &clusterService{s: s})
	d.RunWhileServing(func(ctx context.Context) { s.lessor.run(ctx, 100*time.Millisecond, s.proposeAsLeader) })
	return s, nil
}

// Addr is the bound gRPC address.
func (s *Server) Addr() string { return s.d.Addr() }

// AdminAddr is the bound admin HTTP address ("" when disabled).
func (s *Server) AdminAddr() string { return s.d.AdminAddr() }

// RunWhileServing registers a loop that runs while the server serves (from
// when Raft is up until shutdown begins; Serve waits for it), for
// endpoints layered on the store such as the SQL one (raftkv/sql/sqlnode).
// Call it before Serve.
func (s *Server) RunWhileServing(loop func(ctx context.Context)) { s.d.RunWhileServing(loop) }

// OnRelease registers f to run when the server releases its resources
// (after Serve, or at Close of a server never served).
func (s *Server) OnRelease(f func()) { s.d.OnRelease(f) }

// Config is the configuration the server runs with.
func (s *Server) Config() Config { return s.cfg }

// Logger is the server's logger (with its member id).
func (s *Server) Logger() *slog.Logger { return s.logger }

// Node exposes the Raft host, for tests and tools in this module.
func (s *Server) Node() *raftnode.Node { return s.node }

// ReadyNotify is closed once the server serves and has joined its group.
func (s *Server) ReadyNotify() <-chan struct{} { return s.d.ReadyNotify() }

// Serve starts Raft and serves until ctx is cancelled, Close is called or the
// store fails; then it stops gracefully: it hands leadership over, stops Raft,
// drains RPCs within the shutdown timeout and closes the store (see
// raftnode.Daemon).
func (s *Server) Serve(ctx context.Context) error { return s.d.Serve(ctx) }

// Close stops the server: a running Serve stops gracefully and Close waits for
// it; a server never served releases its store and listeners. Idempotent.
func (s *Server) Close() { s.d.Close() }

// stopping is closed when shutdown begins.
func (s *Server) stopping() <-chan struct{} { return s.d.Stopping() }

// header builds a response header; rev 0 means the store's current revision.
func (s *Server) header(rev int64) *raftkvv1.ResponseHeader {
	if rev == 0 {
		rev = s.store.Revision()
	}
	return &raftkvv1.ResponseHeader{ClusterId: s.cfg.ClusterID, MemberId: s.cfg.ID, Revision: rev, RaftTerm: s.node.Term()}
}

// fillHeader completes a header produced by the store.
func (s *Server) fillHeader(h *raftkvv1.ResponseHeader) *raftkvv1.ResponseHeader {
	if h == nil {
		return s.header(0)
	}
	h.ClusterId, h.MemberId, h.RaftTerm = s.cfg.ClusterID, s.cfg.ID, s.node.Term()
	if h.Revision == 0 {
		h.Revision = s.store.Revision()
	}
	return h
}

// propose commits a command and decodes its result; a domain error recorded in the
// result is returned as the matching mvcc sentinel.
func (s *Server) propose(ctx context.Context, cmd *raftkvraftv1.Command) (*raftkvraftv1.CommandResult, error) {
	return s.proposeVia(ctx, cmd, s.node.Apply)
}

// proposeAsLeader is propose for commands only the leader may make (lease
// expiry): it fails with raftnode.ErrNotLeader instead of forwarding.
func (s *Server) proposeAsLeader(ctx context.Context, cmd *raftkvraftv1.Command) (*raftkvraftv1.CommandResult, error) {
	return s.proposeVia(ctx, cmd, s.node.ApplyAsLeader)
}

func (s *Server) proposeVia(ctx context.Context, cmd *raftkvraftv1.Command, apply func(context.Context, []byte) ([]byte, error)) (*raftkvraftv1.CommandResult, error) {
	select {
	case <-s.stopping():
		return nil, ErrShuttingDown
	default:
	}
	res, err := raftnode.Propose[raftkvraftv1.CommandResult](ctx, apply, cmd)
	if err != nil {
		return nil, err
	}
	if res.GetError() != "" {
		if res.GetError() == badCommand {
			return nil, errors.New("raftkv: command rejected by the state machine: " + res.GetErrorMessage())
		}
		return nil, mvcc.ErrorFromCode(res.GetError(), res.GetErrorMessage())
	}
	return res, nil
}

// barrier waits until a read may be served locally at the requested consistency.
func (s *Server) barrier(ctx context.Context, c raftkvv1.Consistency) error {
	if c == raftkvv1.Consistency_CONSISTENCY_SERIALIZABLE {
		return nil
	}
	return s.node.LinearizableRead(ctx)
}
