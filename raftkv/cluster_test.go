package raftkv

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"cairn.dev/cairn/node/nodetest"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// testCluster runs raftkv members in-process on ports from :0. Member 1 bootstraps
// alone and adds the others as voters, so no port is guessed.
type testCluster struct {
	t       *testing.T
	dir     string
	mu      sync.Mutex
	members map[string]*testMember
	tune    func(*Config)
}

type testMember struct {
	id     string
	cfg    Config
	srv    *Server
	cancel context.CancelFunc
	done   chan error
	conn   *grpc.ClientConn
}

func fastConfig(id, dir string) Config {
	cfg := DefaultConfig()
	cfg.ID = id
	cfg.DataDir = filepath.Join(dir, id)
	cfg.Server.GRPCAddr = "127.0.0.1:0"
	cfg.Server.AdminAddr = ""
	cfg.Server.ShutdownTimeout = 2 * time.Second
	// Shorter timeouts make leaders step down spuriously when -race and
	// parallel test packages load a 2-core machine. Even production timing
	// (1s heartbeat, a 500ms leader lease) did at load ~30: a leader that
	// stepped down mid-write turned a test's Put into "outcome unknown". A 2s
	// heartbeat (1s lease) halves the stalls that cause it; elections after a
	// stop take a second or two longer, so a write waits up to 8s (within
	// ctxT's 10s) for a leader: with 3s, a MemberAdd met an election that
	// outlasted it.
	cfg.HeartbeatTimeout = 2 * time.Second
	cfg.ElectionTimeout = 2 * time.Second
	cfg.ApplyTimeout = 8 * time.Second
	cfg.NoSync = true
	return cfg
}

func newTestCluster(t *testing.T, n int, tune func(*Config)) *testCluster {
	t.Helper()
	c := &testCluster{t: t, dir: t.TempDir(), members: map[string]*testMember{}, tune: tune}
	t.Cleanup(c.stopAll)
	first := c.startMember("kv-1", true)
	c.waitLeader()
	for i := 2; i <= n; i++ {
		id := fmt.Sprintf("kv-%d", i)
		m := c.startMember(id, false)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := raftkvv1.NewClusterServiceClient(first.conn).MemberAdd(ctx, &raftkvv1.MemberAddRequest{Id: id, Address: m.srv.Addr()})
		cancel()
		require.NoError(t, err)
	}
	c.waitMembersAgree()
	return c
}

// startMember starts a member; bootstrap makes it a group of itself.
func (c *testCluster) startMember(id string, bootstrap bool) *testMember {
	c.t.Helper()
	cfg := fastConfig(id, c.dir)
	if c.tune != nil {
		c.tune(&cfg)
	}
	if bootstrap {
		cfg.Peers = id + "=127.0.0.1:0"
	}
	return c.run(cfg, bootstrap)
}

func (c *testCluster) run(cfg Config, bootstrap bool) *testMember {
	c.t.Helper()
	srv, err := New(cfg, nodetest.Logger(c.t).With("test_member", cfg.ID))
	require.NoError(c.t, err)
	if bootstrap {
		// The bootstrap peer list needs the real address: rebuild with it.
		srv.closeStores()
		cfg.Server.GRPCAddr = srv.Addr()
		cfg.Peers = cfg.ID + "=" + srv.Addr()
		srv, err = New(cfg, nodetest.Logger(c.t).With("test_member", cfg.ID))
		require.NoError(c.t, err)
	}
	cfg.Server.GRPCAddr = srv.Addr() // restarts keep the address
	ctx, cancel := context.WithCancel(context.Background())
	m := &testMember{id: cfg.ID, cfg: cfg, srv: srv, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- srv.Serve(ctx) }()
	select {
	case <-srv.ReadyNotify():
	case err := <-m.done:
		c.t.Fatalf("member %s stopped at start: %v", cfg.ID, err)
	}
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(c.t, err)
	m.conn = conn
	c.mu.Lock()
	c.members[cfg.ID] = m
	c.mu.Unlock()
	return m
}

// stop stops a member gracefully and waits for Serve to return.
func (c *testCluster) stop(id string) {
	c.t.Helper()
	c.mu.Lock()
	m := c.members[id]
	c.mu.Unlock()
	if m == nil || m.cancel == nil {
		return
	}
	m.cancel()
	select {
	case <-m.done:
	case <-time.After(30 * time.Second):
		c.t.Fatalf("member %s did not stop", id)
	}
	m.cancel = nil
	m.conn.Close()
}

// restart starts a stopped member again from its data dir and address.
func (c *testCluster) restart(id string) *testMember {
	c.t.Helper()
	c.mu.Lock()
	m := c.members[id]
	c.mu.Unlock()
	cfg := m.cfg
	return c.run(cfg, false)
}

func (c *testCluster) stopAll() {
	c.mu.Lock()
	ids := make([]string, 0, len(c.members))
	for id := range c.members {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	for _, id := range ids {
		c.stop(id)
	}
}

func (c *testCluster) member(id string) *testMember {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.members[id]
}

func (c *testCluster) live() []*testMember {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*testMember
	for _, m := range c.members {
		if m.cancel != nil {
			out = append(out, m)
		}
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitLeader waits until every live member names the same live leader, other
// than exclude, and returns it.
func (c *testCluster) waitLeader(exclude ...string) string {
	c.t.Helper()
	var leader string
	waitFor(c.t, 15*time.Second, "a leader all live members agree on", func() bool {
		leader = ""
		for _, m := range c.live() {
			id, _ := m.srv.Node().Leader()
			if id == "" || (leader != "" && id != leader) {
				return false
			}
			leader = id
		}
		for _, x := range exclude {
			if leader == x {
				return false
			}
		}
		lm := c.member(leader)
		return lm != nil && lm.cancel != nil && lm.srv.Node().IsLeader()
	})
	return leader
}

func (c *testCluster) waitMembersAgree() {
	c.t.Helper()
	want := len(c.members)
	waitFor(c.t, 15*time.Second, "every member to see the full membership", func() bool {
		for _, m := range c.live() {
			ms, err := m.srv.Node().Members()
			if err != nil || len(ms) != want {
				return false
			}
		}
		return true
	})
}

func kv(m *testMember) raftkvv1.KVServiceClient { return raftkvv1.NewKVServiceClient(m.conn) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func put(t *testing.T, m *testMember, k, v string) *raftkvv1.PutResponse {
	t.Helper()
	resp, err := kv(m).Put(ctxT(t), &raftkvv1.PutRequest{Key: []byte(k), Value: []byte(v)})
	require.NoError(t, err)
	return resp
}

func get(t *testing.T, m *testMember, k string, c raftkvv1.Consistency) (string, bool) {
	t.Helper()
	resp, err := kv(m).Range(ctxT(t), &raftkvv1.RangeRequest{Key: []byte(k), Consistency: c})
	require.NoError(t, err)
	if len(resp.GetKvs()) == 0 {
		return "", false
	}
	return string(resp.GetKvs()[0].GetValue()), true
}
