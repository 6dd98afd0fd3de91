package sqlnode

import (
	"context"
	"crypto/tls"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/pki"
	"cairn.dev/cairn/raftkv"
)

// startMember runs a one-member raftkv group with a SQL endpoint until the
// test ends; tlsDir, when set, holds the pki files of member "kv-1".
func startMember(t *testing.T, tlsDir string) (*raftkv.Server, *Endpoint) {
	t.Helper()
	cfg := raftkv.DefaultConfig()
	cfg.ID = "kv-1"
	cfg.DataDir = filepath.Join(t.TempDir(), "kv-1")
	cfg.Server.GRPCAddr, cfg.Server.AdminAddr = "127.0.0.1:0", ""
	cfg.Server.ShutdownTimeout = 2 * time.Second
	cfg.Peers = "kv-1=127.0.0.1:0"
	cfg.NoSync = true
	if tlsDir != "" {
		cert, key := pki.NodeFiles(tlsDir, "kv-1")
		cfg.Server.TLS = node.TLSFiles{CertFile: cert, KeyFile: key, CAFile: pki.CAFile(tlsDir)}
	} else {
		cfg.Server.Insecure = true
	}
	srv, err := raftkv.New(cfg, nodetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	ep, err := Attach(srv, Config{Addr: "127.0.0.1:0"})
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case <-srv.ReadyNotify():
	case err := <-done:
		t.Fatalf("raftkv stopped: %v", err)
	}
	nodetest.WaitFor(t, 20*time.Second, "raftkv leader", func() bool { return srv.Node().IsLeader() })
	return srv, ep
}

func TestInsecureMemberServesSQLToAnyNamedUser(t *testing.T) {
	_, ep := startMember(t, "")
	ctx := t.Context()
	c, err := pgx.Connect(ctx, "postgres://root@"+ep.Addr()+"/cairn?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE TABLE t (id INT PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "INSERT INTO t VALUES (1, 'one'), (2, 'two')"); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := c.QueryRow(ctx, "SELECT count(*) FROM t WHERE id >= $1", 1).Scan(&n); err != nil || n != 2 {
		t.Fatalf("count = %d, %v; want 2", n, err)
	}
}

func TestTLSMemberTakesTheClusterClientCertificateAsAnyUser(t *testing.T) {
	dir := t.TempDir()
	if err := pki.Ensure(dir, []string{"kv-1"}); err != nil {
		t.Fatal(err)
	}
	_, ep := startMember(t, dir)
	certFile, keyFile := pki.ClientFiles(dir)
	clientCert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := node.ClientTLSConfig(node.TLSFiles{CAFile: pki.CAFile(dir)}, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	connect := func(user string, cert bool) error {
		cfg, err := pgx.ParseConfig("postgres://" + user + "@" + ep.Addr() + "/cairn?sslmode=verify-full")
		if err != nil {
			t.Fatal(err)
		}
		cfg.TLSConfig = tc.Clone()
		if cert {
			cfg.TLSConfig.Certificates = []tls.Certificate{clientCert}
		}
		cfg.Fallbacks = nil
		c, err := pgx.ConnectConfig(t.Context(), cfg)
		if err == nil {
			c.Close(t.Context())
		}
		return err
	}
	if err := connect("root", true); err != nil {
		t.Fatalf("root with the cluster's client certificate: %v", err)
	}
	if err := connect("root", false); err == nil {
		t.Fatal("root logged in without a certificate or password")
	}
	plain, err := pgx.Connect(t.Context(), "postgres://root@"+ep.Addr()+"/cairn?sslmode=disable")
	if err == nil {
		plain.Close(t.Context())
		t.Fatal("a plaintext client was accepted by a TLS member")
	}
}
