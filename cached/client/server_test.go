package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/cached"
	"cairn.dev/cairn/cached/client"
	"cairn.dev/cairn/node/nodetest"
)

// startCached runs a one-node cached server in-process on ports from :0.
func startCached(t *testing.T, maxMemory int64) *cached.Server {
	t.Helper()
	cfg := cached.DefaultConfig()
	cfg.ID = "cached-1"
	cfg.Server.GRPCAddr = "127.0.0.1:0"
	cfg.Server.AdminAddr = ""
	cfg.Server.ShutdownTimeout = time.Second
	cfg.RESPAddr = "127.0.0.1:0"
	cfg.MaxMemory = maxMemory
	srv, err := cached.New(cfg, nodetest.Logger(t))
	require.NoError(t, err)
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
		t.Fatalf("cached stopped at start: %v", err)
	}
	return srv
}

// TestAgainstRealServer runs the client's API against an in-process cached.
func TestAgainstRealServer(t *testing.T) {
	srv := startCached(t, 0)
	c, err := client.New(client.Config{Endpoints: []string{srv.Addr()}, Logger: nodetest.Logger(t)})
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	info, err := c.Ring(ctx)
	require.NoError(t, err)
	require.Len(t, info.Members, 1)
	require.Equal(t, "cached-1", info.Members[0].ID)
	require.Equal(t, srv.Addr(), info.Members[0].Addr)
	require.Equal(t, srv.RESPAddr(), info.Members[0].RESPAddr)
	require.InDelta(t, 1, info.Members[0].Share, 1e-9)

	v1, err := c.Set(ctx, "user:123", []byte(`{"name":"John"}`), client.WithTTL(time.Hour))
	require.NoError(t, err)
	it, ok, err := c.GetItem(ctx, "user:123")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, `{"name":"John"}`, string(it.Value))
	require.Equal(t, v1, it.Version)
	require.Greater(t, it.TTL, 59*time.Minute)
	require.Equal(t, "cached-1", it.ServedBy)

	_, err = c.Set(ctx, "user:123", []byte("x"), client.IfAbsent())
	require.ErrorIs(t, err, client.ErrNotStored)
	_, err = c.Set(ctx, "user:123", []byte("x"), client.IfVersion(v1+1))
	require.ErrorIs(t, err, client.ErrNotStored)
	_, err = c.Set(ctx, "user:123", []byte("y"), client.IfVersion(v1), client.KeepTTL())
	require.NoError(t, err)

	got, err := c.MGet(ctx, "user:123", "nope")
	require.NoError(t, err)
	require.Equal(t, map[string][]byte{"user:123": []byte("y")}, got)

	found, err := c.Touch(ctx, "user:123", 0)
	require.NoError(t, err)
	require.True(t, found)
	it, _, err = c.GetItem(ctx, "user:123")
	require.NoError(t, err)
	require.Zero(t, it.TTL)

	n, err := c.IncrBy(ctx, "hits", 2)
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	d, err := c.Delete(ctx, "user:123", "hits", "nope")
	require.NoError(t, err)
	require.EqualValues(t, 2, d)

	v, err := c.GetOrLoad(ctx, "loaded", time.Minute, func(context.Context) ([]byte, error) { return []byte("db"), nil })
	require.NoError(t, err)
	require.Equal(t, "db", string(v))
	v, ok, err = c.Get(ctx, "loaded")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "db", string(v))

	st, err := c.Stats(ctx)
	require.NoError(t, err)
	require.Len(t, st, 1)
	require.NoError(t, st[0].Err)
	require.Positive(t, st[0].Stats.GetHits())
}

// TestNearCacheAgainstRealServer: a write through another client reaches the
// near cache as an invalidation from a real node.
func TestNearCacheAgainstRealServer(t *testing.T) {
	srv := startCached(t, 0)
	newClient := func() *client.Client {
		c, err := client.New(client.Config{Endpoints: []string{srv.Addr()}})
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	}
	c, other := newClient(), newClient()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := other.Set(ctx, "k", []byte("v1"))
	require.NoError(t, err)

	n, err := client.NewNearCache(c, client.NearCacheConfig{MaxItems: 10})
	require.NoError(t, err)
	defer n.Close()
	// The stream comes up in the background: poll until a Get is kept.
	deadline := time.Now().Add(5 * time.Second)
	for n.Stats().Items == 0 {
		require.True(t, time.Now().Before(deadline), "the near cache never kept a value")
		v, ok, err := n.Get(ctx, "k")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "v1", string(v))
		time.Sleep(5 * time.Millisecond)
	}
	_, err = other.Set(ctx, "k", []byte("v2"))
	require.NoError(t, err)
	deadline = time.Now().Add(5 * time.Second)
	for {
		v, _, err := n.Get(ctx, "k")
		require.NoError(t, err)
		if string(v) == "v2" {
			break
		}
		require.True(t, time.Now().Before(deadline), "the invalidation never arrived")
		time.Sleep(5 * time.Millisecond)
	}
}
