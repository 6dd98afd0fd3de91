package queued

import (
	"context"
	"errors"
	"time"

	queuedraftv1 "cairn.dev/cairn/proto/cairn/queued/raft/v1"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// emptyRetry is the least time between two receive proposals of one waiting
// receiver that found the local state machine's promise of a message broken
// (another receiver was faster, or this node has not applied the entry that
// took it yet).
const emptyRetry = 50 * time.Millisecond

// waitMargin is how long before the caller's deadline a long poll stops
// waiting, so that its empty answer reaches the caller before the caller's own
// DeadlineExceeded: between 20ms and 1s, a fifth of the time left.
func waitMargin(left time.Duration) time.Duration {
	return min(max(left/5, 20*time.Millisecond), time.Second)
}

// receive serves a Receive. Without a wait it proposes one ReceiveOp. With one
// it asks the local state machine whether a receive would deliver anything;
// only then does it propose (so waiting costs no log entries), and otherwise
// it sleeps until a batch adds or re-exposes messages (store.Changed), until
// the earliest time a message of the queue comes due, or until the wait, the
// caller or the server ends. A wait that ends with nothing returns an empty
// response.
func (s *Server) receive(ctx context.Context, queue string, p receiveParams) (*queuedv1.ReceiveResponse, error) {
	wait := p.wait
	if !p.waitSet {
		// The queue's default wait, from local state: a lagging replica at
		// worst waits by an older setting.
		if q, err := s.store.GetQueue(queue, s.now()); err == nil {
			wait = q.GetAttributes().GetReceiveWait().AsDuration()
		}
	}
	op := &queuedraftv1.ReceiveOp{Queue: queue, MaxMessages: p.max, VisibilityTimeoutNanos: p.visibility.Nanoseconds()}
	if wait <= 0 {
		return s.proposeReceive(ctx, op)
	}
	release, err := s.enterWait()
	if err != nil {
		return nil, err
	}
	defer release()
	deadline := s.now().Add(wait)
	if dl, ok := ctx.Deadline(); ok {
		if end := dl.Add(-waitMargin(time.Until(dl))); end.Before(deadline) {
			deadline = end
		}
	}
	var notBefore time.Time // no proposal before this (after an empty one)
	for {
		changed := s.store.Changed()
		now := s.now()
		ok, next, rerr := s.store.Receivable(queue, now)
		if (ok || rerr != nil) && !now.Before(notBefore) {
			// rerr: this replica does not know the queue (yet); the leader
			// answers for it.
			resp, err := s.proposeReceive(ctx, op)
			if err != nil || len(resp.GetMessages()) > 0 {
				return resp, err
			}
			notBefore = s.now().Add(emptyRetry)
			next = notBefore
		} else if ok || rerr != nil {
			next = notBefore
		}
		if !now.Before(deadline) {
			return &queuedv1.ReceiveResponse{Header: s.header(0)}, nil
		}
		until := deadline
		if !next.IsZero() && next.Before(until) {
			until = next
		}
		if err := s.sleep(ctx, changed, until); err != nil {
			if errors.Is(err, ErrShuttingDown) {
				return &queuedv1.ReceiveResponse{Header: s.header(0)}, nil
			}
			return nil, err
		}
	}
}

// sleep waits until changed is closed, until (at least 1ms from now), ctx
// ends (its error) or the server stops (ErrShuttingDown).
func (s *Server) sleep(ctx context.Context, changed <-chan struct{}, until time.Time) error {
	t := time.NewTimer(max(until.Sub(s.now()), time.Millisecond))
	defer t.Stop()
	select {
	case <-changed:
		return nil
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.stopping():
		return ErrShuttingDown
	}
}

// proposeReceive proposes op and returns its deliveries.
func (s *Server) proposeReceive(ctx context.Context, op *queuedraftv1.ReceiveOp) (*queuedv1.ReceiveResponse, error) {
	res, err := s.propose(ctx, &queuedraftv1.Command{Op: &queuedraftv1.Command_Receive{Receive: op}})
	if err != nil {
		return nil, err
	}
	resp := res.GetReceive()
	if resp == nil {
		resp = &queuedv1.ReceiveResponse{}
	}
	resp.Header = s.fillHeader(resp.GetHeader())
	return resp, nil
}
