package store

import (
	"bytes"
	"fmt"

	queuedraftv1 "cairn.dev/cairn/proto/cairn/queued/raft/v1"
)

// DefaultSweepChanges is the work of a sweep whose max_changes is 0.
const DefaultSweepChanges = 1000

// sweep does the work of the timers due at the command's time, earliest
// first, up to max_changes changes.
func (a *applier) sweep(op *queuedraftv1.SweepOp) (*queuedraftv1.SweepResult, error) {
	budget := int(op.GetMaxChanges())
	if budget <= 0 {
		budget = DefaultSweepChanges
	}
	timers := a.tx.Bucket(bucketTimers)
	changes := 0
	for changes < budget {
		k, _ := timers.Cursor().First()
		if k == nil || timerTime(k) > a.now {
			break
		}
		n, err := a.fire(bytes.Clone(k), budget-changes)
		if err != nil {
			return nil, err
		}
		changes += n
	}
	k, _ := timers.Cursor().First()
	more := k != nil && timerTime(k) <= a.now
	return &queuedraftv1.SweepResult{Changes: uint32(changes), More: more}, nil
}

// fire does the work of the due timer k, at most budget changes (budget >=
// 1), and returns the changes made (at least 1). The timer is deleted or
// moved unless work remains for it.
func (a *applier) fire(k []byte, budget int) (int, error) {
	timers := a.tx.Bucket(bucketTimers)
	at, kind, qid, tail, ok := parseTimer(k)
	if !ok {
		return 1, timers.Delete(k)
	}
	if kind == timerFree {
		return a.free(k, qid, budget)
	}
	q, err := a.queueByID(qid)
	if err != nil {
		return 0, err
	}
	if q == nil {
		// The id was purged or deleted: its buckets go with the free timer.
		return 1, timers.Delete(k)
	}
	switch kind {
	case timerVisible:
		if len(tail) != 8 {
			return 1, timers.Delete(k)
		}
		rec, err := a.getMsg(q, seqOf(tail))
		if err != nil {
			return 0, err
		}
		if rec == nil || rec.GetState() == stateReady || rec.GetVisibleAtUnixNanos() != at {
			return 1, timers.Delete(k) // not this message's timer
		}
		moved, err := a.deadLetter(q, rec)
		if err != nil || moved {
			return 1, err
		}
		return 1, a.setVisibility(q, rec, at, stateReady)
	case timerRetention:
		if err := a.syncRetention(q); err != nil {
			return 0, err
		}
		if err := timers.Delete(k); err != nil {
			return 0, err
		}
		q.retTouched, q.retOld = true, nil
		n := 0
		for n < budget {
			ek, _ := q.e.Cursor().First()
			if ek == nil {
				break
			}
			sent, seq := splitTimeSeq(ek)
			if sent+q.retention() > a.now {
				break
			}
			rec, err := a.getMsg(q, seq)
			if err != nil {
				return 0, err
			}
			if rec == nil {
				return 0, fmt.Errorf("%w: queue %q ages missing message %d", ErrCorrupt, q.rec.GetName(), seq)
			}
			if err := a.removeMsg(q, rec); err != nil {
				return 0, err
			}
			n++
		}
		return max(n, 1), a.syncRetention(q)
	case timerDedup:
		if _, exp, _, ok := splitDedup(q.d.Get(tail)); ok && exp == at {
			if err := q.d.Delete(tail); err != nil {
				return 0, err
			}
		}
		return 1, timers.Delete(k)
	default:
		return 1, timers.Delete(k)
	}
}

// free deletes up to budget entries of the buckets of the dead queue id qid,
// with the timers of its messages and deduplication ids; when none remain it
// drops the buckets, the dead mark and the free timer k.
func (a *applier) free(k []byte, qid uint64, budget int) (int, error) {
	timers := a.tx.Bucket(bucketTimers)
	qb := a.tx.Bucket(bucketQ).Bucket(u64(qid))
	if qb == nil {
		if err := a.tx.Bucket(bucketDead).Delete(u64(qid)); err != nil {
			return 0, err
		}
		return 1, timers.Delete(k)
	}
	n := 0
	for _, name := range queueSubs {
		sub := qb.Bucket(name)
		if sub == nil {
			continue
		}
		for n < budget {
			bk, bv := sub.Cursor().First()
			if bk == nil {
				break
			}
			if err := a.freeTimerOf(qid, name, bk, bv); err != nil {
				return 0, err
			}
			if err := sub.Delete(bytes.Clone(bk)); err != nil {
				return 0, err
			}
			n++
		}
		if n >= budget {
			return n, nil
		}
	}
	if err := a.tx.Bucket(bucketQ).DeleteBucket(u64(qid)); err != nil {
		return 0, err
	}
	if err := a.tx.Bucket(bucketDead).Delete(u64(qid)); err != nil {
		return 0, err
	}
	return n + 1, timers.Delete(k)
}

// freeTimerOf deletes the timer that the entry bk/bv of the dead id's
// bucket name has, if any.
func (a *applier) freeTimerOf(qid uint64, name, bk, bv []byte) error {
	timers := a.tx.Bucket(bucketTimers)
	switch {
	case bytes.Equal(name, subMessages):
		rec, err := unmarshalMsg(bv)
		if err != nil {
			return err
		}
		if rec.GetState() != stateReady {
			return timers.Delete(timerKey(rec.GetVisibleAtUnixNanos(), timerVisible, qid, u64(rec.GetSequence())))
		}
	case bytes.Equal(name, subDedup):
		if _, exp, _, ok := splitDedup(bv); ok {
			return timers.Delete(timerKey(exp, timerDedup, qid, bk))
		}
	}
	return nil
}
