// Package raftkvtest runs raftkv in-process for the tests of code that uses
// raftkv as a registry or a store (the gateway, cached's membership). Import
// it from _test.go files only.
//
//	addr := raftkvtest.Start(t)   // a one-member group, leader, ports from :0
//	kv, _ := client.New(client.Config{Endpoints: []string{addr}})
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
func Start(t testing.TB) string {
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
	srv, err := raftkv.New(cfg, nodetest.Logger(t).With("test_node", "kv-1"))
	if err != nil {
		t.Fatalf("raftkvtest: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-srv.ReadyNotify():
	case err := <-done:
		t.Fatalf("raftkvtest: raftkv stopped: %v", err)
	}
	nodetest.WaitFor(t, 20*time.Second, "raftkv leader", func() bool { return srv.Node().IsLeader() })
	return srv.Addr()
}
