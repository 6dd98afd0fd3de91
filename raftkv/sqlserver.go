package raftkv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/pki"
	kvclient "cairn.dev/cairn/raftkv/client"
	"cairn.dev/cairn/raftkv/sql/engine"
	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/pgwire"
)

// sqlServer is the PostgreSQL endpoint of a raftkv node: the wire protocol
// (pgwire) over the SQL engine over transactions on this group (kvtxn),
// reached through this node's own gRPC address, so a follower serves SQL
// as well as the leader (writes and linearizable reads go to the leader as
// any client's do).
type sqlServer struct {
	l   net.Listener
	srv *pgwire.Server
	kv  *kvclient.Client
}

// newSQLServer binds cfg.SQLAddr and builds the stack; Serve starts it.
func newSQLServer(cfg Config, grpcAddr string, s *Server) (*sqlServer, error) {
	var serverTLS, clientTLS *tls.Config
	if cfg.Server.TLS.Enabled() {
		var err error
		if serverTLS, err = node.ServerTLSConfig(cfg.Server.TLS); err != nil {
			return nil, fmt.Errorf("raftkv: sql tls: %w", err)
		}
		// A client certificate is one way to log in; SCRAM passwords are
		// the other, so certificates are verified when given.
		serverTLS.ClientAuth = tls.VerifyClientCertIfGiven
		if clientTLS, err = node.ClientTLSConfig(cfg.Server.TLS, ""); err != nil {
			return nil, fmt.Errorf("raftkv: sql client tls: %w", err)
		}
	}
	kv, err := kvclient.New(kvclient.Config{Endpoints: []string{grpcAddr}, TLS: clientTLS, RequestTimeout: 10 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("raftkv: sql client: %w", err)
	}
	l, err := net.Listen("tcp", cfg.SQLAddr)
	if err != nil {
		kv.Close()
		return nil, fmt.Errorf("raftkv: sql_addr: %w", err)
	}
	eng := engine.New(kvtxn.New(kv, kvtxn.Options{}), engine.Options{Logger: s.logger})
	srv := pgwire.NewServer(pgwire.Config{
		TLS:           serverTLS,
		RequireTLS:    serverTLS != nil,
		ServerVersion: "15.0 (cairn " + Version + ")",
		Logger:        s.logger.With("component", "sql"),
		CertUser:      certUser,
		// A node run --insecure serves everything to whoever reaches it;
		// its SQL endpoint trusts the user a client names, as its gRPC
		// API trusts every caller.
		Trust: serverTLS == nil,
	}, eng)
	return &sqlServer{l: l, srv: srv, kv: kv}, nil
}

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
func (q *sqlServer) run(ctx context.Context, timeout time.Duration, logger interface{ Warn(string, ...any) }) {
	done := make(chan error, 1)
	go func() { done <- q.srv.Serve(q.l) }()
	select {
	case <-ctx.Done():
	case err := <-done:
		if err != nil && !errors.Is(err, net.ErrClosed) {
			logger.Warn("sql server stopped", "err", err)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := q.srv.Shutdown(sctx); err != nil {
		logger.Warn("sql server shutdown", "err", err)
	}
	q.kv.Close()
}

// SQLAddr is the bound PostgreSQL address ("" when disabled).
func (s *Server) SQLAddr() string {
	if s.sql == nil {
		return ""
	}
	return s.sql.l.Addr().String()
}
