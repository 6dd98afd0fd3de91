// Package lockdtest runs lockd clusters in-process for tests of code that uses
// lockd (the Go client, tools, benchmarks). Import it from _test.go files only.
//
//	c := lockdtest.New(t, 3, nil)      // ports from :0; stopped by t.Cleanup
//	cli, _ := client.New(client.Config{Endpoints: c.Endpoints()})
//	c.Stop(c.WaitLeader())             // fail the leader over
//
// The cluster is node/raftnode/rafttest's, shared by every Raft daemon.
package lockdtest

import (
	"path/filepath"
	"testing"
	"time"

	"cairn.dev/cairn/lockd"
	"cairn.dev/cairn/node/raftnode/rafttest"
)

// Cluster is a lockd group of in-process members.
type Cluster = rafttest.Cluster[lockd.Config, *lockd.Server]

// Member is one member of a Cluster.
type Member = rafttest.Member[lockd.Config, *lockd.Server]

// Spec builds lockd members for rafttest.
var Spec = rafttest.Spec[lockd.Config, *lockd.Server]{
	Name:     "lockd",
	Config:   FastConfig,
	SetAddr:  func(cfg *lockd.Config, addr string) { cfg.Server.GRPCAddr = addr },
	SetPeers: func(cfg *lockd.Config, peers string) { cfg.Peers = peers },
	New:      lockd.New,
}

// FastConfig returns a member config tuned for tests: loopback ports from :0,
// no admin server, production (1s) Raft timeouts, a 100ms minimum session TTL,
// a 20ms expiry tick and no fsync.
func FastConfig(id, dir string) lockd.Config {
	cfg := lockd.DefaultConfig()
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

// New starts an n-member cluster; tune, if not nil, adjusts every member's config.
func New(t testing.TB, n int, tune func(*lockd.Config)) *Cluster {
	t.Helper()
	return rafttest.New(t, n, Spec, tune)
}
