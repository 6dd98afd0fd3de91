// Package sqlnode is the PostgreSQL endpoint of a raftkv member: the wire
// protocol (raftkv/sql/pgwire) over the SQL engine (raftkv/sql/engine) over
// transactions on the member's group (raftkv/sql/kvtxn), reached through the
// member's own gRPC address, so a follower serves SQL as well as the leader
// (writes and linearizable reads go to the leader as any client's do).
//
// The raftkv daemon attaches it when --sql-addr is set:
//
//	srv, err := raftkv.New(cfg, logger)
//	ep, err := sqlnode.Attach(srv, sqlnode.Config{Addr: "127.0.0.1:7020"})
//	err = srv.Serve(ctx) // serves SQL too, stops it gracefully at shutdown
package sqlnode

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/pki"
	"cairn.dev/cairn/raftkv"
	kvclient "cairn.dev/cairn/raftkv/client"
	"cairn.dev/cairn/raftkv/sql/engine"
	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/pgwire"
)

// Config configures a member's SQL endpoint. The raftkv daemon reads it from
// the same flags, CAIRN_RAFTKV_* variables and YAML file as the member's own
// configuration.
type Config struct {
	// Addr is where the member serves PostgreSQL clients; "" serves none.
	// With TLS configured, clients must use TLS and log in with a
	// certificate of the cluster CA or a SCRAM password.
	Addr string `yaml:"sql_addr" flag:"sql-addr" usage:"host:port serving the PostgreSQL wire protocol (empty: none)"`
}

// Endpoint is a member's running SQL endpoint.
type Endpoint struct {
	l   net.Listener
	srv *pgwire.Server
	kv  *kvclient.Client
}

// Attach binds cfg.Addr and makes srv serve SQL there while it serves: the
// endpoint starts with srv's Serve and stops (running statements get the
// member's shutdown timeout) when srv shuts down. It returns nil and no
// error when cfg.Addr is empty.
func Attach(srv *raftkv.Server, cfg Config) (*Endpoint, error) {
	if cfg.Addr == "" {
		return nil, nil
	}
	kvCfg := srv.Config()
	logger := srv.Logger().With("component", "sql")
	var serverTLS, clientTLS *tls.Config
	if kvCfg.Server.TLS.Enabled() {
		var err error
		if serverTLS, err = node.ServerTLSConfig(kvCfg.Server.TLS); err != nil {
			return nil, fmt.Errorf("sqlnode: tls: %w", err)
		}
		// A client certificate is one way to log in; SCRAM passwords are
		// the other, so certificates are verified when given.
		serverTLS.ClientAuth = tls.VerifyClientCertIfGiven
		if clientTLS, err = node.ClientTLSConfig(kvCfg.Server.TLS, ""); err != nil {
			return nil, fmt.Errorf("sqlnode: client tls: %w", err)
		}
	}
	kv, err := kvclient.New(kvclient.Config{Endpoints: []string{srv.Addr()}, TLS: clientTLS, RequestTimeout: 10 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("sqlnode: raftkv client: %w", err)
	}
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		kv.Close()
		return nil, fmt.Errorf("sqlnode: sql_addr: %w", err)
	}
	eng := engine.New(kvtxn.New(kv, kvtxn.Options{}), engine.Options{Logger: logger})
	ep := &Endpoint{l: l, kv: kv, srv: pgwire.NewServer(pgwire.Config{
		TLS:           serverTLS,
		RequireTLS:    serverTLS != nil,
		ServerVersion: "15.0 (cairn " + raftkv.Version + ")",
		Logger:        logger,
		CertUser:      certUser,
		// A member run --insecure serves everything to whoever reaches it;
		// its SQL endpoint trusts the user a client names, as its gRPC
		// API trusts every caller.
		Trust: serverTLS == nil,
	}, eng)}
	srv.OnRelease(func() {
		_ = ep.l.Close()
		ep.kv.Close()
	})
	srv.RunWhileServing(func(ctx context.Context) { ep.run(ctx, kvCfg.Server.ShutdownTimeout, logger) })
	return ep, nil
}

// Addr is the bound PostgreSQL address.
func (ep *Endpoint) Addr() string { return ep.l.Addr().String() }

// certUser lets a client certificate of the cluster CA log in as any SQL
// user: it already reaches raftkv's gRPC API, under the SQL layer, so it is
// the cluster's root credential. Other certificates (a node's) log in only
// as the user their CommonName names.
func certUser(cert *x509.Certificate, user string) bool {
	if role, _, ok := pki.Identity(cert); ok && role == pki.RoleClient {
		return true
	}
	return cert.Subject.CommonName == user
}

// run serves until ctx ends, then shuts the endpoint down, letting running
// statements finish within timeout.
func (ep *Endpoint) run(ctx context.Context, timeout time.Duration, logger *slog.Logger) {
	done := make(chan error, 1)
	go func() { done <- ep.srv.Serve(ep.l) }()
	select {
	case <-ctx.Done():
	case err := <-done:
		if err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, pgwire.ErrServerClosed) {
			logger.Warn("sql server stopped", "err", err)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := ep.srv.Shutdown(sctx); err != nil {
		logger.Warn("sql server shutdown", "err", err)
	}
}
