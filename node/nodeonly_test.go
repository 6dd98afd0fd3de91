package node

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/pki"
	raftv1 "cairn.dev/cairn/proto/cairn/raft/v1"
)

// nodeOnlyServer serves the Raft transport (unimplemented) with mutual TLS
// from a pki directory holding certificates for node "n1".
func nodeOnlyServer(t *testing.T) (addr, dir string) {
	t.Helper()
	dir = t.TempDir()
	require.NoError(t, pki.Ensure(dir, []string{"n1", "n2"}))
	cfg := testConfig()
	cfg.TLS.CertFile, cfg.TLS.KeyFile = pki.NodeFiles(dir, "n1")
	cfg.TLS.CAFile = pki.CAFile(dir)
	r := startServer(t, cfg, func(s *Server) {
		raftv1.RegisterRaftTransportServiceServer(s.GRPC(), raftv1.UnimplementedRaftTransportServiceServer{})
		s.SetReady(true)
	})
	return r.GRPCAddr(), dir
}

func TestNodeOnlyServicesRejectClientCertificates(t *testing.T) {
	addr, dir := nodeOnlyServer(t)
	clientCert, clientKey := pki.ClientFiles(dir)
	client := dialTest(t, addr, DialConfig{TLS: TLSFiles{CertFile: clientCert, KeyFile: clientKey, CAFile: pki.CAFile(dir)}})
	nodeCert, nodeKey := pki.NodeFiles(dir, "n2")
	peer := dialTest(t, addr, DialConfig{TLS: TLSFiles{CertFile: nodeCert, KeyFile: nodeKey, CAFile: pki.CAFile(dir)}})
	ctx := rpcContext(t)

	// A client may call client services.
	resp, err := healthpb.NewHealthClient(client).Check(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())

	// A client may not call the Raft transport, unary or streaming.
	_, err = raftv1.NewRaftTransportServiceClient(client).RequestVote(ctx, &raftv1.RequestVoteRequest{})
	require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
	require.ErrorContains(t, err, "cairn.raft.v1.RaftTransportService accepts only node certificates")
	stream, err := raftv1.NewRaftTransportServiceClient(client).AppendEntriesPipeline(ctx)
	require.NoError(t, err)
	_, err = stream.Recv()
	require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)

	// A node passes the check and reaches the (unimplemented) handler.
	_, err = raftv1.NewRaftTransportServiceClient(peer).RequestVote(ctx, &raftv1.RequestVoteRequest{})
	require.Equal(t, codes.Unimplemented, status.Code(err), "%v", err)
	stream, err = raftv1.NewRaftTransportServiceClient(peer).AppendEntriesPipeline(ctx)
	require.NoError(t, err)
	_, err = stream.Recv()
	require.Equal(t, codes.Unimplemented, status.Code(err), "%v", err)
}

func TestNodeOnlyNotEnforcedWithoutClientCertificates(t *testing.T) {
	r := startServer(t, testConfig(), func(s *Server) {
		raftv1.RegisterRaftTransportServiceServer(s.GRPC(), raftv1.UnimplementedRaftTransportServiceServer{})
	})
	conn := dialTest(t, r.GRPCAddr(), DialConfig{})
	_, err := raftv1.NewRaftTransportServiceClient(conn).RequestVote(rpcContext(t), &raftv1.RequestVoteRequest{})
	require.Equal(t, codes.Unimplemented, status.Code(err), "plaintext (--insecure) cannot tell nodes from clients: %v", err)
}

func TestIsNodeOnlyService(t *testing.T) {
	for name, want := range map[string]bool{
		"cairn.raft.v1.RaftTransportService":   true,
		"cairn.raft.v1.RaftNodeService":        true,
		"cairn.raft.v2.RaftTransportService":   true,
		"cairn.lockd.peer.v1.LockPeerService":  true,
		"cairn.cached.peer.v1.PeerService":     true,
		"cairn.queued.peer.v1beta1.AnyService": true,
		"cairn.lockd.v1.LockService":           false,
		"cairn.cached.v1.PeerService":          false, // the package decides, not the name
		"cairn.cluster.v1.MembershipService":   false,
		"cairn.lockd.raft.v1.Anything":         false, // log commands, not a transport
		"grpc.health.v1.Health":                false,
		"grpc.reflection.v1.ServerReflection":  false,
		"other.raft.v1.RaftTransportService":   false,
		"cairn.peer.v1.PeerService":            false,
		"cairn..peer.v1.PeerService":           false,
		"cairn.lockd.peer.x1.LockPeerService":  false,
		"cairn.raft.v1":                        false,
		"RaftTransportService":                 false,
		"":                                     false,
	} {
		require.Equal(t, want, IsNodeOnlyService(name), name)
	}
}

// protoServices returns the full names of the services declared in the
// .proto files of the repository's proto/ module.
func protoServices(t *testing.T) []string {
	t.Helper()
	pkgRE := regexp.MustCompile(`(?m)^package\s+([\w.]+)\s*;`)
	svcRE := regexp.MustCompile(`(?m)^service\s+(\w+)`)
	var out []string
	err := filepath.WalkDir(filepath.Join("..", "proto"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".proto" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		pkg := pkgRE.FindSubmatch(b)
		require.NotNil(t, pkg, "%s has no package", path)
		for _, m := range svcRE.FindAllSubmatch(b, -1) {
			out = append(out, string(pkg[1])+"."+string(m[1]))
		}
		return nil
	})
	require.NoError(t, err)
	slices.Sort(out)
	return out
}

// TestNodeOnlyServicesInProtos applies the rule to every service in proto/:
// the node-to-node services are exactly the node-only ones, and no service
// in a client package looks like a peer service (it belongs in the daemon's
// peer package, where the rule covers it).
func TestNodeOnlyServicesInProtos(t *testing.T) {
	services := protoServices(t)
	require.Contains(t, services, "cairn.lockd.v1.LockService", "the proto/ scan found nothing")
	var nodeOnly []string
	for _, name := range services {
		if IsNodeOnlyService(name) {
			nodeOnly = append(nodeOnly, name)
			continue
		}
		require.False(t, strings.HasSuffix(name, "PeerService") || strings.HasPrefix(name, "cairn.raft."),
			"%s looks node-to-node but is not in a node-only package (cairn.raft.vN or cairn.<svc>.peer.vN)", name)
	}
	require.Equal(t, []string{
		"cairn.blobd.peer.v1.MetaPeerService",
		"cairn.blobd.peer.v1.VolumeService",
		"cairn.cached.peer.v1.PeerService",
		"cairn.lockd.peer.v1.LockPeerService",
		"cairn.raft.v1.RaftNodeService",
		"cairn.raft.v1.RaftTransportService",
		"cairn.streamd.peer.v1.ControllerService",
		"cairn.streamd.peer.v1.ReplicaService",
	}, nodeOnly)
}

func TestServerConfigInsecure(t *testing.T) {
	cfg := testConfig()
	require.ErrorContains(t, cfg.RequireMutualTLS(), "--insecure")
	cfg.Insecure = true
	require.NoError(t, cfg.Validate())
	require.NoError(t, cfg.RequireMutualTLS())
	cfg.TLS.CAFile = "ca.pem"
	require.ErrorContains(t, cfg.Validate(), "insecure cannot be combined")

	cfg = testConfig()
	cfg.TLS = TLSFiles{CertFile: "c.pem", KeyFile: "k.pem"}
	require.ErrorContains(t, cfg.RequireMutualTLS(), "tls.ca")
	cfg.TLS.CAFile = "ca.pem"
	require.NoError(t, cfg.RequireMutualTLS())
}
