package cached

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/cached/resp"
	"cairn.dev/cairn/cached/ring"
	"cairn.dev/cairn/node/nodetest"
)

// nodeID is a member's Redis Cluster node id.
func nodeID(memberID string) string {
	sum := sha1.Sum([]byte(memberID))
	return hex.EncodeToString(sum[:])
}

// rawReply sends one command and returns the reply's exact bytes.
func rawReply(t *testing.T, addr string, args ...string) string {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer nc.Close()
	require.NoError(t, nc.SetDeadline(time.Now().Add(10*time.Second)))
	w := resp.NewWriter(nc)
	w.CommandString(args...)
	require.NoError(t, w.Flush())
	// Read the reply through a Reader to find its end, keeping the bytes.
	var rec recorder
	rec.r = nc
	_, err = resp.NewReader(&rec).ReadReply()
	require.NoError(t, err)
	return string(rec.b)
}

// recorder keeps what is read through it. It reads one byte at a time, so
// nothing past the reply is consumed.
type recorder struct {
	r net.Conn
	b []byte
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p[:1])
	r.b = append(r.b, p[:n]...)
	return n, err
}

// One node: the replies are byte for byte those of redis-server 7.0 (the
// shapes captured from a 3-master cluster of redis-server 7.0.15, with this
// node's one range and addresses).
func TestRESPClusterRepliesExact(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	srv := c.nodes[0].srv
	addr := srv.RESPAddr()
	host, port, _ := net.SplitHostPort(addr)
	_, gport, _ := net.SplitHostPort(srv.Addr())
	id := nodeID("cached-1")
	bulk := func(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

	require.Equal(t, "*1\r\n*3\r\n:0\r\n:16383\r\n*4\r\n"+bulk(host)+":"+port+"\r\n"+bulk(id)+"*0\r\n",
		rawReply(t, addr, "CLUSTER", "SLOTS"))
	require.Equal(t, "*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*1\r\n*14\r\n"+
		"$2\r\nid\r\n"+bulk(id)+"$4\r\nport\r\n:"+port+"\r\n$2\r\nip\r\n"+bulk(host)+"$8\r\nendpoint\r\n"+bulk(host)+
		"$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:0\r\n$6\r\nhealth\r\n$6\r\nonline\r\n",
		rawReply(t, addr, "CLUSTER", "SHARDS"))
	require.Equal(t, bulk(id), rawReply(t, addr, "CLUSTER", "MYID"))
	require.Equal(t, ":12182\r\n", rawReply(t, addr, "cluster", "keyslot", "foo"))

	nodes := rawReply(t, addr, "CLUSTER", "NODES")
	line := regexp.MustCompile(`^\$\d+\r\n` + id + ` ` + regexp.QuoteMeta(addr) + `@` + gport +
		` myself,master - 0 \d+ 1 connected 0-16383\n\r\n$`)
	require.Regexp(t, line, nodes)

	info := rawReply(t, addr, "CLUSTER", "INFO")
	require.Equal(t, bulk("cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\n"+
		"cluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:1\r\ncluster_size:1\r\n"+
		"cluster_current_epoch:1\r\ncluster_my_epoch:1\r\ncluster_stats_messages_sent:0\r\n"+
		"cluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n"), info)

	// Errors, as redis-server words them.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"CLUSTER"}, "-ERR wrong number of arguments for 'cluster' command\r\n"},
		{[]string{"CLUSTER", "FOO"}, "-ERR unknown subcommand 'FOO'. Try CLUSTER HELP.\r\n"},
		{[]string{"CLUSTER", "KEYSLOT"}, "-ERR wrong number of arguments for 'cluster|keyslot' command\r\n"},
		{[]string{"CLUSTER", "SLOTS", "x"}, "-ERR wrong number of arguments for 'cluster|slots' command\r\n"},
		{[]string{"READONLY"}, "+OK\r\n"},
		{[]string{"READWRITE"}, "+OK\r\n"},
		{[]string{"ASKING"}, "+OK\r\n"},
	} {
		require.Equal(t, tt.want, rawReply(t, addr, tt.args...), "%q", tt.args)
	}
}

// Three nodes: the cluster replies describe the ring, every member a
// master, the asking node "myself".
func TestRESPClusterDescribesRing(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	r := c.nodes[0].srv.currentView().ring
	want := r.SlotRanges()
	byID := map[string]*testNode{}
	for _, nd := range c.nodes {
		byID[nodeID(nd.id)] = nd
	}
	for i, nd := range c.nodes {
		rc := dialRESP(t, nd.srv.RESPAddr())

		slots := rc.reply("CLUSTER", "SLOTS")
		require.Len(t, slots.Elems, len(want))
		for j, e := range slots.Elems {
			require.Len(t, e.Elems, 3)
			require.EqualValues(t, want[j].Start, e.Elems[0].Int)
			require.EqualValues(t, want[j].End, e.Elems[1].Int)
			master := e.Elems[2]
			owner := byID[master.Elems[2].Str]
			require.NotNil(t, owner)
			require.Equal(t, want[j].Owner.ID, owner.id)
			require.Equal(t, owner.srv.RESPAddr(), net.JoinHostPort(master.Elems[0].Str, strconv.FormatInt(master.Elems[1].Int, 10)))
		}

		shards := rc.reply("CLUSTER", "SHARDS")
		require.Len(t, shards.Elems, 3)
		covered := 0
		for _, sh := range shards.Elems {
			require.Equal(t, "slots", sh.Elems[0].Str)
			require.Equal(t, "nodes", sh.Elems[2].Str)
			require.Len(t, sh.Elems[3].Elems, 1)
			id := sh.Elems[3].Elems[0].Elems[1].Str
			for k := 0; k < len(sh.Elems[1].Elems); k += 2 {
				lo, hi := int(sh.Elems[1].Elems[k].Int), int(sh.Elems[1].Elems[k+1].Int)
				for s := lo; s <= hi; s++ {
					o, _ := r.OwnerOfSlot(s)
					require.Equal(t, nodeID(o.ID), id, "slot %d", s)
				}
				covered += hi - lo + 1
			}
		}
		require.Equal(t, ring.Slots, covered)

		nodes := rc.reply("CLUSTER", "NODES").Str
		lines := strings.Split(strings.TrimSuffix(nodes, "\n"), "\n")
		require.Len(t, lines, 3)
		covered = 0
		for _, l := range lines {
			f := strings.Fields(l)
			require.GreaterOrEqual(t, len(f), 9, l)
			owner := byID[f[0]]
			require.NotNil(t, owner, l)
			_, gport, _ := net.SplitHostPort(owner.srv.Addr())
			require.Equal(t, owner.srv.RESPAddr()+"@"+gport, f[1])
			if owner == nd {
				require.Equal(t, "myself,master", f[2])
			} else {
				require.Equal(t, "master", f[2])
			}
			require.Equal(t, []string{"-", "0"}, f[3:5])
			require.Equal(t, strconv.FormatUint(nd.srv.currentView().epoch, 10), f[6])
			require.Equal(t, "connected", f[7])
			for _, rg := range f[8:] {
				lo, hi, found := strings.Cut(rg, "-")
				if !found {
					hi = lo
				}
				a, _ := strconv.Atoi(lo)
				b, _ := strconv.Atoi(hi)
				o, _ := r.OwnerOfSlot(a)
				require.Equal(t, owner.id, o.ID)
				covered += b - a + 1
			}
		}
		require.Equal(t, ring.Slots, covered)

		info := rc.reply("CLUSTER", "INFO").Str
		require.Contains(t, info, "cluster_state:ok\r\n")
		require.Contains(t, info, "cluster_known_nodes:3\r\n")
		require.Contains(t, info, "cluster_size:3\r\n")
		require.Equal(t, strconv.Quote(nodeID(c.nodes[i].id)), rc.do("CLUSTER", "MYID"))
	}
}

// movedTo parses "-MOVED <slot> <addr>".
var movedRE = regexp.MustCompile(`^\(error\) MOVED (\d+) (\S+)$`)

// A plain connection is forwarded; one that asked for the slots (or sent
// READONLY) gets MOVED, also inside a pipeline, and for a multi-key command
// whose keys share a slot elsewhere; keys in several slots are split.
func TestRESPMoved(t *testing.T) { forEachRESPIOStaying(t, testRESPMoved) }

func testRESPMoved(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 3, tune)
	n0 := c.nodes[0].srv
	mine := c.keyOwnedBy(0, "mine-")
	theirs := c.keyOwnedBy(1, "theirs-")
	movedTheirs := fmt.Sprintf("(error) MOVED %d %s", ring.Slot(theirs), c.nodes[1].srv.RESPAddr())
	setup := dialRESP(t, c.nodes[1].srv.RESPAddr())
	require.Equal(t, "OK", setup.do("SET", theirs, "v1"))
	require.Equal(t, "OK", setup.do("SET", "{"+theirs+"}:b", "v2"))

	plain := dialRESP(t, n0.RESPAddr())
	before := n0.metrics.forwarded.Load()
	require.Equal(t, `"v1"`, plain.do("GET", theirs))
	require.Equal(t, "(integer) 8106", plain.do("CLUSTER", "KEYSLOT", "{user1}:a"), "KEYSLOT does not make a connection aware")
	require.Equal(t, `"v1"`, plain.do("GET", theirs))
	require.Equal(t, before+2, n0.metrics.forwarded.Load(), "a plain connection is forwarded")

	for _, turn := range [][]string{{"CLUSTER", "SLOTS"}, {"CLUSTER", "SHARDS"}, {"CLUSTER", "NODES"}, {"READONLY"}, {"READWRITE"}} {
		aware := dialRESP(t, n0.RESPAddr())
		aware.reply(turn...)
		before := n0.metrics.forwarded.Load()
		require.Equal(t, movedTheirs, aware.do("GET", theirs), "after %q", turn)
		require.Equal(t, movedTheirs, aware.do("SET", theirs, "x"))
		require.Equal(t, "OK", aware.do("SET", mine, "m"))
		require.Equal(t, `"m"`, aware.do("GET", mine))
		// A multi-key command in one slot elsewhere: MOVED for that slot.
		require.Equal(t, movedTheirs, aware.do("MGET", "{"+theirs+"}", theirs))
		// Keys in several slots: split and forwarded, where Redis says CROSSSLOT.
		require.Equal(t, `["m", "v1"]`, aware.do("MGET", mine, theirs))
		require.Equal(t, before+1, n0.metrics.forwarded.Load(), "only the split MGET was forwarded")

		// A pipeline: replies in order, MOVED in place.
		aware.wr.CommandString("SET", mine, "p")
		aware.wr.CommandString("GET", theirs)
		aware.wr.CommandString("GET", mine)
		aware.wr.CommandString("INCR", theirs)
		aware.wr.CommandString("PING")
		require.NoError(t, aware.wr.Flush())
		var got []string
		for range 5 {
			rep, err := aware.rd.ReadReply()
			require.NoError(t, err)
			got = append(got, rep.String())
		}
		require.Equal(t, []string{"OK", movedTheirs, `"p"`, movedTheirs, "PONG"}, got)
	}
	require.Equal(t, `"v1"`, setup.do("GET", theirs), "nothing was written through MOVED")

	// resp_cluster_redirect always: every connection; never: none.
	always := newTestCluster(t, 3, func(cfg *Config) {
		if tune != nil {
			tune(cfg)
		}
		cfg.RESPClusterRedirect = redirectAlways
	})
	k := always.keyOwnedBy(2, "k-")
	rc := dialRESP(t, always.nodes[0].srv.RESPAddr())
	require.Equal(t, fmt.Sprintf("(error) MOVED %d %s", ring.Slot(k), always.nodes[2].srv.RESPAddr()), rc.do("GET", k))

	never := newTestCluster(t, 3, func(cfg *Config) {
		if tune != nil {
			tune(cfg)
		}
		cfg.RESPClusterRedirect = redirectNever
	})
	k = never.keyOwnedBy(2, "k-")
	rc = dialRESP(t, never.nodes[0].srv.RESPAddr())
	rc.reply("CLUSTER", "SLOTS")
	require.Equal(t, "(nil)", rc.do("GET", k))
	require.Equal(t, int64(1), never.nodes[0].srv.metrics.forwarded.Load())
}

// slotClient is a minimal Redis Cluster client: it maps slots to addresses
// with CLUSTER SLOTS, sends each key to its slot's node and, on MOVED,
// reloads the map and retries once at the address MOVED names.
type slotClient struct {
	t     *testing.T
	seed  string // an address to load the slots from
	slots [ring.Slots]string
	conns map[string]*respClient
	moved int // MOVED replies seen
}

func (sc *slotClient) conn(addr string) (*respClient, error) {
	if rc := sc.conns[addr]; rc != nil {
		return rc, nil
	}
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	sc.t.Cleanup(func() { _ = nc.Close() })
	require.NoError(sc.t, nc.SetDeadline(time.Now().Add(60*time.Second)))
	rc := &respClient{t: sc.t, nc: nc, rd: resp.NewReader(nc), wr: resp.NewWriter(nc)}
	rc.reply("READWRITE") // a cluster client: MOVED, not forwarding
	sc.conns[addr] = rc
	return rc, nil
}

func (sc *slotClient) load() {
	sc.t.Helper()
	rc, err := sc.conn(sc.seed)
	require.NoError(sc.t, err)
	rep := rc.reply("CLUSTER", "SLOTS")
	n := 0
	for _, e := range rep.Elems {
		addr := net.JoinHostPort(e.Elems[2].Elems[0].Str, strconv.FormatInt(e.Elems[2].Elems[1].Int, 10))
		for s := e.Elems[0].Int; s <= e.Elems[1].Int; s++ {
			sc.slots[s] = addr
			n++
		}
	}
	require.Equal(sc.t, ring.Slots, n)
}

// do runs a one-key command (args[1] is the key) and returns its reply.
func (sc *slotClient) do(args ...string) string {
	sc.t.Helper()
	addr := sc.slots[ring.Slot(args[1])]
	for range 2 {
		got, err := sc.try(addr, args)
		if err != nil { // a node that left: reload from the seed
			delete(sc.conns, addr)
			sc.load()
			addr = sc.slots[ring.Slot(args[1])]
			continue
		}
		m := movedRE.FindStringSubmatch(got)
		if m == nil {
			return got
		}
		sc.moved++
		require.Equal(sc.t, strconv.Itoa(ring.Slot(args[1])), m[1])
		sc.load()
		require.Equal(sc.t, m[2], sc.slots[ring.Slot(args[1])], "the reloaded slots agree with MOVED")
		addr = m[2]
	}
	sc.t.Fatalf("%q: redirected twice", args)
	return ""
}

// try sends args to addr and returns the reply, or the connection's error.
func (sc *slotClient) try(addr string, args []string) (string, error) {
	rc, err := sc.conn(addr)
	if err != nil {
		return "", err
	}
	rc.wr.CommandString(args...)
	if err := rc.wr.Flush(); err != nil {
		return "", err
	}
	rep, err := rc.rd.ReadReply()
	if err != nil {
		return "", err
	}
	return rep.String(), nil
}

// addNode starts one more node and installs the ring of every running node
// on all of them (a join).
func (c *testCluster) addNode(tune func(*Config)) *testNode {
	c.t.Helper()
	cfg := testConfig(fmt.Sprintf("cached-%d", len(c.nodes)+1))
	if tune != nil {
		tune(&cfg)
	}
	srv, err := New(cfg, nodetest.Logger(c.t).With("test_node", cfg.ID))
	require.NoError(c.t, err)
	nd := &testNode{id: cfg.ID, srv: srv}
	c.nodes = append(c.nodes, nd)
	c.setMembers(nil)
	c.serve(nd)
	return nd
}

// setMembers gives every running node but except the membership of the
// running nodes but except (a leave, when except is not nil).
func (c *testCluster) setMembers(except *testNode) {
	var members []ring.Member
	for _, nd := range c.nodes {
		if !nd.stopped && nd != except {
			members = append(members, nd.srv.Self())
		}
	}
	for _, nd := range c.nodes {
		if !nd.stopped && nd != except {
			nd.srv.SetPeers(members)
		}
	}
}

func (c *testCluster) forwarded() int64 {
	var n int64
	for _, nd := range c.nodes {
		n += nd.srv.metrics.forwarded.Load()
	}
	return n
}

// A cluster client's routing goes stale when a node joins: the moved slots'
// keys get MOVED to the new node, the client reloads the slots and goes on
// (the moved keys are misses: cached does not migrate keys). When the node
// leaves, its slots' keys fail to connect, the client reloads, and nothing
// is redirected after. No command is ever forwarded.
func TestRESPMovedAfterRingChange(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	sc := &slotClient{t: t, seed: c.nodes[0].srv.RESPAddr(), conns: map[string]*respClient{}}
	sc.load()
	keys := make([]string, 300)
	for i := range keys {
		keys[i] = fmt.Sprintf("rc-%d", i)
		require.Equal(t, "OK", sc.do("SET", keys[i], "v"+keys[i]))
	}
	require.Zero(t, sc.moved)

	joined := c.addNode(nil)
	moved := map[string]bool{}
	for _, k := range keys {
		owner, _ := joined.srv.currentView().ring.Owner(k)
		got := sc.do("GET", k)
		if owner.ID == joined.id {
			require.Equal(t, "(nil)", got, "%s moved to the new node: a miss", k)
			moved[k] = true
		} else {
			require.Equal(t, strconv.Quote("v"+k), got)
		}
	}
	require.NotEmpty(t, moved)
	require.Positive(t, sc.moved)
	require.LessOrEqual(t, sc.moved, len(moved), "one MOVED at most per moved key, fewer once reloaded")
	t.Logf("join: %d of %d keys moved, %d MOVED replies", len(moved), len(keys), sc.moved)
	for _, k := range keys {
		require.Equal(t, "OK", sc.do("SET", k, "w"+k))
	}

	// The new node leaves: the others drop it, then it stops.
	c.setMembers(joined)
	c.stop(3)
	seen := sc.moved
	for _, k := range keys {
		got := sc.do("GET", k)
		if !moved[k] { // a key that went back has its old owner's old value
			require.Equal(t, strconv.Quote("w"+k), got)
		}
	}
	require.Equal(t, seen, sc.moved, "after the reload on the connection error nothing is redirected")
	for _, k := range keys {
		require.Equal(t, "OK", sc.do("SET", k, "x"+k))
		require.Equal(t, strconv.Quote("x"+k), sc.do("GET", k))
	}
	require.Zero(t, c.forwarded(), "a cluster client's commands are never forwarded")
}

// go-redis's ClusterClient routes by CLUSTER SLOTS: no command is
// forwarded, every key is stored on its owner; with ReadOnly (READONLY on
// every connection) it follows MOVED after a join without an error.
func TestGoRedisClusterClient(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	ctx := ctxT(t)
	newClient := func(readOnly bool) *redis.ClusterClient {
		cc := redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:    []string{c.nodes[0].srv.RESPAddr()},
			ReadOnly: readOnly,
			Protocol: 2,
		})
		t.Cleanup(func() { _ = cc.Close() })
		return cc
	}
	cc := newClient(false)
	keys := make([]string, 300)
	for i := range keys {
		keys[i] = fmt.Sprintf("gr-%d", i)
		require.NoError(t, cc.Set(ctx, keys[i], "v"+keys[i], 0).Err())
	}
	for _, k := range keys {
		v, err := cc.Get(ctx, k).Result()
		require.NoError(t, err)
		require.Equal(t, "v"+k, v)
		owner, _ := c.nodes[0].srv.currentView().ring.Owner(k)
		for _, nd := range c.nodes {
			_, ok := nd.srv.store.Peek(k)
			require.Equal(t, nd.id == owner.ID, ok, "%s on %s", k, nd.id)
		}
	}
	// A hash tag keeps keys together; MSET within one slot needs no split.
	require.NoError(t, cc.MSet(ctx, "{user1}:a", "1", "{user1}:b", "2").Err())
	vals, err := cc.MGet(ctx, "{user1}:a", "{user1}:b").Result()
	require.NoError(t, err)
	require.Equal(t, []any{"1", "2"}, vals)
	require.Zero(t, c.forwarded(), "go-redis sends every key to its owner")

	ro := newClient(true)
	for _, k := range keys {
		require.NoError(t, ro.Get(ctx, k).Err())
	}
	joined := c.addNode(nil)
	missed := 0
	for _, k := range keys {
		v, err := ro.Get(ctx, k).Result()
		owner, _ := joined.srv.currentView().ring.Owner(k)
		if owner.ID == joined.id {
			require.ErrorIs(t, err, redis.Nil, "%s moved to the new node: a miss", k)
			missed++
			continue
		}
		require.NoError(t, err)
		require.Equal(t, "v"+k, v)
	}
	require.Positive(t, missed)
	for _, k := range keys {
		require.NoError(t, ro.Set(ctx, k, "w", 0).Err())
	}
	require.Zero(t, c.forwarded(), "MOVED, not forwarding, for READONLY connections")
	require.Equal(t, missed, joined.srv.store.Len(), "the new node holds exactly its keys")
}

// An owner with no RESP address cannot be redirected to: its keys are
// forwarded even on an aware connection.
func TestRESPMovedNeedsOwnerRESPAddr(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	srv := c.nodes[0].srv
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, lis.Close()) // nothing listens: a forward fails at once
	silent := ring.Member{ID: "silent", Addr: lis.Addr().String()}
	srv.SetPeers([]ring.Member{srv.Self(), silent})
	r := srv.currentView().ring
	var key string
	for i := 0; key == ""; i++ {
		if m, _ := r.Owner("s-" + strconv.Itoa(i)); m.ID == silent.ID {
			key = "s-" + strconv.Itoa(i)
		}
	}
	rc := dialRESP(t, srv.RESPAddr())
	rc.reply("READWRITE")
	require.Equal(t, "(nil)", rc.do("GET", key), "forwarded; the owner is down: a miss")
	require.Equal(t, int64(1), srv.metrics.forwarded.Load())

	silent.RESPAddr = "127.0.0.1:1"
	srv.SetPeers([]ring.Member{srv.Self(), silent})
	require.Equal(t, fmt.Sprintf("(error) MOVED %d 127.0.0.1:1", ring.Slot(key)), rc.do("GET", key))
}
