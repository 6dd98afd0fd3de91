package cached

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"cairn.dev/cairn/cached/ring"
	"cairn.dev/cairn/cached/store"
	"cairn.dev/cairn/node"
)

// DefaultRegistryPrefix is where nodes register in raftkv: one key per node,
// <prefix><id>, whose value is the node's JSON-encoded addresses.
const DefaultRegistryPrefix = "/cairn/cached/members/"

// Config configures a cached Server. Every field can be set from a flag, from
// CAIRN_CACHED_<FLAG> in the environment, or from a YAML file (see node.Load).
type Config struct {
	// ID is this node's id; it places the node on the ring, so it must be unique
	// and stable across restarts (e.g. "cached-1").
	ID string `yaml:"id" flag:"id" usage:"node id, unique and stable: it places the node on the hash ring (required)"`

	Server node.ServerConfig `yaml:"server" flag:",inline"`

	// RESPAddr is the Redis-protocol listen address; "" disables the listener.
	RESPAddr string `yaml:"resp_addr" flag:"resp-addr" usage:"Redis protocol (RESP2) listen address; empty disables it"`
	// RESPPassword, when set, is the password of Redis's default user (like
	// redis.conf's requirepass): a RESP client must send AUTH <password> or
	// AUTH default <password> before any other command but QUIT, else it gets
	// NOAUTH. Prefer the environment or the YAML file to the flag, which
	// other local users can see in the process list.
	RESPPassword string `yaml:"resp_password" flag:"resp-password" usage:"password RESP clients must send with AUTH first (like Redis's requirepass); required on a non-loopback resp-addr unless --resp-protected-mode=false"`
	// RESPProtectedMode (default on), like Redis's protected mode, refuses to
	// serve RESP without a password on any address but loopback: Validate
	// rejects a non-loopback RESPAddr when RESPPassword is empty.
	RESPProtectedMode bool `yaml:"resp_protected_mode" flag:"resp-protected-mode" usage:"refuse to serve RESP without --resp-password on a non-loopback address"`

	// Peers is the static membership: "id=grpc-addr[/resp-addr],…", e.g.
	// "cached-1=127.0.0.1:7200/127.0.0.1:7240,cached-2=127.0.0.1:7202/127.0.0.1:7241".
	// The node itself is always a member, listed or not. With a registry the
	// peers are only the initial ring, until the registry's member list is read.
	Peers string `yaml:"peers" flag:"peers" usage:"static members id=grpc-addr[/resp-addr],... (the node itself is always a member)"`

	// Registry lists raftkv endpoints, "host:port,…". When set, the node
	// registers itself under RegistryPrefix+ID with a lease of RegistryTTL, kept
	// alive, and builds its ring from a watch on RegistryPrefix.
	Registry string `yaml:"registry" flag:"registry" usage:"raftkv endpoints host:port,... for dynamic membership (empty: static --peers only)"`
	// RegistryTTL is the lease TTL of the registration (whole seconds, at least
	// 1s): a node that dies leaves every ring within about this long.
	RegistryTTL time.Duration `yaml:"registry_ttl" flag:"registry-ttl" usage:"lease TTL of the registry entry; a dead node leaves the ring within it"`
	// RegistryPrefix is the raftkv key prefix of the member entries.
	RegistryPrefix string `yaml:"registry_prefix" flag:"registry-prefix" usage:"raftkv key prefix of member entries"`

	// VNodes is the number of ring points per member. Every node and client
	// must use the same value.
	VNodes int `yaml:"vnodes" flag:"vnodes" usage:"virtual nodes (ring points) per member"`
	// Replicas is how many distinct members hold each key: the owner and the
	// next Replicas-1 members clockwise. 1 means no copies.
	Replicas int `yaml:"replicas" flag:"replicas" usage:"copies of each key: the owner plus replicas-1 ring successors (1 = no copies)"`

	// MaxMemory bounds the bytes charged to items (key + value + per-item
	// overhead); 0 means unlimited.
	MaxMemory int64 `yaml:"max_memory" flag:"max-memory" usage:"memory limit in bytes for keys, values and per-item overhead (0 = unlimited)"`
	// MaxItemBytes bounds len(key)+len(value) of one item.
	MaxItemBytes int `yaml:"max_item_bytes" flag:"max-item-bytes" usage:"largest key plus value accepted, in bytes"`
	// EvictionPolicy is lru, lfu or noeviction.
	EvictionPolicy string `yaml:"eviction_policy" flag:"eviction-policy" usage:"what a full cache evicts: lru, lfu or noeviction"`

	// ForwardTimeout bounds one call to another node (forwarded requests).
	ForwardTimeout time.Duration `yaml:"forward_timeout" flag:"forward-timeout" usage:"deadline of a request forwarded to a key's owner"`
	// ReplicationTimeout bounds the synchronous copy of a write to its replicas.
	ReplicationTimeout time.Duration `yaml:"replication_timeout" flag:"replication-timeout" usage:"deadline of the copy of a write to its replicas (replicas > 1)"`

	// RESPMaxClients caps concurrent RESP connections; more are refused with an error.
	RESPMaxClients int `yaml:"resp_max_clients" flag:"resp-max-clients" usage:"most concurrent RESP connections"`
	// RESPMaxBulk caps one RESP bulk string (argument). A command with a
	// larger one is read to its end, its payload discarded, and answered with
	// an error naming the limit; the connection goes on.
	RESPMaxBulk int `yaml:"resp_max_bulk" flag:"resp-max-bulk" usage:"largest RESP bulk string accepted, in bytes"`
	// RESPMaxDiscard caps the bulk string a RESP connection reads and
	// discards after refusing it (over RESPMaxBulk); over it the connection
	// gets the error and is closed, as redis-server does over its
	// proto-max-bulk-len.
	RESPMaxDiscard int `yaml:"resp_max_discard" flag:"resp-max-discard" usage:"largest RESP bulk string read and discarded (over resp-max-bulk) before a connection is closed, in bytes"`
	// RESPIO is how RESP connections are served. "loop" (Linux only, and the
	// default there): RESPLoops event loops (epoll) each read every ready
	// connection, run its commands and write the replies, as redis-server
	// does; commands that wait for another node go to a goroutine. "goroutine":
	// one goroutine per connection.
	RESPIO string `yaml:"resp_io" flag:"resp-io" usage:"how RESP connections are served: loop (epoll event loops, Linux only) or goroutine (one per connection)"`
	// RESPLoops is the number of event loops with RESPIO "loop"; connections
	// are spread over them round-robin.
	RESPLoops int `yaml:"resp_loops" flag:"resp-loops" usage:"event loops serving RESP connections (resp_io loop)"`
	// RESPLoopSpin is how long after its last event an event loop (resp_io
	// loop) keeps polling (epoll_wait without blocking) before it sleeps.
	// Under load the next request arrives within microseconds: a loop that is
	// still awake needs no wake-up, which the client's write would otherwise
	// pay for in the kernel, and skips its own sleep and wake. With one
	// client-bound redis-benchmark at -P 1 against one node, 50µs made SET
	// 1.1–1.35x faster. The cost is up to RESPLoopSpin of CPU each time the
	// load pauses, which hurts when several busy processes share few CPUs
	// (see docs/cached.md); 0 never polls.
	RESPLoopSpin time.Duration `yaml:"resp_loop_spin" flag:"resp-loop-spin" usage:"how long an idle RESP event loop keeps polling before it sleeps (0: never polls)"`
	// RESPClusterRedirect says which RESP connections are answered
	// -MOVED <slot> <ip:port> for a key another node owns instead of being
	// forwarded to the owner: "aware" (the default) those that have shown they
	// are Redis Cluster clients (CLUSTER SLOTS, SHARDS or NODES, READONLY,
	// READWRITE or ASKING), "always" every connection (for cluster clients
	// that ask for the slots on another connection than the ones they send
	// keys on), "never" none. See resp_cluster.go.
	RESPClusterRedirect string `yaml:"resp_cluster_redirect" flag:"resp-cluster-redirect" usage:"which RESP connections get -MOVED for another node's key instead of forwarding: aware (those that sent CLUSTER SLOTS/SHARDS/NODES or READONLY/READWRITE), always or never"`

	// DialOverrides rewrites peer addresses when dialing: "addr=via,…". The chaos
	// harness routes every peer link through a fault proxy this way.
	DialOverrides string `yaml:"dial_overrides" flag:"dial-overrides" usage:"dial peers through other addresses: addr=via,... (fault proxies)"`

	LogLevel  string `yaml:"log_level" flag:"log-level" usage:"debug, info, warn or error"`
	LogFormat string `yaml:"log_format" flag:"log-format" usage:"text or json"`

	// clock replaces time.Now in the store. Tests only.
	clock func() time.Time
	// crashOnStop makes a stop skip the registry lease revocation, as a
	// crash would. Tests only.
	crashOnStop bool
	// respStay keeps every connection on its event loop (resp_io loop),
	// however often it needs a worker. Tests only.
	respStay bool
}

// Values of Config.RESPIO.
const (
	respIOLoop      = "loop"
	respIOGoroutine = "goroutine"
)

// DefaultConfig returns the defaults: gRPC on 127.0.0.1:7200, admin HTTP on
// 127.0.0.1:7201, RESP on 127.0.0.1:7240 served by one event loop (one
// goroutine per connection off Linux), 160 vnodes, 1 replica, 256 MiB, LRU.
func DefaultConfig() Config {
	srv := node.DefaultServerConfig()
	srv.GRPCAddr = "127.0.0.1:7200"
	srv.AdminAddr = "127.0.0.1:7201"
	return Config{
		Server:              srv,
		RESPAddr:            "127.0.0.1:7240",
		RESPProtectedMode:   true,
		RegistryTTL:         5 * time.Second,
		RegistryPrefix:      DefaultRegistryPrefix,
		VNodes:              ring.DefaultVNodes,
		Replicas:            1,
		MaxMemory:           256 << 20,
		MaxItemBytes:        1 << 20,
		EvictionPolicy:      "lru",
		ForwardTimeout:      2 * time.Second,
		ReplicationTimeout:  500 * time.Millisecond,
		RESPMaxClients:      10000,
		RESPMaxBulk:         8 << 20,
		RESPMaxDiscard:      512 << 20,
		RESPIO:              defaultRESPIO,
		RESPLoops:           1,
		RESPLoopSpin:        50 * time.Microsecond,
		RESPClusterRedirect: redirectAware,
		LogLevel:            "info",
		LogFormat:           "text",
	}
}

// Validate reports every invalid field, each message naming the field.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("cached: "+format, args...)) }
	if c.ID == "" {
		bad("id must be set")
	} else if strings.ContainsAny(c.ID, "=,/ \t") {
		bad("id %q must not contain '=', ',', '/' or spaces", c.ID)
	}
	if err := c.Server.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.RESPAddr != "" {
		if host, _, err := net.SplitHostPort(c.RESPAddr); err != nil {
			bad("resp_addr %q: %v", c.RESPAddr, err)
		} else if c.RESPProtectedMode && c.RESPPassword == "" && !loopbackHost(host) {
			bad("resp_addr %q is not a loopback address and resp_password is empty: set resp_password (--resp-password, $CAIRN_CACHED_RESP_PASSWORD) so that RESP clients must AUTH, or turn protected mode off with --resp-protected-mode=false", c.RESPAddr)
		}
	}
	if _, err := ParsePeers(c.Peers); err != nil {
		errs = append(errs, err)
	}
	if _, err := parseEndpoints(c.Registry); err != nil {
		errs = append(errs, err)
	}
	if c.Registry != "" {
		if c.RegistryTTL < time.Second {
			bad("registry_ttl %v must be at least 1s", c.RegistryTTL)
		}
		if c.RegistryPrefix == "" {
			bad("registry_prefix must be set")
		}
	}
	if c.VNodes < 1 || c.VNodes > 4096 {
		bad("vnodes %d must be in [1, 4096]", c.VNodes)
	}
	if c.Replicas < 1 || c.Replicas > 8 {
		bad("replicas %d must be in [1, 8]", c.Replicas)
	}
	if c.MaxMemory < 0 {
		bad("max_memory %d must be >= 0", c.MaxMemory)
	}
	if c.MaxItemBytes < 1 {
		bad("max_item_bytes %d must be >= 1", c.MaxItemBytes)
	}
	if _, err := parsePolicy(c.EvictionPolicy); err != nil {
		errs = append(errs, err)
	}
	if c.ForwardTimeout <= 0 {
		bad("forward_timeout %v must be > 0", c.ForwardTimeout)
	}
	if c.ReplicationTimeout <= 0 {
		bad("replication_timeout %v must be > 0", c.ReplicationTimeout)
	}
	if c.RESPMaxClients < 1 {
		bad("resp_max_clients %d must be >= 1", c.RESPMaxClients)
	}
	switch c.RESPIO {
	case respIOGoroutine:
	case respIOLoop:
		if !respLoopSupported {
			bad("resp_io %q needs Linux; use %q", c.RESPIO, respIOGoroutine)
		}
	default:
		bad("resp_io %q: want %q or %q", c.RESPIO, respIOLoop, respIOGoroutine)
	}
	if c.RESPLoops < 1 || c.RESPLoops > 64 {
		bad("resp_loops %d must be in [1, 64]", c.RESPLoops)
	}
	if c.RESPLoopSpin < 0 || c.RESPLoopSpin > time.Second {
		bad("resp_loop_spin %v must be in [0, 1s]", c.RESPLoopSpin)
	}
	switch c.RESPClusterRedirect {
	case redirectAware, redirectAlways, redirectNever:
	default:
		bad("resp_cluster_redirect %q: want %q, %q or %q", c.RESPClusterRedirect, redirectAware, redirectAlways, redirectNever)
	}
	if c.RESPMaxBulk < c.MaxItemBytes {
		bad("resp_max_bulk %d must be >= max_item_bytes %d", c.RESPMaxBulk, c.MaxItemBytes)
	}
	if c.RESPMaxDiscard < c.RESPMaxBulk {
		bad("resp_max_discard %d must be >= resp_max_bulk %d", c.RESPMaxDiscard, c.RESPMaxBulk)
	}
	if c.Server.MaxRecvMsgBytes > 0 && c.MaxItemBytes+4096 > c.Server.MaxRecvMsgBytes {
		bad("max_item_bytes %d must leave room in max_recv_msg_bytes %d", c.MaxItemBytes, c.Server.MaxRecvMsgBytes)
	}
	if _, err := node.ParseDialOverrides(c.DialOverrides); err != nil {
		errs = append(errs, fmt.Errorf("cached: dial_overrides: %w", err))
	}
	if _, err := node.NewLogger(io.Discard, c.LogLevel, c.LogFormat); err != nil {
		errs = append(errs, fmt.Errorf("cached: %w", err))
	}
	return errors.Join(errs...)
}

// storeConfig derives the store's settings.
func (c Config) storeConfig() store.Config {
	p, _ := parsePolicy(c.EvictionPolicy)
	return store.Config{MaxBytes: c.MaxMemory, MaxItemBytes: c.MaxItemBytes, Policy: p, Clock: c.clock}
}

func parsePolicy(s string) (store.Policy, error) {
	switch strings.ToLower(s) {
	case "lru", "allkeys-lru":
		return store.PolicyLRU, nil
	case "lfu", "allkeys-lfu":
		return store.PolicyLFU, nil
	case "noeviction":
		return store.PolicyNoEviction, nil
	}
	return 0, fmt.Errorf("cached: eviction_policy %q: want lru, lfu or noeviction", s)
}

// ParsePeers parses the Peers syntax "id=grpc-addr[/resp-addr],…" into ring
// members. Empty entries are skipped; ids must be distinct.
func ParsePeers(s string) ([]ring.Member, error) {
	var out []ring.Member
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, addrs, ok := strings.Cut(part, "=")
		if !ok || id == "" || addrs == "" {
			return nil, fmt.Errorf("cached: peers: %q is not id=grpc-addr[/resp-addr]", part)
		}
		grpcAddr, respAddr, _ := strings.Cut(addrs, "/")
		if _, _, err := net.SplitHostPort(grpcAddr); err != nil {
			return nil, fmt.Errorf("cached: peers: %s: grpc address %q: %v", id, grpcAddr, err)
		}
		if respAddr != "" {
			if _, _, err := net.SplitHostPort(respAddr); err != nil {
				return nil, fmt.Errorf("cached: peers: %s: resp address %q: %v", id, respAddr, err)
			}
		}
		if slices.ContainsFunc(out, func(m ring.Member) bool { return m.ID == id }) {
			return nil, fmt.Errorf("cached: peers: id %q listed twice", id)
		}
		out = append(out, ring.Member{ID: id, Addr: grpcAddr, RESPAddr: respAddr})
	}
	return out, nil
}

// FormatPeers is the inverse of ParsePeers.
func FormatPeers(ms []ring.Member) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.ID + "=" + m.Addr
		if m.RESPAddr != "" {
			parts[i] += "/" + m.RESPAddr
		}
	}
	return strings.Join(parts, ",")
}

// parseEndpoints parses the registry's "host:port,…".
func parseEndpoints(s string) ([]string, error) {
	eps, err := node.ParseEndpoints("registry", s)
	if err != nil {
		return nil, fmt.Errorf("cached: %w", err)
	}
	return eps, nil
}

// policy returns the configured eviction policy.
func (s *Server) policy() store.Policy {
	p, _ := parsePolicy(s.cfg.EvictionPolicy)
	return p
}

// loopbackHost reports whether a listen address host binds only loopback:
// "localhost" or a loopback IP. The empty host and unspecified addresses bind
// every interface; other host names are not trusted to stay loopback.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
