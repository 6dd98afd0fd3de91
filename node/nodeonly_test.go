package node

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"cairn.dev/cairn/node/pki"
	_ "cairn.dev/cairn/proto/cairn/cached/v1"
	_ "cairn.dev/cairn/proto/cairn/lockd/v1"
	raftv1 "cairn.dev/cairn/proto/cairn/raft/v1"
	_ "cairn.dev/cairn/proto/cairn/raftkv/v1"
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

// TestNodeOnlyServicesTable checks the table against the protos: every name
// is a service, and every cairn service in cairn.raft.v1 or named *PeerService
// (the node-to-node ones) is listed.
func TestNodeOnlyServicesTable(t *testing.T) {
	for _, name := range NodeOnlyServices() {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		require.NoError(t, err, name)
		_, ok := d.(protoreflect.ServiceDescriptor)
		require.True(t, ok, "%s is not a service", name)
	}
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(fd.Package()), "cairn.") {
			return true
		}
		for i := range fd.Services().Len() {
			svc := fd.Services().Get(i)
			name := string(svc.FullName())
			if fd.Package() == "cairn.raft.v1" || strings.HasSuffix(name, "PeerService") {
				require.True(t, nodeOnlyServices[name], "%s looks node-to-node but is not in nodeOnlyServices", name)
			}
		}
		return true
	})
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
