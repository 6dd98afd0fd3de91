package cached

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/cached/store"
	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/rpcerr"
	cachedv1 "cairn.dev/cairn/proto/cairn/cached/v1"
)

// Hash commands reach the owner from any node, the replicas hold identical
// copies (fields in order, TTL), and the gRPC API refuses to read a hash.
func TestClusterHashes(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.Replicas = 2 })
	ctx := ctxT(t)
	r := c.nodes[0].srv.currentView().ring
	for owner := range 3 {
		key := c.keyOwnedBy(owner, "hash-")
		rc := dialRESP(t, c.nodes[(owner+1)%3].srv.RESPAddr())
		require.Equal(t, ":3\r\n", rc.raw("HSET", key, "f1", "v1", "f2", "v2", "f3", "v3"))
		require.Equal(t, ":1\r\n", rc.raw("HDEL", key, "f2"))
		require.Equal(t, ":1\r\n", rc.raw("EXPIRE", key, "100"))
		require.Equal(t, ":7\r\n", rc.raw("HINCRBY", key, "n", "7"))
		for i := range c.nodes {
			other := dialRESP(t, c.nodes[i].srv.RESPAddr())
			require.Equal(t, "*6\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf3\r\n$2\r\nv3\r\n$1\r\nn\r\n$1\r\n7\r\n", other.raw("HGETALL", key))
			require.Equal(t, "+hash\r\n", other.raw("TYPE", key))
			require.Equal(t, wrongType, other.raw("GET", key))
		}
		set := r.Owners(key, 2)
		require.Equal(t, c.nodes[owner].id, set[0].ID)
		var replica *testNode
		for _, nd := range c.nodes {
			if nd.id == set[1].ID {
				replica = nd
			}
		}
		want := []store.Field{{Name: "f1", Value: []byte("v1")}, {Name: "f3", Value: []byte("v3")}, {Name: "n", Value: []byte("7")}}
		nodetest.WaitFor(t, 5*time.Second, "the replica holds the hash", func() bool {
			it, ok := replica.srv.store.Peek(key)
			return ok && it.Kind == store.KindHash && fmt.Sprint(it.Fields) == fmt.Sprint(want) && !it.ExpiresAt.IsZero()
		})

		_, err := c.nodes[owner].cache.Get(ctx, &cachedv1.GetRequest{Key: []byte(key)})
		require.Equal(t, codes.FailedPrecondition, status.Code(err))
		info, ok := rpcerr.FromError(err)
		require.True(t, ok)
		require.Equal(t, rpcerr.WrongType, info.Reason)
		_, err = c.nodes[(owner+2)%3].cache.Get(ctx, &cachedv1.GetRequest{Key: []byte(key)})
		require.Equal(t, codes.FailedPrecondition, status.Code(err), "forwarded")

		require.Equal(t, ":3\r\n", rc.raw("HDEL", key, "f1", "f3", "n"))
		nodetest.WaitFor(t, 5*time.Second, "the replica dropped the emptied hash", func() bool {
			_, ok := replica.srv.store.Peek(key)
			return !ok
		})
	}
}

// KEYS and SCAN see every member's keys once, also with replicas; a SCAN
// cursor can be continued on any node, and a key present for the whole scan
// is returned even while other keys come and go.
func TestClusterKeysScan(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.Replicas = 2 })
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	var want []string
	for i := range 60 {
		k := fmt.Sprintf("k%02d", i)
		if i%3 == 0 {
			require.Equal(t, ":1\r\n", rc.raw("HSET", k, "f", "v"))
		} else {
			require.Equal(t, "+OK\r\n", rc.raw("SET", k, "v"))
		}
		want = append(want, k)
	}
	for i := range c.nodes {
		other := dialRESP(t, c.nodes[i].srv.RESPAddr())
		rep := other.reply("KEYS", "k*")
		var got []string
		for _, e := range rep.Elems {
			got = append(got, e.Str)
		}
		require.Equal(t, want, sortedCopy(got), "KEYS through node %d", i)
		require.Len(t, other.reply("KEYS", "k0?").Elems, 10)
	}

	clients := []*respClient{dialRESP(t, c.nodes[0].srv.RESPAddr()), dialRESP(t, c.nodes[1].srv.RESPAddr()), dialRESP(t, c.nodes[2].srv.RESPAddr())}
	writer := dialRESP(t, c.nodes[1].srv.RESPAddr())
	seen := map[string]int{}
	hashes := map[string]bool{}
	cursor, calls := "0", 0
	for {
		rep := clients[calls%3].reply("SCAN", cursor, "COUNT", "3", "MATCH", "k*")
		require.Len(t, rep.Elems, 2)
		for _, e := range rep.Elems[1].Elems {
			seen[e.Str]++
		}
		// Churn: keys that come and go during the scan.
		require.Equal(t, "OK", writer.do("SET", "churn"+strconv.Itoa(calls), "v"))
		if calls > 2 {
			writer.do("DEL", "churn"+strconv.Itoa(calls-2))
		}
		calls++
		cursor = rep.Elems[0].Str
		if cursor == "0" {
			break
		}
		require.Less(t, calls, 10000)
	}
	for _, k := range want {
		require.Equal(t, 1, seen[k], "%s", k)
	}
	require.Len(t, seen, len(want))
	cursor = "0"
	for {
		rep := clients[0].reply("SCAN", cursor, "TYPE", "hash", "COUNT", "7")
		for _, e := range rep.Elems[1].Elems {
			hashes[e.Str] = true
		}
		if cursor = rep.Elems[0].Str; cursor == "0" {
			break
		}
	}
	require.Len(t, hashes, 20)
}

// RENAME and transactions run on one node: over two owners they answer
// CROSSSLOT and change nothing; on another node's keys they are carried to
// it, WATCH included, in every RESP I/O mode.
func TestClusterRenameAndMulti(t *testing.T) { forEachRESPIOStaying(t, testClusterRenameAndMulti) }

func testClusterRenameAndMulti(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 3, tune)
	a1, a2 := c.keyOwnedBy(1, "a-"), c.keyOwnedBy(1, "b-")
	b1 := c.keyOwnedBy(2, "c-")
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	owner := dialRESP(t, c.nodes[1].srv.RESPAddr())

	require.Equal(t, "+OK\r\n", rc.raw("SET", a1, "1", "EX", "100"))
	require.Equal(t, "-CROSSSLOT Keys in request don't hash to the same slot\r\n", rc.raw("RENAME", a1, b1))
	require.Equal(t, "-CROSSSLOT Keys in request don't hash to the same slot\r\n", rc.raw("RENAMENX", a1, b1))
	require.Equal(t, "+OK\r\n", rc.raw("RENAME", a1, a2))
	require.Equal(t, ":100\r\n", rc.raw("TTL", a2))
	require.Equal(t, ":0\r\n", rc.raw("EXISTS", a1))

	// Over two owners: CROSSSLOT, nothing runs.
	runRawCases(t, rc, []rawCase{
		{"MULTI", "+OK\r\n"},
		{"SET " + a1 + " x", "+QUEUED\r\n"},
		{"SET " + b1 + " x", "+QUEUED\r\n"},
		{"EXEC", "-CROSSSLOT Keys in request don't hash to the same slot\r\n"},
		{"EXISTS " + a1 + " " + b1, ":0\r\n"},
		{"MULTI", "+OK\r\n"},
		{"KEYS *", "+QUEUED\r\n"},
		{"EXEC", "-CROSSSLOT Keys in request don't hash to the same slot\r\n"},
	})
	// On node 1's keys, sent to node 0.
	runRawCases(t, rc, []rawCase{
		{"WATCH " + a2, "+OK\r\n"},
		{"MULTI", "+OK\r\n"},
		{"INCR " + a2, "+QUEUED\r\n"},
		{"HSET " + a1 + " f v", "+QUEUED\r\n"},
		{"PING", "+QUEUED\r\n"},
		{"EXEC", "*3\r\n:2\r\n:1\r\n+PONG\r\n"},
	})
	require.Equal(t, "$1\r\nv\r\n", owner.raw("HGET", a1, "f"))
	// A watched key of another node, modified through its owner.
	require.Equal(t, "+OK\r\n", rc.raw("WATCH", a2))
	require.Equal(t, ":3\r\n", owner.raw("INCR", a2))
	runRawCases(t, rc, []rawCase{
		{"MULTI", "+OK\r\n"},
		{"SET " + a2 + " lost", "+QUEUED\r\n"},
		{"EXEC", "*-1\r\n"},
		{"GET " + a2, "$1\r\n3\r\n"},
	})
	// A watched key elsewhere than the transaction's keys is CROSSSLOT.
	runRawCases(t, rc, []rawCase{
		{"WATCH " + b1, "+OK\r\n"},
		{"MULTI", "+OK\r\n"},
		{"GET " + a2, "+QUEUED\r\n"},
		{"EXEC", "-CROSSSLOT Keys in request don't hash to the same slot\r\n"},
	})
	// Pipelined: the block goes to the owner as one transaction.
	rc.wr.CommandString("MULTI")
	rc.wr.CommandString("SET", a1, "p")
	rc.wr.CommandString("APPEND", a1, "q")
	rc.wr.CommandString("EXEC")
	rc.wr.CommandString("GET", a1)
	require.NoError(t, rc.wr.Flush())
	for _, want := range []string{"OK", "QUEUED", "QUEUED", `[OK, (integer) 2]`, `"pq"`} {
		rep, err := rc.rd.ReadReply()
		require.NoError(t, err)
		require.Equal(t, want, rep.String())
	}
}

// No command of another client sees a transaction half done: readers of a
// and b (MGET, and gRPC) always find them equal while transactions increment
// both, on the owner and through another node.
func TestMultiAtomic(t *testing.T) { forEachRESPIO(t, testMultiAtomic) }

func testMultiAtomic(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 2, tune)
	a, b := c.keyOwnedBy(1, "a-"), c.keyOwnedBy(1, "b-")
	const writers, txs = 4, 100
	var wg sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan string, 100)
	for w := range writers {
		wg.Go(func() {
			rc := dialRESP(t, c.nodes[w%2].srv.RESPAddr())
			for range txs {
				rc.wr.CommandString("MULTI")
				rc.wr.CommandString("INCR", a)
				rc.wr.CommandString("INCR", b)
				rc.wr.CommandString("EXEC")
				if err := rc.wr.Flush(); err != nil {
					errs <- err.Error()
					return
				}
				for range 4 {
					if _, err := rc.rd.ReadReply(); err != nil {
						errs <- err.Error()
						return
					}
				}
			}
		})
	}
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			rc := dialRESP(t, c.nodes[1].srv.RESPAddr())
			for {
				select {
				case <-done:
					return
				default:
				}
				rep := rc.reply("MGET", a, b)
				if rep.Elems[0].Str != rep.Elems[1].Str {
					errs <- fmt.Sprintf("MGET saw a=%q b=%q", rep.Elems[0].Str, rep.Elems[1].Str)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	require.Equal(t, `["400", "400"]`, rc.do("MGET", a, b))
}

// The writes of a transaction and of RENAME reach the replicas.
func TestClusterReplicatedTxAndRename(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.Replicas = 3 })
	a1, a2 := c.keyOwnedBy(1, "a-"), c.keyOwnedBy(1, "b-")
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	runRawCases(t, rc, []rawCase{
		{"MULTI", "+OK\r\n"},
		{"HSET " + a1 + " f v g w", "+QUEUED\r\n"},
		{"SET " + a2 + " s", "+QUEUED\r\n"},
		{"EXEC", "*2\r\n:2\r\n+OK\r\n"},
	})
	// With 3 replicas every node holds a copy.
	for _, nd := range c.nodes {
		nodetest.WaitFor(t, 5*time.Second, "copies on "+nd.id, func() bool {
			h, ok1 := nd.srv.store.Peek(a1)
			s, ok2 := nd.srv.store.Peek(a2)
			return ok1 && ok2 && len(h.Fields) == 2 && string(s.Value) == "s"
		})
	}
	require.Equal(t, "+OK\r\n", rc.raw("RENAME", a1, a2))
	for _, nd := range c.nodes {
		nodetest.WaitFor(t, 5*time.Second, "renamed on "+nd.id, func() bool {
			_, ok1 := nd.srv.store.Peek(a1)
			h, ok2 := nd.srv.store.Peek(a2)
			return !ok1 && ok2 && h.Kind == store.KindHash
		})
	}
}
