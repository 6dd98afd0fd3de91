package cached

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	cachedv1 "cairn.dev/cairn/proto/cairn/cached/v1"
)

// A key set through any node is read through every node, over gRPC and RESP,
// and is served by its owner.
func TestForwarding(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	ctx := ctxT(t)
	for owner := range 3 {
		key := c.keyOwnedBy(owner, "fwd-")
		val := "value-of-" + key
		set, err := c.nodes[0].cache.Set(ctx, &cachedv1.SetRequest{Key: []byte(key), Value: []byte(val), Ttl: durationpb.New(time.Hour)})
		require.NoError(t, err)
		require.True(t, set.GetStored())
		for i, nd := range c.nodes {
			got, err := nd.cache.Get(ctx, &cachedv1.GetRequest{Key: []byte(key)})
			require.NoError(t, err)
			require.True(t, got.GetFound(), "node %d", i)
			require.Equal(t, val, string(got.GetItem().GetValue()))
			require.Equal(t, c.nodes[owner].id, got.GetServedBy())
			require.Equal(t, set.GetVersion(), got.GetItem().GetVersion())
			require.InDelta(t, time.Hour.Seconds(), got.GetItem().GetTtl().AsDuration().Seconds(), 60)

			rc := dialRESP(t, nd.srv.RESPAddr())
			require.Equal(t, strconv.Quote(val), rc.do("GET", key))
		}
		// Only the owner stores it.
		for i, nd := range c.nodes {
			_, ok := nd.srv.store.Peek(key)
			require.Equal(t, i == owner, ok, "node %d holds %s", i, key)
		}
	}
	st, err := c.nodes[1].cache.Stats(ctx, &cachedv1.StatsRequest{})
	require.NoError(t, err)
	require.Positive(t, st.GetForwarded())
	require.Equal(t, "cached-2", st.GetNodeId())

	// Ring and Status.
	rr, err := c.nodes[2].ring.Ring(ctx, &cachedv1.RingRequest{})
	require.NoError(t, err)
	require.Len(t, rr.GetMembers(), 3)
	var share float64
	for i, m := range rr.GetMembers() {
		require.Equal(t, c.nodes[i].srv.Addr(), m.GetAddr())
		require.Equal(t, c.nodes[i].srv.RESPAddr(), m.GetRespAddr())
		share += m.GetShare()
	}
	require.InDelta(t, 1, share, 1e-9)
	require.EqualValues(t, 160, rr.GetVnodes())
	require.EqualValues(t, 1, rr.GetReplicas())
	sr, err := c.nodes[2].ring.Status(ctx, &cachedv1.StatusRequest{})
	require.NoError(t, err)
	require.Equal(t, "serving", sr.GetState())
	require.EqualValues(t, 3, sr.GetMembers())
	require.Equal(t, c.nodes[2].srv.RESPAddr(), sr.GetRespAddr())
}

// Every CacheService RPC routes to the owner; MGet and Delete fan out.
func TestCacheServiceRPCs(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	ctx := ctxT(t)
	n := c.nodes[1].cache
	keys := [][]byte{}
	for owner := range 3 {
		k := c.keyOwnedBy(owner, "rpc-")
		keys = append(keys, []byte(k))
		_, err := n.Set(ctx, &cachedv1.SetRequest{Key: []byte(k), Value: []byte("v" + k)})
		require.NoError(t, err)
	}
	missing := []byte("rpc-missing")
	mg, err := n.MGet(ctx, &cachedv1.MGetRequest{Keys: append(append([][]byte{}, keys...), missing)})
	require.NoError(t, err)
	require.Len(t, mg.GetItems(), 4)
	for i, k := range keys {
		require.True(t, mg.GetItems()[i].GetFound())
		require.Equal(t, "v"+string(k), string(mg.GetItems()[i].GetItem().GetValue()))
		require.Equal(t, c.nodes[i].id, mg.GetItems()[i].GetServedBy())
	}
	require.False(t, mg.GetItems()[3].GetFound())

	// Conditional sets.
	s1, err := n.Set(ctx, &cachedv1.SetRequest{Key: keys[2], Value: []byte("x"), Mode: cachedv1.SetMode_SET_MODE_IF_ABSENT})
	require.NoError(t, err)
	require.False(t, s1.GetStored())
	cur, err := n.Get(ctx, &cachedv1.GetRequest{Key: keys[2]})
	require.NoError(t, err)
	s2, err := n.Set(ctx, &cachedv1.SetRequest{Key: keys[2], Value: []byte("x"), IfVersion: cur.GetItem().GetVersion() + 1})
	require.NoError(t, err)
	require.False(t, s2.GetStored())
	s3, err := n.Set(ctx, &cachedv1.SetRequest{Key: keys[2], Value: []byte("x"), IfVersion: cur.GetItem().GetVersion()})
	require.NoError(t, err)
	require.True(t, s3.GetStored())
	require.Greater(t, s3.GetVersion(), cur.GetItem().GetVersion())

	// Touch and IncrBy.
	tr, err := n.Touch(ctx, &cachedv1.TouchRequest{Key: keys[0], Ttl: durationpb.New(time.Minute)})
	require.NoError(t, err)
	require.True(t, tr.GetFound())
	g, err := n.Get(ctx, &cachedv1.GetRequest{Key: keys[0]})
	require.NoError(t, err)
	require.NotNil(t, g.GetItem().GetTtl())
	tr, err = n.Touch(ctx, &cachedv1.TouchRequest{Key: keys[0]})
	require.NoError(t, err)
	require.True(t, tr.GetFound())
	g, err = n.Get(ctx, &cachedv1.GetRequest{Key: keys[0]})
	require.NoError(t, err)
	require.Nil(t, g.GetItem().GetTtl())
	tr, err = n.Touch(ctx, &cachedv1.TouchRequest{Key: missing, Ttl: durationpb.New(time.Minute)})
	require.NoError(t, err)
	require.False(t, tr.GetFound())

	ctr := []byte(c.keyOwnedBy(2, "ctr-"))
	for i := 1; i <= 3; i++ {
		ir, err := n.IncrBy(ctx, &cachedv1.IncrByRequest{Key: ctr, Delta: 5})
		require.NoError(t, err)
		require.EqualValues(t, 5*i, ir.GetValue())
	}
	_, err = n.IncrBy(ctx, &cachedv1.IncrByRequest{Key: keys[2], Delta: 1})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)

	del, err := n.Delete(ctx, &cachedv1.DeleteRequest{Keys: append(append([][]byte{}, keys...), missing)})
	require.NoError(t, err)
	require.EqualValues(t, 3, del.GetDeleted())

	// Validation.
	_, err = n.Get(ctx, &cachedv1.GetRequest{})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = n.Set(ctx, &cachedv1.SetRequest{Key: []byte("k"), Ttl: durationpb.New(-time.Second)})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = n.Set(ctx, &cachedv1.SetRequest{Key: []byte("k"), Value: make([]byte, 2<<20)})
	require.Equal(t, codes.ResourceExhausted, status.Code(err), "%v", err)
}

// With one copy, a stopped node costs exactly its keys: reads of them are
// misses (not errors), other keys still hit, and writes to it fail.
func TestOwnerDownIsMiss(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	ctx := ctxT(t)
	dead := c.keyOwnedBy(2, "k-")
	live := c.keyOwnedBy(1, "k-")
	for _, k := range []string{dead, live} {
		_, err := c.nodes[0].cache.Set(ctx, &cachedv1.SetRequest{Key: []byte(k), Value: []byte("v")})
		require.NoError(t, err)
	}
	c.stop(2)
	before, err := c.nodes[0].cache.Stats(ctx, &cachedv1.StatsRequest{})
	require.NoError(t, err)
	got, err := c.nodes[0].cache.Get(ctx, &cachedv1.GetRequest{Key: []byte(dead)})
	require.NoError(t, err)
	require.False(t, got.GetFound())
	got, err = c.nodes[0].cache.Get(ctx, &cachedv1.GetRequest{Key: []byte(live)})
	require.NoError(t, err)
	require.True(t, got.GetFound())
	mg, err := c.nodes[0].cache.MGet(ctx, &cachedv1.MGetRequest{Keys: [][]byte{[]byte(dead), []byte(live)}})
	require.NoError(t, err)
	require.False(t, mg.GetItems()[0].GetFound())
	require.True(t, mg.GetItems()[1].GetFound())
	after, err := c.nodes[0].cache.Stats(ctx, &cachedv1.StatsRequest{})
	require.NoError(t, err)
	require.GreaterOrEqual(t, after.GetMisses()-before.GetMisses(), int64(2))
	require.EqualValues(t, 2, c.nodes[0].srv.metrics.unreachable.Load())

	_, err = c.nodes[0].cache.Set(ctx, &cachedv1.SetRequest{Key: []byte(dead), Value: []byte("v")})
	require.Equal(t, codes.Unavailable, status.Code(err), "%v", err)

	rc := dialRESP(t, c.nodes[1].srv.RESPAddr())
	require.Equal(t, "(nil)", rc.do("GET", dead))
	require.Equal(t, `"v"`, rc.do("GET", live))
	require.Equal(t, `[(nil), "v"]`, rc.do("MGET", dead, live))
	require.Equal(t, "(integer) 1", rc.do("EXISTS", dead, live))
	require.Contains(t, rc.do("SET", dead, "x"), "(error) ERR cached: key owner unreachable")
}

// With two copies, the replica answers for a stopped owner.
func TestReplicaServesWhenOwnerDown(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.Replicas = 2 })
	ctx := ctxT(t)
	var keys []string
	for i := range 20 {
		k := c.keyOwnedBy(2, fmt.Sprintf("r%d-", i))
		keys = append(keys, k)
		_, err := c.nodes[0].cache.Set(ctx, &cachedv1.SetRequest{Key: []byte(k), Value: []byte("v-" + k)})
		require.NoError(t, err)
	}
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	require.Equal(t, "OK", rc.do("SET", keys[0], "via-resp"))
	require.Equal(t, "(integer) 7", rc.do("INCRBY", keys[1]+"-ctr", "7"))
	// Every key has a copy on a node other than its owner.
	for _, k := range keys {
		reps := c.nodes[2].srv.replicasOf(k)
		require.Len(t, reps, 1)
		held := false
		for _, nd := range c.nodes {
			if nd.id == reps[0].ID {
				_, held = nd.srv.store.Peek(k)
			}
		}
		require.True(t, held, "replica of %s", k)
	}
	c.stop(2)
	for i, k := range keys {
		for _, nd := range c.nodes[:2] {
			got, err := nd.cache.Get(ctx, &cachedv1.GetRequest{Key: []byte(k)})
			require.NoError(t, err)
			require.True(t, got.GetFound(), "key %s via %s", k, nd.id)
			want := "v-" + k
			if i == 0 {
				want = "via-resp"
			}
			require.Equal(t, want, string(got.GetItem().GetValue()))
			require.NotEqual(t, "cached-3", got.GetServedBy())
		}
	}
	require.Equal(t, `"via-resp"`, rc.do("GET", keys[0]))
	require.Equal(t, `["via-resp", "v-`+keys[2]+`"]`, rc.do("MGET", keys[0], keys[2]))
	require.Zero(t, c.nodes[0].srv.metrics.unreachable.Load())
}

// A random sequence of commands through random nodes behaves like a map.
func TestRESPClusterModel(t *testing.T) { forEachRESPIOStaying(t, testRESPClusterModel) }

func testRESPClusterModel(t *testing.T, tune func(*Config)) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	c := newTestCluster(t, 3, tune)
	clients := make([]*respClient, 3)
	for i, nd := range c.nodes {
		clients[i] = dialRESP(t, nd.srv.RESPAddr())
	}
	model := map[string]string{}
	key := func() string { return fmt.Sprintf("m%d", rng.IntN(40)) }
	q := func(k string) string {
		if v, ok := model[k]; ok {
			return strconv.Quote(v)
		}
		return "(nil)"
	}
	for step := range 600 {
		rc := clients[rng.IntN(3)]
		k := key()
		switch op := rng.IntN(7); op {
		case 0, 1:
			v := strconv.Itoa(rng.IntN(1000))
			require.Equal(t, "OK", rc.do("SET", k, v), "step %d", step)
			model[k] = v
		case 2:
			require.Equal(t, q(k), rc.do("GET", k), "step %d", step)
		case 3:
			want := 0
			if _, ok := model[k]; ok {
				want = 1
			}
			k2 := key()
			if _, ok := model[k2]; ok && k2 != k {
				want++
			}
			if k2 == k {
				k2 = k + "-absent"
			}
			require.Equal(t, fmt.Sprintf("(integer) %d", want), rc.do("DEL", k, k2), "step %d", step)
			delete(model, k)
			delete(model, k2)
		case 4:
			ks := []string{key(), key(), key()}
			want := "[" + q(ks[0]) + ", " + q(ks[1]) + ", " + q(ks[2]) + "]"
			require.Equal(t, want, rc.do("MGET", ks[0], ks[1], ks[2]), "step %d", step)
		case 5:
			k2 := key()
			require.Equal(t, "OK", rc.do("MSET", k, "a"+k, k2, "b"+k2), "step %d", step)
			model[k], model[k2] = "a"+k, "b"+k2
		case 6:
			v, ok := model[k]
			got := rc.do("APPEND", k, "z")
			require.Equal(t, fmt.Sprintf("(integer) %d", len(v)+1), got, "step %d (had %v)", step, ok)
			model[k] = v + "z"
		}
	}
	// DBSIZE counts the keys of the whole cluster, on every node.
	for _, rc := range clients {
		require.Equal(t, fmt.Sprintf("(integer) %d", len(model)), rc.do("DBSIZE"))
	}
	require.Equal(t, "OK", clients[0].do("FLUSHALL"))
	for _, rc := range clients {
		require.Equal(t, "(integer) 0", rc.do("DBSIZE"))
	}
}
