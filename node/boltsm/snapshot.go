package boltsm

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
	name string
	tx   *bbolt.Tx
}

// WriteTo writes the database as of the snapshot to w (a bbolt file).
func (s *snapshot) WriteTo(w io.Writer) (int64, error) {
	n, err := s.tx.WriteTo(w)
	if err != nil {
		return n, fmt.Errorf("%s: snapshot: %w", s.name, err)
	}
	return n, nil
}

// Release ends the snapshot's read transaction.
func (s *snapshot) Release() { _ = s.tx.Rollback() }

// Snapshot captures the state as of the last applied batch, AppliedIndex
// included. The returned snapshot holds a bbolt read transaction: its WriteTo
// may run concurrently with ApplyBatch and reads; the caller must Release
// it, and Close and Restore wait until it does, as does an ApplyBatch whose
// commit grows the file (bbolt remaps it only without open read
// transactions): so write it from another goroutine than the apply loop.
func (s *Store) Snapshot() (raftnode.Snapshot, error) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return nil, s.opts.ErrClosed
	}
	if s.failed != nil {
		return nil, s.errFailed()
	}
	tx, err := s.db.Begin(false)
	if err != nil {
		return nil, fmt.Errorf("%s: snapshot: %w", s.opts.Name, err)
	}
	return &snapshot{name: s.opts.Name, tx: tx}, nil
}

// Restore replaces the whole state with a snapshot written by a Snapshot's
// WriteTo.
//
// The snapshot is written to a temporary file beside the database, fsynced
// and checked (node/boltfile), then renamed over the database and the
// directory fsynced, so a crash at any point leaves either the old or the new
// database (Open removes a leftover temporary file). A snapshot without
// every bucket and a readable applied index is refused with ErrCorrupt (the
// daemon's) and the state kept. Reads concurrent with Restore either
// complete against the old database or wait and read the new one. Waiters
// of Changed are woken.
func (s *Store) Restore(r io.Reader) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if s.failed != nil {
		return s.errFailed()
	}
	tmp, err := boltfile.Stage(s.path, r, s.checkSnapshotFile)
	if err != nil {
		return fmt.Errorf("%s: restore: %w", s.opts.Name, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		os.Remove(tmp)
		return s.opts.ErrClosed
	}
	if err := s.db.Close(); err != nil {
		// The handle is unusable either way; go on with the swap.
		s.logger.Error(s.opts.Name+": close before restore", "err", err)
	}
	s.db = nil
	if err := os.Rename(tmp, s.path); err != nil {
		os.Remove(tmp)
		db, oerr := s.openDB()
		if oerr != nil {
			return errors.Join(fmt.Errorf("%s: restore: %w", s.opts.Name, err), oerr)
		}
		s.db = db
		return fmt.Errorf("%s: restore: %w", s.opts.Name, err)
	}
	if err := boltfile.SyncDir(filepath.Dir(s.path)); err != nil {
		s.logger.Warn(s.opts.Name+": fsync directory after restore", "err", err)
	}
	db, err := s.openDB()
	if err != nil {
		return fmt.Errorf("%s: reopen after restore: %w", s.opts.Name, err)
	}
	s.db = db
	s.notifyChanged()
	s.logger.Info(s.opts.Name+" store restored from snapshot", "applied_index", s.applied.Load())
	return nil
}

// checkSnapshotFile verifies that path is a bbolt database with the store's
// buckets and a readable applied index.
func (s *Store) checkSnapshotFile(path string) error {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("%w: snapshot: %v", s.opts.ErrCorrupt, err)
	}
	defer db.Close()
	return db.View(func(tx *bbolt.Tx) error {
		for _, name := range s.buckets {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("%w: snapshot has no %s bucket", s.opts.ErrCorrupt, name)
			}
		}
		_, err := s.readApplied(tx)
		return err
	})
}
