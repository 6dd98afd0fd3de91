package lockd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cairn.dev/cairn/node/raftnode"
	lockdpeerv1 "cairn.dev/cairn/proto/cairn/lockd/peer/v1"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// leaderCheckInterval is how often a leader answering AwaitGrant checks that it
// still leads: a deposed leader stops seeing grants, and its caller should
// fall back to its own state machine.
const leaderCheckInterval = 100 * time.Millisecond

// errNotAnswered means the leader could not be asked; wait locally instead.
var errNotAnswered = errors.New("lockd: the leader did not answer")

// awaitOnLeader asks the leader when a wait queued through this follower ends.
// A follower applies the entry that grants a waiter only when it learns the
// new commit index, which hashicorp/raft sends with the next append or, when
// the log is idle, after the leader's commit timeout (5–10 ms); the leader
// applied it at once. Asking changes nothing on the leader, so the wait keeps
// its place whatever happens to this call. It fails with errNotAnswered when
// this node leads, no leader is known or the leader did not answer (the caller
// waits locally), with ErrShuttingDown when this server stops, and with ctx's
// error when ctx ends.
func (s *Server) awaitOnLeader(ctx context.Context, k resKey, session, waitID uint64) (waitStatus, *lockdv1.Holder, error) {
	if s.node.IsLeader() {
		return 0, nil, errNotAnswered
	}
	conn, err := s.node.LeaderConn()
	if err != nil {
		return 0, nil, errNotAnswered
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // the call ends when this server begins to stop
		select {
		case <-s.stopping():
			cancel()
		case <-cctx.Done():
		}
	}()
	resp, err := lockdpeerv1.NewLockPeerServiceClient(conn).AwaitGrant(cctx, &lockdpeerv1.AwaitGrantRequest{
		Kind: k.Kind, Name: k.Name, SessionId: session, WaitId: waitID,
	})
	switch {
	case err == nil:
	case isStopped(s.stopping()):
		return 0, nil, ErrShuttingDown
	case ctx.Err() != nil:
		return 0, nil, ctx.Err()
	default:
		s.logger.Debug("asking the leader about a wait failed; waiting here", "err", err)
		return 0, nil, errNotAnswered
	}
	switch resp.GetOutcome() {
	case lockdpeerv1.WaitOutcome_WAIT_OUTCOME_GRANTED:
		return waitGranted, resp.GetHolder(), nil
	case lockdpeerv1.WaitOutcome_WAIT_OUTCOME_NO_SESSION:
		return waitNoSession, nil, nil
	case lockdpeerv1.WaitOutcome_WAIT_OUTCOME_GONE:
		return waitGone, nil, nil
	default:
		return 0, nil, errNotAnswered
	}
}

func isStopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// peerService serves LockPeerService, the questions followers ask the leader.
type peerService struct {
	lockdpeerv1.UnimplementedLockPeerServiceServer
	s *Server
}

func (p *peerService) AwaitGrant(ctx context.Context, req *lockdpeerv1.AwaitGrantRequest) (*lockdpeerv1.AwaitGrantResponse, error) {
	s := p.s
	notLeader := func() error {
		if !s.node.IsLeader() {
			return toStatus(fmt.Errorf("%w: lockd: this member no longer leads", raftnode.ErrNotLeader))
		}
		return nil
	}
	if !s.node.IsLeader() {
		return nil, toStatus(fmt.Errorf("%w: lockd: AwaitGrant is answered by the leader only", raftnode.ErrNotLeader))
	}
	k := resKey{req.GetKind(), req.GetName()}
	if err := s.node.WaitApplied(ctx, req.GetWaitId()); err != nil {
		return nil, toStatus(err)
	}
	st, h, err := s.waitChange(ctx, k, req.GetSessionId(), req.GetWaitId(), notLeader)
	if err != nil {
		return nil, toStatus(err) // passes notLeader's status through
	}
	resp := &lockdpeerv1.AwaitGrantResponse{}
	switch st {
	case waitGranted:
		resp.Outcome, resp.Holder = lockdpeerv1.WaitOutcome_WAIT_OUTCOME_GRANTED, h
	case waitNoSession:
		resp.Outcome = lockdpeerv1.WaitOutcome_WAIT_OUTCOME_NO_SESSION
	default:
		resp.Outcome = lockdpeerv1.WaitOutcome_WAIT_OUTCOME_GONE
	}
	return resp, nil
}
