// Package streamdtest runs streamd clusters in-process for tests of code
// that uses streamd (the server's own tests, the Go client, the CLI,
// benchmarks). Import it from _test.go files only.
//
//	c := streamdtest.New(t, 3, nil)    // ports from :0; stopped by t.Cleanup
//	cli, _ := client.New(client.Config{Endpoints: c.Endpoints()})
//	c.Stop(c.WaitLeader())             // fail the controller over
//
// The cluster is node/raftnode/rafttest's, shared by every Raft daemon.
package streamdtest

import (
	"path/filepath"
	"testing"
	"time"

	"cairn.dev/cairn/node/raftnode/rafttest"
	"cairn.dev/cairn/streamd"
)

// Cluster is a streamd cluster of in-process nodes.
type Cluster = rafttest.Cluster[streamd.Config, *streamd.Server]

// Member is one node of a Cluster.
type Member = rafttest.Member[streamd.Config, *streamd.Server]

// Spec builds streamd nodes for rafttest.
var Spec = rafttest.Spec[streamd.Config, *streamd.Server]{
	Name:     "streamd",
	Config:   FastConfig,
	SetAddr:  func(cfg *streamd.Config, addr string) { cfg.Server.GRPCAddr = addr },
	SetPeers: func(cfg *streamd.Config, peers string) { cfg.Peers = peers },
	New:      streamd.New,
}

// FastConfig returns a node config tuned for tests: loopback ports from :0,
// no admin server, production (1s) Raft timeouts, a 1.5s node session (so a
// dead partition leader is replaced within about two seconds), a 2s replica
// lag limit and short follower long polls. Partition logs fsync as in
// production.
func FastConfig(id, dir string) streamd.Config {
	cfg := streamd.DefaultConfig()
	cfg.ID = id
	cfg.DataDir = filepath.Join(dir, id)
	cfg.Server.GRPCAddr = "127.0.0.1:0"
	cfg.Server.AdminAddr = ""
	cfg.Server.ShutdownTimeout = 2 * time.Second
	cfg.HeartbeatTimeout = time.Second
	cfg.ElectionTimeout = time.Second
	cfg.ApplyTimeout = 3 * time.Second
	cfg.SessionTimeout = 1500 * time.Millisecond
	cfg.HeartbeatInterval = 200 * time.Millisecond
	cfg.ReplicaLagMax = 2 * time.Second
	cfg.ReplicaFetchWait = 200 * time.Millisecond
	cfg.PreferredLeaderInterval = 0
	cfg.RetentionInterval = 200 * time.Millisecond
	return cfg
}

// New starts an n-node cluster; tune, if not nil, adjusts every node's
// config.
func New(t testing.TB, n int, tune func(*streamd.Config)) *Cluster {
	t.Helper()
	return rafttest.New(t, n, Spec, tune)
}
