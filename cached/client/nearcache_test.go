package client

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/nodetest"
)

func newNear(t *testing.T, c *Client, cfg NearCacheConfig) *NearCache {
	t.Helper()
	n, err := NewNearCache(c, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { n.Close() })
	return n
}

// waitLive waits until the near cache's streams to every node are up.
func waitLive(t *testing.T, n *NearCache, cl *fakeCluster) {
	t.Helper()
	nodetest.WaitFor(t, 5e9, "near-cache streams", func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		return len(n.live) == len(cl.members)
	})
}

func TestNearCacheServesLocallyAndInvalidates(t *testing.T) {
	cl := newFakeCluster(t, 3, 1)
	c := cl.newClient(nil)
	ctx := ctxT(t)
	// Written before the streams exist: no invalidation is in flight.
	owner := cl.owner("user:1")
	owner.put("user:1", []byte("v1"))
	cl.owner("page:1").put("page:1", []byte("p"))
	n := newNear(t, c, NearCacheConfig{MaxItems: 100, Prefixes: []string{"user:"}})
	waitLive(t, n, cl)
	for range 3 {
		v, ok, err := n.Get(ctx, "user:1")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "v1", string(v))
	}
	require.Equal(t, NearCacheStats{Hits: 2, Misses: 1, Items: 1}, n.Stats())

	// A write by someone else reaches the near cache as an invalidation.
	other := cl.newClient(nil)
	_, err := other.Set(ctx, "user:1", []byte("v2"))
	require.NoError(t, err)
	nodetest.WaitFor(t, 5e9, "the invalidation", func() bool { return n.Stats().Items == 0 })
	v, _, err := n.Get(ctx, "user:1")
	require.NoError(t, err)
	require.Equal(t, "v2", string(v))

	// Keys outside the prefixes are never kept.
	for range 2 {
		_, ok, err := n.Get(ctx, "page:1")
		require.NoError(t, err)
		require.True(t, ok)
	}
	require.Equal(t, 1, n.Stats().Items)

	// RESET drops everything.
	owner.reset()
	nodetest.WaitFor(t, 5e9, "the reset", func() bool { return n.Stats().Items == 0 })

	// Own writes drop the local copy at once.
	_, _, _ = n.Get(ctx, "user:1")
	require.Equal(t, 1, n.Stats().Items)
	_, err = n.Set(ctx, "user:1", []byte("v3"))
	require.NoError(t, err)
	require.Equal(t, 0, n.Stats().Items)
	v, _, _ = n.Get(ctx, "user:1")
	require.Equal(t, "v3", string(v))
	_, err = n.Delete(ctx, "user:1")
	require.NoError(t, err)
	_, ok, err := n.Get(ctx, "user:1")
	require.NoError(t, err)
	require.False(t, ok)
}

// TestNearCacheInvalidationDuringFetch: an invalidation that arrives while a
// value is being fetched keeps the fetched value out of the near cache.
func TestNearCacheInvalidationDuringFetch(t *testing.T) {
	cl := newFakeCluster(t, 1, 1)
	c := cl.newClient(nil)
	n := newNear(t, c, NearCacheConfig{})
	waitLive(t, n, cl)
	cl.nodes[0].put("k", []byte("old"))

	f := &nearFill{}
	n.mu.Lock()
	n.fills["k"] = []*nearFill{f}
	n.mu.Unlock()
	n.invalidate("k")
	n.mu.Lock()
	require.True(t, f.invalidated)
	delete(n.fills, "k")
	n.mu.Unlock()
}

// TestNearCacheDoesNotFillWithoutStream: with its owner's stream down, a key
// is fetched but not kept, and a broken stream drops every copy.
func TestNearCacheDoesNotFillWithoutStream(t *testing.T) {
	cl := newFakeCluster(t, 2, 1)
	c := cl.newClient(nil)
	ctx := ctxT(t)
	for i := range 20 {
		k := string(rune('a' + i))
		cl.owner(k).put(k, []byte(k))
	}
	n := newNear(t, c, NearCacheConfig{})
	waitLive(t, n, cl)
	for i := range 20 {
		k := string(rune('a' + i))
		_, ok, err := n.Get(ctx, k)
		require.NoError(t, err)
		require.True(t, ok)
	}
	require.Equal(t, 20, n.Stats().Items)

	down := cl.nodes[0]
	down.stop()
	nodetest.WaitFor(t, 5e9, "the broken stream to drop the copies, and a new stream", func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		return !n.live[down.id] && n.live[cl.nodes[1].id] && n.lru.len() == 0
	})
	for i := range 20 {
		k := string(rune('a' + i))
		if cl.owner(k) != down {
			_, _, err := n.Get(ctx, k)
			require.NoError(t, err)
		}
	}
	require.Positive(t, n.Stats().Items)
	n.mu.Lock()
	for k := range n.lru.items {
		require.NotEqual(t, down, cl.owner(k), "kept %s, owned by the down node", k)
	}
	n.mu.Unlock()
}
