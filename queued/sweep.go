package queued

import (
	"context"
	"time"

	queuedraftv1 "cairn.dev/cairn/proto/cairn/queued/raft/v1"
)

// sweepLoop runs while the server serves. On the leader it sleeps until the
// store's next due time (store.NextDue: a delayed or in-flight message coming
// due, a retention end, a deduplication window end, a dead queue's data to
// free), then proposes a SweepOp, again at once while the sweep reports more,
// otherwise at most once per Config.SweepInterval so that deadlines close
// together share an entry. Receives never depend on it: it keeps counts up to
// date, moves poison messages to their dead letter queue and frees space.
//
// Nothing wakes the loop when a receive sets a new deadline, so it looks at
// NextDue again at least every Config.SweepPoll; a batch that adds messages
// (store.Changed) or a new leadership wakes it at once. On a follower it only
// waits for leadership.
func (s *Server) sweepLoop(ctx context.Context) {
	var last time.Time // when the last sweep was proposed
	for {
		changed := s.store.Changed()
		wait := s.cfg.SweepPoll
		if s.node.IsLeader() {
			now := s.now()
			at, ok := s.store.NextDue()
			if ok {
				if earliest := last.Add(s.cfg.SweepInterval); at.Before(earliest) {
					at = earliest
				}
				if !at.After(now) {
					more := s.sweep(ctx)
					last = s.now()
					if more {
						continue
					}
					wait = min(wait, s.cfg.SweepInterval)
				} else {
					wait = min(wait, at.Sub(now))
				}
			}
		}
		t := time.NewTimer(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-changed:
		case <-s.leaderKick:
		case <-t.C:
		}
		t.Stop()
	}
}

// sweep proposes one SweepOp as leader and reports whether more is due.
func (s *Server) sweep(ctx context.Context) bool {
	pctx, cancel := context.WithTimeout(ctx, s.cfg.ApplyTimeout)
	defer cancel()
	res, err := s.proposeAsLeader(pctx, &queuedraftv1.Command{Op: &queuedraftv1.Command_Sweep{Sweep: &queuedraftv1.SweepOp{MaxChanges: uint32(s.cfg.SweepMaxChanges)}}})
	if err != nil {
		if ctx.Err() == nil {
			s.logger.Debug("sweep not applied", "err", err)
		}
		return false
	}
	return res.GetSweep().GetMore()
}
