// Package cached is one node of cairn's distributed in-memory cache: a
// sharded store (package store) behind a consistent-hash ring of nodes
// (package ring), served over gRPC (cairn.cached.v1 CacheService and
// RingService) and over the Redis protocol (package resp), so redis-cli,
// redis-benchmark and Redis client libraries work against any node.
//
// # Use
//
//	cfg := cached.DefaultConfig()
//	cfg.ID = "cached-1"
//	cfg.Peers = "cached-1=127.0.0.1:7200/127.0.0.1:7240,cached-2=127.0.0.1:7202/127.0.0.1:7241"
//	srv, err := cached.New(cfg, logger) // binds the gRPC, admin and RESP listeners
//	go srv.Serve(ctx)                   // until ctx is cancelled, or srv.Close()
//	<-srv.ReadyNotify()
//
// # Membership
//
// The ring is built from the node itself plus either the static Config.Peers
// ("id=grpc-addr[/resp-addr],…"; tests may replace them with SetPeers) or,
// when Config.Registry names raftkv endpoints, the members registered under
// Config.RegistryPrefix (see registry.go): there each node holds an entry
// under a lease of RegistryTTL, so a dead node leaves every ring within about
// that TTL and a new node joins without restarts. Static peers then serve
// only until the registry's list is read. Keys are not moved when membership
// changes: keys whose owner changed are misses until written again.
//
// # Routing
//
// Every request, gRPC or RESP, is routed by the ring. A key this node owns is
// served from the local store; any other key is forwarded, once, to its owner
// over one cached gRPC connection per peer. Forwarded gRPC calls carry the
// metadata key "cairn-cached-forwarded" and are always served from the
// receiver's own store, so a request is never forwarded twice, even while two
// nodes' rings disagree. RESP commands on another node's keys are run there
// by PeerService.Command (proto/cairn/cached/peer/v1/peer.proto), which executes
// the command on the receiver's store and returns the encoded RESP reply;
// multi-key commands (MGET, MSET, DEL, EXISTS) are split by owner and their
// replies merged, and MGet over gRPC fans out to the owners in parallel. In a
// pipeline, the one-key commands of each owner go in one PeerService.Commands
// call (executed in order on the owner), owners in parallel, with replies in
// request order; multi-key commands are barriers (see pipeline).
// FLUSHALL and FLUSHDB run on every member; DBSIZE and INFO describe the
// receiving node only.
//
// # Replicas and failures
//
// With Config.Replicas = R ≥ 2 a write is applied by the key's owner, which
// then copies the key's resulting state to the next R−1 distinct ring members
// (PeerService.Replicate): synchronously, bounded by ReplicationTimeout, and
// best effort (a failed copy is logged and counted, the write still
// succeeds). A read whose owner does not answer (Unavailable or the
// ForwardTimeout deadline) falls back to the replicas in ring order. When no
// copy answers, and always with R = 1, a read of a key whose owner is
// unreachable is a miss (GetResponse.found = false, nil over RESP), never an
// error; such misses are counted in Stats.misses and in
// cairn_cached_owner_unreachable_misses_total. Writes to an unreachable
// owner fail with Unavailable ("ERR cached: key owner unreachable…" over
// RESP). With a registry the dead owner leaves the ring within RegistryTTL,
// and its first replica, which is its ring successor, becomes the owner of
// its keys.
//
// # Invalidations
//
// Subscribe streams the invalidations of the whole cluster from one node: the
// node serves its own store's changes and merges those of every other member
// through a forwarded Subscribe per member, following ring changes. RESET is
// sent whenever invalidations may have been missed (see invalidate.go). The
// store reports changes through store.Config.OnChange.
//
// # RESP
//
// The Redis listener (Config.RESPAddr) serves the string commands (GET, SET
// with NX, XX, GET, EX, PX, EXAT, PXAT, KEEPTTL; SETNX, SETEX, PSETEX,
// GETSET, GETEX, GETDEL, MGET, MSET, MSETNX, APPEND, STRLEN, GETRANGE,
// SUBSTR, SETRANGE, INCR, INCRBY, INCRBYFLOAT, DECR, DECRBY), the key
// commands (DEL, UNLINK, EXISTS, EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with
// NX, XX, GT, LT; TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST) and PING,
// ECHO, INFO, DBSIZE, FLUSHALL, FLUSHDB, SELECT 0, COMMAND (COUNT, INFO,
// DOCS), CLIENT, CONFIG, AUTH and QUIT, the hash commands
// (resp_hash.go), TYPE, KEYS, SCAN, TOUCH, RENAME, RENAMENX (resp_keys.go),
// MULTI, EXEC, DISCARD, WATCH, UNWATCH (resp_multi.go, which explains how a
// transaction is atomic) and HELLO, with redis-server 7.0's replies and
// error texts (resp_commands.go, resp_strings.go, resp_admin.go;
// bench/redis-compat.sh compares them with a redis-server).
// Commands are executed in order and their replies written once no complete
// command is left in the input, so a pipeline gets one write. On Linux the
// connections are served by epoll event loops, as redis-server serves them
// (Config.RESPIO "loop", see resp_loop_linux.go): a loop reads every ready
// connection, runs the commands that need no other node and writes all the
// replies; a connection whose command must wait for another node is handed
// to a goroutine meanwhile, and one that mostly waits for other nodes is
// moved to a goroutine of its own. Elsewhere, or with RESPIO "goroutine",
// each connection has one goroutine. Either way the server owns them and
// closes them on shutdown. A local GET allocates nothing.
//
// Keys are placed by Redis Cluster hash slot (ring.Slot), so every node also
// answers CLUSTER SLOTS, SHARDS, NODES, INFO, MYID and KEYSLOT as a Redis
// Cluster of masters, and cluster clients route by slot themselves. A
// connection that has shown it is one (CLUSTER SLOTS/SHARDS/NODES, READONLY,
// READWRITE, ASKING; or every connection with Config.RESPClusterRedirect
// "always") gets -MOVED for another node's key instead of forwarding; see
// resp_cluster.go.
//
// # Metrics
//
// Besides the per-RPC metrics of package node, the admin server's /metrics
// exports cairn_cached_items, _bytes, _max_bytes, _hits_total,
// _misses_total, _evictions_total, _expirations_total, _sets_total,
// _forwarded_total, _owner_unreachable_misses_total, _replicated_total,
// _replication_errors_total, _ring_members and the RESP connection and
// command counters.
package cached
