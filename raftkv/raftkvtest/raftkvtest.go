// Package raftkvtest runs raftkv in-process for the tests of code that uses
// raftkv as a registry or a store (the gateway, cached's membership, change
// data capture). Import it from _test.go files only.
//
//	addr := raftkvtest.Start(t)   // a one-member group, leader, ports from :0
//	kv, _ := client.New(client.Config{Endpoints: []string{addr}})
//
//	n := raftkvtest.StartNode(t)  // the same, restartable on its address
//	n.Stop(); n.Start()
//
// Multi-member groups with failover are node/raftnode/rafttest's.
package raftkvtest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/raftkv"
)

// Start runs a one-member raftkv group (plaintext, no fsync, no admin
// server) until the test ends, waits until it leads, and returns its gRPC
// address.
func Start(t testing.TB) string { return StartNode(t).Addr() }

// Node is a one-member raftkv group in this process that a test can stop
// and start again, on the same address and data. Its methods are called
// from the test's goroutine.
type Node struct {
	t      testing.TB
	cfg    raftkv.Config
	addr   string
	cancel context.CancelFunc
	done   chan error
}

// StartNode starts a Node, stopped when the test ends.
func StartNode(t testing.TB) *Node {
	t.Helper()
	cfg := raftkv.DefaultConfig()
	cfg.ID = "kv-1"
	cfg.DataDir = filepath.Join(t.TempDir(), "kv-1")
	cfg.Server.GRPCAddr = "127.0.0.1:0"
	cfg.Server.AdminAddr = ""
	cfg.Server.ShutdownTimeout = 2 * time.Second
	// A one-member group never dials its own address, so the placeholder
	// port in the bootstrap configuration is harmless.
	cfg.Peers = "kv-1=127.0.0.1:0"
	cfg.NoSync = true
	n := &Node{t: t, cfg: cfg}
	n.Start()
	t.Cleanup(n.Stop)
	return n
}

// Addr is the node's gRPC address (the same across restarts).
func (n *Node) Addr() string { return n.addr }

// Start runs the node (again) and waits until it leads.
func (n *Node) Start() {
	t := n.t
	t.Helper()
	srv, err := raftkv.New(n.cfg, nodetest.Logger(t).With("test_node", n.cfg.ID))
	if err != nil {
		t.Fatalf("raftkvtest: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.done = cancel, make(chan error, 1)
	go func() { n.done <- srv.Serve(ctx) }()
	select {
	case <-srv.ReadyNotify():
	case err := <-n.done:
		t.Fatalf("raftkvtest: raftkv stopped: %v", err)
	}
	nodetest.WaitFor(t, 20*time.Second, "raftkv leader", func() bool { return srv.Node().IsLeader() })
	n.addr = srv.Addr()
	n.cfg.Server.GRPCAddr = n.addr // a restart listens where clients look
}

// Stop stops the node gracefully and waits for it; a stopped node's Stop
// does nothing.
func (n *Node) Stop() {
	if n.cancel != nil {
		n.cancel()
		<-n.done
		n.cancel = nil
	}
}
