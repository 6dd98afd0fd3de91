package cluster

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"cairn.dev/cairn/node"
	clusterv1 "cairn.dev/cairn/proto/cairn/cluster/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// fakeNodeEnv, when set in the environment of the test binary, turns it into a
// fake cairn daemon instead of running the tests: the harness starts the test
// binary as its Binary and gets real processes without the real daemons.
const fakeNodeEnv = "CAIRN_CLUSTER_FAKE_NODE"

func TestMain(m *testing.M) {
	if os.Getenv(fakeNodeEnv) != "" {
		os.Exit(runFakeNode(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// runFakeNode acts as `cairn <service> --id … --grpc-addr … --admin-addr …
// --data-dir … --peers …`: it serves grpc health (SERVING) and a ClusterService
// whose Status elects the first reachable peer in --peers order, appends a line
// to <data-dir>/boots, and exits 0 on SIGTERM. Test knobs: --exit=N exits at once
// with status N; --not-serving reports NOT_SERVING; --ignore-sigterm makes only
// SIGKILL stop it.
func runFakeNode(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "fake node: no service")
		return 2
	}
	if len(args) >= 2 && args[0] == "cluster" && args[1] == "proxyd" {
		return runFakeProxyd(args[2:])
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	id := fs.String("id", "", "")
	grpcAddr := fs.String("grpc-addr", "", "")
	adminAddr := fs.String("admin-addr", "", "")
	dataDir := fs.String("data-dir", "", "")
	peers := fs.String("peers", "", "")
	overrides := fs.String("dial-overrides", "", "")
	fs.String("sql-addr", "", "") // raftkv's PostgreSQL endpoint: the fake serves none
	exitCode := fs.Int("exit", -1, "")
	notServing := fs.Bool("not-serving", false, "")
	ignoreTerm := fs.Bool("ignore-sigterm", false, "")
	var tlsFiles node.TLSFiles
	fs.StringVar(&tlsFiles.CertFile, "tls-cert", "", "")
	fs.StringVar(&tlsFiles.KeyFile, "tls-key", "", "")
	fs.StringVar(&tlsFiles.CAFile, "tls-ca", "", "")
	plaintext := fs.Bool("insecure", false, "")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	fmt.Fprintf(os.Stderr, "fake %s node %s starting on %s\n", args[0], *id, *grpcAddr)
	if *exitCode >= 0 {
		fmt.Fprintf(os.Stderr, "fake node %s: exiting with %d on purpose\n", *id, *exitCode)
		return *exitCode
	}
	f, err := os.OpenFile(filepath.Join(*dataDir, "boots"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake node:", err)
		return 1
	}
	fmt.Fprintln(f, os.Getpid())
	f.Close()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	if *ignoreTerm {
		signal.Ignore(syscall.SIGTERM)
	}

	lis, err := net.Listen("tcp", *grpcAddr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake node:", err)
		return 1
	}
	admin, err := net.Listen("tcp", *adminAddr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake node:", err)
		return 1
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	go http.Serve(admin, mux)

	// Like a real node: mutual TLS with the files the harness passes, or
	// plaintext when asked.
	var serverOpts []grpc.ServerOption
	peerCreds := insecure.NewCredentials()
	switch {
	case *plaintext && tlsFiles.Enabled():
		fmt.Fprintln(os.Stderr, "fake node: --insecure with --tls-*")
		return 2
	case tlsFiles.Enabled():
		stc, err := node.ServerTLSConfig(tlsFiles)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake node:", err)
			return 1
		}
		ctc, err := node.ClientTLSConfig(tlsFiles, "")
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake node:", err)
			return 1
		}
		serverOpts = append(serverOpts, grpc.Creds(credentials.NewTLS(stc)))
		peerCreds = credentials.NewTLS(ctc)
	case !*plaintext:
		fmt.Fprintln(os.Stderr, "fake node: neither --tls-* nor --insecure")
		return 2
	}
	srv := grpc.NewServer(serverOpts...)
	hs := health.NewServer()
	if *notServing {
		hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	}
	healthpb.RegisterHealthServer(srv, hs)
	raftkvv1.RegisterClusterServiceServer(srv, &fakeClusterService{id: *id, peers: parsePeers(*peers), via: parseOverrides(*overrides), creds: peerCreds})
	go srv.Serve(lis)

	<-sigs
	fmt.Fprintf(os.Stderr, "fake node %s: SIGTERM, stopping\n", *id)
	srv.GracefulStop()
	return 0
}

// runFakeProxyd is `cairn cluster proxyd --cluster-dir D`: the real RunProxyd,
// stopped by SIGTERM.
func runFakeProxyd(args []string) int {
	fs := flag.NewFlagSet("proxyd", flag.ContinueOnError)
	dir := fs.String("cluster-dir", "", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := RunProxyd(ctx, *dir, log); err != nil {
		fmt.Fprintln(os.Stderr, "fake proxyd:", err)
		return 1
	}
	return 0
}

// parseOverrides parses --dial-overrides "addr=via,…".
func parseOverrides(s string) map[string]string {
	out := map[string]string{}
	for p := range strings.SplitSeq(s, ",") {
		if from, to, ok := strings.Cut(p, "="); ok {
			out[from] = to
		}
	}
	return out
}

type peer struct{ id, addr string }

func parsePeers(s string) []peer {
	var out []peer
	for p := range strings.SplitSeq(s, ",") {
		id, addr, ok := strings.Cut(p, "=")
		if ok {
			out = append(out, peer{id, addr})
		}
	}
	return out
}

// fakeClusterService elects, on every Status call, the first peer that answers a
// gRPC health check, dialed through --dial-overrides like a real node dials its
// peers (so fault proxies and partitions apply): all fake nodes agree once kills
// and partitions have settled.
type fakeClusterService struct {
	raftkvv1.UnimplementedClusterServiceServer
	id    string
	peers []peer
	via   map[string]string // dial overrides
	creds credentials.TransportCredentials
}

func (f *fakeClusterService) Status(ctx context.Context, _ *raftkvv1.StatusRequest) (*raftkvv1.StatusResponse, error) {
	resp := &raftkvv1.StatusResponse{State: "follower"}
	for _, p := range f.peers {
		resp.Members = append(resp.Members, &clusterv1.Member{Id: p.id, Address: p.addr})
		if resp.LeaderId != "" {
			continue
		}
		if p.id != f.id && !f.reachable(ctx, p.addr) {
			continue
		}
		resp.LeaderId, resp.LeaderAddress = p.id, p.addr
	}
	if resp.LeaderId == f.id {
		resp.State = "leader"
	}
	return resp, nil
}

// reachable health-checks the peer at addr through its dial override.
func (f *fakeClusterService) reachable(ctx context.Context, addr string) bool {
	host, _, _ := net.SplitHostPort(addr) // TLS verifies the peer's own address
	if via, ok := f.via[addr]; ok {
		addr = via
	}
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(f.creds), grpc.WithAuthority(host))
	if err != nil {
		return false
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING
}

// bootCount returns how many times the fake node with this data dir started.
func bootCount(t *testing.T, dataDir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "boots"))
	if err != nil {
		t.Fatalf("read boots: %v", err)
	}
	return len(strings.Fields(string(b)))
}

// freeBasePort finds a base port whose first block is free now: 2*nodes node
// ports, the fault proxy link ports (base+50..94) and the control port (base+99).
// It picks below the usual ephemeral range (32768+), so that client sockets do not
// take a node's port while the node is down.
func freeBasePort(t *testing.T, nodes int) int {
	t.Helper()
	for range 100 {
		base := 20000 + 100*rand.IntN(120)
		ports := []int{ControlPort(base)}
		for p := base; p < base+2*nodes; p++ {
			ports = append(ports, p)
		}
		for p := base + 50; p < base+95; p++ {
			ports = append(ports, p)
		}
		free := true
		for _, p := range ports {
			if !free {
				break
			}
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				free = false
				continue
			}
			l.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no free port block")
	return 0
}
