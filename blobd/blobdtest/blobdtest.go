// Package blobdtest runs blobd clusters in-process for tests of code that
// uses blobd (the server's own tests, the S3 front end, the Go client, the
// CLI, benchmarks). Import it from _test.go files only.
//
//	c := blobdtest.New(t, 5, nil)    // ports from :0; stopped by t.Cleanup
//	srv := c.All()[0].Server         // the object API in-process
//	c.Stop(c.WaitLeader())           // fail the metadata leader over
//
// The cluster is node/raftnode/rafttest's, shared by every Raft daemon;
// every member is a metadata voter and a volume server.
package blobdtest

import (
	"path/filepath"
	"testing"
	"time"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/node/raftnode/rafttest"
)

// Cluster is a blobd cluster of in-process nodes.
type Cluster = rafttest.Cluster[blobd.Config, *blobd.Server]

// Member is one node of a Cluster.
type Member = rafttest.Member[blobd.Config, *blobd.Server]

// Spec builds blobd nodes for rafttest.
var Spec = rafttest.Spec[blobd.Config, *blobd.Server]{
	Name:     "blobd",
	Config:   FastConfig,
	SetAddr:  func(cfg *blobd.Config, addr string) { cfg.Server.GRPCAddr = addr },
	SetPeers: func(cfg *blobd.Config, peers string) { cfg.Peers = peers },
	New:      blobd.New,
}

// FastConfig returns a node config tuned for tests: loopback ports from :0,
// no admin or S3 server, production (1s) Raft timeouts, a 1.5s server
// timeout with 200ms heartbeats (a killed volume server is DOWN and its
// volumes under repair within about two seconds), 1 MiB chunks, 64 MiB
// volumes, and garbage collection, lifecycle and restores on short clocks.
// GC spares needles allocated in the last 30s (GCGrace): under the race
// detector on a loaded machine a multi-chunk write can take seconds between
// its first needle and its commit, and tests write chunks directly; tests
// of GC itself set a shorter grace.
// Volumes and metadata fsync as in production.
func FastConfig(id, dir string) blobd.Config {
	cfg := blobd.DefaultConfig()
	cfg.ID = id
	cfg.DataDir = filepath.Join(dir, id)
	cfg.Server.GRPCAddr = "127.0.0.1:0"
	cfg.Server.AdminAddr = ""
	cfg.Server.ShutdownTimeout = 2 * time.Second
	cfg.HeartbeatTimeout = time.Second
	cfg.ElectionTimeout = time.Second
	cfg.ApplyTimeout = 3 * time.Second
	cfg.ServerTimeout = 1500 * time.Millisecond
	cfg.HeartbeatInterval = 200 * time.Millisecond
	cfg.ChunkBytes = 1 << 20
	cfg.MaxVolumeBytes = 64 << 20
	cfg.WritableVolumes = 2
	cfg.GCInterval = 200 * time.Millisecond
	cfg.GCGrace = 30 * time.Second
	cfg.LifecycleInterval = 200 * time.Millisecond
	cfg.RestoreDelay = 300 * time.Millisecond
	cfg.ScrubInterval = 0
	return cfg
}

// New starts an n-node cluster; tune, if not nil, adjusts every node's
// config.
func New(t testing.TB, n int, tune func(*blobd.Config)) *Cluster {
	t.Helper()
	return rafttest.New(t, n, Spec, tune)
}
