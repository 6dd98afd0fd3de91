package node

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/pki"
)

// IsNodeOnlyService reports whether the gRPC service with the given full name
// (such as "cairn.raft.v1.RaftTransportService") is one that only nodes call
// on each other. A server that verifies client certificates (tls.ca set)
// accepts calls to such a service only from certificates with a node identity
// (pki.IsNode, spiffe://cairn/node/<name>); any other caller gets
// PermissionDenied.
//
// The rule follows the proto package layout (proto/buf.yaml): every service
// in cairn.raft.vN (the Raft transport and leader forwarding) and in a
// daemon's cairn.<svc>.peer.vN package is node-only, and no other is. A new
// node-to-node service is therefore node-only by being put in its daemon's
// peer package; nothing needs listing here.
func IsNodeOnlyService(fullName string) bool {
	i := strings.LastIndexByte(fullName, '.')
	if i < 0 {
		return false
	}
	parts := strings.Split(fullName[:i], ".")
	switch {
	case len(parts) == 3:
		return parts[0] == "cairn" && parts[1] == "raft" && isProtoVersion(parts[2])
	case len(parts) == 4:
		return parts[0] == "cairn" && parts[1] != "" && parts[2] == "peer" && isProtoVersion(parts[3])
	}
	return false
}

// isProtoVersion reports whether a package component is a version: "v"
// followed by a digit (v1, v2, v1beta1).
func isProtoVersion(s string) bool {
	return len(s) >= 2 && s[0] == 'v' && s[1] >= '0' && s[1] <= '9'
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
	if !IsNodeOnlyService(svc) {
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
