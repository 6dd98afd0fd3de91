package transcode

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/raftkv"
)

// startRaftKV runs a one-member raftkv group in-process, plaintext, and
// returns its gRPC address once it leads.
func startRaftKV(t *testing.T) string {
	t.Helper()
	cfg := raftkv.DefaultConfig()
	cfg.ID = "kv-1"
	cfg.DataDir = filepath.Join(t.TempDir(), "kv-1")
	cfg.Server.GRPCAddr = "127.0.0.1:0"
	cfg.Server.AdminAddr = ""
	cfg.Server.ShutdownTimeout = 2 * time.Second
	// A one-member group never dials its own address.
	cfg.Peers = "kv-1=127.0.0.1:0"
	cfg.NoSync = true
	srv, err := raftkv.New(cfg, nodetest.Logger(t).With("test_node", "kv-1"))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-srv.ReadyNotify():
	case err := <-done:
		t.Fatalf("raftkv stopped: %v", err)
	}
	nodetest.WaitFor(t, 20*time.Second, "raftkv leader", func() bool { return srv.Node().IsLeader() })
	return srv.Addr()
}

// startGRPC serves register's services on a loopback port and returns the
// address.
func startGRPC(t testing.TB, register func(*grpc.Server), opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := grpc.NewServer(opts...)
	register(s)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(lis)
	}()
	t.Cleanup(func() {
		s.Stop()
		<-done
	})
	return lis.Addr().String()
}

// newConn returns a Conn to targets, closed at cleanup.
func newConn(t testing.TB, targets ...string) *Conn {
	t.Helper()
	c, err := NewConn(nil, nodetest.Logger(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.SetTargets(targets))
	return c
}

// gateway is an HTTP server that transcodes /<service full name>/<method>
// over conn with opts.
func gateway(t *testing.T, tr *Transcoder, conn grpc.ClientConnInterface, opts ServeOptions) *httptest.Server {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)
		svc, err := tr.Service(parts[0])
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		svc.Serve(w, r, r.URL.Path, conn, opts)
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// reply is one HTTP answer.
type reply struct {
	status int
	header http.Header
	body   string
}

// decode unmarshals the body as JSON.
func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.body), &m), "body %q", r.body)
	return m
}

// do sends one request and reads the whole answer.
func do(t *testing.T, method, url, body string, header ...string) reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// ndjson opens a streaming request and returns a line reader and the
// response; the caller closes the body.
func ndjson(t *testing.T, ctx context.Context, url, body string) (*http.Response, *bufio.Scanner) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp, bufio.NewScanner(resp.Body)
}

// fakeConn is an in-memory grpc.ClientConnInterface: Invoke records the
// call and answers with reply (nil: the empty message) or err.
type fakeConn struct {
	mu       sync.Mutex // protects the fields below
	method   string
	request  []byte // the request, proto wire form
	md       metadata.MD
	deadline time.Time
	reply    proto.Message
	err      error
}

func (f *fakeConn) Invoke(ctx context.Context, method string, args, reply any, _ ...grpc.CallOption) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.method = method
	b, err := proto.Marshal(args.(proto.Message))
	if err != nil {
		return err
	}
	f.request = b
	f.md, _ = metadata.FromOutgoingContext(ctx)
	f.deadline, _ = ctx.Deadline()
	if f.err != nil {
		return f.err
	}
	if f.reply != nil {
		b, err := proto.Marshal(f.reply)
		if err != nil {
			return err
		}
		return proto.Unmarshal(b, reply.(proto.Message))
	}
	return nil
}

func (f *fakeConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	panic("fakeConn: streams are tested over a real gRPC server")
}

// last returns what the last Invoke recorded.
func (f *fakeConn) last() (method string, request []byte, md metadata.MD, deadline time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.method, f.request, f.md, f.deadline
}
