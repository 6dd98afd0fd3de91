package upstream

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/raftkv"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// registryWait bounds every wait on the in-process raftkv.
const registryWait = 15 * time.Second

// kvNode is a one-member raftkv run in-process for a test.
type kvNode struct {
	t      *testing.T
	cfg    raftkv.Config
	addr   string
	cancel context.CancelFunc
	done   chan error
}

// startRegistry runs a one-member raftkv in-process for the test; it stops
// at the test's end.
func startRegistry(t *testing.T) *kvNode {
	t.Helper()
	cfg := raftkv.DefaultConfig()
	cfg.ID = "kv-1"
	cfg.DataDir = filepath.Join(t.TempDir(), "kv-1")
	cfg.Server.GRPCAddr = "127.0.0.1:0"
	cfg.Server.AdminAddr = ""
	cfg.Server.ShutdownTimeout = 2 * time.Second
	cfg.Peers = "kv-1=127.0.0.1:0" // a single member never dials itself
	cfg.NoSync = true
	n := &kvNode{t: t, cfg: cfg}
	n.start()
	t.Cleanup(n.stop)
	return n
}

func (n *kvNode) start() {
	t := n.t
	t.Helper()
	srv, err := raftkv.New(n.cfg, nodetest.Logger(t).With("test_node", n.cfg.ID))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	n.cancel, n.done = cancel, done
	select {
	case <-srv.ReadyNotify():
	case err := <-done:
		t.Fatalf("raftkv stopped: %v", err)
	}
	nodetest.WaitFor(t, 20*time.Second, "raftkv leader", func() bool { return srv.Node().IsLeader() })
	n.addr = srv.Addr()
}

// stop stops the node and waits for it; it may be called more than once.
func (n *kvNode) stop() {
	if n.cancel == nil {
		return
	}
	n.cancel()
	<-n.done
	n.cancel = nil
}

// restart starts the stopped node again on the same address and data.
func (n *kvNode) restart() {
	n.cfg.Server.GRPCAddr = n.addr
	n.start()
}

func newKV(t *testing.T, addr string) *kvclient.Client {
	t.Helper()
	c, err := kvclient.New(kvclient.Config{Endpoints: []string{addr}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// recorder keeps what a Watch delivered.
type recorder struct {
	mu    sync.Mutex
	calls int
	last  []gwconfig.Target
}

func (r *recorder) fn(list []gwconfig.Target) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	r.last = list
}

func (r *recorder) get() (int, []gwconfig.Target) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls, slices.Clone(r.last)
}

func (r *recorder) waitFor(t *testing.T, what string, want ...gwconfig.Target) {
	t.Helper()
	nodetest.WaitFor(t, registryWait, what, func() bool {
		calls, last := r.get()
		return calls > 0 && slices.Equal(last, want) || (len(want) == 0 && calls > 0 && len(last) == 0)
	})
}

func TestRegistry(t *testing.T) {
	node := startRegistry(t)
	addr := node.addr
	kv := newKV(t, addr)
	ctx := context.Background()
	res := NewRegistryResolver(kv, "", nodetest.Logger(t))

	t.Run("watch follows registrations", func(t *testing.T) {
		var rec recorder
		stop := res.Watch(ctx, "api", rec.fn)
		defer stop()
		rec.waitFor(t, "an empty service")

		dereg1, err := Register(ctx, kv, "", "api", "i1", "10.0.0.1:80", 2, 5*time.Second)
		require.NoError(t, err)
		dereg2, err := Register(ctx, kv, DefaultRegistryPrefix, "api", "i2", "10.0.0.2:80", 0, 5*time.Second)
		require.NoError(t, err)
		defer dereg2()
		other, err := Register(ctx, kv, "/cairn/services", "apiother", "x", "10.0.0.9:80", 1, 5*time.Second)
		require.NoError(t, err)
		defer other()
		rec.waitFor(t, "two instances", gwconfig.Target{Address: "10.0.0.1:80", Weight: 2}, gwconfig.Target{Address: "10.0.0.2:80", Weight: 1})

		dereg1()
		dereg1() // idempotent
		rec.waitFor(t, "i1 gone", gwconfig.Target{Address: "10.0.0.2:80", Weight: 1})
	})

	t.Run("invalid entries are left out", func(t *testing.T) {
		_, err := kv.Put(ctx, DefaultRegistryPrefix+"bad/x", "{nope")
		require.NoError(t, err)
		_, err = kv.Put(ctx, DefaultRegistryPrefix+"bad/y", `{"address":"10.0.1.1:80"}`)
		require.NoError(t, err)
		_, err = kv.Put(ctx, DefaultRegistryPrefix+"bad/deep/z", `{"address":"10.0.1.3:80"}`)
		require.NoError(t, err)
		var rec recorder
		stop := res.Watch(ctx, "bad", rec.fn)
		defer stop()
		rec.waitFor(t, "only the valid entry", gwconfig.Target{Address: "10.0.1.1:80", Weight: 1})

		_, err = kv.Put(ctx, DefaultRegistryPrefix+"bad/x", `{"address":"10.0.1.0:80","weight":5}`)
		require.NoError(t, err)
		rec.waitFor(t, "the repaired entry", gwconfig.Target{Address: "10.0.1.0:80", Weight: 5}, gwconfig.Target{Address: "10.0.1.1:80", Weight: 1})
		_, err = kv.Put(ctx, DefaultRegistryPrefix+"bad/x", `{"address":"nope"}`)
		require.NoError(t, err)
		rec.waitFor(t, "the entry broken again", gwconfig.Target{Address: "10.0.1.1:80", Weight: 1})
		_, err = kv.Delete(ctx, DefaultRegistryPrefix+"bad/", kvclient.WithPrefix())
		require.NoError(t, err)
		rec.waitFor(t, "no entries")
	})

	t.Run("a pool follows the service without a reload", func(t *testing.T) {
		p, err := New(gwconfig.Upstream{Name: "u", Service: "web"}, Options{Resolver: res, Logger: nodetest.Logger(t)})
		require.NoError(t, err)
		defer p.Close()
		<-p.Ready()
		_, _, err = p.Pick("")
		require.ErrorIs(t, err, ErrNoTargets)

		d1, err := Register(ctx, kv, "", "web", "a", "127.0.0.1:9001", 1, 5*time.Second)
		require.NoError(t, err)
		d2, err := Register(ctx, kv, "", "web", "b", "127.0.0.1:9002", 1, 5*time.Second)
		require.NoError(t, err)
		nodetest.WaitFor(t, registryWait, "both instances picked", func() bool {
			seen := map[string]bool{}
			for range 4 {
				tg, err := pickRelease(t, p, KindSuccess)
				if err != nil {
					return false
				}
				seen[tg.Address] = true
			}
			return len(seen) == 2
		})
		d1()
		d2()
		nodetest.WaitFor(t, registryWait, "no targets", func() bool {
			_, _, err := p.Pick("")
			return err != nil
		})
		_, _, err = p.Pick("")
		require.ErrorIs(t, err, ErrNoTargets)
	})

	t.Run("stop ends callbacks", func(t *testing.T) {
		var first, second recorder
		stop := res.Watch(ctx, "quiet", first.fn)
		first.waitFor(t, "the first list")
		stop()
		stop()
		calls, _ := first.get()
		stop2 := res.Watch(ctx, "quiet", second.fn)
		defer stop2()
		second.waitFor(t, "the second watcher's list")
		_, err := kv.Put(ctx, DefaultRegistryPrefix+"quiet/q", `{"address":"10.0.2.1:80"}`)
		require.NoError(t, err)
		second.waitFor(t, "the change", gwconfig.Target{Address: "10.0.2.1:80", Weight: 1})
		after, _ := first.get()
		require.Equal(t, calls, after, "a stopped watch was called")
	})

	t.Run("a bad service name resolves to nothing", func(t *testing.T) {
		var rec recorder
		stop := res.Watch(ctx, "a/b", rec.fn)
		defer stop()
		rec.waitFor(t, "an empty list")
	})

	t.Run("the registry service is the raftkv cluster", func(t *testing.T) {
		var rec recorder
		stop := res.Watch(ctx, RegistryService, rec.fn)
		defer stop()
		rec.waitFor(t, "the raftkv endpoint", gwconfig.Target{Address: addr, Weight: 1})
	})

	t.Run("register validates", func(t *testing.T) {
		for _, tc := range []struct{ service, id, addr string }{
			{"", "i", "h:1"}, {"s/x", "i", "h:1"}, {"s", "", "h:1"}, {"s", "a/b", "h:1"}, {"s", "i", "h"}, {"s", "i", "h:99999"},
		} {
			_, err := Register(ctx, kv, "", tc.service, tc.id, tc.addr, 1, time.Second)
			require.ErrorIs(t, err, ErrInvalidEntry, "%+v", tc)
		}
		_, err := Register(ctx, kv, "", "s", "i", "h:1", MaxWeight+1, time.Second)
		require.ErrorIs(t, err, ErrInvalidEntry)
	})

	t.Run("a lost lease is registered again", func(t *testing.T) {
		var rec recorder
		stop := res.Watch(ctx, "phoenix", rec.fn)
		defer stop()
		dereg, err := Register(ctx, kv, "", "phoenix", "i", "10.0.4.1:80", 1, time.Second)
		require.NoError(t, err)
		want := gwconfig.Target{Address: "10.0.4.1:80", Weight: 1}
		rec.waitFor(t, "the registration", want)
		leaseOf := func() int64 {
			resp, err := kv.Get(ctx, DefaultRegistryPrefix+"phoenix/i")
			require.NoError(t, err)
			if len(resp.GetKvs()) == 0 {
				return 0
			}
			return resp.GetKvs()[0].GetLease()
		}
		first := leaseOf()
		require.NotZero(t, first)
		_, err = kv.Revoke(ctx, first) // as if raftkv had expired it
		require.NoError(t, err)
		nodetest.WaitFor(t, registryWait, "a new lease", func() bool {
			l := leaseOf()
			return l != 0 && l != first
		})
		rec.waitFor(t, "the entry back", want)
		dereg()
		rec.waitFor(t, "the entry gone after deregister")
		require.Zero(t, leaseOf())
	})

	t.Run("the lease outlives its ttl and expires with its owner", func(t *testing.T) {
		owner := newKV(t, addr)
		var rec recorder
		stop := res.Watch(ctx, "leased", rec.fn)
		defer stop()
		_, err := Register(ctx, owner, "", "leased", "i", "10.0.3.1:80", 1, time.Second)
		require.NoError(t, err)
		want := gwconfig.Target{Address: "10.0.3.1:80", Weight: 1}
		rec.waitFor(t, "the registration", want)
		// For three TTLs the entry stays: the keep-alive renews the lease.
		for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
			_, last := rec.get()
			require.Equal(t, []gwconfig.Target{want}, last, "the entry must stay while kept alive")
			time.Sleep(nodetest.PollInterval)
		}
		// The owner's client goes away without deregistering: the lease
		// expires and the entry with it.
		require.NoError(t, owner.Close())
		rec.waitFor(t, "the expired entry gone")
	})

	t.Run("the list survives a registry restart and changes are seen after it", func(t *testing.T) {
		var rec recorder
		stop := res.Watch(ctx, "durable", rec.fn)
		defer stop()
		_, err := kv.Put(ctx, DefaultRegistryPrefix+"durable/a", `{"address":"10.0.5.1:80"}`)
		require.NoError(t, err)
		a := gwconfig.Target{Address: "10.0.5.1:80", Weight: 1}
		rec.waitFor(t, "the first entry", a)
		calls, _ := rec.get()
		node.stop()
		node.restart()
		_, err = kv.Put(ctx, DefaultRegistryPrefix+"durable/b", `{"address":"10.0.5.2:80"}`)
		require.NoError(t, err)
		rec.waitFor(t, "the entry written after the restart", a, gwconfig.Target{Address: "10.0.5.2:80", Weight: 1})
		after, _ := rec.get()
		require.Equal(t, calls+1, after, "the outage delivered nothing in between")
	})
}
