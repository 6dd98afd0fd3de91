package store

import (
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

// Options configures a Store.
type Options struct {
	// NoSync skips fsync on commit. Only for tests: a crash may lose or
	// corrupt data.
	NoSync bool
	// CommitInterval is how long applied batches may wait in the open write
	// transaction before it is committed (see commit.go); 0 means
	// DefaultCommitInterval, a negative value commits every batch.
	CommitInterval time.Duration
	// CommitEntries commits the open write transaction once it holds this
	// many entries; 0 or less means DefaultCommitEntries, 1 commits every
	// batch.
	CommitEntries int
	// Logger receives the store's logs; nil means slog.Default().
	Logger *slog.Logger
}

// Store is queued's state machine in one bbolt file.
//
// ApplyBatch, Snapshot and Restore are called from one goroutine at a time
// (the Raft apply loop); every other method is safe for concurrent use,
// concurrently with them too. Close may be called from any goroutine; it
// waits for a running ApplyBatch or Restore. Commits are batched: see
// commit.go for when applied batches reach the file and why that is safe.
//
// Lock order: applyMu, mu, txMu, changedMu. Readers take mu (for reading)
// and then txMu; nothing that holds txMu waits for applyMu or mu. bbolt adds
// one wait of its own: a commit that grows the file remaps it and waits for
// every open read transaction. Commits run under txMu (or, in openDB, under
// mu held for writing), and no goroutine holding a bbolt read transaction
// (a reader inside view, a snapshot not yet released) waits for txMu, so the
// remap always gets its turn; view begins its read transactions under txMu,
// which no remap can then be waiting in.
type Store struct {
	path   string
	opts   Options
	logger *slog.Logger

	commitInterval time.Duration // < 0: commit every batch
	commitEntries  int

	// applyMu serializes ApplyBatch, Snapshot, Restore, Close and the idle
	// commit of commitLoop.
	applyMu sync.Mutex

	// mu guards db: reads, ApplyBatch, Snapshot and the commits hold it for
	// reading while they use the database; Restore and Close hold it for
	// writing while they replace or close it.
	mu sync.RWMutex
	db *bbolt.DB // nil once closed

	// txMu guards pending and failed, which change only with applyMu held
	// too (so holding either is enough to read them). The pending write
	// transaction is not safe for concurrent use: ApplyBatch holds txMu while
	// it writes into it, the commits while they commit it, readers while
	// they read through it.
	txMu    sync.Mutex
	pending *pendingTx // applied batches not committed yet; nil when none
	// failed is set when a storage failure lost applied batches: the store
	// refuses further batches, reads, snapshots and restores.
	failed error
	// commitTx commits the pending transaction; tests replace it to fail.
	commitTx func(*bbolt.Tx) error

	// kick wakes commitLoop when a pending transaction is begun (capacity
	// 1, never blocks); stop is closed by Close, loopDone by commitLoop when
	// it returns.
	kick     chan struct{}
	stop     chan struct{}
	stopOnce sync.Once
	loopDone chan struct{}

	// durable is the applied index of the last commit: AppliedIndex.
	durable atomic.Uint64
	// Copies of the meta of the last applied batch (committed or pending).
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
	if err := boltfile.RemoveStale(path); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s := &Store{path: path, opts: opts, logger: logger, changed: make(chan struct{}),
		commitInterval: opts.CommitInterval, commitEntries: opts.CommitEntries,
		commitTx: (*bbolt.Tx).Commit,
		kick:     make(chan struct{}, 1), stop: make(chan struct{}), loopDone: make(chan struct{})}
	if s.commitInterval == 0 {
		s.commitInterval = DefaultCommitInterval
	}
	if s.commitEntries <= 0 {
		s.commitEntries = DefaultCommitEntries
	}
	db, err := s.openDB(path)
	if err != nil {
		return nil, err
	}
	s.db = db
	if s.commitInterval > 0 {
		go s.commitLoop()
	} else {
		close(s.loopDone)
	}
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
		s.durable.Store(m.applied)
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: init %s: %w", path, err)
	}
	return db, nil
}

// Close commits the applied batches not committed yet and closes the
// database; it waits for a running ApplyBatch or Restore, and for snapshots
// not yet released. Calls after Close fail with ErrClosed; Close itself may
// be called again. An error means the last batches were not committed (Raft
// applies them again after the restart). A failed store (see commit.go)
// closes without committing and without an error: ApplyBatch reported the
// failure already.
func (s *Store) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.loopDone
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	var ferr error
	if s.failed == nil {
		ferr = s.commitLocked() // leaves no pending transaction, committed or not
	}
	err := s.db.Close()
	s.db = nil
	return errors.Join(ferr, err)
}

// view runs fn on the state as of the last applied batch: in the pending
// write transaction (holding txMu) when there is one, else in a bbolt read
// transaction.
func (s *Store) view(fn func(tx *bbolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return ErrClosed
	}
	s.txMu.Lock()
	if s.failed != nil {
		s.txMu.Unlock()
		return s.failed
	}
	if p := s.pending; p != nil {
		defer s.txMu.Unlock()
		return fn(p.tx)
	}
	// Nothing is pending: every applied batch is committed, and a batch
	// committed later is not in this transaction only because it was
	// applied after this read began.
	tx, err := s.db.Begin(false)
	s.txMu.Unlock()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// AppliedIndex returns the Raft index of the last entry whose effects are
// committed to the database file. Entries applied after it are visible to
// readers (see LastApplied) but are applied again after a crash.
func (s *Store) AppliedIndex() uint64 { return s.durable.Load() }

// LastApplied returns the Raft index of the last applied entry: the state
// readers see. It is at or above AppliedIndex.
func (s *Store) LastApplied() uint64 { return s.applied.Load() }

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
// use. It is called by the goroutine that applies, after the batch that
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
