package searchd

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/raftnode"
	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
	"cairn.dev/cairn/searchd/meta"
	sdclient "cairn.dev/cairn/streamd/client"
)

// Version is reported by Status.
const Version = "0.1.0"

// MetaFileName is the metadata database inside DataDir; ShardsDir holds
// the shard copies, one directory per index uuid, shard and allocation.
const (
	MetaFileName = "searchd-meta.db"
	ShardsDir    = "shards"
)

// Server is one searchd node (see the package doc).
type Server struct {
	cfg    Config
	logger *slog.Logger
	now    func() time.Time

	d       *raftnode.Daemon
	node    *raftnode.Node
	meta    *meta.Store
	peers   *node.ConnPool
	streamd *sdclient.Client

	indexes  *indexService
	docs     *documentService
	searches *searchService

	schemas *schemaCache
	copies  *copySet
	live    *liveness

	httpAddr atomic.Pointer[string]
	// rr spreads reads over copies.
	rr atomic.Uint64
	// recoveries counts copies this node built from a peer's commit point.
	recoveries atomic.Int64
}

// New validates cfg, opens the metadata database and the streamd client
// and prepares the server. It binds the listeners but serves nothing until
// Serve.
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
	st, err := meta.Open(filepath.Join(cfg.DataDir, MetaFileName), meta.Options{Logger: logger, NoSync: cfg.NoSync})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("searchd: open metadata: %w", err)
	}
	d.OnRelease(func() {
		if err := st.Close(); err != nil {
			logger.Warn("metadata close", "err", err)
		}
	})
	overrides, err := node.ParseDialOverrides(cfg.DialOverrides)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("searchd: dial_overrides: %w", err)
	}
	s := &Server{cfg: cfg, logger: logger, now: time.Now, d: d, meta: st, schemas: newSchemaCache()}
	s.peers = node.NewConnPool(node.DialConfig{TLS: cfg.Server.TLS, MaxMsgBytes: cfg.Server.MaxRecvMsgBytes}, overrides)
	d.OnRelease(s.peers.Close)
	scfg := sdclient.Config{Endpoints: cfg.streamdEndpoints()}
	if t := cfg.streamdTLS(); t.Enabled() {
		tc, err := node.ClientTLSConfig(t, "")
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("searchd: streamd tls: %w", err)
		}
		scfg.TLS = tc
	}
	sc, err := sdclient.New(scfg)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("searchd: streamd client: %w", err)
	}
	s.streamd = sc
	d.OnRelease(func() { _ = sc.Close() })
	n, err := d.StartRaft(st, raftnode.RaftOptions{OnLeadership: s.onLeadership, ToStatus: toStatus})
	if err != nil {
		d.Close()
		return nil, err
	}
	s.node = n
	s.copies = newCopySet(s)
	s.live = newLiveness()
	s.indexes = &indexService{s: s}
	s.docs = &documentService{s: s}
	s.searches = &searchService{s: s}
	g := d.GRPC()
	searchdv1.RegisterIndexServiceServer(g, s.indexes)
	searchdv1.RegisterDocumentServiceServer(g, s.docs)
	searchdv1.RegisterSearchServiceServer(g, s.searches)
	searchdv1.RegisterShardServiceServer(g, &shardService{s: s})
	searchdv1.RegisterClusterServiceServer(g, &clusterService{s: s})
	d.RunWhileServing(s.copies.run)
	d.RunWhileServing(s.leaderLoop)
	return s, nil
}

// Addr is the bound gRPC address.
func (s *Server) Addr() string { return s.d.Addr() }

// AdminAddr is the bound admin HTTP address ("" when disabled).
func (s *Server) AdminAddr() string { return s.d.AdminAddr() }

// Config returns the server's configuration (HTTPAddr and TLS, for the
// HTTP API).
func (s *Server) Config() Config { return s.cfg }

// Logger is the server's logger.
func (s *Server) Logger() *slog.Logger { return s.logger }

// Node exposes the metadata Raft host, for tests and tools.
func (s *Server) Node() *raftnode.Node { return s.node }

// Meta exposes the metadata state machine (local reads), for tests and
// front ends.
func (s *Server) Meta() *meta.Store { return s.meta }

// IndexService is the in-process implementation of
// cairn.searchd.v1.IndexService for front ends that speak other protocols
// (searchd/es): call it as a gRPC client would; its errors are gRPC status
// errors with rpcerr reasons. Safe for concurrent use.
func (s *Server) IndexService() searchdv1.IndexServiceServer { return s.indexes }

// DocumentService is the in-process cairn.searchd.v1.DocumentService (see
// IndexService).
func (s *Server) DocumentService() searchdv1.DocumentServiceServer { return s.docs }

// SearchService is the in-process cairn.searchd.v1.SearchService (see
// IndexService).
func (s *Server) SearchService() searchdv1.SearchServiceServer { return s.searches }

// SelfConn returns a connection to this node's own gRPC services (with the
// node's TLS), for front ends that call them as a client would
// (searchd/es). The server owns and closes it.
func (s *Server) SelfConn() (*grpc.ClientConn, error) { return s.peers.Conn(s.Addr()) }

// SetHTTPAddr records the address the HTTP API bound (reported by Status
// and ListNodes): the front end calls it once it listens. Safe for
// concurrent use.
func (s *Server) SetHTTPAddr(addr string) { s.httpAddr.Store(&addr) }

// HTTPAddr is the HTTP API's address ("" when none is attached).
func (s *Server) HTTPAddr() string {
	if p := s.httpAddr.Load(); p != nil {
		return *p
	}
	return ""
}

// PeerRecoveries counts the copies this node built from a peer's commit
// point (CopyShard) since it started.
func (s *Server) PeerRecoveries() int64 { return s.recoveries.Load() }

// ReadyNotify is closed once the server serves and has joined its group.
func (s *Server) ReadyNotify() <-chan struct{} { return s.d.ReadyNotify() }

// Stopping is closed when shutdown begins: front ends stop taking requests.
func (s *Server) Stopping() <-chan struct{} { return s.d.Stopping() }

// RunWhileServing registers the loop of a front end that serves beside the
// gRPC services (searchd/es): Serve starts it once Raft is up and, at
// shutdown, cancels it and waits for it. Call it before Serve.
func (s *Server) RunWhileServing(loop func(ctx context.Context)) { s.d.RunWhileServing(loop) }

// OnRelease registers f to run when the server releases what it holds
// (after Serve has stopped, or on Close of a server never served).
func (s *Server) OnRelease(f func()) { s.d.OnRelease(f) }

// Serve starts Raft, the shard copies and the leader's placement loop and
// serves until ctx is cancelled, Close is called or the state machine
// fails; then it stops gracefully: copies commit and close, Raft stops.
func (s *Server) Serve(ctx context.Context) error { return s.d.Serve(ctx) }

// Close stops the server (see Serve) and waits for it. Idempotent.
func (s *Server) Close() { s.d.Close() }

func (s *Server) stopping() <-chan struct{} { return s.d.Stopping() }

func (s *Server) header() *searchdv1.ResponseHeader {
	return &searchdv1.ResponseHeader{MemberId: s.cfg.ID}
}

// propose commits cmd through the metadata leader (forwarded from a
// follower) and returns its result; a recorded failure comes back as
// meta's sentinel.
func (s *Server) propose(ctx context.Context, cmd *meta.Command) (*meta.Result, error) {
	select {
	case <-s.stopping():
		return nil, ErrShuttingDown
	default:
	}
	return meta.Propose(ctx, s.node.Apply, s.now(), cmd)
}

// proposeAsLeader commits a command computed from the leader's memory
// (liveness, placement) only while this node leads.
func (s *Server) proposeAsLeader(ctx context.Context, cmd *meta.Command) (*meta.Result, error) {
	select {
	case <-s.stopping():
		return nil, ErrShuttingDown
	default:
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ApplyTimeout)
	defer cancel()
	return meta.Propose(ctx, s.node.ApplyAsLeader, s.now(), cmd)
}

// barrier waits until this node's metadata reflects every write committed
// before the call.
func (s *Server) barrier(ctx context.Context) error { return s.node.LinearizableRead(ctx) }

// lookupIndex returns an index's metadata: the local state, or after a read
// barrier when the local state does not have it (just created elsewhere).
func (s *Server) lookupIndex(ctx context.Context, name string) (*meta.Index, error) {
	ix, err := s.meta.Index(name)
	if err == nil {
		return ix, nil
	}
	if err := s.barrier(ctx); err != nil {
		return nil, err
	}
	return s.meta.Index(name)
}

// memberAddrs maps the metadata group's members to their gRPC addresses.
func (s *Server) memberAddrs() map[string]string {
	ms, err := s.node.Members()
	out := map[string]string{}
	if err != nil {
		return out
	}
	for _, m := range ms {
		out[m.ID] = m.Addr
	}
	if _, ok := out[s.cfg.ID]; !ok {
		out[s.cfg.ID] = s.Addr()
	}
	return out
}
