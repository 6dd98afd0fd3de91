package cached

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"cairn.dev/cairn/cached/ring"
	"cairn.dev/cairn/cached/store"
	"cairn.dev/cairn/node"
	cachedpeerv1 "cairn.dev/cairn/proto/cairn/cached/peer/v1"
	cachedv1 "cairn.dev/cairn/proto/cairn/cached/v1"
)

// Version is reported by INFO.
const Version = "0.1.0"

// Server is one cached node: its store, its view of the ring, the gRPC
// services (CacheService, RingService, PeerService) and the RESP listener.
//
// Create it with New, run it with Serve, stop it by cancelling Serve's context
// or with Close. Its methods are safe for concurrent use.
type Server struct {
	cfg     Config
	logger  *slog.Logger
	srv     *node.Server
	store   *store.Store
	self    ring.Member
	peers   *node.ConnPool
	hub     *hub
	metrics *metrics

	view    atomic.Pointer[view]
	members members

	resp     *respServer // nil when RESPAddr is ""
	commands *commandTable

	// gate makes EXEC atomic: every command on the local store holds its
	// read side while it runs (runLocal, the gRPC handlers, Replicate), and
	// EXEC holds the write side for the whole transaction (resp_multi.go).
	gate sync.RWMutex

	life node.Lifecycle

	goroutines node.Goroutines // started by goFunc; Serve waits for them
}

// New validates cfg, creates the store and binds the gRPC, admin and RESP
// listeners (so ports from ":0" are known through Addr and RESPAddr), but
// serves nothing until Serve.
func New(cfg Config, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("node", cfg.ID)
	srv, err := node.NewServer(cfg.Server, logger)
	if err != nil {
		return nil, err
	}
	if err := srv.Listen(); err != nil {
		srv.Close()
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		logger:   logger,
		srv:      srv,
		hub:      newHub(),
		commands: newCommandTable(),
	}
	overrides, _ := node.ParseDialOverrides(cfg.DialOverrides) // validated above
	s.peers = node.NewConnPool(node.DialConfig{TLS: cfg.Server.TLS, MaxMsgBytes: cfg.Server.MaxRecvMsgBytes}, overrides)
	sc := cfg.storeConfig()
	sc.OnChange = s.hub.onChange(cfg.ID)
	st, err := store.New(sc)
	if err != nil {
		srv.Close()
		return nil, err
	}
	s.store = st
	if cfg.RESPAddr != "" {
		lis, err := net.Listen("tcp", cfg.RESPAddr)
		if err != nil {
			st.Close()
			srv.Close()
			return nil, errors.Join(errors.New("cached: listen resp_addr"), err)
		}
		s.resp, err = newRESPServer(s, lis)
		if err != nil {
			_ = lis.Close()
			st.Close()
			srv.Close()
			return nil, err
		}
	}
	s.self = ring.Member{ID: cfg.ID, Addr: srv.GRPCAddr(), RESPAddr: s.RESPAddr()}
	s.metrics, err = newMetrics(s)
	if err != nil {
		s.release()
		return nil, err
	}
	peers, _ := ParsePeers(cfg.Peers) // validated above
	s.members.static = peers

	g := srv.GRPC()
	cachedv1.RegisterCacheServiceServer(g, &cacheService{s: s})
	cachedv1.RegisterRingServiceServer(g, &ringService{s: s})
	cachedpeerv1.RegisterPeerServiceServer(g, &peerService{s: s})
	return s, nil
}

// Addr is the bound gRPC address.
func (s *Server) Addr() string { return s.srv.GRPCAddr() }

// AdminAddr is the bound admin HTTP address ("" when disabled).
func (s *Server) AdminAddr() string { return s.srv.AdminAddr() }

// RESPAddr is the bound Redis-protocol address ("" when disabled).
func (s *Server) RESPAddr() string {
	if s.resp == nil {
		return ""
	}
	return s.resp.lis.Addr().String()
}

// ID is the node's id.
func (s *Server) ID() string { return s.cfg.ID }

// Self is the node's own member entry (bound addresses).
func (s *Server) Self() ring.Member { return s.self }

// ReadyNotify is closed once the node serves with a ring.
func (s *Server) ReadyNotify() <-chan struct{} { return s.life.Ready() }

// services whose grpc.health.v1 status follows readiness.
var services = []string{
	cachedv1.CacheService_ServiceDesc.ServiceName,
	cachedv1.RingService_ServiceDesc.ServiceName,
	cachedpeerv1.PeerService_ServiceDesc.ServiceName,
}

// Serve serves until ctx is cancelled or Close is called, then stops: it
// leaves the registry (revoking its lease, so others drop it at once), ends
// Subscribe streams, closes RESP connections, drains gRPC within the shutdown
// timeout and closes the store. Serve may be called once; it returns nil after
// a requested stop and the error of a failed listener otherwise.
func (s *Server) Serve(ctx context.Context) error {
	return s.life.Serve(func() error { return s.serve(ctx) }, s.release)
}

func (s *Server) serve(ctx context.Context) error {
	srvCtx, stopServing := context.WithCancel(context.Background())
	defer stopServing()
	errc := make(chan error, 2)
	go func() { errc <- s.srv.Serve(srvCtx) }()
	if s.resp != nil {
		s.goFunc(func() {
			if err := s.resp.serve(); err != nil {
				errc <- err
			}
		})
	}

	var reg *registry
	if s.cfg.Registry != "" {
		var err error
		if reg, err = newRegistry(s); err != nil {
			stopServing()
			<-errc
			s.release()
			return err
		}
		s.installStatic()
		s.goFunc(func() { reg.run() })
	} else {
		s.installStatic()
	}

	var serveErr error
	select {
	case <-s.waitRing(reg):
		for _, svc := range services {
			s.srv.SetServingStatus(svc, true)
		}
		s.srv.SetReady(true)
		s.life.SetReady()
		s.logger.Info("cached serving", "grpc", s.Addr(), "resp", s.RESPAddr(), "admin", s.AdminAddr())
		select {
		case <-ctx.Done():
		case <-s.life.Stopping():
		case serveErr = <-errc:
		}
	case <-ctx.Done():
	case <-s.life.Stopping():
	case serveErr = <-errc:
	}
	s.logger.Info("cached stopping")
	s.srv.SetReady(false)
	s.shutdown()
	if reg != nil {
		reg.leave()
	}
	s.hub.close()
	if s.resp != nil {
		s.resp.close()
	}
	stopServing() // graceful gRPC stop within the shutdown timeout
	s.goroutines.Wait()
	if serveErr == nil {
		serveErr = <-errc
	}
	s.release()
	return serveErr
}

// waitRing returns a channel closed once the node has a ring: at once with
// static membership, after the registry's member list was first read otherwise.
func (s *Server) waitRing(reg *registry) <-chan struct{} {
	if reg != nil {
		return reg.synced
	}
	c := make(chan struct{})
	close(c)
	return c
}

// shutdown begins the stop: Serve's loop returns and goFunc refuses work.
func (s *Server) shutdown() {
	s.life.Stop()
	s.goroutines.Close()
}

// release closes what New opened. Idempotent.
func (s *Server) release() {
	s.peers.Close()
	if s.resp != nil {
		s.resp.close()
	}
	s.store.Close()
	s.srv.Close()
}

// Close stops the node: it makes a running Serve stop as if its context were
// cancelled and waits for it to return, or, when Serve never ran, releases the
// listeners. It is idempotent and safe to call concurrently with Serve.
func (s *Server) Close() { s.life.Close(s.shutdown, s.release) }

// goFunc runs f in a goroutine owned by the server, unless shutdown has begun
// (then it reports false). Serve waits for all of them before returning.
func (s *Server) goFunc(f func()) bool { return s.goroutines.Go(f) }
