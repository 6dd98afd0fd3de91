package boltsm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"cairn.dev/cairn/node/boltfile"
	"cairn.dev/cairn/node/raftnode"
)

// Errors returned when Options leave the daemon's own unset.
var (
	// ErrClosed means the store has been closed.
	ErrClosed = errors.New("boltsm: closed")
	// ErrCorrupt means the file holds data the host did not write (no meta
	// bucket, an applied index that is not 8 bytes, a snapshot without a
	// bucket).
	ErrCorrupt = errors.New("boltsm: corrupt database")
)

// On-disk names: part of every hosted daemon's format.
var (
	metaBucket = []byte("meta")
	appliedKey = []byte("applied")
)

// ApplyFunc applies one committed entry inside the batch's write transaction
// tx and returns the entry's result, sent back to the proposer as is.
// changed reports whether the entry changed state that Changed's waiters
// watch. A deterministic refusal of the command belongs in the result; an
// error is a storage failure, which rolls the whole batch back and stops the
// store. It is called by the apply loop only, for entries above the applied
// index, in log order; it must not keep tx after it returns.
type ApplyFunc func(tx *bbolt.Tx, e raftnode.Entry) (result []byte, changed bool, err error)

// Options configures a Store.
type Options struct {
	// NoSync skips fsync on commit. Only for tests: a crash may lose or
	// corrupt data.
	NoSync bool
	// Logger receives the store's logs; nil means slog.Default().
	Logger *slog.Logger
	// Name names the store in logs ("streamd meta"); "" means "boltsm".
	Name string
	// ErrClosed is returned after Close; nil means boltsm.ErrClosed.
	ErrClosed error
	// ErrCorrupt is wrapped by the errors about a file or a snapshot the
	// host cannot read; nil means boltsm.ErrCorrupt.
	ErrCorrupt error
}

// Store is a state machine in one bbolt file: see the package documentation
// for the contract.
type Store struct {
	path    string
	buckets [][]byte // the daemon's buckets and metaBucket
	apply   ApplyFunc
	opts    Options
	logger  *slog.Logger

	// applyMu serializes ApplyBatch, Snapshot, Restore and Close, and
	// guards failed.
	applyMu sync.Mutex
	// failed is set when a batch could not be committed; the store refuses
	// further batches, snapshots and restores with it.
	failed error

	// mu guards db: View, ApplyBatch and Snapshot hold it for reading while
	// they use the database; Restore and Close hold it for writing while
	// they replace or close it.
	mu sync.RWMutex
	db *bbolt.DB // nil once closed

	// applied is the index of the last applied (and committed) entry.
	applied atomic.Uint64

	changedMu sync.Mutex    // protects changed
	changed   chan struct{} // closed and replaced after every batch that changed state
}

// Open opens or creates the store at path, creating the buckets (and the
// meta bucket) that are missing; apply applies each entry of ApplyBatch. The
// caller closes the store with Close.
func Open(path string, buckets [][]byte, apply ApplyFunc, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Name == "" {
		opts.Name = "boltsm"
	}
	if opts.ErrClosed == nil {
		opts.ErrClosed = ErrClosed
	}
	if opts.ErrCorrupt == nil {
		opts.ErrCorrupt = ErrCorrupt
	}
	// A leftover of an interrupted Restore is never the live database.
	if err := boltfile.RemoveStale(path); err != nil {
		return nil, fmt.Errorf("%s: %w", opts.Name, err)
	}
	s := &Store{path: path, buckets: append([][]byte{metaBucket}, buckets...), apply: apply,
		opts: opts, logger: opts.Logger, changed: make(chan struct{})}
	db, err := s.openDB()
	if err != nil {
		return nil, err
	}
	s.db = db
	s.logger.Info(opts.Name+" store opened", "path", path, "applied_index", s.applied.Load())
	return s, nil
}

// openDB opens the bbolt file, creates missing buckets and loads the applied
// index.
func (s *Store) openDB() (*bbolt.DB, error) {
	db, err := bbolt.Open(s.path, 0o600, &bbolt.Options{Timeout: 5 * time.Second, NoSync: s.opts.NoSync})
	if err != nil {
		return nil, fmt.Errorf("%s: open %s: %w", s.opts.Name, s.path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range s.buckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		applied, err := s.readApplied(tx)
		if err != nil {
			return err
		}
		s.applied.Store(applied)
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: init %s: %w", s.opts.Name, s.path, err)
	}
	return db, nil
}

// readApplied returns the applied index stored in tx.
func (s *Store) readApplied(tx *bbolt.Tx) (uint64, error) {
	b := tx.Bucket(metaBucket)
	if b == nil {
		return 0, fmt.Errorf("%w: no meta bucket", s.opts.ErrCorrupt)
	}
	v := b.Get(appliedKey)
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: meta %s is %d bytes", s.opts.ErrCorrupt, appliedKey, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// Close closes the database; it waits for a running ApplyBatch or Restore
// and for snapshots not yet released. Calls after Close fail with
// Options.ErrClosed; Close itself may be called again.
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

// View runs fn in a read transaction on the state as of the last applied
// batch. fn must not wait for the apply loop (see the package
// documentation) nor keep tx after it returns.
func (s *Store) View(fn func(tx *bbolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return s.opts.ErrClosed
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
func (s *Store) errFailed() error {
	if errors.Is(s.failed, s.opts.ErrClosed) {
		return s.failed
	}
	return fmt.Errorf("%s: store failed earlier: %w", s.opts.Name, s.failed)
}

var _ raftnode.StateMachine = (*Store)(nil)
