package sqs

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
	"cairn.dev/cairn/node/sigv4"
	"cairn.dev/cairn/queued"
)

// DefaultShutdownTimeout is how long Serve waits for requests in flight at
// shutdown when the ServerConfig gives none.
const DefaultShutdownTimeout = 5 * time.Second

// ServerConfig says where and how a Server listens.
type ServerConfig struct {
	// Addr is the listen address ("127.0.0.1:0" picks a port).
	Addr string
	// TLS, when not nil, makes the server speak HTTPS. SigV4 authenticates
	// clients, so it needs no client certificate.
	TLS *tls.Config
	// ShutdownTimeout bounds the graceful part of a stop; zero means
	// DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
}

// Server serves a Handler on its own listener. Listen binds it; Serve runs
// it once; Close releases it.
type Server struct {
	lis     net.Listener
	srv     *http.Server
	timeout time.Duration
	logger  *slog.Logger

	closeOnce sync.Once
	closeErr  error
}

// Listen binds cfg.Addr for h; nothing is served until Serve.
func Listen(cfg ServerConfig, h http.Handler, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	lis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("sqs: listen: %w", err)
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
		ReadTimeout:       time.Minute, // the whole request; a long poll's wait is in the response

		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	return &Server{lis: lis, srv: srv, timeout: timeout, logger: logger}, nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Serve serves until ctx ends, then stops: it stops accepting and waits up
// to the shutdown timeout for requests in flight (queued ends its long polls
// when it stops), then closes what is left. It returns the server's error,
// or nil after a stop. Call it once.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.lis) }() // awaited below
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("sqs: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		s.logger.Warn("sqs: requests still running at the end of the shutdown timeout; closing them", "err", err)
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

// Attach adds the SQS API to a queued member from its Config: it loads the
// access keys of SQSCredentialsFile, serves with TLS from the node's own
// certificate and key when the node runs TLS (with no client certificate
// asked for) and in plain HTTP otherwise, and binds SQSAddr at once. The
// API then serves while srv serves: srv's Serve starts it and stops it
// before Raft stops, and srv's Close releases its listener. Call it after
// queued.New and before Serve. With an empty SQSAddr it does nothing and
// returns nil, nil.
func Attach(srv *queued.Server) (*Server, error) {
	qc := srv.Config()
	if qc.SQSAddr == "" {
		return nil, nil
	}
	creds, err := sigv4.LoadCredentialsFile(qc.SQSCredentialsFile)
	if err != nil {
		return nil, fmt.Errorf("sqs: %w", err)
	}
	cfg := DefaultConfig()
	cfg.Region, cfg.AccountID, cfg.Credentials = qc.SQSRegion, qc.SQSAccountID, creds
	logger := srv.Logger().With("api", "sqs")
	h, err := NewHandler(cfg, srv.QueueService(), logger)
	if err != nil {
		return nil, err
	}
	sc := ServerConfig{Addr: qc.SQSAddr, ShutdownTimeout: qc.Server.ShutdownTimeout}
	if t := qc.Server.TLS; t.Enabled() {
		// The node's certificate, without its CA: no client certificates.
		sc.TLS, err = node.ServerTLSConfig(node.TLSFiles{CertFile: t.CertFile, KeyFile: t.KeyFile})
		if err != nil {
			return nil, fmt.Errorf("sqs: %w", err)
		}
	}
	s, err := Listen(sc, h, logger)
	if err != nil {
		return nil, err
	}
	srv.OnRelease(func() { _ = s.Close() })
	srv.RunWhileServing(func(ctx context.Context) {
		scheme := "http"
		if sc.TLS != nil {
			scheme = "https"
		}
		logger.Info("sqs serving", "addr", s.Addr(), "scheme", scheme, "region", cfg.Region, "account", cfg.AccountID, "keys", len(creds))
		if err := s.Serve(ctx); err != nil {
			logger.Error("sqs server failed", "err", err)
		}
	})
	return s, nil
}
