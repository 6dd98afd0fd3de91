package cluster

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/grpc"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// DefaultBasePort is the first port of the layout: raftkv-1 listens on
// 127.0.0.1:7000 (gRPC) and 127.0.0.1:7001 (admin HTTP).
const DefaultBasePort = 7000

// MaxNodes is the largest node count of one service: each service owns a block
// of 100 ports and each node takes two.
const MaxNodes = 50

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
	// Args returns the command line (after the binary) that runs node, one of
	// group, the nodes of this service in the cluster.
	Args func(node NodeSpec, group []NodeSpec) []string
	// Role asks a node over conn for its role and the leader it knows of. Nil for
	// services without roles.
	Role func(ctx context.Context, conn grpc.ClientConnInterface) (RoleInfo, error)
}

// NodeSpec is where one node lives: the input of Service.Args.
type NodeSpec struct {
	Name      string // "<service>-<index>"
	Service   string
	Index     int // 1-based
	GRPCAddr  string
	AdminAddr string
	DataDir   string
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
		Args:         raftArgs("raftkv"),
		Role:         raftkvRole,
	},
}

// raftArgs builds the command line shared by the Raft-replicated daemons:
// `cairn <sub> --id … --grpc-addr … --admin-addr … --data-dir … --peers id=addr,…`.
func raftArgs(sub string) func(NodeSpec, []NodeSpec) []string {
	return func(n NodeSpec, group []NodeSpec) []string {
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

func raftkvRole(ctx context.Context, conn grpc.ClientConnInterface) (RoleInfo, error) {
	resp, err := raftkvv1.NewClusterServiceClient(conn).Status(ctx, &raftkvv1.StatusRequest{})
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
	slot := -1
	for i, name := range portOrder {
		if name == service {
			slot = i
		}
	}
	if slot < 0 {
		return 0, 0, fmt.Errorf("%w %q (known: %s)", ErrUnknownService, service, strings.Join(KnownServices(), ", "))
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

// Layout returns the nodes opts describes, with addresses, directories and
// command lines filled in and PID 0, in start order. It does not touch the disk.
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
	if opts.Nodes < 0 || opts.Nodes > MaxNodes {
		return nil, fmt.Errorf("cluster: --nodes %d out of range 1..%d", opts.Nodes, MaxNodes)
	}
	seen := map[string]bool{}
	var out []NodeState
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
			}
		}
		for _, n := range group {
			args := append(svc.Args(n, group), opts.ExtraArgs[name]...)
			out = append(out, NodeState{
				Name:      n.Name,
				Service:   name,
				GRPCAddr:  n.GRPCAddr,
				AdminAddr: n.AdminAddr,
				DataDir:   n.DataDir,
				LogFile:   filepath.Join(opts.Dir, "logs", n.Name+".log"),
				Binary:    opts.Binary,
				Args:      args,
			})
		}
	}
	return out, nil
}
