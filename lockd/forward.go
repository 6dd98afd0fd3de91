package lockd

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// forwardedKey is the metadata key a follower sets on a blocking call it
// passes to the leader. The receiver serves such a call itself, even if it has
// lost leadership meanwhile, so a call is forwarded at most once.
const forwardedKey = "cairn-lockd-forwarded"

// waitOnLeader serves a call that blocks when wait is set (an acquire that
// waits, a campaign) on the leader if this node is a follower; see waitConn.
// It reports served=false when the caller should serve the call itself: this
// node leads, no leader is known, or the leader answered Unavailable (it went
// away mid-wait). Acquiring again with the same session is idempotent — it
// returns the grant, or resumes the same queued wait — so serving the call here
// after a failed forward neither queues twice nor loses a grant.
func waitOnLeader[Req, Resp any](ctx context.Context, s *Server, wait bool, req Req,
	call func(*grpc.ClientConn, context.Context, Req) (Resp, error)) (resp Resp, served bool, err error) {
	conn := s.waitConn(ctx, wait)
	if conn == nil {
		return resp, false, nil
	}
	// The forwarded call ends when this node begins to shut down, as a local
	// wait would, so a graceful stop is not held up by it. The leader then
	// cancels the wait, since its caller is gone: a retry queues again.
	fctx, cancel := context.WithCancel(forwardedContext(ctx))
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-fctx.Done():
		}
	}()
	resp, err = call(conn, fctx, req)
	if err == nil {
		return resp, true, nil
	}
	select {
	case <-s.stop:
		var zero Resp
		return zero, true, toStatus(ErrShuttingDown)
	default:
	}
	if status.Code(err) == codes.Unavailable && ctx.Err() == nil {
		s.logger.Debug("a wait forwarded to the leader failed; waiting here", "err", err)
		var zero Resp
		return zero, false, nil
	}
	return resp, true, err
}

// waitConn returns a connection to the leader when a call that blocks (wait:
// an acquire that waits, a campaign) arriving at this node should be served
// there, and nil when it should be served here.
//
// A waiter is granted by a log entry (another session's release, expiry or
// cancel). The leader applies that entry as soon as it commits; a follower
// applies it only when it learns the new commit index, which hashicorp/raft
// sends with the next append or after CommitTimeout when the log is idle.
// Waiting on the leader takes that delay out of every hand-off. The call keeps
// its semantics: the leader's handler sees the caller's deadline and
// cancellation through the forwarded call, and answers with its own header.
// When no leader is known the call is served here, which reports that.
func (s *Server) waitConn(ctx context.Context, wait bool) *grpc.ClientConn {
	if !wait || s.node.IsLeader() {
		return nil
	}
	if md, ok := metadata.FromIncomingContext(ctx); ok && len(md.Get(forwardedKey)) > 0 {
		return nil
	}
	conn, err := s.node.LeaderConn()
	if err != nil {
		return nil
	}
	return conn
}

// forwardedContext marks ctx's outgoing call as forwarded by waitConn's caller.
func forwardedContext(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, forwardedKey, "1")
}
