package cluster

import (
	"context"
	"flag"
	"fmt"
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
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

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
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	id := fs.String("id", "", "")
	grpcAddr := fs.String("grpc-addr", "", "")
	adminAddr := fs.String("admin-addr", "", "")
	dataDir := fs.String("data-dir", "", "")
	peers := fs.String("peers", "", "")
	exitCode := fs.Int("exit", -1, "")
	notServing := fs.Bool("not-serving", false, "")
	ignoreTerm := fs.Bool("ignore-sigterm", false, "")
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

	srv := grpc.NewServer()
	hs := health.NewServer()
	if *notServing {
		hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	}
	healthpb.RegisterHealthServer(srv, hs)
	raftkvv1.RegisterClusterServiceServer(srv, &fakeClusterService{id: *id, peers: parsePeers(*peers)})
	go srv.Serve(lis)

	<-sigs
	fmt.Fprintf(os.Stderr, "fake node %s: SIGTERM, stopping\n", *id)
	srv.GracefulStop()
	return 0
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

// fakeClusterService elects, on every Status call, the first peer that accepts
// TCP connections: all fake nodes agree once kills have settled.
type fakeClusterService struct {
	raftkvv1.UnimplementedClusterServiceServer
	id    string
	peers []peer
}

func (f *fakeClusterService) Status(ctx context.Context, _ *raftkvv1.StatusRequest) (*raftkvv1.StatusResponse, error) {
	resp := &raftkvv1.StatusResponse{State: "follower"}
	for _, p := range f.peers {
		resp.Members = append(resp.Members, &raftkvv1.Member{Id: p.id, Address: p.addr})
		if resp.LeaderId != "" {
			continue
		}
		if p.id != f.id {
			d := net.Dialer{Timeout: 200 * time.Millisecond}
			conn, err := d.DialContext(ctx, "tcp", p.addr)
			if err != nil {
				continue
			}
			conn.Close()
		}
		resp.LeaderId, resp.LeaderAddress = p.id, p.addr
	}
	if resp.LeaderId == f.id {
		resp.State = "leader"
	}
	return resp, nil
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

// freeBasePort finds a base port whose first block of 2*nodes ports is free now.
// It picks below the usual ephemeral range (32768+), so that client sockets do not
// take a node's port while the node is down.
func freeBasePort(t *testing.T, nodes int) int {
	t.Helper()
	for range 100 {
		base := 20000 + 2*rand.IntN(6000)
		free := true
		for p := base; p < base+2*nodes && free; p++ {
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
