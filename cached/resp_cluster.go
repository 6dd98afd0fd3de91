package cached

import (
	"crypto/sha1"
	"encoding/hex"
	"net"
	"strconv"
	"strings"
	"time"

	"cairn.dev/cairn/cached/resp"
	"cairn.dev/cairn/cached/ring"
)

// Redis Cluster on RESP.
//
// Keys are placed by Redis Cluster hash slot (ring.Slot), so a node can
// describe the ring as a Redis Cluster in which every member is a master
// owning about vnodes runs of slots: CLUSTER SLOTS, SHARDS, NODES, INFO,
// MYID and KEYSLOT answer in redis-server 7's formats, and cluster clients
// (redis-cli -c, redis-benchmark --cluster, go-redis's ClusterClient) send
// each key to its owner by themselves.
//
// A connection that has shown it is a cluster client gets -MOVED <slot>
// <ip>:<port> for a key another node owns, where every other connection has
// the command forwarded (Config.RESPClusterRedirect):
//
//   - aware (the default): a connection turns aware when it sends CLUSTER
//     SLOTS, SHARDS or NODES (it asked where the slots are), or READONLY,
//     READWRITE or ASKING (commands only cluster clients send). A plain
//     client, which sends none of them, is never redirected, so every Redis
//     client works as before. Cluster clients that fetch the slots on one
//     connection and send keys on others (redis-benchmark --cluster, and
//     go-redis's pool, which uses one pooled connection for CLUSTER SLOTS)
//     have their stale keys forwarded on the others: still correct, and the
//     aware connection's first MOVED makes the client reload the slots.
//     go-redis with ReadOnly sends READONLY on every connection.
//   - always: every connection, for deployments where all clients are
//     cluster clients (plain redis-cli then sees MOVED errors).
//   - never: no connection; CLUSTER commands still answer.
//
// A multi-key command from a redirected connection gets MOVED when all its
// keys are in one slot that another node owns (the case a cluster client
// handles); keys in several slots are split by owner and forwarded, where
// redis-server answers CROSSSLOT: cached accepts what Redis Cluster accepts
// and more. ASK never arises: cached does not migrate keys when the ring
// changes (a moved key is a miss), so no slot is ever half-moved.

// Values of Config.RESPClusterRedirect.
const (
	redirectAware  = "aware"
	redirectAlways = "always"
	redirectNever  = "never"
)

// clusterCommands are the command table entries of Redis Cluster.
func clusterCommands() []*command {
	aware := func(x *execCtx, _ [][]byte) {
		x.clusterAware = true
		x.w.SimpleString("OK")
	}
	return []*command{
		{name: "cluster", arity: -2, run: cmdCluster},
		{name: "readonly", arity: 1, run: aware},
		{name: "readwrite", arity: 1, run: aware},
		{name: "asking", arity: 1, run: aware},
	}
}

// redirects reports whether x gets MOVED to m, the owner of one of its keys,
// rather than having its command forwarded: x is a RESP connection that is
// cluster-aware (with RESPClusterRedirect always, from the start),
// redirection is not off, and m has a RESP address to be sent to.
func (x *execCtx) redirects(m ring.Member) bool {
	return x.clusterAware && x.s.cfg.RESPClusterRedirect != redirectNever && m.RESPAddr != ""
}

// moved writes Redis's redirection of key to its owner m.
func (x *execCtx) moved(key []byte, m ring.Member) {
	x.w.Error("MOVED " + strconv.Itoa(ring.Slot(str(key))) + " " + m.RESPAddr)
}

// movedMulti answers MOVED for a multi-key command of cmd whose keys all
// hash to one slot owned by another node, and reports whether it did.
func (s *Server) movedMulti(x *execCtx, cmd *command, args [][]byte) bool {
	slot := ring.Slot(str(args[cmd.first]))
	for i := cmd.first + cmd.step; i < len(args); i += cmd.step {
		if ring.Slot(str(args[i])) != slot {
			return false
		}
	}
	m, mine := s.owner(str(args[cmd.first]))
	if mine || !x.redirects(m) {
		return false
	}
	x.moved(args[cmd.first], m)
	return true
}

// clusterNode is a member as Redis Cluster describes it.
type clusterNode struct {
	m     ring.Member
	id    string // 40 hex digits
	ip    string
	port  int
	cport int // the member's gRPC port, its node-to-node port
}

func newClusterNode(m ring.Member) clusterNode {
	sum := sha1.Sum([]byte(m.ID))
	n := clusterNode{m: m, id: hex.EncodeToString(sum[:])}
	if host, port, err := net.SplitHostPort(m.RESPAddr); err == nil {
		n.ip = host
		n.port, _ = strconv.Atoi(port)
	}
	if _, port, err := net.SplitHostPort(m.Addr); err == nil {
		n.cport, _ = strconv.Atoi(port)
	}
	return n
}

// clusterView is the ring as Redis Cluster sees it.
type clusterView struct {
	nodes  []clusterNode // by member ID
	ranges []ring.SlotRange
	epoch  uint64
	self   string // this node's member ID
}

// clusterView returns the current ring as a cluster; before the first ring
// the node alone owns every slot.
func (s *Server) clusterView() clusterView {
	r, epoch := ring.New([]ring.Member{s.self}, s.cfg.VNodes), uint64(0)
	if v := s.currentView(); v != nil && v.ring.Len() > 0 {
		r, epoch = v.ring, v.epoch
	}
	cv := clusterView{ranges: r.SlotRanges(), epoch: epoch, self: s.self.ID}
	for _, m := range r.Members() {
		cv.nodes = append(cv.nodes, newClusterNode(m))
	}
	return cv
}

// node returns the cluster node of member id.
func (cv clusterView) node(id string) clusterNode {
	for _, n := range cv.nodes {
		if n.m.ID == id {
			return n
		}
	}
	return newClusterNode(ring.Member{ID: id})
}

// cmdCluster is CLUSTER SLOTS|SHARDS|NODES|INFO|MYID|KEYSLOT|HELP.
func cmdCluster(x *execCtx, a [][]byte) {
	sub := strings.ToLower(string(a[1]))
	n := 2
	switch sub {
	case "slots", "shards", "nodes", "info", "myid", "help":
	case "keyslot":
		n = 3
	default:
		n = 0
	}
	switch {
	case n == 0:
		x.w.Error("ERR unknown subcommand '" + string(a[1]) + "'. Try CLUSTER HELP.")
		return
	case len(a) != n:
		x.w.Error("ERR wrong number of arguments for 'cluster|" + sub + "' command")
		return
	}
	switch sub {
	case "slots", "shards", "nodes":
		x.clusterAware = true
	case "keyslot":
		x.w.Integer(int64(ring.Slot(str(a[2]))))
		return
	case "help":
		help := []string{
			"CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"INFO", "    Return information about the cluster.",
			"KEYSLOT <key>", "    Return the hash slot for <key>.",
			"MYID", "    Return the node id.",
			"NODES", "    Return cluster configuration seen by node. Output format:",
			"    <id> <ip:port@cport> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
			"SHARDS", "    Return information about slot range mappings and the nodes associated with them.",
			"SLOTS", "    Return information about slots range mappings. Each range is made of:",
			"    start, end, master and replicas IP addresses, ports and ids",
		}
		x.w.ArrayHeader(len(help))
		for _, l := range help {
			x.w.SimpleString(l)
		}
		return
	}
	cv := x.s.clusterView()
	switch sub {
	case "slots":
		cv.writeSlots(x.w)
	case "shards":
		cv.writeShards(x.w)
	case "nodes":
		x.w.BulkString(cv.nodesText())
	case "info":
		x.w.BulkString(cv.infoText())
	case "myid":
		x.w.BulkString(cv.node(cv.self).id)
	}
}

// writeSlots writes CLUSTER SLOTS: per range, start, end and the master
// (ip, port, id, no extra metadata); no replicas.
func (cv clusterView) writeSlots(w *resp.Writer) {
	w.ArrayHeader(len(cv.ranges))
	for _, r := range cv.ranges {
		n := cv.node(r.Owner.ID)
		w.ArrayHeader(3)
		w.Integer(int64(r.Start))
		w.Integer(int64(r.End))
		w.ArrayHeader(4)
		w.BulkString(n.ip)
		w.Integer(int64(n.port))
		w.BulkString(n.id)
		w.ArrayHeader(0)
	}
}

// writeShards writes CLUSTER SHARDS: one shard per member owning slots,
// its ranges as start/end pairs and itself as the shard's only node.
func (cv clusterView) writeShards(w *resp.Writer) {
	byOwner := map[string][]ring.SlotRange{}
	for _, r := range cv.ranges {
		byOwner[r.Owner.ID] = append(byOwner[r.Owner.ID], r)
	}
	w.ArrayHeader(len(byOwner))
	for _, n := range cv.nodes {
		rs, ok := byOwner[n.m.ID]
		if !ok {
			continue
		}
		w.ArrayHeader(4)
		w.BulkString("slots")
		w.ArrayHeader(2 * len(rs))
		for _, r := range rs {
			w.Integer(int64(r.Start))
			w.Integer(int64(r.End))
		}
		w.BulkString("nodes")
		w.ArrayHeader(1)
		w.ArrayHeader(14)
		w.BulkString("id")
		w.BulkString(n.id)
		w.BulkString("port")
		w.Integer(int64(n.port))
		w.BulkString("ip")
		w.BulkString(n.ip)
		w.BulkString("endpoint")
		w.BulkString(n.ip)
		w.BulkString("role")
		w.BulkString("master")
		w.BulkString("replication-offset")
		w.Integer(0)
		w.BulkString("health")
		w.BulkString("online")
	}
}

// nodesText is CLUSTER NODES: one line per member, "<id> <ip:port@cport>
// <flags> - <ping-sent> <pong-recv> <config-epoch> connected <ranges...>".
func (cv clusterView) nodesText() string {
	byOwner := map[string][]ring.SlotRange{}
	for _, r := range cv.ranges {
		byOwner[r.Owner.ID] = append(byOwner[r.Owner.ID], r)
	}
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	epoch := strconv.FormatUint(cv.epoch, 10)
	var b strings.Builder
	for _, n := range cv.nodes {
		flags := "master"
		if n.m.ID == cv.self {
			flags = "myself,master"
		}
		b.WriteString(n.id + " " + n.ip + ":" + strconv.Itoa(n.port) + "@" + strconv.Itoa(n.cport) + " " + flags + " - 0 " + now + " " + epoch + " connected")
		for _, r := range byOwner[n.m.ID] {
			b.WriteByte(' ')
			b.WriteString(strconv.Itoa(r.Start))
			if r.End != r.Start {
				b.WriteString("-" + strconv.Itoa(r.End))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// infoText is CLUSTER INFO. cached has no cluster bus, so its message
// counters are zero.
func (cv clusterView) infoText() string {
	owners := map[string]bool{}
	for _, r := range cv.ranges {
		owners[r.Owner.ID] = true
	}
	epoch := strconv.FormatUint(cv.epoch, 10)
	lines := []string{
		"cluster_state:ok",
		"cluster_slots_assigned:" + strconv.Itoa(ring.Slots),
		"cluster_slots_ok:" + strconv.Itoa(ring.Slots),
		"cluster_slots_pfail:0",
		"cluster_slots_fail:0",
		"cluster_known_nodes:" + strconv.Itoa(len(cv.nodes)),
		"cluster_size:" + strconv.Itoa(len(owners)),
		"cluster_current_epoch:" + epoch,
		"cluster_my_epoch:" + epoch,
		"cluster_stats_messages_sent:0",
		"cluster_stats_messages_received:0",
		"total_cluster_links_buffer_limit_exceeded:0",
	}
	return strings.Join(lines, "\r\n") + "\r\n"
}
