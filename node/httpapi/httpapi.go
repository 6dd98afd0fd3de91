// Package httpapi serves a daemon's HTTP API — the protocol an outside tool
// speaks, such as queued's SQS or blobd's S3 — beside its gRPC server, on
// its own listener, in the daemon's lifecycle: Attach binds the address at
// once, the API serves while the daemon serves (it is stopped, gracefully,
// before Raft stops), and the listener is released with the daemon. TLS uses
// the node's own certificate and asks no client certificate: these APIs
// authenticate requests as their protocol does (SigV4).
package httpapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"cairn.dev/cairn/node"
)

// DefaultShutdownTimeout is how long Serve waits for requests in flight at
// shutdown when the Config gives none.
const DefaultShutdownTimeout = 5 * time.Second

// Config says where and how a Server listens.
type Config struct {
	// Addr is the listen address ("127.0.0.1:0" picks a port).
	Addr string
	// TLS, when not nil, makes the server speak HTTPS.
	TLS *tls.Config
	// ShutdownTimeout bounds the graceful part of a stop; zero means
	// DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included; zero means
	// none (an object body may take as long as it takes: a stalled
	// connection is cut by the idle timeout between requests and by the
	// client).
	ReadTimeout time.Duration
}

// Server serves a handler on its own listener. Listen binds it; Serve runs
// it once; Close releases it. Its methods are safe for concurrent use.
type Server struct {
	name    string
	lis     net.Listener
	srv     *http.Server
	timeout time.Duration
	logger  *slog.Logger
	tls     bool

	closeOnce sync.Once
	closeErr  error
}

// Listen binds cfg.Addr for h; nothing is served until Serve. name ("s3",
// "sqs") prefixes errors and logs.
func Listen(name string, cfg Config, h http.Handler, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	lis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("%s: listen: %w", name, err)
	}
	if cfg.TLS != nil {
		lis = tls.NewListener(lis, cfg.TLS)
	}
	timeout := cfg.ShutdownTimeout
	if timeout <= 0 {
		timeout = DefaultShutdownTimeout
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.ReadTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	return &Server{name: name, lis: lis, srv: srv, timeout: timeout, logger: logger, tls: cfg.TLS != nil}, nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// URL is the endpoint clients use: https://addr (http:// without TLS).
func (s *Server) URL() string {
	if s.tls {
		return "https://" + s.Addr()
	}
	return "http://" + s.Addr()
}

// Serve serves until ctx ends, then stops: it stops accepting and waits up
// to the shutdown timeout for requests in flight, then closes what is left.
// It returns the server's error, or nil after a stop. Call it once.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.lis) }() // awaited below
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("%s: serve: %w", s.name, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		s.logger.Warn(s.name+": requests still running at the end of the shutdown timeout; closing them", "err", err)
		_ = s.srv.Close()
	}
	<-errc
	return nil
}

// Close closes the listener and every connection at once. Idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.srv.Close()
		if err := s.lis.Close(); err != nil && !errors.Is(err, net.ErrClosed) && s.closeErr == nil {
			s.closeErr = err
		}
	})
	return s.closeErr
}

// Host is the daemon an API serves beside (queued.Server, blobd.Server).
type Host interface {
	// RunWhileServing starts loop when the daemon serves and cancels and
	// awaits it when the daemon stops.
	RunWhileServing(loop func(ctx context.Context))
	// OnRelease runs f when the daemon releases what it holds.
	OnRelease(f func())
}

// NodeTLS is the TLS of an API served by a node with the node's TLS
// settings: the node's certificate and key, without its CA (no client
// certificates); nil when the node serves plaintext.
func NodeTLS(t node.TLSFiles) (*tls.Config, error) {
	if !t.Enabled() {
		return nil, nil
	}
	return node.ServerTLSConfig(node.TLSFiles{CertFile: t.CertFile, KeyFile: t.KeyFile})
}

// Attach binds cfg.Addr for h and ties the server to host's lifecycle: it
// serves while host serves, logging "<name> serving" with its URL and attrs,
// and closes when host releases. Call it after the host's New and before
// its Serve.
func Attach(host Host, name string, cfg Config, h http.Handler, logger *slog.Logger, attrs ...any) (*Server, error) {
	s, err := Listen(name, cfg, h, logger)
	if err != nil {
		return nil, err
	}
	host.OnRelease(func() { _ = s.Close() })
	host.RunWhileServing(func(ctx context.Context) {
		logger.Info(name+" serving", append([]any{"url", s.URL()}, attrs...)...)
		if err := s.Serve(ctx); err != nil {
			logger.Error(name+" server failed", "err", err)
		}
	})
	return s, nil
}
