package cached

import (
	"context"
	"errors"
	"unsafe"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/cached/ring"
	"cairn.dev/cairn/node"
	cachedpeerv1 "cairn.dev/cairn/proto/cairn/cached/peer/v1"
	cachedv1 "cairn.dev/cairn/proto/cairn/cached/v1"
)

// forwardedKey is the gRPC metadata key that marks a call one node makes to
// another on a client's behalf. A marked call is always served from the
// receiving node's own store, even if its ring says another node owns the
// key, so a request is forwarded at most once, also while rings disagree.
const forwardedKey = "cairn-cached-forwarded"

// isForwarded reports whether the incoming call was forwarded by a node.
func isForwarded(ctx context.Context) bool {
	md, ok := metadata.FromIncomingContext(ctx)
	return ok && len(md.Get(forwardedKey)) > 0
}

// forwardContext returns the context of a call to another node: marked as
// forwarded and bounded by ForwardTimeout.
func (s *Server) forwardContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx = metadata.AppendToOutgoingContext(ctx, forwardedKey, s.cfg.ID)
	return context.WithTimeout(ctx, s.cfg.ForwardTimeout)
}

// owner returns the member owning key and whether it is this node. Before
// the first ring, and for an empty ring, the node owns everything.
func (s *Server) owner(key string) (ring.Member, bool) {
	v := s.view.Load()
	if v == nil || v.ring.Len() <= 1 {
		return s.self, true
	}
	m, ok := v.ring.Owner(key)
	if !ok || m.ID == s.self.ID {
		return s.self, true
	}
	return m, false
}

// replicasOf returns the members other than this node that hold copies of
// key: the first Replicas members of its replica set, minus this node. It is
// nil when Replicas is 1.
func (s *Server) replicasOf(key string) []ring.Member {
	v := s.view.Load()
	if s.cfg.Replicas <= 1 || v == nil {
		return nil
	}
	out := v.ring.Owners(key, s.cfg.Replicas)
	for i, m := range out {
		if m.ID == s.self.ID {
			return append(out[:i:i], out[i+1:]...)
		}
	}
	return out
}

// fallbacks returns the replicas of key after its owner, in ring order, for
// reads whose owner did not answer; self reports whether this node is one.
func (s *Server) fallbacks(key string) (others []ring.Member, self bool) {
	v := s.view.Load()
	if s.cfg.Replicas <= 1 || v == nil {
		return nil, false
	}
	set := v.ring.Owners(key, s.cfg.Replicas)
	if len(set) > 0 {
		set = set[1:]
	}
	for _, m := range set {
		if m.ID == s.self.ID {
			self = true
		} else {
			others = append(others, m)
		}
	}
	return others, self
}

// peerConn returns the connection to member m; after the server closed its
// pool it fails with ErrShuttingDown.
func (s *Server) peerConn(m ring.Member) (*grpc.ClientConn, error) {
	cc, err := s.peers.Conn(m.Addr)
	if errors.Is(err, node.ErrPoolClosed) {
		return nil, ErrShuttingDown
	}
	return cc, err
}

// cacheClient returns a CacheService client for member m.
func (s *Server) cacheClient(m ring.Member) (cachedv1.CacheServiceClient, error) {
	cc, err := s.peerConn(m)
	if err != nil {
		return nil, err
	}
	return cachedv1.NewCacheServiceClient(cc), nil
}

// peerClient returns a PeerService client for member m.
func (s *Server) peerClient(m ring.Member) (cachedpeerv1.PeerServiceClient, error) {
	cc, err := s.peerConn(m)
	if err != nil {
		return nil, err
	}
	return cachedpeerv1.NewPeerServiceClient(cc), nil
}

// unreachable reports whether err from a forwarded call means the peer did
// not answer (as opposed to answering with an error), while the caller's own
// context is still live.
func unreachable(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	if errors.Is(err, ErrShuttingDown) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return true
	}
	return false
}

// str returns b as a string without copying, for lookups that do not retain
// it. b must not change while the string is in use.
func str(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
