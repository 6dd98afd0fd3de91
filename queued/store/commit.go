package store

import (
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Batched commits.
//
// ApplyBatch does not commit its bbolt write transaction every time: applied
// batches accumulate in one open write transaction (the pending transaction),
// which is committed, and fsynced unless NoSync, once it is CommitInterval
// old or holds CommitEntries entries, before Snapshot captures the state,
// before Restore replaces it, and on Close. commitLoop commits a pending
// transaction that reaches CommitInterval when no batch comes to do it.
//
// Readers see a batch as soon as ApplyBatch returns: while a transaction is
// pending they read through it, holding txMu (a bbolt transaction is not safe
// for concurrent use), otherwise in a bbolt read transaction of their own.
// The pending transaction is only ever replaced by its commit, under txMu, so
// a reader that finds none begins its read transaction after every applied
// batch was committed.
//
// This is safe because the store is a Raft state machine. An entry reaches
// ApplyBatch only once it is in the fsynced Raft log of a quorum, and after a
// crash Raft replays the log from the last snapshot: the entries whose commit
// was lost are applied again (the store skips those at or below its durable
// AppliedIndex, written in the same commit as their effects) and give the same
// state and results, because applying is deterministic. The results already
// returned for them were therefore right. Raft compacts its log only up to a
// snapshot, and Snapshot commits first, so the log always holds every entry
// above AppliedIndex.
//
// A storage failure that loses applied batches (a failed commit, or an apply
// that fails after earlier batches were left pending) fails the store:
// ApplyBatch, Snapshot, Restore and reads return the error from then on, so
// the node stops instead of going on from a state behind what it reported as
// applied. Nothing acknowledged is lost: it is in the Raft log, to be applied
// again after a restart.

// Defaults of Options.CommitInterval and Options.CommitEntries.
const (
	DefaultCommitInterval = 100 * time.Millisecond
	DefaultCommitEntries  = 10000
)

// pendingTx is the open write transaction of applied but uncommitted
// batches.
type pendingTx struct {
	tx      *bbolt.Tx
	entries int       // entries applied in it (skipped replays not counted)
	since   time.Time // when it was begun
	applied uint64    // the applied index of its last batch
}

// commitLocked commits the pending transaction, if any. On failure the store
// fails. The caller holds applyMu and mu (for reading or writing), with db
// open.
func (s *Store) commitLocked() error {
	s.txMu.Lock()
	defer s.txMu.Unlock()
	if s.failed != nil {
		return s.failed
	}
	p := s.pending
	if p == nil {
		return nil
	}
	s.pending = nil
	if err := s.commitTx(p.tx); err != nil {
		// A failed Commit has rolled the transaction back.
		s.failed = fmt.Errorf("store: commit: %w", err)
		s.logger.Error("queued store: commit failed; applied entries above the durable index are lost until Raft replays them, the store takes no more batches",
			"err", err, "durable_index", s.durable.Load(), "applied_index", p.applied)
		return s.failed
	}
	s.durable.Store(p.applied)
	return nil
}

// abortLocked rolls back the pending transaction after a storage failure in
// ApplyBatch. When it held earlier batches the store fails; otherwise only
// the failing batch is lost and the store stays usable. The caller holds
// applyMu, mu for reading and txMu.
func (s *Store) abortLocked(err error) error {
	p := s.pending
	s.pending = nil
	_ = p.tx.Rollback()
	if p.entries == 0 {
		return err
	}
	s.failed = fmt.Errorf("store: uncommitted batches lost: %w", err)
	return s.failed
}

// dueLocked reports whether the pending transaction p is to be committed
// now, after a batch.
func (s *Store) dueLocked(p *pendingTx) bool {
	return s.commitInterval < 0 || p.entries >= s.commitEntries || time.Since(p.since) >= s.commitInterval
}

// wakeCommitLoop tells commitLoop that a pending transaction was begun.
func (s *Store) wakeCommitLoop() {
	select {
	case s.kick <- struct{}{}:
	default: // a wake-up is already queued
	}
}

// commitLoop commits a pending transaction once it is CommitInterval old, so
// that applied batches do not stay uncommitted when no further batch comes.
// Every pending transaction is begun with a wake-up, so the loop sleeps while
// nothing is pending. It returns when stop is closed; Close waits for it.
func (s *Store) commitLoop() {
	defer close(s.loopDone)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-s.kick:
		}
		for {
			wait := s.commitIfOld()
			if wait <= 0 {
				break
			}
			timer.Reset(wait)
			select {
			case <-s.stop:
				timer.Stop()
				return
			case <-timer.C:
			}
		}
	}
}

// commitIfOld commits the pending transaction if it is CommitInterval old
// and returns 0, or returns how long until it will be; 0 also when nothing is
// pending.
func (s *Store) commitIfOld() time.Duration {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return 0
	}
	s.txMu.Lock()
	p := s.pending
	s.txMu.Unlock()
	if p == nil {
		return 0
	}
	if wait := s.commitInterval - time.Since(p.since); wait > 0 {
		return wait
	}
	_ = s.commitLocked() // a failure is logged and fails the store
	return 0
}

// flush commits the applied batches not committed yet, so that they are in
// the database file and AppliedIndex reaches LastApplied.
func (s *Store) flush() error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return ErrClosed
	}
	return s.commitLocked()
}
