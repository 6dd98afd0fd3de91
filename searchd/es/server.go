package es

import (
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/httpapi"
)

// Server is the HTTP API's server (node/httpapi's): Addr, URL, Serve,
// Close.
type Server = httpapi.Server

// ServeConfig says where and how a searchd node serves the API.
type ServeConfig struct {
	// Addr is the listen address; empty means no HTTP API.
	Addr string
	// TLS is the node's TLS: when enabled the API serves HTTPS with the
	// node's certificate (asking no client certificate), else plain HTTP.
	TLS node.TLSFiles
	// ShutdownTimeout bounds the graceful stop; zero means httpapi's default.
	ShutdownTimeout time.Duration
}

// Attach serves the API beside a searchd node, host (its Server), over
// conn (a connection to the node's own gRPC services): it binds sc.Addr at
// once, serves while host serves (host's Serve starts it and stops it, with
// a graceful drain, before the node stops) and releases the listener with
// host. Call it after the node's New and before its Serve. With an empty
// Addr it does nothing and returns nil, nil.
func Attach(host httpapi.Host, sc ServeConfig, conn grpc.ClientConnInterface, opts Options, logger *slog.Logger) (*Server, error) {
	if sc.Addr == "" {
		return nil, nil
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("api", "es")
	if opts.Logger == nil {
		opts.Logger = logger
	}
	tlsCfg, err := httpapi.NodeTLS(sc.TLS)
	if err != nil {
		return nil, fmt.Errorf("es: %w", err)
	}
	h := NewHandler(conn, opts)
	// A read timeout of ten minutes: a 100 MiB _bulk on a slow link fits.
	return httpapi.Attach(host, "es", httpapi.Config{Addr: sc.Addr, TLS: tlsCfg, ShutdownTimeout: sc.ShutdownTimeout, ReadTimeout: 10 * time.Minute}, h, logger,
		"max_content_length", h.opts.MaxContentLength)
}
