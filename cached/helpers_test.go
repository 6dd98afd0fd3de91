package cached

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"cairn.dev/cairn/cached/resp"
	"cairn.dev/cairn/cached/ring"
	"cairn.dev/cairn/node/nodetest"
	cachedv1 "cairn.dev/cairn/proto/cairn/cached/v1"
)

// testConfig returns a config for an in-process node on ports from :0.
func testConfig(id string) Config {
	cfg := DefaultConfig()
	cfg.ID = id
	cfg.Server.GRPCAddr = "127.0.0.1:0"
	cfg.Server.AdminAddr = ""
	cfg.Server.ShutdownTimeout = 2 * time.Second
	cfg.RESPAddr = "127.0.0.1:0"
	cfg.ForwardTimeout = 2 * time.Second
	return cfg
}

// testCluster runs cached nodes in-process. Nodes are created first (binding
// their ports), then each gets the full static membership with SetPeers, so
// no port is guessed.
type testCluster struct {
	t     testing.TB
	mu    sync.Mutex
	nodes []*testNode
}

type testNode struct {
	id      string
	srv     *Server
	cancel  context.CancelFunc
	done    chan error
	conn    *grpc.ClientConn
	cache   cachedv1.CacheServiceClient
	ring    cachedv1.RingServiceClient
	stopped bool
}

func newTestCluster(t testing.TB, n int, tune func(*Config)) *testCluster {
	t.Helper()
	c := &testCluster{t: t}
	t.Cleanup(c.stopAll)
	var members []ring.Member
	for i := 1; i <= n; i++ {
		cfg := testConfig(fmt.Sprintf("cached-%d", i))
		if tune != nil {
			tune(&cfg)
		}
		logger := slog.New(slog.DiscardHandler)
		if _, bench := t.(*testing.B); !bench {
			logger = nodetest.Logger(t).With("test_node", cfg.ID)
		}
		srv, err := New(cfg, logger)
		require.NoError(t, err)
		c.nodes = append(c.nodes, &testNode{id: cfg.ID, srv: srv})
		members = append(members, srv.Self())
	}
	for _, nd := range c.nodes {
		nd.srv.SetPeers(members)
		c.serve(nd)
	}
	return c
}

// serve runs nd's Serve and waits until it is ready.
func (c *testCluster) serve(nd *testNode) {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	nd.cancel, nd.done = cancel, make(chan error, 1)
	go func() { nd.done <- nd.srv.Serve(ctx) }()
	select {
	case <-nd.srv.ReadyNotify():
	case err := <-nd.done:
		c.t.Fatalf("node %s stopped at start: %v", nd.id, err)
	case <-time.After(30 * time.Second):
		c.t.Fatalf("node %s not ready after 30s", nd.id)
	}
	conn, err := grpc.NewClient(nd.srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(c.t, err)
	nd.conn = conn
	nd.cache = cachedv1.NewCacheServiceClient(conn)
	nd.ring = cachedv1.NewRingServiceClient(conn)
}

// stop stops node i (0-based) and waits for Serve to return.
func (c *testCluster) stop(i int) {
	c.t.Helper()
	nd := c.nodes[i]
	if nd.stopped {
		return
	}
	nd.stopped = true
	nd.cancel()
	select {
	case err := <-nd.done:
		require.NoError(c.t, err)
	case <-time.After(30 * time.Second):
		c.t.Fatalf("node %s did not stop within 30s", nd.id)
	}
	_ = nd.conn.Close()
}

func (c *testCluster) stopAll() {
	for i := range c.nodes {
		c.stop(i)
	}
}

// keyOwnedBy returns a key with the given prefix that node i owns on the
// cluster's ring.
func (c *testCluster) keyOwnedBy(i int, prefix string) string {
	c.t.Helper()
	r := c.nodes[0].srv.currentView().ring
	for n := 0; n < 100000; n++ {
		k := fmt.Sprintf("%s%d", prefix, n)
		if m, _ := r.Owner(k); m.ID == c.nodes[i].id {
			return k
		}
	}
	c.t.Fatalf("no key with prefix %q owned by %s", prefix, c.nodes[i].id)
	return ""
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// respClient is a raw RESP client for tests.
type respClient struct {
	t  testing.TB
	nc net.Conn
	rd *resp.Reader
	wr *resp.Writer
}

func dialRESP(t testing.TB, addr string) *respClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = nc.Close() })
	require.NoError(t, nc.SetDeadline(time.Now().Add(60*time.Second)))
	return &respClient{t: t, nc: nc, rd: resp.NewReader(nc), wr: resp.NewWriter(nc)}
}

// do sends one command and returns its reply rendered by Reply.String.
func (c *respClient) do(args ...string) string {
	c.t.Helper()
	c.wr.CommandString(args...)
	require.NoError(c.t, c.wr.Flush())
	rep, err := c.rd.ReadReply()
	require.NoError(c.t, err, "reply to %q", strings.Join(args, " "))
	return rep.String()
}

// reply sends one command and returns the parsed reply.
func (c *respClient) reply(args ...string) resp.Reply {
	c.t.Helper()
	c.wr.CommandString(args...)
	require.NoError(c.t, c.wr.Flush())
	rep, err := c.rd.ReadReply()
	require.NoError(c.t, err)
	return rep
}
