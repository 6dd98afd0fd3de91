package node

import (
	"context"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/pki"
)

// nodeOnlyServices are the gRPC services that only nodes call on each other:
// the Raft transport, leader forwarding, and the daemons' peer services. A
// server that verifies client certificates (tls.ca set) accepts calls to them
// only from certificates with a node identity (pki.IsNode,
// spiffe://cairn/node/<name>); any other caller gets PermissionDenied. A
// node-to-node service added to a proto must be listed here.
var nodeOnlyServices = map[string]bool{
	"cairn.raft.v1.RaftTransportService": true,
	"cairn.raft.v1.RaftNodeService":      true,
	"cairn.cached.v1.PeerService":        true,
	"cairn.lockd.v1.LockPeerService":     true,
}

// NodeOnlyServices returns the full names of the services that accept only
// node certificates, sorted.
func NodeOnlyServices() []string {
	out := make([]string, 0, len(nodeOnlyServices))
	for name := range nodeOnlyServices {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// serviceOf returns the service of a full method name "/pkg.Service/Method".
func serviceOf(fullMethod string) string {
	svc, _, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	return svc
}

// authorizeNodeOnly returns PermissionDenied when fullMethod belongs to a
// node-only service and the caller's verified certificate is not a node's.
// It is installed only on servers that verify client certificates.
func authorizeNodeOnly(ctx context.Context, fullMethod string) error {
	svc := serviceOf(fullMethod)
	if !nodeOnlyServices[svc] {
		return nil
	}
	if p, ok := peer.FromContext(ctx); ok {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok {
			chains := ti.State.VerifiedChains
			if len(chains) > 0 && len(chains[0]) > 0 && pki.IsNode(chains[0][0]) {
				return nil
			}
		}
	}
	return status.Errorf(codes.PermissionDenied, "node: %s accepts only node certificates (spiffe://cairn/node/<name>)", svc)
}

func unaryNodeOnly(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := authorizeNodeOnly(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func streamNodeOnly(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := authorizeNodeOnly(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return handler(srv, ss)
}
