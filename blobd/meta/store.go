package meta

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"cairn.dev/cairn/node/boltfile"
)

// Options configures a Store.
type Options struct {
	// NoSync skips fsync on commit. Only for tests: a crash may lose or
	// corrupt data.
	NoSync bool
	// Logger receives the store's logs; nil means slog.Default().
	Logger *slog.Logger
}

// Store is blobd's metadata state machine in one bbolt file.
//
// ApplyBatch, Snapshot and Restore are called from one goroutine at a time
// (the Raft apply loop); every other method is safe for concurrent use,
// concurrently with them too. Each ApplyBatch commits (and, unless
// Options.NoSync, fsyncs) one bbolt transaction holding the batch's effects
// and its last index.
//
// Lock order: applyMu, mu, changedMu. bbolt adds one wait of its own: a
// commit that grows the file waits for open read transactions; no read of
// this package keeps a transaction open while its caller runs (the
// iterators read page by page), so a caller may propose while iterating.
type Store struct {
	path   string
	opts   Options
	logger *slog.Logger

	// applyMu serializes ApplyBatch, Snapshot, Restore and Close, and
	// guards failed.
	applyMu sync.Mutex
	// failed is set when a batch could not be committed; the store refuses
	// further batches, snapshots and restores with it.
	failed error

	// mu guards db: reads, ApplyBatch and Snapshot hold it for reading while
	// they use the database; Restore and Close hold it for writing while
	// they replace or close it.
	mu sync.RWMutex
	db *bbolt.DB // nil once closed

	// applied is the index of the last applied (and committed) entry.
	applied atomic.Uint64

	changedMu sync.Mutex    // protects changed
	changed   chan struct{} // closed and replaced after every batch that changed state
}

// Open opens or creates the store at path. The caller closes it with Close.
func Open(path string, opts Options) (*Store, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	// A leftover of an interrupted Restore is never the live database.
	if err := boltfile.RemoveStale(path); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	s := &Store{path: path, opts: opts, logger: logger, changed: make(chan struct{})}
	db, err := s.openDB(path)
	if err != nil {
		return nil, err
	}
	s.db = db
	logger.Info("blobd meta store opened", "path", path, "applied_index", s.applied.Load())
	return s, nil
}

// openDB opens the bbolt file at path, creates missing buckets and loads the
// applied index.
func (s *Store) openDB(path string) (*bbolt.DB, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second, NoSync: s.opts.NoSync})
	if err != nil {
		return nil, fmt.Errorf("meta: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		applied, err := readApplied(tx)
		if err != nil {
			return err
		}
		s.applied.Store(applied)
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("meta: init %s: %w", path, err)
	}
	return db, nil
}

// Close closes the database; it waits for a running ApplyBatch or Restore
// and for snapshots not yet released. Calls after Close fail with
// ErrClosed; Close itself may be called again.
func (s *Store) Close() error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}

// view runs fn in a read transaction on the state as of the last applied
// batch.
func (s *Store) view(fn func(tx *bbolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return ErrClosed
	}
	return s.db.View(fn)
}

// AppliedIndex returns the Raft index of the last entry whose effects are
// committed to the database file.
func (s *Store) AppliedIndex() uint64 { return s.applied.Load() }

// LastApplied returns the Raft index of the last applied entry: the state
// readers see. It equals AppliedIndex (every batch is committed).
func (s *Store) LastApplied() uint64 { return s.applied.Load() }

// Changed returns a channel that is closed after the next applied batch that
// changed the state, or after a Restore. Call it again for the next change.
func (s *Store) Changed() <-chan struct{} {
	s.changedMu.Lock()
	defer s.changedMu.Unlock()
	return s.changed
}

// notifyChanged wakes the waiters of Changed.
func (s *Store) notifyChanged() {
	s.changedMu.Lock()
	defer s.changedMu.Unlock()
	close(s.changed)
	s.changed = make(chan struct{})
}

// errFailed wraps the failure that stopped the store.
func errFailed(err error) error {
	if errors.Is(err, ErrClosed) {
		return err
	}
	return fmt.Errorf("meta: store failed earlier: %w", err)
}
