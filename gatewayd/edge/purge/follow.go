package purge

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"cairn.dev/cairn/node/clusterconn"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// pageSize is how many records one catch-up read returns.
const pageSize = 256

// errResync ends a watch that delivered a record other than the next one
// expected: the subscriber catches up again (which checks what is retained
// and whether the log is the one it knew).
var errResync = errors.New("purge: the watch delivered a record out of order; catching up again")

// follow catches up from the last applied Seq and then applies the records
// the log's watch delivers, until the watch ends, a raftkv call fails or ctx
// ends. progressed reports whether it got as far as watching.
func (s *Subscriber) follow(ctx context.Context) (progressed bool, err error) {
	rev, err := s.catchUp(ctx)
	if err != nil {
		return false, err
	}
	s.caughtUpOnce.Do(func() { close(s.caughtUp) })
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	kv := s.o.KV
	for resp := range kv.Watch(wctx, s.l.logDir(), kvclient.WithPrefix(), kvclient.WithRev(rev+1), kvclient.WithFilterDelete()) {
		if err := resp.Err(); err != nil {
			return true, err
		}
		for _, ev := range resp.GetEvents() {
			seq, err := s.l.recordSeq(ev.GetKv().GetKey())
			if err != nil {
				s.logger.Warn("purge: ignoring a key in the log that is not a record", "key", string(ev.GetKv().GetKey()))
				continue
			}
			if seq != s.st.Seq+1 {
				// Beyond the next: records were skipped. At or below the
				// last applied: records are never rewritten, so the log
				// was started afresh. Either way, catching up sorts it out.
				return true, errResync
			}
			if s.st.Log == 0 {
				// The log was empty when this node caught up: record 1 was
				// written with head, so its create revision names the log.
				s.st.Log = ev.GetKv().GetCreateRevision()
			}
			rec, _, derr := decodeRecord(seq, ev.GetKv().GetValue())
			if derr != nil {
				err = s.applyAll(ctx, seq, s.st.Log, derr.Error())
			} else {
				err = s.applyOne(ctx, rec)
			}
			if err != nil {
				return true, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return true, err
	}
	return true, fmt.Errorf("purge: watch of the log ended")
}

// catchUp reads head and the records after the last applied Seq at one
// revision, applies them (or ApplyAll when some are gone), and returns that
// revision.
func (s *Subscriber) catchUp(ctx context.Context) (int64, error) {
	kv := s.o.KV
	resp, err := kv.Get(ctx, s.l.head())
	if err != nil {
		return 0, err
	}
	rev := resp.GetHeader().GetRevision()
	head, _, err := headOf(resp)
	if err != nil {
		return 0, err
	}
	var logID int64
	if len(resp.GetKvs()) > 0 {
		logID = resp.GetKvs()[0].GetCreateRevision()
	}
	last := s.st.Seq
	reset := ""
	switch {
	case last > 0 && s.st.Log != logID:
		reset = "the log is not the one this node followed"
	case head < last:
		reset = "the log is shorter than this node's progress"
	}
	if reset != "" {
		if err := s.applyAll(ctx, head, logID, reset); err != nil {
			return 0, err
		}
		last = head
	}
	// Say where this node stands: it may be behind what a previous run of it
	// acknowledged (if that run kept its state in memory), or the log may be
	// a new one.
	if _, err := kv.Put(ctx, s.l.applied(s.o.Node), formatSeq(last)); err != nil {
		return 0, err
	}
	s.st.Log = logID
	next := last + 1
	for next <= head {
		page, err := kv.Get(ctx, s.l.record(next), kvclient.WithRange(s.l.record(head+1)), kvclient.WithRev(rev), kvclient.WithLimit(pageSize))
		if err != nil {
			return 0, err
		}
		if len(page.GetKvs()) == 0 {
			return rev, s.applyAll(ctx, head, logID, fmt.Sprintf("records %d..%d were compacted", next, head))
		}
		for _, kvp := range page.GetKvs() {
			seq, err := s.l.recordSeq(kvp.GetKey())
			if err != nil {
				return 0, err
			}
			if seq != next {
				return rev, s.applyAll(ctx, head, logID, fmt.Sprintf("records %d..%d were compacted", next, seq-1))
			}
			rec, _, derr := decodeRecord(seq, kvp.GetValue())
			if derr != nil {
				return rev, s.applyAll(ctx, head, logID, derr.Error())
			}
			if err := s.applyOne(ctx, rec); err != nil {
				return 0, err
			}
			next = seq + 1
		}
	}
	return rev, nil
}

// applyOne applies rec and records the progress.
func (s *Subscriber) applyOne(ctx context.Context, rec Record) error {
	removed := s.o.Apply(rec)
	s.logger.Debug("purge: applied", "seq", rec.Seq, "spec", rec.Spec.String(), "removed", removed)
	return s.advance(ctx, rec.Seq, s.st.Log, removed)
}

// applyAll drops everything, which covers every record up to seq, and
// records the progress.
func (s *Subscriber) applyAll(ctx context.Context, seq, logID int64, why string) error {
	removed := s.o.ApplyAll()
	s.logger.Warn("purge: dropped the whole cache", "why", why, "covers_seq", seq, "removed", removed)
	return s.advance(ctx, seq, logID, removed)
}

// advance records that every record up to seq is applied: in memory, in
// the state file (a failure there is logged: the records would only be
// applied again after a restart), then in raftkv, retrying the
// acknowledgement (idempotent) until it is written or ctx ends.
func (s *Subscriber) advance(ctx context.Context, seq, logID, removed int64) error {
	s.st = state{Seq: seq, Log: logID}
	s.last.Store(seq)
	if s.o.StateFile != "" {
		if err := saveState(s.o.StateFile, s.st); err != nil {
			s.logger.Error("purge: persisting progress failed", "seq", seq, "err", err)
		}
	}
	if seq == 0 {
		return nil
	}
	var b clusterconn.Backoff
	for {
		err := s.ack(ctx, seq, removed)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !retryable(err) {
			return err
		}
		s.logger.Warn("purge: acknowledging failed; retrying", "seq", seq, "err", err)
		if !b.Wait(ctx) {
			return err // ctx ends (or is about to): not acknowledged
		}
	}
}

// ack writes acks/<seq>/<node>=removed and raises applied/<node> to seq
// (never lowers it), in one transaction.
func (s *Subscriber) ack(ctx context.Context, seq, removed int64) error {
	node := s.o.Node
	ackOp := kvclient.OpPut(s.l.ack(seq, node), strconv.FormatInt(removed, 10))
	_, err := s.o.KV.Txn(ctx).
		If(kvclient.Compare(kvclient.Value(s.l.applied(node)), ">", formatSeq(seq-1))).
		Then(ackOp).
		Else(kvclient.OpPut(s.l.applied(node), formatSeq(seq)), ackOp).
		Commit()
	return err
}
