package cluster

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/grpc"

	"cairn.dev/cairn/node/pki"
	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
	cachedv1 "cairn.dev/cairn/proto/cairn/cached/v1"
	edgev1 "cairn.dev/cairn/proto/cairn/edge/v1"
	gatewaydv1 "cairn.dev/cairn/proto/cairn/gatewayd/v1"
	lbdv1 "cairn.dev/cairn/proto/cairn/lbd/v1"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
)

// DefaultBasePort is the first port of the layout: raftkv-1 listens on
// 127.0.0.1:7000 (gRPC) and 127.0.0.1:7001 (admin HTTP).
const DefaultBasePort = 7000

// MaxNodes is the largest node count of one service: each service owns a block
// of 100 ports and each node takes two.
const MaxNodes = 50

// MaxProxiedNodes is the largest node count of one service when peer links run
// through fault proxies (the default): the link proxies take ports 50..94 of the
// service's block.
const MaxProxiedNodes = 5

// The port layout. Service s (0-based, in portOrder) owns the block
// [B+100*s, B+100*s+99] of the base port B:
//
//	node i (1-based) gRPC      B + 100*s + 2*(i-1)
//	node i admin HTTP          B + 100*s + 2*(i-1) + 1
//	node i extra port k        B + 100*s + 20 + 10*k + (i-1)        (k < 3, i ≤ 10; e.g. cached's RESP)
//	fault proxy of link i→j    B + 100*s + 50 + 10*(i-1) + (j-1)   (i, j ≤ 5, i ≠ j)
//	proxyd control HTTP API    B + 99                              (in raftkv's block)
//
// Link i→j carries the dials node i makes to node j of the same service: node i
// runs with --dial-overrides <j's gRPC address>=<the link's address>. With fault
// proxies a service runs at most MaxProxiedNodes nodes, so nodes use offsets 0..9,
// links 50..94 and offset 99 of block 0 is free for the control API.

// portOrder fixes the port block of every service, present or planned: service s
// (0-based index here) owns ports [base+100*s, base+100*s+99]. Never reorder it;
// append only, or every user's ports move.
var portOrder = [...]string{
	"raftkv", "lockd", "cached", "queued", "streamd",
	"blobd", "searchd", "gatewayd", "lbd", "edge",
}

// Service describes a kind of daemon the harness knows how to run. The table of
// services is the services variable below; a new daemon joins the harness by
// adding one entry there (its name must already be in portOrder).
type Service struct {
	// Name is the daemon subcommand and the prefix of node names ("raftkv-1").
	Name string
	// DefaultNodes is the node count used when Options.Nodes is 0.
	DefaultNodes int
	// Replicated says the nodes elect one leader; WaitReady then waits until all
	// live nodes agree on exactly one.
	Replicated bool
	// ExtraPorts names the ports a node listens on besides gRPC and admin HTTP
	// (e.g. "resp"); Layout gives each one an address in NodeSpec.Ports.
	ExtraPorts []string
	// PortHost, when set, gives the host of a node's extra port (default
	// 127.0.0.1): the edges listen on one loopback address per region.
	// Node certificates name these hosts.
	PortHost func(index int, port string) string
	// CertNames are extra DNS names of the service's node certificates
	// (the CDN hostname of the edges).
	CertNames []string
	// SharedPorts gives every node node 1's extra ports: addresses that
	// float between the nodes, held by one at a time (lbd's virtual
	// address).
	SharedPorts bool
	// Args returns the command line (after the binary) that runs node, one of
	// group, the nodes of this service; all is every node of the cluster (for
	// services that use another, e.g. cached registering in raftkv).
	Args func(node NodeSpec, group, all []NodeSpec) []string
	// Role asks a node over conn for its role and the leader it knows of. Nil for
	// services without roles.
	Role func(ctx context.Context, conn grpc.ClientConnInterface) (RoleInfo, error)
	// Peered says the nodes dial each other and accept --dial-overrides, so the
	// harness can route their links through fault proxies.
	Peered bool
	// Requires names services this one needs running: Layout adds each one
	// missing from Options.Services just before the first service that
	// requires it (searchd keeps its writes in streamd).
	Requires []string
	// JoinArgs rewrites a node's command line (as Args built it) so that a node
	// with an empty data directory joins the existing group instead of founding
	// one; used after Wipe. Nil if the service has no such mode.
	JoinArgs func(args []string) []string
}

// NodeSpec is where one node lives: the input of Service.Args.
type NodeSpec struct {
	Name      string // "<service>-<index>"
	Service   string
	Index     int // 1-based
	GRPCAddr  string
	AdminAddr string
	DataDir   string
	// Dir is the cluster directory, for files shared by the nodes (the
	// cluster access key).
	Dir string
	// Ports holds the addresses of the service's ExtraPorts, by name.
	Ports map[string]string
}

// RoleInfo is a node's answer to a role probe.
type RoleInfo struct {
	// Role is the node's own role: "leader", "follower", "candidate", ...
	Role string
	// Leader is the name of the leader this node knows of, "" if none.
	Leader string
}

// services is the table of daemons the harness can run, in start order.
var services = []Service{
	{
		Name:         "raftkv",
		DefaultNodes: 3,
		Replicated:   true,
		// sql: the PostgreSQL wire protocol (--sql-addr), served by
		// raftkv/sql/pgwire.
		ExtraPorts: []string{"sql"},
		Args:       raftkvArgs,
		Role:       raftkvRole,
		Peered:     true,
		JoinArgs:   raftJoinArgs,
	},
	{
		Name:         "lockd",
		DefaultNodes: 3,
		Replicated:   true,
		Args:         raftArgs("lockd"),
		Role:         lockdRole,
		Peered:       true,
		JoinArgs:     raftJoinArgs,
	},
	{
		Name:         "cached",
		DefaultNodes: 3,
		ExtraPorts:   []string{"resp"},
		Args:         cachedArgs,
		Role:         cachedRole,
		Peered:       true,
	},
	{
		Name:         "queued",
		DefaultNodes: 3,
		Replicated:   true,
		// sqs: the SQS HTTP API (--sqs-addr), served by queued/sqs.
		ExtraPorts: []string{"sqs"},
		Args:       queuedArgs,
		Role:       queuedRole,
		Peered:     true,
		JoinArgs:   raftJoinArgs,
	},
	{
		Name:         "streamd",
		DefaultNodes: 3,
		Replicated:   true,
		Args:         raftArgs("streamd"),
		Role:         streamdRole,
		Peered:       true,
		JoinArgs:     raftJoinArgs,
	},
	{
		Name: "blobd",
		// Five nodes: hot chunks on 3 of them with 2 to spare for repair,
		// cool and archive chunks erasure coded 3+2.
		DefaultNodes: 5,
		Replicated:   true,
		// s3: the S3 HTTP API (--s3-addr), served by blobd/s3.
		ExtraPorts: []string{"s3"},
		Args:       blobdArgs,
		Role:       blobdRole,
		Peered:     true,
		JoinArgs:   raftJoinArgs,
	},
	{
		Name:         "searchd",
		DefaultNodes: 3,
		Replicated:   true,
		// http: the Elasticsearch-compatible API (--http-addr), served by
		// searchd/es.
		ExtraPorts: []string{"http"},
		Args:       searchdArgs,
		Role:       searchdRole,
		Peered:     true,
		JoinArgs:   raftJoinArgs,
		Requires:   []string{"streamd"},
	},
	{
		Name:         "gatewayd",
		DefaultNodes: 3,
		ExtraPorts:   []string{"http"},
		Args:         gatewaydArgs,
		Role:         gatewaydRole,
		Requires:     []string{"raftkv", "cached"},
	},
	{
		Name: "lbd",
		// An HA pair: the active node holds the virtual address.
		DefaultNodes: 2,
		// http and tcp: the frontends on the virtual address
		// (LBVirtualIP), the same for every node.
		ExtraPorts:  []string{"http", "tcp"},
		SharedPorts: true,
		PortHost:    func(int, string) string { return LBVirtualIP },
		Args:        lbdArgs,
		Role:        lbdRole,
		Requires:    []string{"raftkv", "lockd"},
	},
	{
		Name:         "edge",
		DefaultNodes: 3,
		// http: the CDN traffic, on 127.0.<i>.1 (one loopback address per
		// region); dns: the nearest-edge DNS server (UDP and TCP).
		ExtraPorts: []string{"http", "dns"},
		PortHost:   edgePortHost,
		CertNames:  []string{EdgeZone},
		Args:       edgeArgs,
		Role:       edgeRole,
		Requires:   []string{"raftkv", "blobd"},
	},
}

// LBVirtualIP is the harness's floating address: the active lbd node
// listens on it (a loopback address standing in for a floating IP).
const LBVirtualIP = "127.0.0.100"

// LBFileName is the lbd frontends-and-pools document in the cluster
// directory, shared by the lbd nodes (which reload it when it changes).
const LBFileName = "lbd.yaml"

// lbdArgs runs an lbd node of the HA pair: raftkv for discovery and shared
// admin state, lockd for the election of the node holding LBVirtualIP.
func lbdArgs(n NodeSpec, group, all []NodeSpec) []string {
	var raftkv, lockd []string
	for _, o := range all {
		switch o.Service {
		case "raftkv":
			raftkv = append(raftkv, o.GRPCAddr)
		case "lockd":
			lockd = append(lockd, o.GRPCAddr)
		}
	}
	args := []string{
		"lbd",
		"--id", n.Name,
		"--grpc-addr", n.GRPCAddr,
		"--admin-addr", n.AdminAddr,
		"--lb-file", filepath.Join(n.Dir, LBFileName),
	}
	if len(raftkv) > 0 {
		args = append(args, "--registry", strings.Join(raftkv, ","))
	}
	if len(lockd) > 0 {
		args = append(args, "--lockd", strings.Join(lockd, ","), "--vip", LBVirtualIP)
	}
	return args
}

// lbdRole reports whether the node is the active one and which node is.
func lbdRole(ctx context.Context, conn grpc.ClientConnInterface) (RoleInfo, error) {
	resp, err := lbdv1.NewLBServiceClient(conn).GetStatus(ctx, &lbdv1.GetStatusRequest{})
	if err != nil {
		return RoleInfo{}, err
	}
	return RoleInfo{Role: resp.GetRole(), Leader: resp.GetActive()}, nil
}

// EdgeZone is the CDN hostname the harness's edges answer for in DNS.
const EdgeZone = "cdn.cairn.test"

// EdgeRegions name the harness's edge regions: edge-i is in EdgeRegions[i-1]
// and serves on 127.0.i.1, the address that stands for the region; clients
// in 127.0.i.0/24 are its users.
var EdgeRegions = [...]string{"tokyo", "frankfurt", "virginia", "saopaulo", "sydney", "mumbai", "london", "oregon", "singapore", "paris"}

// edgePortHost puts edge-i's traffic on 127.0.i.1.
func edgePortHost(index int, port string) string {
	if port == "http" {
		return "127.0." + strconv.Itoa(index) + ".1"
	}
	return "127.0.0.1"
}

// edgeArgs runs a gatewayd in the edge role: blobd as its origin, raftkv for
// purges, the other edges as its shield tier, a disk tier in its data
// directory, and a DNS server mapping each region's subnet to its edge.
func edgeArgs(n NodeSpec, group, all []NodeSpec) []string {
	var raftkv, blobd []string
	for _, o := range all {
		switch o.Service {
		case "raftkv":
			raftkv = append(raftkv, o.GRPCAddr)
		case "blobd":
			blobd = append(blobd, o.GRPCAddr)
		}
	}
	shields := make([]string, len(group))
	regions := make([]string, len(group))
	for i, g := range group {
		shields[i] = g.Name + "=" + g.Ports["http"]
		host, _, _ := net.SplitHostPort(g.Ports["http"])
		regions[i] = EdgeRegions[g.Index-1] + "=127.0." + strconv.Itoa(g.Index) + ".0/24@" + host
	}
	args := []string{
		"gatewayd", "--role", "edge",
		"--id", n.Name,
		"--grpc-addr", n.GRPCAddr,
		"--admin-addr", n.AdminAddr,
		"--http-addr", n.Ports["http"],
		"--region", EdgeRegions[n.Index-1],
		"--shields", strings.Join(shields, ","),
		"--cache-dir", filepath.Join(n.DataDir, "cache"),
		"--cache-disk", strconv.Itoa(1 << 30),
		"--dns-addr", n.Ports["dns"],
		"--dns-zone", EdgeZone,
		"--dns-regions", strings.Join(regions, ";"),
	}
	if len(raftkv) > 0 {
		args = append(args, "--registry", strings.Join(raftkv, ","))
	}
	if len(blobd) > 0 {
		args = append(args, "--origin", "blobd", "--blobd-endpoints", strings.Join(blobd, ","))
	}
	return args
}

// edgeRole reports the edge's region as its role (edges are equal).
func edgeRole(ctx context.Context, conn grpc.ClientConnInterface) (RoleInfo, error) {
	resp, err := edgev1.NewEdgeServiceClient(conn).GetStats(ctx, &edgev1.GetStatsRequest{})
	if err != nil {
		return RoleInfo{}, err
	}
	return RoleInfo{Role: "edge " + resp.GetRegion()}, nil
}

// gatewaydArgs runs a gateway node with raftkv as its registry
// (configuration, API keys, services), cached for global rate limits and the
// shared response cache, and the cluster's token key.
func gatewaydArgs(n NodeSpec, group, all []NodeSpec) []string {
	var raftkv, cached []string
	for _, o := range all {
		switch o.Service {
		case "raftkv":
			raftkv = append(raftkv, o.GRPCAddr)
		case "cached":
			cached = append(cached, o.GRPCAddr)
		}
	}
	args := []string{
		"gatewayd",
		"--id", n.Name,
		"--grpc-addr", n.GRPCAddr,
		"--admin-addr", n.AdminAddr,
		"--http-addr", n.Ports["http"],
		"--gateway-nodes", strconv.Itoa(len(group)),
		"--issuer-key", pki.TokenKeyFile(filepath.Join(n.Dir, TLSDirName)),
	}
	if len(raftkv) > 0 {
		args = append(args, "--registry", strings.Join(raftkv, ","))
	}
	if len(cached) > 0 {
		args = append(args, "--cache-endpoints", strings.Join(cached, ","))
	}
	return args
}

// gatewaydRole reports the node's configuration version as its role (the
// gateway is stateless: every node is equal).
func gatewaydRole(ctx context.Context, conn grpc.ClientConnInterface) (RoleInfo, error) {
	resp, err := gatewaydv1.NewGatewayServiceClient(conn).GetConfig(ctx, &gatewaydv1.GetConfigRequest{})
	if err != nil {
		return RoleInfo{}, err
	}
	return RoleInfo{Role: "config v" + strconv.FormatInt(resp.GetVersion(), 10)}, nil
}

// searchdArgs is raftArgs for searchd plus the node's HTTP API address and
// the gRPC addresses of the cluster's streamd nodes (dialed with the node's
// own TLS files).
func searchdArgs(n NodeSpec, group, all []NodeSpec) []string {
	var streamd []string
	for _, o := range all {
		if o.Service == "streamd" {
			streamd = append(streamd, o.GRPCAddr)
		}
	}
	return append(raftArgs("searchd")(n, group, all), "--http-addr", n.Ports["http"],
		"--streamd-endpoints", strings.Join(streamd, ","))
}

// searchdRole reports the node's role in the metadata Raft group (every
// node holds shard copies and answers searches).
func searchdRole(ctx context.Context, conn grpc.ClientConnInterface) (RoleInfo, error) {
	resp, err := searchdv1.NewClusterServiceClient(conn).Status(ctx, &searchdv1.StatusRequest{})
	if err != nil {
		return RoleInfo{}, err
	}
	return RoleInfo{Role: resp.GetState(), Leader: resp.GetLeaderId()}, nil
}

// withRequired returns names with every service a listed one requires
// (transitively) inserted before the first service that requires it,
// unless listed already.
func withRequired(names []string) []string {
	listed := map[string]bool{}
	for _, n := range names {
		listed[n] = true
	}
	var out []string
	var add func(name string)
	add = func(name string) {
		if svc, ok := LookupService(name); ok {
			for _, r := range svc.Requires {
				if !listed[r] {
					listed[r] = true
					add(r)
				}
			}
		}
		out = append(out, name)
	}
	for _, n := range names {
		add(n)
	}
	return out
}

// queuedArgs is raftArgs for queued plus the node's SQS API address and the
// cluster access key file (which Up makes).
func queuedArgs(n NodeSpec, group, all []NodeSpec) []string {
	return append(raftArgs("queued")(n, group, all), "--sqs-addr", n.Ports["sqs"],
		"--sqs-credentials-file", accessKeyFile(n.Dir), "--sqs-region", Region)
}

// raftkvArgs is raftArgs for raftkv plus the node's PostgreSQL address.
func raftkvArgs(n NodeSpec, group, all []NodeSpec) []string {
	return append(raftArgs("raftkv")(n, group, all), "--sql-addr", n.Ports["sql"])
}

// blobdArgs is raftArgs for blobd plus the node's S3 API address and the
// cluster access key file (which Up makes).
func blobdArgs(n NodeSpec, group, all []NodeSpec) []string {
	return append(raftArgs("blobd")(n, group, all), "--s3-addr", n.Ports["s3"],
		"--s3-credentials-file", accessKeyFile(n.Dir), "--s3-region", Region)
}

// blobdRole reports the node's role in the metadata Raft group (every node
// is also a volume server and serves the object API).
func blobdRole(ctx context.Context, conn grpc.ClientConnInterface) (RoleInfo, error) {
	resp, err := blobdv1.NewClusterServiceClient(conn).Status(ctx, &blobdv1.StatusRequest{})
	if err != nil {
		return RoleInfo{}, err
	}
	return RoleInfo{Role: resp.GetState(), Leader: resp.GetLeaderId()}, nil
}

func queuedRole(ctx context.Context, conn grpc.ClientConnInterface) (RoleInfo, error) {
	resp, err := queuedv1.NewClusterServiceClient(conn).Status(ctx, &queuedv1.StatusRequest{})
	if err != nil {
		return RoleInfo{}, err
	}
	return RoleInfo{Role: resp.GetState(), Leader: resp.GetLeaderId()}, nil
}

// streamdRole reports the node's role in the controller's Raft group: the
// leader is the controller (partition leaders are spread over all nodes).
func streamdRole(ctx context.Context, conn grpc.ClientConnInterface) (RoleInfo, error) {
	resp, err := streamdv1.NewClusterServiceClient(conn).Status(ctx, &streamdv1.StatusRequest{})
	if err != nil {
		return RoleInfo{}, err
	}
	return RoleInfo{Role: resp.GetState(), Leader: resp.GetLeaderId()}, nil
}

// cachedArgs runs a cache node with the group as static peers and, when the
// cluster has raftkv, raftkv as the membership registry. Several nodes of
// one host share its CPUs, so their RESP event loops do not busy-poll
// (--resp-loop-spin 0): measured with redis-benchmark --cluster on 3 nodes
// and 2 CPUs, the poll cost each request about 20% more server CPU and
// turned 1.2x of a Redis Cluster's throughput into 0.9x (docs/cached.md).
func cachedArgs(n NodeSpec, group, all []NodeSpec) []string {
	peers := make([]string, len(group))
	for i, p := range group {
		peers[i] = p.Name + "=" + p.GRPCAddr + "/" + p.Ports["resp"]
	}
	args := []string{
		"cached",
		"--id", n.Name,
		"--grpc-addr", n.GRPCAddr,
		"--admin-addr", n.AdminAddr,
		"--resp-addr", n.Ports["resp"],
		"--peers", strings.Join(peers, ","),
	}
	if len(group) > 1 {
		args = append(args, "--resp-loop-spin", "0s")
	}
	var registry []string
	for _, o := range all {
		if o.Service == "raftkv" {
			registry = append(registry, o.GRPCAddr)
		}
	}
	if len(registry) > 0 {
		args = append(args, "--registry", strings.Join(registry, ","))
	}
	return args
}

func cachedRole(ctx context.Context, conn grpc.ClientConnInterface) (RoleInfo, error) {
	resp, err := cachedv1.NewRingServiceClient(conn).Status(ctx, &cachedv1.StatusRequest{})
	if err != nil {
		return RoleInfo{}, err
	}
	return RoleInfo{Role: resp.GetState()}, nil
}

// raftArgs builds the command line shared by the Raft-replicated daemons:
// `cairn <sub> --id … --grpc-addr … --admin-addr … --data-dir … --peers id=addr,…`.
func raftArgs(sub string) func(NodeSpec, []NodeSpec, []NodeSpec) []string {
	return func(n NodeSpec, group, _ []NodeSpec) []string {
		peers := make([]string, len(group))
		for i, p := range group {
			peers[i] = p.Name + "=" + p.GRPCAddr
		}
		return []string{
			sub,
			"--id", n.Name,
			"--grpc-addr", n.GRPCAddr,
			"--admin-addr", n.AdminAddr,
			"--data-dir", n.DataDir,
			"--peers", strings.Join(peers, ","),
		}
	}
}

// raftJoinArgs empties --peers: a Raft node with no data and no initial peers
// waits to be added to the group (MemberAdd) and then receives its state.
func raftJoinArgs(args []string) []string {
	out := append([]string(nil), args...)
	for i := 0; i+1 < len(out); i++ {
		if out[i] == "--peers" {
			out[i+1] = ""
		}
	}
	return out
}

func raftkvRole(ctx context.Context, conn grpc.ClientConnInterface) (RoleInfo, error) {
	resp, err := raftkvv1.NewClusterServiceClient(conn).Status(ctx, &raftkvv1.StatusRequest{})
	if err != nil {
		return RoleInfo{}, err
	}
	return RoleInfo{Role: resp.GetState(), Leader: resp.GetLeaderId()}, nil
}

func lockdRole(ctx context.Context, conn grpc.ClientConnInterface) (RoleInfo, error) {
	resp, err := lockdv1.NewClusterServiceClient(conn).Status(ctx, &lockdv1.StatusRequest{})
	if err != nil {
		return RoleInfo{}, err
	}
	return RoleInfo{Role: resp.GetState(), Leader: resp.GetLeaderId()}, nil
}

// KnownServices returns the names of the services the harness can run, in start
// order. `cairn cluster up` runs all of them by default.
func KnownServices() []string {
	out := make([]string, len(services))
	for i, s := range services {
		out[i] = s.Name
	}
	return out
}

// LookupService returns the table entry of a service.
func LookupService(name string) (Service, bool) {
	for _, s := range services {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}

// NodePorts returns the gRPC and admin ports of node index (1-based) of service
// with the given base port: base + 100*slot + 2*(index-1), admin one above.
func NodePorts(basePort int, service string, index int) (grpcPort, adminPort int, err error) {
	slot, err := serviceSlot(service)
	if err != nil {
		return 0, 0, err
	}
	if index < 1 || index > MaxNodes {
		return 0, 0, fmt.Errorf("cluster: node index %d of %s out of range 1..%d", index, service, MaxNodes)
	}
	grpcPort = basePort + 100*slot + 2*(index-1)
	adminPort = grpcPort + 1
	if basePort < 1 || adminPort > 65535 {
		return 0, 0, fmt.Errorf("cluster: base port %d puts %s-%d on port %d, outside 1..65535", basePort, service, index, adminPort)
	}
	return grpcPort, adminPort, nil
}

// ExtraPort returns the port of extra port k (0-based, k < 3) of node index
// (1-based, ≤ 10) of service: base + 100*slot + 20 + 10*k + (index-1).
func ExtraPort(basePort int, service string, index, k int) (int, error) {
	slot, err := serviceSlot(service)
	if err != nil {
		return 0, err
	}
	if k < 0 || k > 2 || index < 1 || index > 10 {
		return 0, fmt.Errorf("cluster: %s-%d: extra port %d needs node index 1..10 and at most 3 extra ports", service, index, k)
	}
	return basePort + 100*slot + 20 + 10*k + (index - 1), nil
}

// serviceSlot returns the index of service in portOrder.
func serviceSlot(service string) (int, error) {
	for i, name := range portOrder {
		if name == service {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%w %q (known: %s)", ErrUnknownService, service, strings.Join(KnownServices(), ", "))
}

// ProxyPort returns the port of the fault proxy of link from→to (1-based node
// indexes) of service: base + 100*slot + 50 + 10*(from-1) + (to-1).
func ProxyPort(basePort int, service string, from, to int) (int, error) {
	slot, err := serviceSlot(service)
	if err != nil {
		return 0, err
	}
	if from < 1 || to < 1 || from > MaxProxiedNodes || to > MaxProxiedNodes || from == to {
		return 0, fmt.Errorf("cluster: no fault proxy link %s-%d→%s-%d (nodes 1..%d, distinct)", service, from, service, to, MaxProxiedNodes)
	}
	port := basePort + 100*slot + 50 + 10*(from-1) + (to - 1)
	if basePort < 1 || port > 65535 {
		return 0, fmt.Errorf("cluster: base port %d puts link %s-%d→%s-%d on port %d, outside 1..65535", basePort, service, from, service, to, port)
	}
	return port, nil
}

// ControlPort returns the port of the fault proxy's control API: base + 99.
func ControlPort(basePort int) int { return basePort + 99 }

// proxyLinks returns every directed link between the nodes of each peered
// service in nodes (as Layout returned them, grouped by service in index order).
func proxyLinks(basePort int, nodes []NodeState) ([]Link, error) {
	var links []Link
	byService := map[string][]NodeState{}
	var order []string
	for _, n := range nodes {
		if _, ok := byService[n.Service]; !ok {
			order = append(order, n.Service)
		}
		byService[n.Service] = append(byService[n.Service], n)
	}
	for _, name := range order {
		svc, ok := LookupService(name)
		if !ok || !svc.Peered {
			continue
		}
		group := byService[name]
		if len(group) > MaxProxiedNodes {
			return nil, fmt.Errorf("cluster: %d %s nodes, but fault proxies allow at most %d per service (use --no-fault-proxy)", len(group), name, MaxProxiedNodes)
		}
		for i, a := range group {
			for j, b := range group {
				if i == j {
					continue
				}
				port, err := ProxyPort(basePort, name, i+1, j+1)
				if err != nil {
					return nil, err
				}
				links = append(links, Link{
					From:   a.Name,
					To:     b.Name,
					Listen: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
					Target: b.GRPCAddr,
				})
			}
		}
	}
	return links, nil
}

// dialOverridesArgs returns the --dial-overrides argument that routes node's
// dials through its outgoing links, nil if it has none.
func dialOverridesArgs(node string, links []Link) []string {
	var pairs []string
	for _, l := range links {
		if l.From == node {
			pairs = append(pairs, l.Target+"="+l.Listen)
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	return []string{"--dial-overrides", strings.Join(pairs, ",")}
}

// LayoutProxy returns the fault proxy links for nodes (as Layout returned them
// for opts), and adds to each node's command line the --dial-overrides that route
// its peer dials through them. It returns nil links when opts.NoFaultProxy.
func LayoutProxy(opts Options, nodes []NodeState) ([]Link, error) {
	if opts.NoFaultProxy {
		return nil, nil
	}
	base := opts.BasePort
	if base == 0 {
		base = DefaultBasePort
	}
	links, err := proxyLinks(base, nodes)
	if err != nil {
		return nil, err
	}
	for i := range nodes {
		nodes[i].Args = append(nodes[i].Args, dialOverridesArgs(nodes[i].Name, links)...)
	}
	return links, nil
}

// Layout returns the nodes opts describes, with addresses, directories and
// command lines filled in and PID 0, in start order. Each command line ends with
// the node's TLS files in <Dir>/tls (or --insecure), then opts.ExtraArgs. It
// does not touch the disk.
// opts.Dir should be absolute (Up makes it so).
func Layout(opts Options) ([]NodeState, error) {
	base := opts.BasePort
	if base == 0 {
		base = DefaultBasePort
	}
	names := opts.Services
	if len(names) == 0 {
		names = KnownServices()
	}
	names = withRequired(names)
	if opts.Nodes < 0 || opts.Nodes > MaxNodes {
		return nil, fmt.Errorf("cluster: --nodes %d out of range 1..%d", opts.Nodes, MaxNodes)
	}
	seen := map[string]bool{}
	type groupOf struct {
		svc   Service
		nodes []NodeSpec
	}
	var (
		out    []NodeState
		groups []groupOf
		all    []NodeSpec
	)
	for _, name := range names {
		svc, ok := LookupService(name)
		if !ok {
			return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownService, name, strings.Join(KnownServices(), ", "))
		}
		if seen[name] {
			return nil, fmt.Errorf("cluster: service %q listed twice", name)
		}
		seen[name] = true
		for extra := range opts.ExtraArgs {
			if _, ok := LookupService(extra); !ok {
				return nil, fmt.Errorf("%w %q in extra args", ErrUnknownService, extra)
			}
		}
		count := opts.Nodes
		if count == 0 {
			count = svc.DefaultNodes
		}
		if len(svc.ExtraPorts) > 0 && count > 10 {
			return nil, fmt.Errorf("cluster: %s runs at most 10 nodes (it listens on extra ports)", name)
		}
		group := make([]NodeSpec, count)
		for i := range group {
			g, a, err := NodePorts(base, name, i+1)
			if err != nil {
				return nil, err
			}
			nodeName := name + "-" + strconv.Itoa(i+1)
			group[i] = NodeSpec{
				Name:      nodeName,
				Service:   name,
				Index:     i + 1,
				GRPCAddr:  net.JoinHostPort("127.0.0.1", strconv.Itoa(g)),
				AdminAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(a)),
				DataDir:   filepath.Join(opts.Dir, "data", nodeName),
				Dir:       opts.Dir,
			}
			for k, port := range svc.ExtraPorts {
				owner := i + 1
				if svc.SharedPorts {
					owner = 1
				}
				p, err := ExtraPort(base, name, owner, k)
				if err != nil {
					return nil, err
				}
				if group[i].Ports == nil {
					group[i].Ports = map[string]string{}
				}
				host := "127.0.0.1"
				if svc.PortHost != nil {
					host = svc.PortHost(owner, port)
				}
				group[i].Ports[port] = net.JoinHostPort(host, strconv.Itoa(p))
			}
		}
		groups = append(groups, groupOf{svc: svc, nodes: group})
		all = append(all, group...)
	}
	for _, g := range groups {
		for _, n := range g.nodes {
			args := append(g.svc.Args(n, g.nodes, all), tlsArgs(opts.Dir, n.Name, opts.Insecure)...)
			args = append(args, opts.ExtraArgs[g.svc.Name]...)
			out = append(out, NodeState{
				Name:      n.Name,
				Service:   g.svc.Name,
				GRPCAddr:  n.GRPCAddr,
				AdminAddr: n.AdminAddr,
				Ports:     n.Ports,
				DataDir:   n.DataDir,
				LogFile:   filepath.Join(opts.Dir, "logs", n.Name+".log"),
				Binary:    opts.Binary,
				Args:      args,
			})
		}
	}
	return out, nil
}
