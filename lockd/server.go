package lockd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cairn.dev/cairn/node/raftnode"
	lockdpeerv1 "cairn.dev/cairn/proto/cairn/lockd/peer/v1"
	lockdraftv1 "cairn.dev/cairn/proto/cairn/lockd/raft/v1"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// Version is reported by Status.
const Version = "0.1.0"

// Server is one lockd member: the in-memory state machine and the lockd
// services on the Raft-daemon skeleton (raftnode.Daemon), which owns the gRPC
// server, the Raft node and the lifecycle.
type Server struct {
	cfg    Config
	logger *slog.Logger
	limits limits
	now    func() time.Time

	d       *raftnode.Daemon
	node    *raftnode.Node
	m       *machine
	tracker *tracker
	park    *parking
	// keepAlive serves SessionKeepAlive streams.
	keepAlive *raftnode.KeepAliveRelay[lockdv1.SessionKeepAliveRequest, lockdv1.SessionKeepAliveResponse]
}

// New validates cfg and prepares the server. It binds the listeners (so ports
// from ":0" are known through Addr) but serves nothing until Serve.
func New(cfg Config, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("member", cfg.ID)
	d, err := raftnode.NewDaemon(cfg.daemonConfig(), logger)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:    cfg,
		logger: logger,
		limits: cfg.limits(),
		now:    time.Now,
		d:      d,
		m:      newMachine(logger),
	}
	s.tracker = newTracker(s.m, logger, s.now)
	n, err := d.StartRaft(s.m, raftnode.RaftOptions{OnLeadership: s.tracker.setLeader, ToStatus: toStatus})
	if err != nil {
		d.Close()
		return nil, err
	}
	s.node = n
	s.tracker.raftLeader = n.IsLeader
	s.keepAlive = s.newKeepAliveRelay()
	s.park = &parking{delay: maxParkDelay, apply: n.Apply, applyAll: n.ApplyAll, timeout: cfg.ApplyTimeout}
	g := d.GRPC()
	lockdv1.RegisterSessionServiceServer(g, &sessionService{s: s})
	lockdv1.RegisterLockServiceServer(g, &lockService{s: s})
	lockdv1.RegisterSemaphoreServiceServer(g, &semaphoreService{s: s})
	lockdv1.RegisterElectionServiceServer(g, &electionService{s: s})
	lockdv1.RegisterClusterServiceServer(g, &clusterService{s: s})
	lockdpeerv1.RegisterLockPeerServiceServer(g, &peerService{s: s})
	d.RunWhileServing(func(ctx context.Context) { s.tracker.run(ctx, cfg.ExpiryTick, s.proposeAsLeader) })
	return s, nil
}

// Addr is the bound gRPC address.
func (s *Server) Addr() string { return s.d.Addr() }

// AdminAddr is the bound admin HTTP address ("" when disabled).
func (s *Server) AdminAddr() string { return s.d.AdminAddr() }

// Node exposes the Raft host, for tests and tools in this module.
func (s *Server) Node() *raftnode.Node { return s.node }

// ReadyNotify is closed once the server serves and has joined its group.
func (s *Server) ReadyNotify() <-chan struct{} { return s.d.ReadyNotify() }

// Serve starts Raft and serves until ctx is cancelled, Close is called or the
// state machine fails; then it stops gracefully: blocked acquires return
// Unavailable (their waits stay queued for the client to resume elsewhere),
// leadership is handed over, Raft stops and RPCs drain within the shutdown
// timeout (see raftnode.Daemon).
func (s *Server) Serve(ctx context.Context) error { return s.d.Serve(ctx) }

// Close stops the server: a running Serve stops gracefully and Close waits for
// it; a server never served releases its listeners. Idempotent.
func (s *Server) Close() { s.d.Close() }

// stopping is closed when shutdown begins.
func (s *Server) stopping() <-chan struct{} { return s.d.Stopping() }

// header builds a response header; index 0 means the locally applied index.
func (s *Server) header(index uint64) *lockdv1.ResponseHeader {
	if index == 0 {
		index = s.m.AppliedIndex()
	}
	return &lockdv1.ResponseHeader{ClusterId: s.cfg.ClusterID, MemberId: s.cfg.ID, RaftTerm: s.node.Term(), RaftIndex: index}
}

// propose stamps cmd with this node's clock, commits it and decodes its result;
// a domain error recorded in the result is returned as the matching sentinel.
func (s *Server) propose(ctx context.Context, cmd *lockdraftv1.Command) (*lockdraftv1.CommandResult, error) {
	return s.proposeVia(ctx, cmd, s.park.propose)
}

// maxParkDelay bounds how long the entry of an acquire that will queue waits
// for another proposal to go with (see parking).
const maxParkDelay = 5 * time.Millisecond

// proposeParked is propose for an acquire that will queue: its entry goes with
// the next proposal this server makes, or on its own after maxParkDelay.
func (s *Server) proposeParked(ctx context.Context, cmd *lockdraftv1.Command) (*lockdraftv1.CommandResult, error) {
	return s.proposeVia(ctx, cmd, s.park.park)
}

// proposeAsLeader is propose for commands only the leader may make (session
// expiry, end of lock delay): it fails with raftnode.ErrNotLeader instead of
// forwarding a deposed leader's stale view to its successor.
func (s *Server) proposeAsLeader(ctx context.Context, cmd *lockdraftv1.Command) (*lockdraftv1.CommandResult, error) {
	return s.proposeVia(ctx, cmd, s.node.ApplyAsLeader)
}

func (s *Server) proposeVia(ctx context.Context, cmd *lockdraftv1.Command, apply func(context.Context, []byte) ([]byte, error)) (*lockdraftv1.CommandResult, error) {
	select {
	case <-s.stopping():
		return nil, ErrShuttingDown
	default:
	}
	cmd.UnixNanos = s.now().UnixNano()
	res, err := raftnode.Propose[lockdraftv1.CommandResult](ctx, apply, cmd)
	if err != nil {
		return nil, err
	}
	if res.GetError() != "" {
		return nil, errorFromCode(res.GetError(), res.GetErrorMessage())
	}
	return res, nil
}

// proposeDetached commits cmd on behalf of a caller that may be gone, bounded by
// the apply timeout rather than the caller's context.
func (s *Server) proposeDetached(cmd *lockdraftv1.Command) (*lockdraftv1.CommandResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ApplyTimeout)
	defer cancel()
	return s.propose(ctx, cmd)
}

// barrier waits until a local read is linearizable.
func (s *Server) barrier(ctx context.Context) error {
	return s.node.LinearizableRead(ctx)
}

// waitMargin is how long before the caller's deadline a blocked acquire stops
// waiting and cancels its wait, so that the outcome (timed out, or granted just
// in time) still reaches the caller: between 20ms and 1s, a fifth of the time left.
func waitMargin(left time.Duration) time.Duration {
	return min(max(left/5, 20*time.Millisecond), time.Second)
}

// awaitGrant blocks until session's wait waitID on k is granted, the wait ends,
// the caller's deadline (less a margin) passes or the server stops.
//
// On the deadline it proposes a cancel-wait entry. If the grant raced ahead of the
// cancel, the cancel reports it and the caller gets the grant: a grant is never
// lost. If the caller is gone (its context ended) the cancel releases such a
// grant instead, since nobody could learn of it. When the server stops, the wait
// stays queued and the caller gets Unavailable: retrying the acquire with the
// same session, on any node, resumes the same wait.
func (s *Server) awaitGrant(ctx context.Context, k resKey, session, waitID uint64) (*lockdv1.Holder, error) {
	wctx := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		wctx, cancel = context.WithDeadline(ctx, dl.Add(-waitMargin(time.Until(dl))))
		defer cancel()
	}
	st, h, err := s.awaitOnLeader(wctx, k, session, waitID)
	if errors.Is(err, errNotAnswered) {
		st, h, err = s.awaitHere(wctx, k, session, waitID)
	}
	switch {
	case errors.Is(err, ErrShuttingDown):
		return nil, err
	case err != nil: // wctx ended
		return s.cancelWait(ctx, k, session, waitID)
	}
	switch st {
	case waitGranted:
		return h, nil
	case waitNoSession:
		return nil, fmt.Errorf("%w: session %d ended while waiting for %s %q", ErrSessionNotFound, session, kindNoun(k.Kind), k.Name)
	default:
		return nil, fmt.Errorf("%w: the wait of session %d for %s %q was cancelled", ErrWaitEnded, session, kindNoun(k.Kind), k.Name)
	}
}

// awaitHere waits until this node's state machine shows the wait no longer
// queued. It fails with ErrShuttingDown when the server stops and with
// ctx's error when ctx ends.
func (s *Server) awaitHere(ctx context.Context, k resKey, session, waitID uint64) (waitStatus, *lockdv1.Holder, error) {
	// This node may not have applied the entry that queued the wait yet.
	if err := s.node.WaitApplied(ctx, waitID); err != nil {
		if errors.Is(err, raftnode.ErrShutdown) {
			return 0, nil, ErrShuttingDown
		}
		if ctx.Err() != nil {
			return 0, nil, ctx.Err()
		}
		return 0, nil, err
	}
	return s.waitChange(ctx, k, session, waitID, nil)
}

// waitChange blocks until the wait is no longer queued in the applied state,
// ctx ends (ctx's error), the server stops (ErrShuttingDown), or check, called
// every leaderCheckInterval when not nil, returns an error (that error).
func (s *Server) waitChange(ctx context.Context, k resKey, session, waitID uint64, check func() error) (waitStatus, *lockdv1.Holder, error) {
	var tick <-chan time.Time
	if check != nil {
		t := time.NewTicker(leaderCheckInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		st, h, ch, done := s.m.waitState(k, session, waitID)
		if st != waitQueued {
			return st, h, nil
		}
		select {
		case <-ch:
			done()
		case <-tick:
			done()
			if err := check(); err != nil {
				return 0, nil, err
			}
		case <-s.stopping():
			done()
			return 0, nil, ErrShuttingDown
		case <-ctx.Done():
			done()
			return 0, nil, ctx.Err()
		}
	}
}

func (s *Server) cancelWait(ctx context.Context, k resKey, session, waitID uint64) (*lockdv1.Holder, error) {
	op := &lockdraftv1.CancelWaitOp{Kind: k.Kind, SessionId: session, Name: k.Name, WaitId: waitID}
	timedOut := fmt.Errorf("%w for %s %q", ErrWaitTimeout, kindNoun(k.Kind), k.Name)
	if ctx.Err() == nil {
		// The caller is still listening: a grant that raced ahead is reported.
		res, err := s.proposeDetached(&lockdraftv1.Command{Op: &lockdraftv1.Command_CancelWait{CancelWait: op}})
		if errors.Is(err, ErrSessionNotFound) {
			return nil, err
		}
		if err == nil && !res.GetAcquired() {
			return nil, timedOut
		}
		if err == nil && ctx.Err() == nil {
			return res.GetHolder(), nil
		}
		// Granted but the caller left meanwhile, or the outcome is unknown: make
		// sure no undeliverable grant stays behind.
	}
	op.ReleaseIfGranted = true
	if _, err := s.proposeDetached(&lockdraftv1.Command{Op: &lockdraftv1.Command_CancelWait{CancelWait: op}}); err != nil && !errors.Is(err, ErrSessionNotFound) {
		s.logger.Warn("cancelling an abandoned wait failed; it ends with its session", "session", session, "name", k.Name, "err", err)
		// The wait may still be queued and granted later: the outcome is unknown.
		return nil, fmt.Errorf("%w: cancelling the wait for %s %q failed, it may still be granted to session %d: %w",
			raftnode.ErrUnknownOutcome, kindNoun(k.Kind), k.Name, session, err)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, timedOut
}
