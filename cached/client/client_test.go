package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/nodetest"
	cachedv1 "cairn.dev/cairn/proto/cairn/cached/v1"
)

func TestNewErrors(t *testing.T) {
	_, err := New(Config{})
	require.ErrorIs(t, err, ErrNoEndpoints)
	_, err = New(Config{Endpoints: []string{"a:1"}, RefreshInterval: -1})
	require.ErrorContains(t, err, "RefreshInterval")
	_, err = New(Config{Endpoints: []string{"nope"}})
	require.ErrorContains(t, err, "not host:port")

	// Nothing listens: New gives up after DialTimeout.
	cl := newFakeCluster(t, 1, 1)
	addr := cl.nodes[0].addr
	cl.nodes[0].stop()
	_, err = New(Config{Endpoints: []string{addr}, DialTimeout: 200 * time.Millisecond})
	require.ErrorIs(t, err, ErrNoRing)
}

// Bug 4: when no endpoint accepts a connection, New fails well before
// DialTimeout and names every endpoint with its error.
func TestNewFailsFastWhenNoEndpointAccepts(t *testing.T) {
	cl := newFakeCluster(t, 2, 1)
	var eps []string
	for _, n := range cl.nodes {
		eps = append(eps, n.addr)
		n.stop()
	}
	const timeout = 10 * time.Second
	start := time.Now()
	_, err := New(Config{Endpoints: eps, DialTimeout: timeout})
	require.Less(t, time.Since(start), timeout/2, "%v", err)
	require.ErrorIs(t, err, ErrNoRing)
	for _, ep := range eps {
		require.ErrorContains(t, err, ep+": connection refused")
	}
}

func TestRoutesEveryKeyToItsOwner(t *testing.T) {
	cl := newFakeCluster(t, 3, 1)
	c := cl.newClient(nil)
	ctx := ctxT(t)
	for i := range 300 {
		k := fmt.Sprintf("key:%d", i)
		_, err := c.Set(ctx, k, []byte("v"+k))
		require.NoError(t, err)
		owner := cl.owner(k)
		for _, nd := range cl.nodes {
			_, ok := nd.get(k)
			require.Equal(t, nd == owner, ok, "key %s on %s (owner %s)", k, nd.id, owner.id)
		}
		it, ok, err := c.GetItem(ctx, k)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "v"+k, string(it.Value))
		require.Equal(t, owner.id, it.ServedBy)
	}
	for _, nd := range cl.nodes {
		require.Positive(t, nd.calls.Load(), "every node owns some keys")
	}
	_, ok, err := c.Get(ctx, "missing")
	require.NoError(t, err)
	require.False(t, ok)

	// An error a node answers with is returned, with its code.
	_, _, err = c.Get(ctx, "")
	require.Equal(t, codes.InvalidArgument, status.Code(err))
}

func TestSetOptionsAndWrites(t *testing.T) {
	cl := newFakeCluster(t, 3, 1)
	c := cl.newClient(nil)
	ctx := ctxT(t)

	v1, err := c.Set(ctx, "k", []byte("1"), IfAbsent(), WithTTL(time.Minute))
	require.NoError(t, err)
	_, err = c.Set(ctx, "k", []byte("2"), IfAbsent())
	require.ErrorIs(t, err, ErrNotStored)
	_, err = c.Set(ctx, "other", []byte("2"), IfPresent())
	require.ErrorIs(t, err, ErrNotStored)
	_, err = c.Set(ctx, "k", []byte("2"), IfVersion(v1+100))
	require.ErrorIs(t, err, ErrNotStored)
	v2, err := c.Set(ctx, "k", []byte("2"), IfVersion(v1), KeepTTL())
	require.NoError(t, err)
	require.Greater(t, v2, v1)
	it, ok, err := c.GetItem(ctx, "k")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, time.Minute, it.TTL, "KeepTTL kept the TTL")
	require.Equal(t, v2, it.Version)

	found, err := c.Touch(ctx, "k", 0)
	require.NoError(t, err)
	require.True(t, found)
	found, err = c.Touch(ctx, "nope", time.Second)
	require.NoError(t, err)
	require.False(t, found)

	n, err := c.IncrBy(ctx, "counter", 5)
	require.NoError(t, err)
	require.EqualValues(t, 5, n)
	n, err = c.IncrBy(ctx, "counter", -2)
	require.NoError(t, err)
	require.EqualValues(t, 3, n)
	_, err = c.Set(ctx, "text", []byte("abc"))
	require.NoError(t, err)
	_, err = c.IncrBy(ctx, "text", 1)
	require.Equal(t, codes.FailedPrecondition, status.Code(err))

	var keys []string
	for i := range 20 {
		keys = append(keys, fmt.Sprintf("d%d", i))
		_, err := c.Set(ctx, keys[i], []byte("x"))
		require.NoError(t, err)
	}
	d, err := c.Delete(ctx, append(keys, "absent")...)
	require.NoError(t, err)
	require.EqualValues(t, 20, d)
}

func TestMGetOneCallPerOwner(t *testing.T) {
	cl := newFakeCluster(t, 3, 1)
	c := cl.newClient(nil)
	ctx := ctxT(t)
	var keys []string
	for i := range 60 {
		k := fmt.Sprintf("m%d", i)
		keys = append(keys, k)
		if i%2 == 0 {
			cl.owner(k).put(k, []byte(k))
		}
	}
	before := map[string]int64{}
	for _, nd := range cl.nodes {
		before[nd.id] = nd.calls.Load()
	}
	got, err := c.MGet(ctx, append(keys, keys[0])...)
	require.NoError(t, err)
	require.Len(t, got, 30)
	for i, k := range keys {
		if i%2 == 0 {
			require.Equal(t, k, string(got[k]))
		}
	}
	for _, nd := range cl.nodes {
		require.EqualValues(t, 1, nd.calls.Load()-before[nd.id], "node %s", nd.id)
	}
}

// TestDownOwnerIsAMissNotAnError: with one replica, a down owner's keys read
// as misses; writes to it fail with ErrUnavailable.
func TestDownOwnerIsAMissNotAnError(t *testing.T) {
	cl := newFakeCluster(t, 3, 1)
	c := cl.newClient(func(c *Config) { c.RequestTimeout = 500 * time.Millisecond })
	ctx := ctxT(t)
	k := "user:1"
	down := cl.owner(k)
	down.put(k, []byte("v"))
	down.stop()

	val, ok, err := c.Get(ctx, k)
	require.NoError(t, err)
	require.False(t, ok)
	require.Nil(t, val)
	got, err := c.MGet(ctx, k)
	require.NoError(t, err)
	require.Empty(t, got)

	_, err = c.Set(ctx, k, []byte("w"))
	require.ErrorIs(t, err, ErrUnavailable)
	require.Equal(t, codes.Unavailable, status.Code(err))

	st, err := c.Stats(ctx)
	require.NoError(t, err)
	require.Len(t, st, 3)
	for _, s := range st {
		if s.Member.ID == down.id {
			require.ErrorIs(t, s.Err, ErrUnavailable)
		} else {
			require.NoError(t, s.Err)
			require.Equal(t, s.Member.ID, s.Stats.GetNodeId())
		}
	}
}

// TestGetFallsBackToReplica: with two replicas, a down owner's keys are read
// from the next member on the ring.
func TestGetFallsBackToReplica(t *testing.T) {
	cl := newFakeCluster(t, 3, 2)
	c := cl.newClient(func(c *Config) { c.RequestTimeout = 500 * time.Millisecond })
	ctx := ctxT(t)
	r := cl.ring()
	var keys []string
	for i := range 10 {
		keys = append(keys, fmt.Sprintf("r%d", i))
	}
	down := cl.owner(keys[0])
	for _, k := range keys {
		for _, m := range r.Owners(k, 2) {
			cl.node(m.ID).put(k, []byte(k+"@"+m.ID))
		}
	}
	down.stop()
	for _, k := range keys {
		it, ok, err := c.GetItem(ctx, k)
		require.NoError(t, err)
		require.True(t, ok, k)
		owners := r.Owners(k, 2)
		want := owners[0]
		if want.ID == down.id {
			want = owners[1]
		}
		require.Equal(t, k+"@"+want.ID, string(it.Value))
	}
	got, err := c.MGet(ctx, keys...)
	require.NoError(t, err)
	require.Len(t, got, len(keys))
}

func TestRingRefresh(t *testing.T) {
	cl := newFakeCluster(t, 3, 1)
	c := cl.newClient(func(c *Config) { c.RefreshInterval = 10 * time.Millisecond })
	ctx := ctxT(t)
	info, err := c.Ring(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, info.Epoch)
	require.Len(t, info.Members, 3)
	sum := 0.0
	for _, m := range info.Members {
		require.Equal(t, "resp-"+m.Addr, m.RESPAddr)
		sum += m.Share
	}
	require.InDelta(t, 1, sum, 1e-9)
	b, err := json.Marshal(info)
	require.NoError(t, err)
	require.Contains(t, string(b), `"resp_addr":`)
	require.Contains(t, string(b), `"vnodes":64,"replicas":1,"epoch":1`)

	// A fourth node joins: the refresher picks it up and keys move to it.
	nd := cl.startNode()
	cl.setMembers("cached-1", "cached-2", "cached-3", nd.id)
	nodetest.WaitFor(t, 5*time.Second, "the client to see 4 members", func() bool { return c.view.Load().ring.Len() == 4 })
	moved := 0
	for i := range 200 {
		k := fmt.Sprintf("k%d", i)
		if cl.owner(k) == nd {
			moved++
			_, err := c.Set(ctx, k, []byte("x"))
			require.NoError(t, err)
			_, ok := nd.get(k)
			require.True(t, ok)
		}
	}
	require.Positive(t, moved)

	// An older ring (a node with a stale view) is ignored.
	c.install(mustRing(t, cl, 0))
	require.Equal(t, 4, c.view.Load().ring.Len())

	// A node leaves; its connection is closed.
	cl.setMembers("cached-1", "cached-2", "cached-3")
	nodetest.WaitFor(t, 5*time.Second, "the client to see 3 members and drop the connection", func() bool {
		c.mu.Lock()
		_, stillOpen := c.conns[nd.addr]
		c.mu.Unlock()
		return c.view.Load().ring.Len() == 3 && !stillOpen
	})
}

func mustRing(t *testing.T, cl *fakeCluster, epoch uint64) *cachedv1.RingResponse {
	resp, err := cl.nodes[0].Ring(ctxT(t), nil)
	require.NoError(t, err)
	resp.Epoch = epoch
	resp.Members = resp.Members[:1]
	return resp
}

func TestClosed(t *testing.T) {
	cl := newFakeCluster(t, 1, 1)
	c := cl.newClient(nil)
	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	ctx := ctxT(t)
	_, _, err := c.Get(ctx, "k")
	require.ErrorIs(t, err, ErrClosed)
	_, err = c.Set(ctx, "k", nil)
	require.ErrorIs(t, err, ErrClosed)
	_, err = c.Ring(ctx)
	require.ErrorIs(t, err, ErrClosed)
	_, err = c.GetOrLoad(ctx, "k", 0, func(ctx context.Context) ([]byte, error) { return nil, errors.New("no") })
	require.ErrorIs(t, err, ErrClosed)
}
