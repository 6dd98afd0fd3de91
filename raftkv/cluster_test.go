package raftkv

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/raftnode/rafttest"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// testCluster is an in-process raftkv group on ports from :0, the cluster of
// node/raftnode/rafttest shared by every Raft daemon: member kv-1 bootstraps
// alone and adds the others as voters, so no port is guessed.
type testCluster = rafttest.Cluster[Config, *Server]

// testMember is one member of a testCluster.
type testMember = rafttest.Member[Config, *Server]

// testSpec builds raftkv members for rafttest.
var testSpec = rafttest.Spec[Config, *Server]{
	Name:     "kv",
	Config:   fastConfig,
	SetAddr:  func(cfg *Config, addr string) { cfg.Server.GRPCAddr = addr },
	SetPeers: func(cfg *Config, peers string) { cfg.Peers = peers },
	New:      New,
}

// fastConfig returns a member config for tests: loopback ports from :0, no
// admin server and no fsync.
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

// newTestCluster starts an n-member cluster; tune, if not nil, adjusts every
// member's config before it first starts.
func newTestCluster(t *testing.T, n int, tune func(*Config)) *testCluster {
	t.Helper()
	return rafttest.New(t, n, testSpec, tune)
}

func kv(m *testMember) raftkvv1.KVServiceClient { return raftkvv1.NewKVServiceClient(m.Conn) }

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
