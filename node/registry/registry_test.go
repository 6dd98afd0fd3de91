package registry

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/nodetest"
	kvclient "cairn.dev/cairn/raftkv/client"
	"cairn.dev/cairn/raftkv/raftkvtest"
)

// registryWait bounds every wait on the in-process raftkv.
const registryWait = 15 * time.Second

// startRegistry runs a one-member raftkv in-process for the test; it stops
// at the test's end.
func startRegistry(t *testing.T) *raftkvtest.Node { return raftkvtest.StartNode(t) }

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
	last  []Instance
}

func (r *recorder) fn(list []Instance) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	r.last = list
}

func (r *recorder) get() (int, []Instance) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls, slices.Clone(r.last)
}

func (r *recorder) waitFor(t *testing.T, what string, want ...Instance) {
	t.Helper()
	nodetest.WaitFor(t, registryWait, what, func() bool {
		calls, last := r.get()
		return calls > 0 && slices.Equal(last, want) || (len(want) == 0 && calls > 0 && len(last) == 0)
	})
}

func TestRegistry(t *testing.T) {
	node := startRegistry(t)
	addr := node.Addr()
	kv := newKV(t, addr)
	ctx := context.Background()
	res := NewResolver(kv, "", nodetest.Logger(t))

	t.Run("watch follows registrations", func(t *testing.T) {
		var rec recorder
		stop := res.Watch(ctx, "api", rec.fn)
		defer stop()
		rec.waitFor(t, "an empty service")

		dereg1, err := Register(ctx, kv, "", "api", "i1", "10.0.0.1:80", 2, 5*time.Second)
		require.NoError(t, err)
		dereg2, err := Register(ctx, kv, DefaultPrefix, "api", "i2", "10.0.0.2:80", 0, 5*time.Second)
		require.NoError(t, err)
		defer dereg2()
		other, err := Register(ctx, kv, "/cairn/services", "apiother", "x", "10.0.0.9:80", 1, 5*time.Second)
		require.NoError(t, err)
		defer other()
		rec.waitFor(t, "two instances", Instance{ID: "i1", Address: "10.0.0.1:80", Weight: 2}, Instance{ID: "i2", Address: "10.0.0.2:80", Weight: 1})

		dereg1()
		dereg1() // idempotent
		rec.waitFor(t, "i1 gone", Instance{ID: "i2", Address: "10.0.0.2:80", Weight: 1})
	})

	t.Run("invalid entries are left out", func(t *testing.T) {
		_, err := kv.Put(ctx, DefaultPrefix+"bad/x", "{nope")
		require.NoError(t, err)
		_, err = kv.Put(ctx, DefaultPrefix+"bad/y", `{"address":"10.0.1.1:80"}`)
		require.NoError(t, err)
		_, err = kv.Put(ctx, DefaultPrefix+"bad/deep/z", `{"address":"10.0.1.3:80"}`)
		require.NoError(t, err)
		var rec recorder
		stop := res.Watch(ctx, "bad", rec.fn)
		defer stop()
		rec.waitFor(t, "only the valid entry", Instance{ID: "y", Address: "10.0.1.1:80", Weight: 1})

		_, err = kv.Put(ctx, DefaultPrefix+"bad/x", `{"address":"10.0.1.0:80","weight":5}`)
		require.NoError(t, err)
		rec.waitFor(t, "the repaired entry", Instance{ID: "x", Address: "10.0.1.0:80", Weight: 5}, Instance{ID: "y", Address: "10.0.1.1:80", Weight: 1})
		_, err = kv.Put(ctx, DefaultPrefix+"bad/x", `{"address":"nope"}`)
		require.NoError(t, err)
		rec.waitFor(t, "the entry broken again", Instance{ID: "y", Address: "10.0.1.1:80", Weight: 1})
		_, err = kv.Delete(ctx, DefaultPrefix+"bad/", kvclient.WithPrefix())
		require.NoError(t, err)
		rec.waitFor(t, "no entries")
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
		_, err := kv.Put(ctx, DefaultPrefix+"quiet/q", `{"address":"10.0.2.1:80"}`)
		require.NoError(t, err)
		second.waitFor(t, "the change", Instance{ID: "q", Address: "10.0.2.1:80", Weight: 1})
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
		rec.waitFor(t, "the raftkv endpoint", Instance{ID: addr, Address: addr, Weight: 1})
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
		want := Instance{ID: "i", Address: "10.0.4.1:80", Weight: 1}
		rec.waitFor(t, "the registration", want)
		leaseOf := func() int64 {
			resp, err := kv.Get(ctx, DefaultPrefix+"phoenix/i")
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
		want := Instance{ID: "i", Address: "10.0.3.1:80", Weight: 1}
		rec.waitFor(t, "the registration", want)
		// For three TTLs the entry stays: the keep-alive renews the lease.
		for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
			_, last := rec.get()
			require.Equal(t, []Instance{want}, last, "the entry must stay while kept alive")
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
		_, err := kv.Put(ctx, DefaultPrefix+"durable/a", `{"address":"10.0.5.1:80"}`)
		require.NoError(t, err)
		a := Instance{ID: "a", Address: "10.0.5.1:80", Weight: 1}
		rec.waitFor(t, "the first entry", a)
		calls, _ := rec.get()
		node.Stop()
		node.Start()
		_, err = kv.Put(ctx, DefaultPrefix+"durable/b", `{"address":"10.0.5.2:80"}`)
		require.NoError(t, err)
		rec.waitFor(t, "the entry written after the restart", a, Instance{ID: "b", Address: "10.0.5.2:80", Weight: 1})
		after, _ := rec.get()
		require.Equal(t, calls+1, after, "the outage delivered nothing in between")
	})
}
