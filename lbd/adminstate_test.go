package lbd

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"
	lbdv1 "cairn.dev/cairn/proto/cairn/lbd/v1"
	"cairn.dev/cairn/raftkv/raftkvtest"
)

// TestAdminStateIsSharedThroughRaftkv drains a backend through one lbd node
// and sees the other node apply it (a standby taking over must), with the
// same drain deadline; enabling it through the second node reaches the first.
func TestAdminStateIsSharedThroughRaftkv(t *testing.T) {
	kv := raftkvtest.Start(t)
	bs := startBackends(t, 2)
	file := filepath.Join(t.TempDir(), "lb.yaml")
	lbFile(t, file, "round_robin", bs)
	start := func(id string) *Server {
		cfg := DefaultConfig()
		cfg.ID = id
		cfg.LBFile = file
		cfg.Registry = kv
		cfg.Server.GRPCAddr, cfg.Server.AdminAddr, cfg.Server.Insecure, cfg.Server.ShutdownTimeout = "127.0.0.1:0", "", true, 2*time.Second
		s, err := New(cfg, nodetest.Logger(t).With("lbd", id))
		if err != nil {
			t.Fatal(err)
		}
		nodetest.Serve(t, id, s)
		return s
	}
	a, b := start("lbd-a"), start("lbd-b")
	backend := func(s *Server, name string) *lbdv1.Backend {
		pools, _ := s.listPools("app")
		for _, be := range pools[0].GetBackends() {
			if be.GetName() == name {
				return be
			}
		}
		return nil
	}
	ctx := context.Background()
	if _, err := (&adminService{s: a}).SetBackendState(ctx, &lbdv1.SetBackendStateRequest{Backend: "b2", State: lbdv1.AdminState_ADMIN_STATE_DRAINING}); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitFor(t, 10*time.Second, "the other node draining b2", func() bool {
		return backend(b, "b2").GetAdminState() == lbdv1.AdminState_ADMIN_STATE_DRAINING
	})
	if da, db := backend(a, "b2").GetDrainDeadline().AsTime(), backend(b, "b2").GetDrainDeadline().AsTime(); !da.Equal(db) {
		t.Fatalf("drain deadlines differ: %v on a, %v on b", da, db)
	}
	if _, err := (&adminService{s: b}).SetBackendState(ctx, &lbdv1.SetBackendStateRequest{Backend: "b2", State: lbdv1.AdminState_ADMIN_STATE_ENABLED}); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitFor(t, 10*time.Second, "the first node enabling b2", func() bool {
		return backend(a, "b2").GetAdminState() == lbdv1.AdminState_ADMIN_STATE_ENABLED
	})
}
