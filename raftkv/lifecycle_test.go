package raftkv

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/nodetest"
)

func singleMemberConfig(t *testing.T) Config {
	cfg := fastConfig("kv-1", t.TempDir())
	// Bind once to learn a free port, so the bootstrap peer list is real.
	probe, err := New(cfg, nil)
	require.NoError(t, err)
	cfg.Server.GRPCAddr = probe.Addr()
	probe.Close()
	cfg.Peers = "kv-1=" + cfg.Server.GRPCAddr
	return cfg
}

// A server closed without serving releases its store and listeners: the same
// data dir and address open again at once.
func TestCloseWithoutServeReleasesEverything(t *testing.T) {
	cfg := singleMemberConfig(t)
	for range 3 {
		s, err := New(cfg, nodetest.Logger(t))
		require.NoError(t, err)
		s.Close()
		s.Close() // idempotent
	}
	require.FileExists(t, filepath.Join(cfg.DataDir, DBFileName))
}

// Close stops a running Serve and waits for it; a second Serve is refused.
func TestCloseWaitsForServe(t *testing.T) {
	cfg := singleMemberConfig(t)
	s, err := New(cfg, nodetest.Logger(t))
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- s.Serve(context.Background()) }()
	select {
	case <-s.ReadyNotify():
	case err := <-served:
		t.Fatalf("Serve returned at start: %v", err)
	}
	require.Error(t, s.Serve(context.Background()), "Serve runs once")
	// Serve releases the store on its way out; Close must not return before
	// that. (Serve's own return can only be seen a moment later, once the
	// goroutine above has sent it, so the release is what is checked.)
	var released atomic.Bool
	s.d.OnRelease(func() { released.Store(true) })
	s.Close()
	require.True(t, released.Load(), "Close returned before Serve had released the store")
	select {
	case err := <-served:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after Close")
	}
	// Everything was released: the member opens again on the same dir and port.
	again, err := New(cfg, nodetest.Logger(t))
	require.NoError(t, err)
	go func() { served <- again.Serve(context.Background()) }()
	select {
	case <-again.ReadyNotify():
	case err := <-served:
		t.Fatalf("Serve returned at start: %v", err)
	}
	nodetest.WaitFor(t, 15*time.Second, "the member to lead its group of one", again.Node().IsLeader)
	again.Close()
	require.NoError(t, <-served)
}
