package lockd

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"cairn.dev/cairn/node/nodetest"
	clusterv1 "cairn.dev/cairn/proto/cairn/cluster/v1"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// testCluster runs lockd members in-process on ports from :0. Member 1 bootstraps
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
	// Production Raft timing: with 200ms timeouts leaders stepped down every
	// few hundred milliseconds when -race and parallel test packages load a
	// 2-core machine, and tests that follow one leader lost it.
	cfg.HeartbeatTimeout = time.Second
	cfg.ElectionTimeout = time.Second
	cfg.ApplyTimeout = 3 * time.Second
	cfg.MinSessionTTL = 100 * time.Millisecond
	cfg.ExpiryTick = 20 * time.Millisecond
	cfg.NoSync = true
	return cfg
}

func newTestCluster(t *testing.T, n int, tune func(*Config)) *testCluster {
	t.Helper()
	c := &testCluster{t: t, dir: t.TempDir(), members: map[string]*testMember{}, tune: tune}
	t.Cleanup(c.stopAll)
	first := c.startMember("lockd-1", true)
	c.waitLeader()
	for i := 2; i <= n; i++ {
		id := fmt.Sprintf("lockd-%d", i)
		m := c.startMember(id, false)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := clusterv1.NewMembershipServiceClient(first.conn).MemberAdd(ctx, &clusterv1.MemberAddRequest{Id: id, Address: m.srv.Addr()})
		cancel()
		require.NoError(t, err)
	}
	c.waitMembersAgree()
	return c
}

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
		srv.Close()
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
	return c.run(c.member(id).cfg, false)
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
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// follower returns a live member that is not the leader.
func (c *testCluster) follower() *testMember {
	leader := c.waitLeader()
	for _, m := range c.live() {
		if m.id != leader {
			return m
		}
	}
	c.t.Fatal("no follower")
	return nil
}

// waitLeader waits until every live member names the same live leader, other
// than exclude, and returns it.
func (c *testCluster) waitLeader(exclude ...string) string {
	c.t.Helper()
	var leader string
	nodetest.WaitFor(c.t, 15*time.Second, "a leader all live members agree on", func() bool {
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
		return lm != nil && lm.cancel != nil && lm.srv.Node().IsLeader() && lm.srv.tracker.isLeader()
	})
	return leader
}

func (c *testCluster) waitMembersAgree() {
	c.t.Helper()
	want := len(c.members)
	nodetest.WaitFor(c.t, 15*time.Second, "every member to see the full membership", func() bool {
		for _, m := range c.live() {
			ms, err := m.srv.Node().Members()
			if err != nil || len(ms) != want {
				return false
			}
		}
		return true
	})
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func sessions(m *testMember) lockdv1.SessionServiceClient {
	return lockdv1.NewSessionServiceClient(m.conn)
}
func locks(m *testMember) lockdv1.LockServiceClient { return lockdv1.NewLockServiceClient(m.conn) }
func elections(m *testMember) lockdv1.ElectionServiceClient {
	return lockdv1.NewElectionServiceClient(m.conn)
}

func newSession(t *testing.T, m *testMember, ttl time.Duration) uint64 {
	t.Helper()
	resp, err := sessions(m).CreateSession(ctxT(t), &lockdv1.CreateSessionRequest{Ttl: durpb(ttl)})
	require.NoError(t, err)
	require.Equal(t, resp.GetHeader().GetRaftIndex(), resp.GetSessionId(), "the session id is the Raft index")
	return resp.GetSessionId()
}

// keepAlive renews a session every period until the test ends.
func keepAlive(t *testing.T, m *testMember, id uint64, period time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		tk := time.NewTicker(period)
		defer tk.Stop()
		for {
			st, err := sessions(m).SessionKeepAlive(ctx)
			if err == nil {
				for err == nil {
					if err = st.Send(&lockdv1.SessionKeepAliveRequest{SessionId: id}); err == nil {
						_, err = st.Recv()
					}
					select {
					case <-ctx.Done():
						return
					case <-tk.C:
					}
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
		}
	}()
}

func acquire(t *testing.T, m *testMember, session uint64, name string, wait bool) *lockdv1.AcquireResponse {
	t.Helper()
	resp, err := locks(m).Acquire(ctxT(t), &lockdv1.AcquireRequest{SessionId: session, Name: name, Wait: wait, Owner: []byte(fmt.Sprint("owner-", session))})
	require.NoError(t, err)
	return resp
}

func describe(t *testing.T, m *testMember, name string) *lockdv1.LockInfo {
	t.Helper()
	resp, err := locks(m).Describe(ctxT(t), &lockdv1.DescribeRequest{Name: name})
	require.NoError(t, err)
	return resp.GetLock()
}

// acquireAsync starts a blocking acquire and returns a channel with its outcome.
type acquireResult struct {
	resp *lockdv1.AcquireResponse
	err  error
}

func acquireAsync(m *testMember, session uint64, name string, timeout time.Duration) <-chan acquireResult {
	ch := make(chan acquireResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		resp, err := locks(m).Acquire(ctx, &lockdv1.AcquireRequest{SessionId: session, Name: name, Wait: true})
		ch <- acquireResult{resp, err}
	}()
	return ch
}

func waitWaiters(t *testing.T, m *testMember, name string, n int) {
	t.Helper()
	nodetest.WaitFor(t, 10*time.Second, fmt.Sprintf("%d waiters on %q", n, name), func() bool {
		return len(describe(t, m, name).GetWaiters()) == n
	})
}
