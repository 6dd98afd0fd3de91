// Package queuedtest runs queued clusters in-process for tests of code that
// uses queued (the Go client, the CLI, the SQS API, benchmarks). Import it
// from _test.go files only.
//
//	c := queuedtest.New(t, 3, nil)     // ports from :0; stopped by t.Cleanup
//	cli, _ := client.New(client.Config{Endpoints: c.Endpoints()})
//	c.Stop(c.WaitLeader())             // fail the leader over
//
// The cluster is node/raftnode/rafttest's, shared by every Raft daemon.
package queuedtest

import (
	"path/filepath"
	"testing"
	"time"

	"cairn.dev/cairn/node/raftnode/rafttest"
	"cairn.dev/cairn/queued"
)

// Cluster is a queued group of in-process members.
type Cluster = rafttest.Cluster[queued.Config, *queued.Server]

// Member is one member of a Cluster.
type Member = rafttest.Member[queued.Config, *queued.Server]

// Spec builds queued members for rafttest.
var Spec = rafttest.Spec[queued.Config, *queued.Server]{
	Name:     "queued",
	Config:   FastConfig,
	SetAddr:  func(cfg *queued.Config, addr string) { cfg.Server.GRPCAddr = addr },
	SetPeers: func(cfg *queued.Config, peers string) { cfg.Peers = peers },
	New:      queued.New,
}

// FastConfig returns a member config tuned for tests: loopback ports from :0,
// no admin server, production (1s) Raft timeouts, a sweep loop that looks at
// due timers every 20ms, and no fsync.
func FastConfig(id, dir string) queued.Config {
	cfg := queued.DefaultConfig()
	cfg.ID = id
	cfg.DataDir = filepath.Join(dir, id)
	cfg.Server.GRPCAddr = "127.0.0.1:0"
	cfg.Server.AdminAddr = ""
	cfg.Server.ShutdownTimeout = 2 * time.Second
	// Production Raft timing, as lockdtest: shorter timeouts make leaders step
	// down under -race on a loaded 2-core machine.
	cfg.HeartbeatTimeout = time.Second
	cfg.ElectionTimeout = time.Second
	cfg.ApplyTimeout = 3 * time.Second
	cfg.SweepPoll = 20 * time.Millisecond
	cfg.SweepInterval = 10 * time.Millisecond
	cfg.NoSync = true
	return cfg
}

// New starts an n-member cluster; tune, if not nil, adjusts every member's
// config (set NoSync false for durability tests).
func New(t testing.TB, n int, tune func(*queued.Config)) *Cluster {
	t.Helper()
	return rafttest.New(t, n, Spec, tune)
}
