package store

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

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

// Store is queued's state machine in one bbolt file.
//
// ApplyBatch, Snapshot and Restore are called from one goroutine at a time
// (the Raft apply loop); every other method is safe for concurrent use,
// concurrently with them too. Close may be called from any goroutine; it
// waits for a running ApplyBatch or Restore.
type Store struct {
	path   string
	opts   Options
	logger *slog.Logger

	// applyMu serializes ApplyBatch, Restore and Close.
	// Lock order: applyMu, mu, changedMu.
	applyMu sync.Mutex

	// mu guards db: reads and ApplyBatch hold it for reading while they use
	// the database; Restore and Close hold it for writing while they replace
	// or close it.
	mu sync.RWMutex
	db *bbolt.DB // nil once closed

	// Copies of the meta of the last committed batch.
	applied  atomic.Uint64
	queues   atomic.Int64
	topics   atomic.Int64
	messages atomic.Int64
	// nextDue is the time of the earliest timer, valid when hasDue is true.
	nextDue atomic.Int64
	hasDue  atomic.Bool

	changedMu sync.Mutex    // protects changed
	changed   chan struct{} // closed and replaced when messages are added or re-exposed
}

// Open opens or creates the store at path. The caller closes it with Close.
func Open(path string, opts Options) (*Store, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	// A leftover of an interrupted Restore is never the live database.
	if err := os.Remove(restoreTempPath(path)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("store: remove stale restore file: %w", err)
	}
	s := &Store{path: path, opts: opts, logger: logger, changed: make(chan struct{})}
	db, err := s.openDB(path)
	if err != nil {
		return nil, err
	}
	s.db = db
	logger.Info("queued store opened", "path", path, "applied_index", s.applied.Load(),
		"queues", s.queues.Load(), "topics", s.topics.Load(), "messages", s.messages.Load())
	return s, nil
}

// openDB opens the bbolt file at path, creates missing buckets and loads the
// cached meta values.
func (s *Store) openDB(path string) (*bbolt.DB, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout: 5 * time.Second,
		NoSync:  s.opts.NoSync,
		// The freelist is rebuilt from the pages at open instead of being
		// written on every commit; the map type frees and allocates runs of
		// pages in constant time.
		NoFreelistSync: true,
		FreelistType:   bbolt.FreelistMapType,
	})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	var m meta
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		var err error
		if m, err = readMeta(tx); err != nil {
			return err
		}
		due, hasDue := firstTimer(tx)
		s.publish(m, due, hasDue)
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: init %s: %w", path, err)
	}
	return db, nil
}

// Close closes the database; it waits for a running ApplyBatch or Restore,
// and for snapshots not yet released. Calls after Close fail with ErrClosed;
// Close itself may be called again.
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

// view runs fn in a bbolt read transaction.
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

// Counts returns the number of queues, topics and stored messages (in all
// queues) as of the last applied batch.
func (s *Store) Counts() (queues, topics, messages int64) {
	return s.queues.Load(), s.topics.Load(), s.messages.Load()
}

// NextDue returns the earliest time at which a sweep would have work: a
// delayed or in-flight message comes due, a queue's oldest message passes its
// retention, a deduplication window ends, or a purged or deleted queue's
// buckets are to be freed (then the time of the purge or delete). ok is false
// when there is none. It reflects the last applied batch.
func (s *Store) NextDue() (at time.Time, ok bool) {
	if !s.hasDue.Load() {
		return time.Time{}, false
	}
	return time.Unix(0, s.nextDue.Load()), true
}

// Changed returns a channel that is closed after the next applied batch (or
// Restore) that added messages or made messages receivable again anywhere:
// send, publish, nack, redrive, dead-lettering, a sweep that turned delayed or
// in-flight messages ready, an ack that exposed a FIFO group's next message.
// Call it again for the next change.
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

// publish copies m and the time of the first timer into the atomics readers
// use. It is called by the goroutine that applies, after the commit that
// wrote them.
func (s *Store) publish(m meta, due int64, hasDue bool) {
	s.applied.Store(m.applied)
	s.queues.Store(m.queues)
	s.topics.Store(m.topics)
	s.messages.Store(m.messages)
	s.nextDue.Store(due)
	s.hasDue.Store(hasDue)
}

var _ raftnode.StateMachine = (*Store)(nil)
