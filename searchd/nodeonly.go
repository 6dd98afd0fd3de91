package searchd

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/pki"
)

// requireNode refuses a ShardService call whose caller's verified
// certificate is not a node's, on a server that verifies client
// certificates (tls.ca set). ShardService lives in cairn.searchd.v1, not in
// a peer package, so node.IsNodeOnlyService does not cover it: the service
// checks for itself.
func (s *Server) requireNode(ctx context.Context) error {
	if s.cfg.Server.TLS.CAFile == "" {
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
	return status.Error(codes.PermissionDenied, "searchd: ShardService accepts only node certificates (spiffe://cairn/node/<name>)")
}
