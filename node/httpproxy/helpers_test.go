package httpproxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"cairn.dev/cairn/node/pki"
)

// testLogger routes logs to t.Log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(b))
	return len(b), nil
}

// serve starts a Server for h with cfg and stops it when the test ends.
func serve(t testing.TB, cfg ServerConfig, h http.Handler) *Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	s, err := Listen(t.Name(), cfg, h, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		_ = s.Close()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return s
}

// newProxy returns a Proxy closed when the test ends.
func newProxy(t testing.TB, cfg Config) *Proxy {
	p := New(cfg)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// newTransport returns a Transport whose idle connections close with the test.
func newTransport(t testing.TB, cfg TransportConfig) *Transport {
	tr := NewTransport(cfg)
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// testPKI is a CA with files for leaf certificates.
type testPKI struct {
	ca   *pki.CA
	pool *x509.CertPool
	dir  string
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	ca, err := pki.NewCA("httpproxy test CA")
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca.CertPEM()) {
		t.Fatal("bad CA PEM")
	}
	return &testPKI{ca: ca, pool: pool, dir: t.TempDir()}
}

// issue writes a certificate for hosts and returns its pair.
func (p *testPKI) issue(t testing.TB, name string, hosts ...string) CertPair {
	t.Helper()
	certPEM, keyPEM, err := p.ca.Issue(pki.RoleNode, name, hosts)
	if err != nil {
		t.Fatal(err)
	}
	pair := CertPair{CertFile: filepath.Join(p.dir, name+".pem"), KeyFile: filepath.Join(p.dir, name+"-key.pem")}
	writeFile(t, pair.CertFile, certPEM)
	writeFile(t, pair.KeyFile, keyPEM)
	return pair
}

// store returns a CertStore over pairs.
func (p *testPKI) store(t testing.TB, pairs ...CertPair) *CertStore {
	t.Helper()
	s, err := NewCertStore(pairs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// clientTLS trusts the test CA.
func (p *testPKI) clientTLS(serverName string) *tls.Config {
	return &tls.Config{RootCAs: p.pool, ServerName: serverName, MinVersion: tls.VersionTLS12}
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
