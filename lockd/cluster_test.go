package lockd

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/raftnode/rafttest"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// testCluster is an in-process lockd group on ports from :0, the cluster of
// node/raftnode/rafttest shared by every Raft daemon: member lockd-1 bootstraps
// alone and adds the others as voters, so no port is guessed.
type testCluster = rafttest.Cluster[Config, *Server]

// testMember is one member of a testCluster.
type testMember = rafttest.Member[Config, *Server]

// testSpec builds lockd members for rafttest; a leader counts once its session
// tracker knows it leads.
var testSpec = rafttest.Spec[Config, *Server]{
	Name:        "lockd",
	Config:      fastConfig,
	SetAddr:     func(cfg *Config, addr string) { cfg.Server.GRPCAddr = addr },
	SetPeers:    func(cfg *Config, peers string) { cfg.Peers = peers },
	New:         New,
	LeaderReady: func(s *Server) bool { return s.tracker.isLeader() },
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

// newTestCluster starts an n-member cluster; tune, if not nil, adjusts every
// member's config before it first starts.
func newTestCluster(t *testing.T, n int, tune func(*Config)) *testCluster {
	t.Helper()
	return rafttest.New(t, n, testSpec, tune)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func sessions(m *testMember) lockdv1.SessionServiceClient {
	return lockdv1.NewSessionServiceClient(m.Conn)
}
func locks(m *testMember) lockdv1.LockServiceClient { return lockdv1.NewLockServiceClient(m.Conn) }
func elections(m *testMember) lockdv1.ElectionServiceClient {
	return lockdv1.NewElectionServiceClient(m.Conn)
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
