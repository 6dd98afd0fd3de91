package streamd

import (
	"context"
	"errors"

	"google.golang.org/grpc/metadata"

	"cairn.dev/cairn/node/rpcerr"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
)

// forwardedKey marks a data-plane call one node makes to a partition's
// leader on a client's behalf. A marked call is never forwarded again, so a
// request makes at most one hop, also while nodes disagree on the leader.
const forwardedKey = "cairn-streamd-forwarded"

// forwardable reports whether err says another node leads the partition and
// the call may be forwarded there: it returns that node's address.
func (s *Server) forwardable(ctx context.Context, err error) (string, bool) {
	if !errors.Is(err, ErrNotLeader) {
		return "", false
	}
	if md, ok := metadata.FromIncomingContext(ctx); ok && len(md.Get(forwardedKey)) > 0 {
		return "", false
	}
	addr := rpcerr.MetadataOf(err)[rpcerr.KeyLeaderAddr]
	return addr, addr != ""
}

// forward makes call on the StreamService of the node at addr, marked as
// forwarded, and returns its answer (a status error passes through as is).
func forward[R any](ctx context.Context, s *Server, addr string, call func(context.Context, streamdv1.StreamServiceClient) (R, error)) (R, error) {
	var zero R
	conn, err := s.peers.Conn(addr)
	if err != nil {
		return zero, err
	}
	ctx = metadata.AppendToOutgoingContext(ctx, forwardedKey, s.cfg.ID)
	return call(ctx, streamdv1.NewStreamServiceClient(conn))
}
