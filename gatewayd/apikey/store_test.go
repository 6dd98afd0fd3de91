package apikey

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/raftkv"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// kvNode is a one-member raftkv group running in this process.
type kvNode struct {
	t      *testing.T
	cfg    raftkv.Config
	addr   string
	cancel context.CancelFunc
	done   chan error
}

// startRaftKV runs a one-member raftkv group in this process and returns a
// client of it; both stop at the end of the test.
func startRaftKV(t *testing.T) *kvclient.Client {
	kv, _ := startRaftKVNode(t)
	return kv
}

func startRaftKVNode(t *testing.T) (*kvclient.Client, *kvNode) {
	t.Helper()
	cfg := raftkv.DefaultConfig()
	cfg.ID = "kv-1"
	cfg.DataDir = filepath.Join(t.TempDir(), "kv-1")
	cfg.Server.GRPCAddr = "127.0.0.1:0"
	cfg.Server.AdminAddr = ""
	cfg.Server.ShutdownTimeout = 2 * time.Second
	cfg.Peers = "kv-1=127.0.0.1:0" // a one-member group never dials itself
	cfg.NoSync = true
	n := &kvNode{t: t, cfg: cfg}
	n.start()
	t.Cleanup(n.stop)
	kv, err := kvclient.New(kvclient.Config{Endpoints: []string{n.addr}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = kv.Close() })
	return kv, n
}

func (n *kvNode) start() {
	t := n.t
	t.Helper()
	srv, err := raftkv.New(n.cfg, nodetest.Logger(t).With("test_node", "kv-1"))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.done = cancel, make(chan error, 1)
	go func() { n.done <- srv.Serve(ctx) }()
	select {
	case <-srv.ReadyNotify():
	case err := <-n.done:
		t.Fatalf("raftkv stopped: %v", err)
	}
	nodetest.WaitFor(t, 20*time.Second, "raftkv leader", func() bool { return srv.Node().IsLeader() })
	n.addr = srv.Addr()
	n.cfg.Server.GRPCAddr = n.addr // a restart listens where clients look
}

func (n *kvNode) stop() {
	if n.cancel != nil {
		n.cancel()
		<-n.done
		n.cancel = nil
	}
}

func startStore(t *testing.T, kv *kvclient.Client, prefix string) *Store {
	t.Helper()
	s := NewStore(kv, prefix, nodetest.Logger(t))
	require.NoError(t, s.Start(context.Background()))
	t.Cleanup(s.Close)
	select {
	case <-s.Ready():
	case <-time.After(20 * time.Second):
		t.Fatal("store not ready")
	}
	return s
}

// TestStore runs the store tests against one raftkv, each under its own
// prefix (starting raftkv dominates their time).
func TestStore(t *testing.T) {
	kv := startRaftKV(t)
	t.Run("across nodes", func(t *testing.T) { testAcrossNodes(t, kv) })
	t.Run("expiry", func(t *testing.T) { testExpiry(t, kv) })
	t.Run("refuses", func(t *testing.T) { testRefuses(t, kv) })
	t.Run("skips malformed records", func(t *testing.T) { testSkipsMalformedRecords(t, kv) })
}

// testAcrossNodes: keys made through one store work through another
// watching the same prefix; deleted keys stop working everywhere; other
// prefixes are apart.
func testAcrossNodes(t *testing.T, kv *kvclient.Client) {
	ctx := context.Background()
	a := startStore(t, kv, "")
	b := startStore(t, kv, DefaultPrefix)
	other := startStore(t, kv, "/elsewhere/keys")

	k, full, err := a.Create(ctx, "billing", 0)
	require.NoError(t, err)
	got, err := a.Lookup(full)
	require.NoError(t, err, "the creating store knows the key at once")
	require.Equal(t, "billing", got.Consumer)
	nodetest.WaitFor(t, 10*time.Second, "the other store to see the key", func() bool {
		_, err := b.Lookup(full)
		return err == nil
	})
	got, err = b.Lookup(full)
	require.NoError(t, err)
	require.Equal(t, k.ID, got.ID)
	require.Equal(t, 1, b.Count("billing"))
	_, err = other.Lookup(full)
	require.ErrorIs(t, err, ErrNotFound)

	// A wrong secret under a real id.
	_, wrong, err := Generate(nil, "x", time.Now(), 0)
	require.NoError(t, err)
	forged := full[:len(Prefix)+idLen+1] + wrong[len(Prefix)+idLen+1:]
	_, err = b.Lookup(forged)
	require.ErrorIs(t, err, ErrMismatch)
	_, err = b.Lookup("cgw_nonsense")
	require.ErrorIs(t, err, ErrMalformed)

	// A store started later loads existing keys.
	c := startStore(t, kv, "")
	_, err = c.Lookup(full)
	require.NoError(t, err)

	k2, _, err := b.Create(ctx, "billing", time.Hour)
	require.NoError(t, err)
	_, _, err = b.Create(ctx, "search", 0)
	require.NoError(t, err)
	list, err := a.List(ctx, "billing")
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, []string{k.ID, k2.ID}, []string{list[0].ID, list[1].ID})
	all, err := a.List(ctx, "")
	require.NoError(t, err)
	require.Len(t, all, 3)
	require.False(t, all[1].ExpiresAt.IsZero())
	nodetest.WaitFor(t, 10*time.Second, "a to count both billing keys", func() bool { return a.Count("billing") == 2 })
	require.Equal(t, 1, a.Count("search"))

	require.NoError(t, b.Delete(ctx, k.ID))
	_, err = b.Lookup(full)
	require.ErrorIs(t, err, ErrNotFound, "the deleting store forgets at once")
	for _, s := range []*Store{a, c} {
		nodetest.WaitFor(t, 10*time.Second, "the key to stop working", func() bool {
			_, err := s.Lookup(full)
			return err == ErrNotFound
		})
	}
	require.ErrorIs(t, a.Delete(ctx, k.ID), ErrNotFound)
	require.ErrorIs(t, a.Delete(ctx, "bad id"), ErrNotFound)
}

func testExpiry(t *testing.T, kv *kvclient.Client) {
	var clock atomic.Int64
	base := time.Unix(1_800_000_000, 0)
	s := NewStore(kv, "/expiry/", nodetest.Logger(t))
	s.now = func() time.Time { return base.Add(time.Duration(clock.Load())) }
	require.NoError(t, s.Start(context.Background()))
	defer s.Close()
	<-s.Ready()

	k, full, err := s.Create(context.Background(), "c", time.Minute)
	require.NoError(t, err)
	require.Equal(t, base.Add(time.Minute).UTC(), k.ExpiresAt)
	_, err = s.Lookup(full)
	require.NoError(t, err)
	require.Equal(t, 1, s.Count("c"))

	clock.Store(int64(time.Minute))
	_, err = s.Lookup(full)
	require.ErrorIs(t, err, ErrExpired)
	require.Equal(t, 0, s.Count("c"))

	// An expired key with the wrong secret says mismatch, not expired.
	_, wrong, _ := Generate(nil, "x", base, 0)
	_, err = s.Lookup(full[:len(Prefix)+idLen+1] + wrong[len(Prefix)+idLen+1:])
	require.ErrorIs(t, err, ErrMismatch)
}

func testRefuses(t *testing.T, kv *kvclient.Client) {
	s := NewStore(kv, "/refuses", nodetest.Logger(t))
	require.Equal(t, "/refuses/", s.prefix)
	_, _, err := s.Create(context.Background(), "", 0)
	require.ErrorIs(t, err, ErrInvalid)
	_, _, err = s.Create(context.Background(), "c", -time.Second)
	require.ErrorIs(t, err, ErrInvalid)
	require.NoError(t, s.Start(context.Background()))
	require.ErrorIs(t, s.Start(context.Background()), ErrInvalid)
	s.Close()
	s.Close()
	require.ErrorIs(t, closedStore(t, kv).Start(context.Background()), ErrClosed)
}

// A malformed record under the prefix is skipped, not fatal.
func testSkipsMalformedRecords(t *testing.T, kv *kvclient.Client) {
	ctx := context.Background()
	const prefix = "/malformed/"
	_, err := kv.Put(ctx, prefix+"aaaaaaaaaa", "{not json")
	require.NoError(t, err)
	_, err = kv.Put(ctx, prefix+"NOT_AN_ID", `{"consumer":"c"}`)
	require.NoError(t, err)
	s := startStore(t, kv, prefix)
	_, full, err := s.Create(ctx, "c", 0)
	require.NoError(t, err)
	s2 := startStore(t, kv, prefix)
	_, err = s2.Lookup(full)
	require.NoError(t, err)
	_, err = kv.Put(ctx, prefix+"bbbbbbbbbb", "junk")
	require.NoError(t, err)
	require.Equal(t, 1, s2.Count("c"))
}

func closedStore(t *testing.T, kv *kvclient.Client) *Store {
	s := NewStore(kv, "", nodetest.Logger(t))
	s.Close()
	return s
}

// A store keeps following the prefix across a raftkv restart: keys created
// after it (through another store) reach it, deletions too.
func TestStoreSurvivesRaftKVRestart(t *testing.T) {
	kv, node := startRaftKVNode(t)
	ctx := context.Background()
	a := startStore(t, kv, "")
	k1, full1, err := a.Create(ctx, "c", 0)
	require.NoError(t, err)

	node.stop()
	node.start()

	b := startStore(t, kv, "")
	_, err = b.Lookup(full1)
	require.NoError(t, err, "the record survived the restart")
	_, full2, err := b.Create(ctx, "c", 0)
	require.NoError(t, err)
	nodetest.WaitFor(t, 20*time.Second, "the first store to see a key made after the restart", func() bool {
		_, err := a.Lookup(full2)
		return err == nil
	})
	require.NoError(t, b.Delete(ctx, k1.ID))
	nodetest.WaitFor(t, 20*time.Second, "the first store to see the deletion", func() bool {
		_, err := a.Lookup(full1)
		return err == ErrNotFound
	})
}
