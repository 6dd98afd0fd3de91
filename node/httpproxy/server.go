package httpproxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ServerConfig configures a Server. Zero durations and sizes take the
// defaults named.
type ServerConfig struct {
	// Addr is the listen address (host:port; port 0 picks one).
	Addr string
	// TLS serves HTTPS with these certificates (HTTP/1.1 and h2 by ALPN);
	// nil serves plaintext.
	TLS *CertStore
	// H2C also accepts HTTP/2 cleartext with prior knowledge (gRPC clients
	// without TLS).
	H2C bool
	// ReadHeaderTimeout closes connections whose request headers do not
	// arrive in time (slowloris); default 10s.
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle that long; default 120s.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers; larger requests
	// get 431. Default 32 KiB. (net/http reads up to 4 KiB beyond it before
	// refusing.)
	MaxHeaderBytes int
	// ShutdownTimeout bounds the graceful stop; in-flight requests still
	// running then are cut. Default 30s.
	ShutdownTimeout time.Duration
	// WrapListener, when set, wraps the bound listener before serving (e.g.
	// a per-client connection limit). Addr still reports the bound address.
	WrapListener func(net.Listener) net.Listener
}

// useOwnHTTP1 is the one switch between the package's HTTP/1.1 server loop
// (h1server.go; h2 and h2c handed to net/http) and net/http's server for
// every protocol.
const useOwnHTTP1 = true

// Server is an HTTP server for a proxy's client side. Listen binds it,
// Serve runs it until its context ends, Close stops it at once.
type Server struct {
	name    string
	cfg     ServerConfig
	srv     *http.Server // every protocol, or h2/h2c only behind the own loop
	ln      net.Listener
	logger  *slog.Logger
	handler http.Handler
	tlsCfg  *tls.Config

	// The own HTTP/1.1 loop.
	baseCtx    context.Context
	stopBase   context.CancelFunc
	handoff    *handoffListener
	shutting   atomic.Bool
	connWG     sync.WaitGroup
	fallbackWG sync.WaitGroup

	mu     sync.Mutex // protects served, closed, conns
	served bool
	closed bool
	conns  map[*srvConn]struct{}
}

// Listen binds cfg.Addr and prepares a Server running h. It does not serve
// until Serve is called.
func Listen(name string, cfg ServerConfig, h http.Handler, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if h == nil {
		h = http.DefaultServeMux // as net/http
	}
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = 10 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 120 * time.Second
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = 32 << 10
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	logger = logger.With("server", name)
	var p http.Protocols
	p.SetHTTP1(true)
	if cfg.TLS != nil {
		p.SetHTTP2(true)
	}
	if cfg.H2C {
		p.SetUnencryptedHTTP2(true)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		Protocols:         &p,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	var tlsCfg *tls.Config
	if cfg.TLS != nil {
		tlsCfg = &tls.Config{
			MinVersion:     tls.VersionTLS12,
			GetCertificate: cfg.TLS.GetCertificate,
		}
		if useOwnHTTP1 {
			// The loop hands h2 connections to srv, which configures h2
			// only when its TLS config names it.
			tlsCfg.NextProtos = []string{"h2", "http/1.1"}
		}
		srv.TLSConfig = tlsCfg
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("httpproxy: listen %s: %w", cfg.Addr, err)
	}
	if cfg.WrapListener != nil {
		ln = cfg.WrapListener(ln)
	}
	s := &Server{name: name, cfg: cfg, srv: srv, ln: ln, logger: logger, handler: h, tlsCfg: tlsCfg}
	if useOwnHTTP1 {
		s.baseCtx, s.stopBase = context.WithCancel(context.Background())
		s.handoff = newHandoffListener(ln.Addr())
		s.conns = map[*srvConn]struct{}{}
	}
	return s, nil
}

// Addr returns the bound address (host:port).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve accepts connections until ctx ends, then stops gracefully: it
// stops accepting, lets in-flight requests finish within ShutdownTimeout,
// then closes what is left. It returns nil after a stop (by ctx or Close)
// and the accept error otherwise. Serve may be called once.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	if s.served {
		s.mu.Unlock()
		return fmt.Errorf("httpproxy: server %s: serve called twice", s.name)
	}
	s.served = true
	s.mu.Unlock()
	if useOwnHTTP1 {
		return s.serveOwn(ctx)
	}
	done := make(chan error, 1)
	go func() { // owned: Serve waits for it on every path
		if s.cfg.TLS != nil {
			done <- s.srv.ServeTLS(s.ln, "", "")
		} else {
			done <- s.srv.Serve(s.ln)
		}
	}()
	select {
	case err := <-done:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		s.logger.Warn("graceful stop timed out; closing connections", "err", err)
		_ = s.srv.Close()
	}
	<-done
	return nil
}

// Close stops the server at once: the listener and every connection are
// closed. A running Serve returns.
func (s *Server) Close() error {
	if useOwnHTTP1 {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.shutting.Store(true)
		err := s.ln.Close()
		if errors.Is(err, net.ErrClosed) {
			err = nil
		}
		s.closeConns(false)
		_ = s.srv.Close()
		_ = s.handoff.Close()
		s.stopBase()
		return err
	}
	err := s.srv.Close()
	s.mu.Lock()
	served := s.served
	s.mu.Unlock()
	if !served {
		_ = s.ln.Close()
	}
	return err
}
