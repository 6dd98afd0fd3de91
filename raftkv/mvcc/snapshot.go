package mvcc

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"

	"cairn.dev/cairn/node/boltfile"
)

// Snapshot commits what is pending, then writes a consistent copy of the whole
// database to w: the state as of the last committed batch, including
// AppliedIndex. It may run concurrently with reads and ApplyBatch; it delays
// Restore and Close until it returns.
func (s *Store) Snapshot(w io.Writer) error {
	if err := s.Flush(); err != nil {
		return err
	}
	return s.view(func(tx *bbolt.Tx) error {
		if _, err := tx.WriteTo(w); err != nil {
			return fmt.Errorf("mvcc: snapshot: %w", err)
		}
		return nil
	})
}

// Restore replaces the whole state with a snapshot written by Snapshot and
// rebuilds the key index from it.
//
// The snapshot is written to a temporary file beside the database, fsynced and
// checked, then renamed over the database and the directory fsynced, so a crash
// at any point leaves either the old or the new database (Open removes a
// leftover temporary file). Reads concurrent with Restore either complete
// against the old database or wait and read the new one. Restore must not be
// called concurrently with ApplyBatch (it waits for a running one).
func (s *Store) Restore(r io.Reader) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if s.isClosed() {
		return ErrClosed
	}
	tmp, err := boltfile.Stage(s.path, r, checkSnapshotFile)
	if err != nil {
		return fmt.Errorf("mvcc: restore: %w", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		os.Remove(tmp)
		return ErrClosed
	}
	if s.pending != nil {
		// The snapshot replaces every change, committed or not.
		_ = s.pending.tx.Rollback()
		s.pending = nil
	}
	s.failed = nil
	if err := s.db.Close(); err != nil {
		// The handle is unusable either way; try to go on with the swap.
		s.logger.Error("mvcc: close before restore", "err", err)
	}
	s.db, s.idx = nil, nil
	if err := os.Rename(tmp, s.path); err != nil {
		os.Remove(tmp)
		db, ix, oerr := s.openDB(s.path)
		if oerr != nil {
			return errors.Join(fmt.Errorf("mvcc: restore: %w", err), oerr)
		}
		s.db, s.idx = db, ix
		return fmt.Errorf("mvcc: restore: %w", err)
	}
	if err := boltfile.SyncDir(filepath.Dir(s.path)); err != nil {
		s.logger.Warn("mvcc: fsync directory after restore", "err", err)
	}
	db, ix, err := s.openDB(s.path)
	if err != nil {
		return fmt.Errorf("mvcc: reopen after restore: %w", err)
	}
	s.db, s.idx = db, ix
	s.logger.Info("mvcc store restored from snapshot", "revision", s.rev.Load(),
		"compact_revision", s.compactRev.Load(), "applied_index", s.applied.Load())
	return nil
}

// checkSnapshotFile verifies that path is a bbolt database with this package's
// buckets, a readable meta bucket and records an index can be built from.
func checkSnapshotFile(path string) error {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("%w: snapshot: %v", ErrCorrupt, err)
	}
	defer db.Close()
	return db.View(func(tx *bbolt.Tx) error {
		if err := checkLayout(tx); err != nil {
			return err
		}
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("%w: snapshot has no %s bucket", ErrCorrupt, name)
			}
		}
		m, err := readMeta(tx)
		if err != nil {
			return err
		}
		_, err = buildIndex(tx, m)
		return err
	})
}
