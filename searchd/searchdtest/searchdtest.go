// Package searchdtest runs searchd clusters in-process for tests of code
// that uses searchd (the server's own tests, the HTTP API, the Go client,
// the CLI, benchmarks), each beside an in-process streamd cluster
// (streamd/streamdtest). Import it from _test.go files only.
//
//	c := searchdtest.New(t, 3, nil)   // 3 searchd nodes, 1 streamd node
//	srv := c.All()[0].Server          // the services in-process
//	c.Stop(c.WaitLeader())            // fail the metadata leader over
//
// The cluster is node/raftnode/rafttest's, shared by every Raft daemon.
package searchdtest

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/node/raftnode/rafttest"
	"cairn.dev/cairn/searchd"
	"cairn.dev/cairn/streamd/streamdtest"
)

// Cluster is a searchd cluster of in-process nodes and the streamd cluster
// it writes to.
type Cluster struct {
	*rafttest.Cluster[searchd.Config, *searchd.Server]
	Streamd *streamdtest.Cluster
}

// Member is one searchd node of a Cluster.
type Member = rafttest.Member[searchd.Config, *searchd.Server]

// FastConfig returns a node config tuned for tests: loopback ports from :0,
// no admin or HTTP server, production (1s) Raft timeouts, a 2s node
// timeout with 200ms checks (a stopped node's copies are LOST and replaced
// within about three seconds), a 100ms default refresh and 1s commits.
func FastConfig(id, dir, streamdEndpoints string) searchd.Config {
	cfg := searchd.DefaultConfig()
	cfg.ID = id
	cfg.DataDir = filepath.Join(dir, id)
	cfg.StreamdEndpoints = streamdEndpoints
	cfg.Server.GRPCAddr = "127.0.0.1:0"
	cfg.Server.AdminAddr = ""
	cfg.Server.ShutdownTimeout = 2 * time.Second
	cfg.HeartbeatTimeout = time.Second
	cfg.ElectionTimeout = time.Second
	cfg.ApplyTimeout = 3 * time.Second
	cfg.NodeTimeout = 2 * time.Second
	cfg.HeartbeatInterval = 200 * time.Millisecond
	cfg.RefreshInterval = 100 * time.Millisecond
	cfg.CommitInterval = time.Second
	cfg.SearchTimeout = 20 * time.Second
	return cfg
}

// Spec builds searchd nodes writing to the streamd nodes at endpoints.
func Spec(endpoints string) rafttest.Spec[searchd.Config, *searchd.Server] {
	return rafttest.Spec[searchd.Config, *searchd.Server]{
		Name:     "searchd",
		Config:   func(id, dir string) searchd.Config { return FastConfig(id, dir, endpoints) },
		SetAddr:  func(cfg *searchd.Config, addr string) { cfg.Server.GRPCAddr = addr },
		SetPeers: func(cfg *searchd.Config, peers string) { cfg.Peers = peers },
		New:      searchd.New,
	}
}

// New starts n searchd nodes beside a one-node streamd cluster; tune, if
// not nil, adjusts every searchd node's config.
func New(t testing.TB, n int, tune func(*searchd.Config)) *Cluster {
	t.Helper()
	return NewWithStreamd(t, n, 1, tune)
}

// NewWithStreamd is New with streamdNodes streamd nodes (index topics are
// replicated on up to three of them).
func NewWithStreamd(t testing.TB, n, streamdNodes int, tune func(*searchd.Config)) *Cluster {
	t.Helper()
	sd := streamdtest.New(t, streamdNodes, nil)
	c := rafttest.New(t, n, Spec(strings.Join(sd.Endpoints(), ",")), tune)
	return &Cluster{Cluster: c, Streamd: sd}
}
