package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"

	"cairn.dev/cairn/node/boltfile"
	"cairn.dev/cairn/node/raftnode"
)

// snapshot is a read transaction over the whole database.
type snapshot struct {
	tx *bbolt.Tx
}

// WriteTo writes the database as of the snapshot to w (a bbolt file).
func (s *snapshot) WriteTo(w io.Writer) (int64, error) {
	n, err := s.tx.WriteTo(w)
	if err != nil {
		return n, fmt.Errorf("store: snapshot: %w", err)
	}
	return n, nil
}

// Release ends the snapshot's read transaction.
func (s *snapshot) Release() { _ = s.tx.Rollback() }

// Snapshot commits the applied batches not committed yet and captures the
// state as of the last applied batch, AppliedIndex (then equal to
// LastApplied) included. The returned snapshot holds a bbolt read
// transaction: its WriteTo may run concurrently with ApplyBatch and reads; the
// caller must Release it, and Close and Restore wait until it does.
func (s *Store) Snapshot() (raftnode.Snapshot, error) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return nil, ErrClosed
	}
	if err := s.commitLocked(); err != nil {
		return nil, err
	}
	tx, err := s.db.Begin(false)
	if err != nil {
		return nil, fmt.Errorf("store: snapshot: %w", err)
	}
	return &snapshot{tx: tx}, nil
}

// Restore replaces the whole state with a snapshot written by a Snapshot's
// WriteTo. It first commits the applied batches not committed yet, so that
// the state is whole if the snapshot is refused or the swap fails.
//
// The snapshot is written to a temporary file beside the database, fsynced
// and checked, then renamed over the database and the directory fsynced, so a
// crash at any point leaves either the old or the new database (Open removes
// a leftover temporary file). Reads concurrent with Restore either complete
// against the old database or wait and read the new one. Waiters of Changed
// are woken.
func (s *Store) Restore(r io.Reader) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if err := s.flushForRestore(); err != nil {
		return err
	}
	tmp, err := boltfile.Stage(s.path, r, checkSnapshotFile)
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		os.Remove(tmp)
		return ErrClosed
	}
	if err := s.db.Close(); err != nil {
		// The handle is unusable either way; go on with the swap.
		s.logger.Error("store: close before restore", "err", err)
	}
	s.db = nil
	if err := os.Rename(tmp, s.path); err != nil {
		os.Remove(tmp)
		db, oerr := s.openDB(s.path)
		if oerr != nil {
			return errors.Join(fmt.Errorf("store: restore: %w", err), oerr)
		}
		s.db = db
		return fmt.Errorf("store: restore: %w", err)
	}
	if err := boltfile.SyncDir(filepath.Dir(s.path)); err != nil {
		s.logger.Warn("store: fsync directory after restore", "err", err)
	}
	db, err := s.openDB(s.path)
	if err != nil {
		return fmt.Errorf("store: reopen after restore: %w", err)
	}
	s.db = db
	s.notifyChanged()
	s.logger.Info("queued store restored from snapshot", "applied_index", s.applied.Load(),
		"queues", s.queues.Load(), "topics", s.topics.Load(), "messages", s.messages.Load())
	return nil
}

// flushForRestore commits what is pending before Restore; it fails when the
// store is closed or failed. The caller holds applyMu.
func (s *Store) flushForRestore() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return ErrClosed
	}
	return s.commitLocked()
}

// checkSnapshotFile verifies that path is a bbolt database with this
// package's buckets and a readable meta bucket.
func checkSnapshotFile(path string) error {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("%w: snapshot: %v", ErrCorrupt, err)
	}
	defer db.Close()
	return db.View(func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("%w: snapshot has no %s bucket", ErrCorrupt, name)
			}
		}
		_, err := readMeta(tx)
		return err
	})
}
