package store

import (
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node/raftnode"
	queuedraftv1 "cairn.dev/cairn/proto/cairn/queued/raft/v1"
)

// ApplyBatch applies committed entries in log order and returns one
// proto-encoded CommandResult per entry. Entries at or below LastApplied are
// skipped with an empty result.
//
// The batch is written, with the last entry's index, into the pending write
// transaction, which is committed later together with other batches (see
// commit.go); readers see it when ApplyBatch returns. A non-nil error is a
// storage failure: nothing of the batch was applied, and when earlier batches
// were pending they are lost too and the store fails (every later call
// returns the error; Raft applies them again after a restart). Called by one
// goroutine at a time.
func (s *Store) ApplyBatch(entries []raftnode.Entry) ([][]byte, error) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return nil, ErrClosed
	}
	if s.failed != nil { // changes only with applyMu held
		return nil, s.failed
	}
	out := make([][]byte, len(entries))
	applied := s.applied.Load()
	todo := false
	for _, e := range entries {
		if e.Index > applied {
			todo = true
			break
		}
	}
	if !todo {
		for i := range out {
			out[i] = []byte{}
		}
		return out, nil
	}
	a, commit, err := s.applyPending(entries, out)
	if err != nil {
		return nil, err
	}
	if commit {
		if err := s.commitLocked(); err != nil {
			return nil, err
		}
	}
	if a.exposed {
		s.notifyChanged()
	}
	return out, nil
}

// applyPending applies entries in the pending write transaction, beginning
// one if needed, and publishes the result to readers. commit tells whether
// the pending transaction is due for a commit. The caller holds applyMu and
// mu for reading.
func (s *Store) applyPending(entries []raftnode.Entry, out [][]byte) (a *applier, commit bool, err error) {
	s.txMu.Lock()
	defer s.txMu.Unlock()
	p := s.pending
	if p == nil {
		tx, err := s.db.Begin(true)
		if err != nil {
			return nil, false, fmt.Errorf("store: begin: %w", err)
		}
		p = &pendingTx{tx: tx, since: time.Now()}
		s.pending = p
		s.wakeCommitLoop()
	}
	m, err := readMeta(p.tx)
	if err != nil {
		return nil, false, s.abortLocked(err)
	}
	a = &applier{tx: p.tx, meta: m}
	n := 0
	for i, e := range entries {
		if e.Index <= a.meta.applied {
			out[i] = []byte{}
			continue
		}
		res, err := a.applyEntry(e)
		if err != nil {
			return nil, false, s.abortLocked(fmt.Errorf("store: apply entry %d: %w", e.Index, err))
		}
		if out[i], err = marshal(res); err != nil {
			return nil, false, s.abortLocked(fmt.Errorf("store: encode result of entry %d: %w", e.Index, err))
		}
		a.meta.applied = e.Index
		n++
	}
	if err := writeMeta(p.tx, a.meta); err != nil {
		return nil, false, s.abortLocked(err)
	}
	due, hasDue := firstTimer(p.tx)
	p.entries += n
	p.applied = a.meta.applied
	s.publish(a.meta, due, hasDue)
	return a, s.dueLocked(p), nil
}

// applier applies the entries of one batch inside its write transaction.
type applier struct {
	tx   *bbolt.Tx
	meta meta
	// exposed is set when an entry added messages or made some receivable.
	exposed bool

	// Per entry:
	now   int64  // the command's unix_nanos
	index uint64 // the entry's Raft index
	// open lists the queues loaded by the entry, in load order; their
	// records are written back when the entry ends. Bounded by the number of
	// queues one entry touches, never per message.
	open []*queueTx
}

// applyEntry applies one entry. Deterministic failures are in the result; an
// error is a storage failure.
func (a *applier) applyEntry(e raftnode.Entry) (*queuedraftv1.CommandResult, error) {
	a.index = e.Index
	a.open = a.open[:0]
	cmd := &queuedraftv1.Command{}
	if err := proto.Unmarshal(e.Data, cmd); err != nil {
		return failResult(fail(reasonInvalidArgument, "undecodable command: %v", err)), nil
	}
	a.now = cmd.GetUnixNanos()
	res, err := a.dispatch(cmd)
	if err != nil {
		var f *failure
		if errors.As(err, &f) {
			// Whole-command failures are found before anything changes, so
			// the records loaded need no write-back.
			a.open = a.open[:0]
			return failResult(f), nil
		}
		return nil, err
	}
	if err := a.flush(); err != nil {
		return nil, err
	}
	return res, nil
}

func failResult(f *failure) *queuedraftv1.CommandResult {
	return &queuedraftv1.CommandResult{Error: f.reason, ErrorMessage: f.msg, ErrorField: f.field}
}

func (a *applier) dispatch(cmd *queuedraftv1.Command) (*queuedraftv1.CommandResult, error) {
	switch op := cmd.GetOp().(type) {
	case *queuedraftv1.Command_CreateQueue:
		r, err := a.createQueue(op.CreateQueue)
		return &queuedraftv1.CommandResult{Result: &queuedraftv1.CommandResult_CreateQueue{CreateQueue: r}}, err
	case *queuedraftv1.Command_SetQueueAttributes:
		r, err := a.setQueueAttributes(op.SetQueueAttributes)
		return &queuedraftv1.CommandResult{Result: &queuedraftv1.CommandResult_SetQueueAttributes{SetQueueAttributes: r}}, err
	case *queuedraftv1.Command_DeleteQueue:
		r, err := a.deleteQueue(op.DeleteQueue)
		return &queuedraftv1.CommandResult{Result: &queuedraftv1.CommandResult_DeleteQueue{DeleteQueue: r}}, err
	case *queuedraftv1.Command_PurgeQueue:
		r, err := a.purgeQueue(op.PurgeQueue)
		return &queuedraftv1.CommandResult{Result: &queuedraftv1.CommandResult_PurgeQueue{PurgeQueue: r}}, err
	case *queuedraftv1.Command_Send:
		r, err := a.send(op.Send)
		return &queuedraftv1.CommandResult{Result: &queuedraftv1.CommandResult_Send{Send: r}}, err
	case *queuedraftv1.Command_Receive:
		r, err := a.receive(op.Receive)
		return &queuedraftv1.CommandResult{Result: &queuedraftv1.CommandResult_Receive{Receive: r}}, err
	case *queuedraftv1.Command_Ack:
		r, err := a.settle(op.Ack, settleAck)
		return &queuedraftv1.CommandResult{Result: &queuedraftv1.CommandResult_Settle{Settle: r}}, err
	case *queuedraftv1.Command_Nack:
		r, err := a.settle(op.Nack, settleNack)
		return &queuedraftv1.CommandResult{Result: &queuedraftv1.CommandResult_Settle{Settle: r}}, err
	case *queuedraftv1.Command_Extend:
		r, err := a.settle(op.Extend, settleExtend)
		return &queuedraftv1.CommandResult{Result: &queuedraftv1.CommandResult_Settle{Settle: r}}, err
	case *queuedraftv1.Command_Redrive:
		r, err := a.redrive(op.Redrive)
		return &queuedraftv1.CommandResult{Result: &queuedraftv1.CommandResult_Redrive{Redrive: r}}, err
	case *queuedraftv1.Command_Sweep:
		r, err := a.sweep(op.Sweep)
		return &queuedraftv1.CommandResult{Result: &queuedraftv1.CommandResult_Sweep{Sweep: r}}, err
	case *queuedraftv1.Command_CreateTopic:
		r, err := a.createTopic(op.CreateTopic)
		return &queuedraftv1.CommandResult{Result: &queuedraftv1.CommandResult_CreateTopic{CreateTopic: r}}, err
	case *queuedraftv1.Command_DeleteTopic:
		r, err := a.deleteTopic(op.DeleteTopic)
		return &queuedraftv1.CommandResult{Result: &queuedraftv1.CommandResult_DeleteTopic{DeleteTopic: r}}, err
	case *queuedraftv1.Command_Subscribe:
		r, err := a.subscribe(op.Subscribe)
		return &queuedraftv1.CommandResult{Result: &queuedraftv1.CommandResult_Subscribe{Subscribe: r}}, err
	case *queuedraftv1.Command_Unsubscribe:
		r, err := a.unsubscribe(op.Unsubscribe)
		return &queuedraftv1.CommandResult{Result: &queuedraftv1.CommandResult_Unsubscribe{Unsubscribe: r}}, err
	case *queuedraftv1.Command_Publish:
		r, err := a.publish(op.Publish)
		return &queuedraftv1.CommandResult{Result: &queuedraftv1.CommandResult_Publish{Publish: r}}, err
	default:
		return nil, fail(reasonInvalidArgument, "command has no known op")
	}
}

// firstTimer returns the time of the earliest timer.
func firstTimer(tx *bbolt.Tx) (int64, bool) {
	if k, _ := tx.Bucket(bucketTimers).Cursor().First(); k != nil {
		return timerTime(k), true
	}
	return 0, false
}
