package cached

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"cairn.dev/cairn/cached/ring"
	"cairn.dev/cairn/cached/store"
	cachedv1 "cairn.dev/cairn/proto/cairn/cached/v1"
)

// subscribe opens a Subscribe stream and waits for its header, after which
// every change is delivered.
func subscribe(t *testing.T, nd *testNode, req *cachedv1.SubscribeRequest) (grpc.ServerStreamingClient[cachedv1.SubscribeResponse], metadata.MD) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st, err := nd.cache.Subscribe(ctx, req)
	require.NoError(t, err)
	md, err := st.Header()
	require.NoError(t, err)
	return st, md
}

type event struct {
	kind cachedv1.SubscribeResponse_InvalidationKind
	key  string
	node string
}

func recvEvent(t *testing.T, st grpc.ServerStreamingClient[cachedv1.SubscribeResponse]) event {
	t.Helper()
	ev, err := st.Recv()
	require.NoError(t, err)
	return event{ev.GetKind(), string(ev.GetKey()), ev.GetNodeId()}
}

// A subscriber on one node receives the sets and deletes of matching keys
// from every node, and nothing else.
func TestSubscribeMergesNodes(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	ctx := ctxT(t)
	st, md := subscribe(t, c.nodes[0], &cachedv1.SubscribeRequest{Prefixes: [][]byte{[]byte("inv/")}, Keys: [][]byte{[]byte("exact")}})
	require.ElementsMatch(t, []string{"cached-1", "cached-2", "cached-3"}, strings.Split(md.Get(subscribedHeader)[0], ","))

	writer := c.nodes[1].cache
	for owner := range 3 {
		ignored := c.keyOwnedBy(owner, "other/")
		_, err := writer.Set(ctx, &cachedv1.SetRequest{Key: []byte(ignored), Value: []byte("x")})
		require.NoError(t, err)
		key := c.keyOwnedBy(owner, "inv/")
		_, err = writer.Set(ctx, &cachedv1.SetRequest{Key: []byte(key), Value: []byte("x")})
		require.NoError(t, err)
		require.Equal(t, event{cachedv1.SubscribeResponse_INVALIDATION_KIND_SET, key, c.nodes[owner].id}, recvEvent(t, st))
		_, err = writer.Delete(ctx, &cachedv1.DeleteRequest{Keys: [][]byte{[]byte(key)}})
		require.NoError(t, err)
		require.Equal(t, event{cachedv1.SubscribeResponse_INVALIDATION_KIND_DELETE, key, c.nodes[owner].id}, recvEvent(t, st))
	}
	exact := "exact"
	m, _ := c.nodes[0].srv.owner(exact)
	_, err := writer.IncrBy(ctx, &cachedv1.IncrByRequest{Key: []byte(exact), Delta: 1})
	require.NoError(t, err)
	require.Equal(t, event{cachedv1.SubscribeResponse_INVALIDATION_KIND_SET, exact, m.ID}, recvEvent(t, st))

	// Expiry is reported too (the store's active expiry runs every 100ms).
	key := c.keyOwnedBy(2, "inv/ttl")
	rc := dialRESP(t, c.nodes[2].srv.RESPAddr())
	require.Equal(t, "OK", rc.do("SET", key, "v", "PX", "1"))
	require.Equal(t, event{cachedv1.SubscribeResponse_INVALIDATION_KIND_SET, key, "cached-3"}, recvEvent(t, st))
	require.Equal(t, event{cachedv1.SubscribeResponse_INVALIDATION_KIND_EXPIRE, key, "cached-3"}, recvEvent(t, st))

	// A flush anywhere is a RESET.
	require.Equal(t, "OK", rc.do("FLUSHALL"))
	for range 3 {
		require.Equal(t, cachedv1.SubscribeResponse_INVALIDATION_KIND_RESET, recvEvent(t, st).kind)
	}
}

// When a peer's stream breaks and comes back, the subscriber gets a RESET.
func TestSubscribeResetOnPeerRestart(t *testing.T) {
	c := newTestCluster(t, 2, nil)
	st, _ := subscribe(t, c.nodes[0], &cachedv1.SubscribeRequest{})
	// Stop node 2 and start a new node with the same id and addresses.
	cfg := c.nodes[1].srv.cfg
	cfg.Server.GRPCAddr, cfg.RESPAddr = c.nodes[1].srv.Addr(), c.nodes[1].srv.RESPAddr()
	c.stop(1)
	srv, err := New(cfg, nil)
	require.NoError(t, err)
	srv.SetPeers([]ring.Member{c.nodes[0].srv.Self(), srv.Self()})
	c.nodes[1] = &testNode{id: cfg.ID, srv: srv}
	c.serve(c.nodes[1])
	require.Equal(t, event{cachedv1.SubscribeResponse_INVALIDATION_KIND_RESET, "", "cached-1"}, recvEvent(t, st))
	// The new stream delivers.
	key := c.keyOwnedBy(1, "after-")
	_, err = c.nodes[0].cache.Set(ctxT(t), &cachedv1.SetRequest{Key: []byte(key), Value: []byte("x")})
	require.NoError(t, err)
	require.Equal(t, event{cachedv1.SubscribeResponse_INVALIDATION_KIND_SET, key, "cached-2"}, recvEvent(t, st))
}

// A subscriber whose queue is full drops events and is woken to RESET.
func TestSubscriberLag(t *testing.T) {
	h := newHub()
	sub := newSubscriber(&cachedv1.SubscribeRequest{Prefixes: [][]byte{[]byte("a")}})
	h.add(sub)
	on := h.onChange("n1")
	for range subscriberBuffer + 1 {
		on(store.ChangeSet, "ab", 1)
		on(store.ChangeSet, "b", 1) // filtered out
	}
	require.Len(t, sub.ch, subscriberBuffer)
	require.True(t, sub.lagged.Load())
	require.Len(t, sub.wake, 1)
	on(store.ChangeFlush, "", 0)
	h.remove(sub)
	require.Zero(t, h.n.Load())
	on(store.ChangeSet, "ab", 2) // no subscriber: no work
}
