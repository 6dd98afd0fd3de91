package s3

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

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/sigv4"
)

// DefaultShutdownTimeout is how long Serve waits for requests in flight at
// shutdown when the ServerConfig gives none.
const DefaultShutdownTimeout = 5 * time.Second

// ServerConfig says where and how a Server listens.
type ServerConfig struct {
	// Addr is the listen address ("127.0.0.1:0" picks a port).
	Addr string
	// TLS, when not nil, makes the server speak HTTPS. SigV4 authenticates
	// clients: no client certificate is asked for.
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
	tls     bool

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
		return nil, fmt.Errorf("s3: listen: %w", err)
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
		// No ReadTimeout or WriteTimeout: an object body may take as long
		// as it takes; a stalled one is cut by IdleTimeout between requests
		// and by the client.
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	return &Server{lis: lis, srv: srv, timeout: timeout, logger: logger, tls: cfg.TLS != nil}, nil
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
		return fmt.Errorf("s3: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		s.logger.Warn("s3: requests still running at the end of the shutdown timeout; closing them", "err", err)
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

// Attach serves the S3 API beside srv on srv.Config().S3Addr: it loads the
// bootstrap keys of S3CredentialsFile (when set; keys in blobd's metadata
// work beside them), serves HTTPS with the node's own certificate when the
// node runs TLS (asking no client certificate) and plain HTTP otherwise,
// and binds the address at once. The API then serves while srv serves:
// srv's Serve starts it and stops it before Raft stops, and srv's Close
// releases its listener. Call it after blobd.New and before Serve. With an
// empty S3Addr it does nothing and returns nil, nil.
func Attach(srv *blobd.Server) (*Server, error) {
	bc := srv.Config()
	if bc.S3Addr == "" {
		return nil, nil
	}
	cfg := Config{Region: bc.S3Region, Domains: DefaultDomains(bc.S3Addr)}
	if bc.S3CredentialsFile != "" {
		creds, err := sigv4.LoadCredentialsFile(bc.S3CredentialsFile)
		if err != nil {
			return nil, fmt.Errorf("s3: %w", err)
		}
		cfg.Credentials = creds
	}
	logger := srv.Logger().With("api", "s3")
	h, err := NewHandler(cfg, srv, logger)
	if err != nil {
		return nil, err
	}
	sc := ServerConfig{Addr: bc.S3Addr, ShutdownTimeout: bc.Server.ShutdownTimeout}
	if t := bc.Server.TLS; t.Enabled() {
		// The node's certificate, without its CA: no client certificates.
		sc.TLS, err = node.ServerTLSConfig(node.TLSFiles{CertFile: t.CertFile, KeyFile: t.KeyFile})
		if err != nil {
			return nil, fmt.Errorf("s3: %w", err)
		}
	}
	s, err := Listen(sc, h, logger)
	if err != nil {
		return nil, err
	}
	srv.OnRelease(func() { _ = s.Close() })
	srv.RunWhileServing(func(ctx context.Context) {
		logger.Info("s3 serving", "url", s.URL(), "region", cfg.Region, "bootstrap_keys", len(cfg.Credentials))
		if err := s.Serve(ctx); err != nil {
			logger.Error("s3 server failed", "err", err)
		}
	})
	return s, nil
}

// DefaultDomains are the virtual-hosting domains of a server listening on
// addr: "localhost" (bucket.localhost resolves to the loopback address
// without any DNS set-up) and addr's host when it is a name, not an IP.
func DefaultDomains(addr string) []string {
	out := []string{"localhost"}
	host, _, err := net.SplitHostPort(addr)
	if err == nil && host != "" && host != "localhost" && net.ParseIP(host) == nil {
		out = append(out, host)
	}
	return out
}
