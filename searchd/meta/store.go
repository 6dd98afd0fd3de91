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
	// NoSync skips fsync on commit (tests only).
	NoSync bool
	Logger *slog.Logger
}

// Store is searchd's metadata state machine in one bbolt file, hosted by
// node/boltsm, whose contract it keeps: ApplyBatch, Snapshot and Restore
// are called from one goroutine at a time (the Raft apply loop); the reads
// are safe for concurrent use, concurrently with them too.
type Store struct {
	sm *boltsm.Store
}

// Open opens or creates the store at path. The caller closes it.
func Open(path string, opts Options) (*Store, error) {
	sm, err := boltsm.Open(path, allBuckets, apply, boltsm.Options{
		NoSync: opts.NoSync, Logger: opts.Logger, Name: "searchd meta",
		ErrClosed: ErrClosed, ErrCorrupt: ErrCorrupt,
	})
	if err != nil {
		return nil, err
	}
	return &Store{sm: sm}, nil
}

// Close closes the database. Idempotent.
func (s *Store) Close() error { return s.sm.Close() }

// AppliedIndex returns the index of the last applied entry.
func (s *Store) AppliedIndex() uint64 { return s.sm.AppliedIndex() }

// Changed returns a channel closed after the next batch that changed the
// state (or a Restore). Call it again for the next change.
func (s *Store) Changed() <-chan struct{} { return s.sm.Changed() }

// Snapshot captures the state (boltsm.Store.Snapshot): release it, from
// another goroutine than the apply loop.
func (s *Store) Snapshot() (raftnode.Snapshot, error) { return s.sm.Snapshot() }

// Restore replaces the state with a snapshot written by Snapshot.
func (s *Store) Restore(r io.Reader) error { return s.sm.Restore(r) }

// Index returns the index name as of the last applied entry;
// ErrIndexNotFound when there is none.
func (s *Store) Index(name string) (*Index, error) {
	var ix *Index
	err := s.sm.View(func(tx *bbolt.Tx) error {
		var err error
		ix, err = getIndex(tx, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	if ix == nil {
		return nil, fail(ErrIndexNotFound, "name", "no index %s", name).(*failure).err
	}
	return ix, nil
}

// Indexes returns every index, by name.
func (s *Store) Indexes() ([]*Index, error) {
	var out []*Index
	err := s.sm.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(indexesBucket).ForEach(func(k, _ []byte) error {
			ix, err := getIndex(tx, string(k))
			if err != nil {
				return err
			}
			out = append(out, ix)
			return nil
		})
	})
	return out, err
}

var _ raftnode.StateMachine = (*Store)(nil)
