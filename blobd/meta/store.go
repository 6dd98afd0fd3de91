package meta

import (
	"io"
	"log/slog"

	"go.etcd.io/bbolt"

	"cairn.dev/cairn/node/boltsm"
	"cairn.dev/cairn/node/raftnode"
)

// Options configures a Store.
type Options struct {
	// NoSync skips fsync on commit. Only for tests: a crash may lose or
	// corrupt data.
	NoSync bool
	// Logger receives the store's logs; nil means slog.Default().
	Logger *slog.Logger
}

// Store is blobd's metadata state machine in one bbolt file, hosted by
// node/boltsm, whose contract it keeps: ApplyBatch, Snapshot and Restore
// are called from one goroutine at a time (the Raft apply loop); every
// other method is safe for concurrent use, concurrently with them too. Each
// ApplyBatch commits (and, unless Options.NoSync, fsyncs) one bbolt
// transaction holding the batch's effects and its last index. No read of
// this package keeps a transaction open while its caller runs (the
// iterators read page by page), so a caller may propose while iterating.
type Store struct {
	sm *boltsm.Store
}

// Open opens or creates the store at path. The caller closes it with Close.
func Open(path string, opts Options) (*Store, error) {
	sm, err := boltsm.Open(path, allBuckets, apply, boltsm.Options{
		NoSync: opts.NoSync, Logger: opts.Logger, Name: "blobd meta",
		ErrClosed: ErrClosed, ErrCorrupt: ErrCorrupt,
	})
	if err != nil {
		return nil, err
	}
	return &Store{sm: sm}, nil
}

// Close closes the database; it waits for a running ApplyBatch or Restore
// and for snapshots not yet released. Calls after Close fail with
// ErrClosed; Close itself may be called again.
func (s *Store) Close() error { return s.sm.Close() }

// view runs fn in a read transaction on the state as of the last applied
// batch.
func (s *Store) view(fn func(tx *bbolt.Tx) error) error { return s.sm.View(fn) }

// AppliedIndex returns the Raft index of the last entry whose effects are
// committed to the database file.
func (s *Store) AppliedIndex() uint64 { return s.sm.AppliedIndex() }

// LastApplied returns the Raft index of the last applied entry: the state
// readers see. It equals AppliedIndex (every batch is committed).
func (s *Store) LastApplied() uint64 { return s.sm.LastApplied() }

// Changed returns a channel that is closed after the next applied batch that
// changed the state, or after a Restore. Call it again for the next change.
func (s *Store) Changed() <-chan struct{} { return s.sm.Changed() }

// Snapshot captures the state as of the last applied batch, AppliedIndex
// included, as boltsm.Store.Snapshot does: the caller releases it, from
// another goroutine than the apply loop.
func (s *Store) Snapshot() (raftnode.Snapshot, error) { return s.sm.Snapshot() }

// Restore replaces the whole state with a snapshot written by a Snapshot's
// WriteTo, crash-safely (boltsm.Store.Restore). A snapshot that is not a
// database of this package is refused with ErrCorrupt and the state kept.
// Waiters of Changed are woken.
func (s *Store) Restore(r io.Reader) error { return s.sm.Restore(r) }

var _ raftnode.StateMachine = (*Store)(nil)
