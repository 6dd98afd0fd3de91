package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	"cairn.dev/cairn/node/clusterconn"
)

// Errors returned by Server methods.
var (
	// ErrServerClosed is returned by Listen and Serve after Close or after
	// Serve has returned once.
	ErrServerClosed = errors.New("node: server closed")
	// ErrAlreadyServing is returned by Serve while another Serve runs.
	ErrAlreadyServing = errors.New("node: server already serving")
	// ErrAlreadyListening is returned by a second call to Listen.
	ErrAlreadyListening = errors.New("node: server already listening")
)

// Keepalive settings shared by servers and Dial. The server tolerates client
// pings every clientKeepaliveTime because that is >= serverKeepaliveMinTime.
const (
	serverKeepaliveMinTime = 5 * time.Second
	serverKeepaliveTime    = 30 * time.Second
	serverKeepaliveTimeout = 10 * time.Second
	clientKeepaliveTime    = 10 * time.Second
	clientKeepaliveTimeout = 5 * time.Second

	// serverStreamWorkers is the number of goroutines kept to run RPCs. A
	// reused goroutine keeps the stack it grew, where a new one per RPC grows
	// (copies) its stack on every call; past this many concurrent RPCs gRPC
	// starts a goroutine per RPC again.
	serverStreamWorkers = 256
)

// Server is the gRPC server and admin HTTP server of one node.
//
// Typical use: NewServer, register services on GRPC() and metrics on
// Registry(), optionally Listen to learn the bound ports, SetReady(true) once
// the daemon can take traffic, then Serve(ctx) until ctx is cancelled. Close
// stops everything at once. All methods are safe for concurrent use; Serve
// may be called once.
type Server struct {
	cfg      ServerConfig
	logger   *slog.Logger
	grpc     *grpc.Server
	health   *health.Server
	registry *prometheus.Registry
	metrics  *grpcMetrics
	admin    *http.Server // nil when cfg.AdminAddr == ""
	adminMux *http.ServeMux
	ready    atomic.Bool
	stopping atomic.Bool // set once shutdown begins; SetReady is then ignored

	closeOnce sync.Once

	mu       sync.Mutex // protects the fields below
	grpcLis  net.Listener
	adminLis net.Listener
	serving  bool // Serve has been called
	closed   bool // Close was called or Serve returned
}

// NewServer validates cfg and builds a server; it does not listen yet. The
// gRPC server has panic recovery, request logging and per-method metrics
// interceptors on unary and streaming calls (and, when cfg.TLS.CAFile makes
// it verify client certificates, the node-only check of IsNodeOnlyService),
// the configured message size
// limits, keepalive enforcement, grpc.health.v1 and reflection registered.
// The overall ("") health status is NOT_SERVING until SetReady(true).
func NewServer(cfg ServerConfig, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	reg, err := newRegistry()
	if err != nil {
		return nil, err
	}
	m, err := newGRPCMetrics(reg)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		logger:   logger,
		health:   health.NewServer(),
		registry: reg,
		metrics:  m,
	}
	unary := []grpc.UnaryServerInterceptor{s.unaryObserve, s.unaryRecover}
	stream := []grpc.StreamServerInterceptor{s.streamObserve, s.streamRecover}
	if cfg.TLS.CAFile != "" {
		// Client certificates are verified: node-only services can tell nodes
		// from clients (see IsNodeOnlyService).
		unary = []grpc.UnaryServerInterceptor{s.unaryObserve, unaryNodeOnly, s.unaryRecover}
		stream = []grpc.StreamServerInterceptor{s.streamObserve, streamNodeOnly, s.streamRecover}
	}
	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
		grpc.NumStreamWorkers(serverStreamWorkers),
		grpc.MaxRecvMsgSize(cfg.MaxRecvMsgBytes),
		grpc.MaxSendMsgSize(cfg.MaxSendMsgBytes),
		grpc.InitialWindowSize(clusterconn.StreamWindow),
		grpc.InitialConnWindowSize(clusterconn.ConnWindow),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             serverKeepaliveMinTime,
			PermitWithoutStream: true,
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:    serverKeepaliveTime,
			Timeout: serverKeepaliveTimeout,
		}),
	}
	if cfg.TLS.Enabled() {
		tc, err := ServerTLSConfig(cfg.TLS)
		if err != nil {
			return nil, err
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(tc)))
	}
	s.grpc = grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	if cfg.AdminAddr != "" {
		s.admin = s.newAdminServer()
	}
	return s, nil
}

// GRPC returns the underlying gRPC server. Register services on it before
// Serve.
func (s *Server) GRPC() *grpc.Server { return s.grpc }

// Registry returns the server's own Prometheus registry, served on /metrics.
// Daemons register their metrics here.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// Listen binds the gRPC and (if configured) admin listeners, so that the
// actual addresses of ":0" ports are known before Serve. Serve calls it when
// it has not been called. Calling it twice is an error.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrServerClosed
	}
	if s.grpcLis != nil {
		return ErrAlreadyListening
	}
	return s.listenLocked()
}

func (s *Server) listenLocked() error {
	gl, err := net.Listen("tcp", s.cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("node: listen grpc_addr: %w", err)
	}
	var al net.Listener
	if s.admin != nil {
		al, err = net.Listen("tcp", s.cfg.AdminAddr)
		if err != nil {
			_ = gl.Close()
			return fmt.Errorf("node: listen admin_addr: %w", err)
		}
	}
	s.grpcLis, s.adminLis = gl, al
	return nil
}

// GRPCAddr returns the bound gRPC address, or "" before Listen.
func (s *Server) GRPCAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grpcLis == nil {
		return ""
	}
	return s.grpcLis.Addr().String()
}

// AdminAddr returns the bound admin HTTP address, or "" before Listen or
// when the admin server is disabled.
func (s *Server) AdminAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.adminLis == nil {
		return ""
	}
	return s.adminLis.Addr().String()
}

// SetServingStatus sets the grpc.health.v1 status of service; "" is the
// overall status, normally driven by SetReady. Updates are ignored once
// shutdown has begun, when every service reports NOT_SERVING.
func (s *Server) SetServingStatus(service string, serving bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if serving {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus(service, st)
}

// SetReady marks the node ready or not: /readyz answers 200 or 503 and the
// overall ("") gRPC health status becomes SERVING or NOT_SERVING.
//
// Once shutdown has begun (Serve's context done, or Close) the node stays
// not ready and SetReady is ignored.
func (s *Server) SetReady(ready bool) {
	if s.stopping.Load() {
		return
	}
	s.ready.Store(ready)
	if s.stopping.Load() { // lost a race with shutdown: undo
		s.ready.Store(false)
		return
	}
	s.SetServingStatus("", ready)
}

// Serve serves gRPC and admin HTTP until ctx is done, then stops gracefully:
// it reports NOT_SERVING, stops accepting, and waits up to ShutdownTimeout
// for in-flight RPCs, after which the remaining ones are cancelled. It
// returns nil on such a stop or after Close, and an error if a listener
// fails. Serve returns only after every goroutine it started has exited.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return ErrServerClosed
	case s.serving:
		s.mu.Unlock()
		return ErrAlreadyServing
	}
	if s.grpcLis == nil {
		if err := s.listenLocked(); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	s.serving = true
	gl, al := s.grpcLis, s.adminLis
	s.mu.Unlock()

	s.logger.Info("node serving", "grpc_addr", gl.Addr().String(), "admin_addr", s.AdminAddr())
	errc := make(chan error, 2)
	var wg sync.WaitGroup
	wg.Go(func() {
		err := s.grpc.Serve(gl)
		if errors.Is(err, grpc.ErrServerStopped) {
			err = nil // Close raced ahead of Serve
		}
		if err != nil {
			err = fmt.Errorf("node: grpc serve: %w", err)
		}
		errc <- err
	})
	if al != nil {
		wg.Go(func() {
			err := s.admin.Serve(al)
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			if err != nil {
				err = fmt.Errorf("node: admin serve: %w", err)
			}
			errc <- err
		})
	}

	var err error
	select {
	case <-ctx.Done():
		s.logger.Info("node stopping", "reason", context.Cause(ctx), "timeout", s.cfg.ShutdownTimeout)
	case err = <-errc: // a server stopped by itself: Close, or a listener failure
		if err != nil {
			s.logger.Error("node server failed", "error", err)
		}
	}
	s.gracefulStop()
	wg.Wait()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.logger.Info("node stopped")
	return err
}

// gracefulStop drains gRPC and admin HTTP within ShutdownTimeout, then
// forces both down.
func (s *Server) gracefulStop() {
	s.stopping.Store(true)
	s.ready.Store(false)
	s.health.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		s.grpc.GracefulStop()
	}()
	select {
	case <-stopped:
	case <-ctx.Done():
		s.logger.Warn("graceful stop deadline exceeded; cancelling in-flight RPCs", "timeout", s.cfg.ShutdownTimeout)
		s.grpc.Stop()
		<-stopped
	}
	if s.admin != nil {
		if err := s.admin.Shutdown(ctx); err != nil {
			_ = s.admin.Close()
		}
	}
}

// Close stops the server immediately: listeners and connections are closed
// and in-flight RPCs cancelled. A running Serve returns nil. Close is
// idempotent and safe to call concurrently with any other method.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		gl, al := s.grpcLis, s.adminLis
		s.mu.Unlock()
		s.stopping.Store(true)
		s.ready.Store(false)
		s.health.Shutdown()
		s.grpc.Stop()
		if s.admin != nil {
			_ = s.admin.Close()
		}
		// Listeners bound by Listen but never handed to Serve.
		if gl != nil {
			_ = gl.Close()
		}
		if al != nil {
			_ = al.Close()
		}
	})
}
