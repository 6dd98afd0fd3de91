package raftkv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/failpoint"
	"cairn.dev/cairn/node/raftnode"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv/mvcc"
)

// Version is reported by Status.
const Version = "0.1.0"

// serviceNames are the gRPC services a Server registers, for health checks.
var serviceNames = []string{
	"cairn.raftkv.v1.KVService", "cairn.raftkv.v1.WatchService", "cairn.raftkv.v1.LeaseService", "cairn.raftkv.v1.ClusterService",
}

// Server is one raftkv member: gRPC services, Raft host and store.
type Server struct {
	cfg    Config
	logger *slog.Logger
	limits limits

	srv    *node.Server
	node   *raftnode.Node
	store  *mvcc.Store
	hub    *watchHub
	lessor *lessor
	// keepAlive serves LeaseKeepAlive streams.
	keepAlive *raftnode.KeepAliveRelay[raftkvv1.LeaseKeepAliveRequest, raftkvv1.LeaseKeepAliveResponse]

	stop      chan struct{} // closed when shutdown begins
	closeOnce sync.Once
	wg        sync.WaitGroup
	ready     chan struct{}
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
	srv, err := node.NewServer(cfg.Server, logger)
	if err != nil {
		return nil, err
	}
	if err := srv.Listen(); err != nil {
		srv.Close()
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		srv.Close()
		return nil, fmt.Errorf("raftkv: data_dir: %w", err)
	}
	store, err := mvcc.Open(filepath.Join(cfg.DataDir, DBFileName), mvcc.Options{
		NoSync: cfg.NoSync, Logger: logger,
		CommitInterval: cfg.BackendBatchInterval, CommitEntries: cfg.BackendBatchLimit,
	})
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("raftkv: open store: %w", err)
	}
	s := &Server{
		cfg:    cfg,
		logger: logger,
		limits: cfg.limits(),
		srv:    srv,
		store:  store,
		hub:    newWatchHub(),
		lessor: newLessor(store, logger),
		stop:   make(chan struct{}),
		ready:  make(chan struct{}),
	}
	rc := cfg.raftConfig()
	if cfg.Advertise == "" {
		rc.Advertise = srv.GRPCAddr()
	}
	dial := node.DialConfig{TLS: cfg.Server.TLS, MaxMsgBytes: cfg.Server.MaxRecvMsgBytes}
	overrides, _ := node.ParseDialOverrides(cfg.DialOverrides) // validated above
	rc.Dial = func(target string) (*grpc.ClientConn, error) { return overrides.Dial(target, dial) }
	rc.OnLeadership = s.lessor.setLeader
	rc.OnFatal = func(err error) {
		logger.Error("store failed; stopping", "err", err)
		s.shutdown()
	}
	sm := &stateMachine{store: store, hub: s.hub, lessor: s.lessor, logger: logger}
	n, err := raftnode.New(rc, sm, logger)
	if err != nil {
		store.Close()
		srv.Close()
		return nil, err
	}
	s.node = n
	if err := n.RegisterMetrics(srv.Registry()); err != nil {
		store.Close()
		srv.Close()
		return nil, err
	}
	s.keepAlive = s.newKeepAliveRelay()
	if failpoint.Enabled {
		srv.HandleAdmin("/debug/failpoints/", http.StripPrefix("/debug/failpoints", failpoint.Handler()))
		srv.HandleAdmin("/debug/failpoints", failpoint.Handler())
	}
	g := srv.GRPC()
	n.Register(g)
	n.RegisterMembership(g, toStatus)
	raftkvv1.RegisterKVServiceServer(g, &kvService{s: s})
	raftkvv1.RegisterWatchServiceServer(g, &watchService{s: s})
	raftkvv1.RegisterLeaseServiceServer(g, &leaseService{s: s})
	raftkvv1.RegisterClusterServiceServer(g, &clusterService{s: s})
	return s, nil
}

// Addr is the bound gRPC address.
func (s *Server) Addr() string { return s.srv.GRPCAddr() }

// AdminAddr is the bound admin HTTP address ("" when disabled).
func (s *Server) AdminAddr() string { return s.srv.AdminAddr() }

// Node exposes the Raft host, for tests and tools in this module.
func (s *Server) Node() *raftnode.Node { return s.node }

// ReadyNotify is closed once the server serves and has joined its group.
func (s *Server) ReadyNotify() <-chan struct{} { return s.ready }

// Serve starts Raft and serves until ctx is cancelled or the store fails; then it
// stops gracefully: it hands leadership over, stops Raft, drains RPCs within the
// shutdown timeout and closes the store.
func (s *Server) Serve(ctx context.Context) error {
	if err := s.node.Start(); err != nil {
		s.closeStores()
		return err
	}
	srvCtx, stopServing := context.WithCancel(context.Background())
	defer stopServing()
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(srvCtx) }()

	lctx, stopLessor := context.WithCancel(context.Background())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.lessor.run(lctx, 100*time.Millisecond, s.proposeAsLeader)
	}()
	// Readiness and gRPC health follow the member's health: a leader known and
	// a responsive state machine (see raftnode.Node.Health).
	stopHealth := s.node.ReportHealth(s.srv, serviceNames...)
	close(s.ready)
	s.logger.Info("raftkv serving", "grpc", s.Addr(), "admin", s.AdminAddr())

	var serveErr error
	select {
	case <-ctx.Done():
	case <-s.stop:
	case serveErr = <-errc:
	}
	s.logger.Info("raftkv stopping")
	stopHealth()
	s.srv.SetReady(false)
	s.shutdown()
	stopLessor()
	s.wg.Wait()
	if err := s.node.Close(); err != nil {
		s.logger.Warn("raft close", "err", err)
	}
	stopServing()
	if serveErr == nil {
		serveErr = <-errc
	}
	s.closeStores()
	return serveErr
}

func (s *Server) shutdown() {
	s.closeOnce.Do(func() { close(s.stop) })
}

func (s *Server) closeStores() {
	if err := s.store.Close(); err != nil {
		s.logger.Warn("store close", "err", err)
	}
	s.srv.Close()
}

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
func (s *Server) propose(ctx context.Context, cmd *raftkvv1.Command) (*raftkvv1.CommandResult, error) {
	return s.proposeVia(ctx, cmd, s.node.Apply)
}

// proposeAsLeader is propose for commands only the leader may make (lease
// expiry): it fails with raftnode.ErrNotLeader instead of forwarding.
func (s *Server) proposeAsLeader(ctx context.Context, cmd *raftkvv1.Command) (*raftkvv1.CommandResult, error) {
	return s.proposeVia(ctx, cmd, s.node.ApplyAsLeader)
}

func (s *Server) proposeVia(ctx context.Context, cmd *raftkvv1.Command, apply func(context.Context, []byte) ([]byte, error)) (*raftkvv1.CommandResult, error) {
	select {
	case <-s.stop:
		return nil, ErrShuttingDown
	default:
	}
	b, err := proto.Marshal(cmd)
	if err != nil {
		return nil, err
	}
	out, err := apply(ctx, b)
	if err != nil {
		return nil, err
	}
	res := &raftkvv1.CommandResult{}
	if err := proto.Unmarshal(out, res); err != nil {
		return nil, fmt.Errorf("raftkv: decode result: %w", err)
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
