package health

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	grpchealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// waitFor is how long a test waits for an asynchronous outcome: generous, for
// a loaded 2-core machine.
const waitFor = 20 * time.Second

// eventually polls cond every few milliseconds until it holds or waitFor
// passes.
func eventually(t *testing.T, cond func() bool, msg string, args ...any) {
	t.Helper()
	require.Eventually(t, cond, waitFor, 5*time.Millisecond, append([]any{msg}, args...)...)
}

// testLogger sends logs to t.Log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// tcpServer accepts loopback connections and closes them at once, until the
// test ends or stop is called.
type tcpServer struct {
	ln   net.Listener
	once sync.Once
	done chan struct{}
}

func newTCPServer(t *testing.T) *tcpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &tcpServer{ln: ln, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(s.stop)
	return s
}

func (s *tcpServer) addr() string { return s.ln.Addr().String() }

// stop closes the listener and waits for the accept loop.
func (s *tcpServer) stop() {
	s.once.Do(func() { s.ln.Close() })
	<-s.done
}

// closedAddr returns a loopback address nothing listens on (a port just
// released).
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// httpBackend is an HTTP server whose /healthz answers 200 "ok" while healthy
// is true and 503 otherwise. It records the Host headers it saw.
type httpBackend struct {
	srv      *httptest.Server
	healthy  atomic.Bool
	lastHost atomic.Value // string
}

func newHTTPBackend(t *testing.T, useTLS bool) *httpBackend {
	t.Helper()
	b := &httpBackend{}
	b.healthy.Store(true)
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		b.lastHost.Store(r.Host)
		if !b.healthy.Load() {
			http.Error(w, "draining", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("status: ok\n"))
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/missing", http.StatusFound)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, MaxBodyBytes))
		w.Write([]byte("MARKER"))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // answers only when the client has given up
	})
	if useTLS {
		b.srv = httptest.NewTLSServer(mux)
	} else {
		b.srv = httptest.NewServer(mux)
	}
	t.Cleanup(b.srv.Close)
	return b
}

func (b *httpBackend) addr() string { return b.srv.Listener.Addr().String() }

// tlsConfig trusts the backend's certificate (valid for 127.0.0.1 and
// example.com).
func (b *httpBackend) tlsConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(b.srv.Certificate())
	return &tls.Config{RootCAs: pool}
}

// grpcBackend is a gRPC server with grpc.health.v1.
type grpcBackend struct {
	health *grpchealth.Server
	addr   string
}

func newGRPCBackend(t *testing.T) *grpcBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	hs := grpchealth.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return &grpcBackend{health: hs, addr: ln.Addr().String()}
}

// check runs p against addr with a deadline.
func check(p Probe, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return p.Check(ctx, addr)
}
