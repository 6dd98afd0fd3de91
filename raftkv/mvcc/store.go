package mvcc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node/boltfile"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// Bucket and meta key names. They are part of the on-disk format.
var (
	bucketMeta   = []byte("meta")
	bucketRevs   = []byte("revs")
	bucketLeases = []byte("leases")

	metaApplied  = []byte("applied")
	metaRevision = []byte("rev")
	metaCompact  = []byte("compact")

	allBuckets = [][]byte{bucketMeta, bucketRevs, bucketLeases}

	// legacyBuckets mark the layout before the in-memory key index.
	legacyBuckets = [][]byte{[]byte("kv"), []byte("history")}
)

// initialRevision is the revision of an empty store, as in etcd: the first write
// gets revision 2.
const initialRevision = 1

// Options configures a Store.
type Options struct {
	// NoSync skips fsync on commit. Only for tests: a crash may lose or corrupt data.
	NoSync bool
	// CommitInterval is how long applied changes may wait in the open write
	// transaction before it is committed (see Store); 0 means
	// DefaultCommitInterval, a negative value commits every batch.
	CommitInterval time.Duration
	// CommitEntries commits the open write transaction once it holds this many
	// entries; 0 means DefaultCommitEntries.
	CommitEntries int
	// Logger receives the store's logs; nil means slog.Default().
	Logger *slog.Logger
}

// Store is a multi-version key-value store in one bbolt file.
//
// ApplyBatch must be called from one goroutine at a time (the Raft apply loop);
// every other method is safe for concurrent use. Commits are batched: see
// pending.go for when applied changes reach the file and why that is safe.
type Store struct {
	path   string
	opts   Options
	logger *slog.Logger

	// mu guards db and idx: every operation holds it for reading while it
	// uses them; Restore and Close hold it for writing while they replace or
	// close them. Lock order: applyMu, mu, idx.mu.
	mu  sync.RWMutex
	db  *bbolt.DB // nil once closed
	idx *index    // the key index of db

	// applyMu serializes ApplyBatch, Flush, Restore and Close, and guards
	// pending and failed.
	applyMu sync.Mutex
	pending *pendingTx // applied batches not committed yet; nil when none
	failed  error      // a commit failed: the store takes no more batches

	// ovMu guards ov and durableRev (see pending.go). Lock order: idx.mu, ovMu.
	ovMu       sync.RWMutex
	ov         []pendingRec // records above durableRev, in (rev, sub) order
	durableRev int64

	// Copies of the meta of the latest applied batch, updated after each
	// batch with idx.mu held for writing.
	rev        atomic.Int64
	compactRev atomic.Int64
	applied    atomic.Uint64
	// durableApplied is the applied index of the last commit.
	durableApplied atomic.Uint64

	commitInterval time.Duration
	commitEntries  int
	closeOnce      sync.Once
	stopFlush      chan struct{} // closed by Close
	flushDone      chan struct{} // closed when flushLoop returns
}

// Open opens or creates the store at path.
func Open(path string, opts Options) (*Store, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	// A leftover of an interrupted Restore is never the live database.
	if err := boltfile.RemoveStale(path); err != nil {
		return nil, fmt.Errorf("mvcc: %w", err)
	}
	s := &Store{path: path, opts: opts, logger: logger,
		commitInterval: opts.CommitInterval, commitEntries: opts.CommitEntries,
		stopFlush: make(chan struct{}), flushDone: make(chan struct{})}
	if s.commitInterval == 0 {
		s.commitInterval = DefaultCommitInterval
	}
	if s.commitEntries <= 0 {
		s.commitEntries = DefaultCommitEntries
	}
	db, ix, err := s.openDB(path)
	if err != nil {
		return nil, err
	}
	s.db, s.idx = db, ix
	if s.commitInterval > 0 {
		go s.flushLoop(s.commitInterval)
	} else {
		close(s.flushDone)
	}
	logger.Info("mvcc store opened", "path", path, "revision", s.rev.Load(),
		"compact_revision", s.compactRev.Load(), "applied_index", s.applied.Load())
	return s, nil
}

// openDB opens the bbolt file at path, creates missing buckets, builds the key
// index and loads the cached meta values.
func (s *Store) openDB(path string) (*bbolt.DB, *index, error) {
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
		return nil, nil, fmt.Errorf("mvcc: open %s: %w", path, err)
	}
	var ix *index
	var m meta
	err = db.Update(func(tx *bbolt.Tx) error {
		if err := checkLayout(tx); err != nil {
			return err
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		var err error
		if m, err = readMeta(tx); err != nil {
			return err
		}
		ix, err = buildIndex(tx, m)
		return err
	})
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("mvcc: init %s: %w", path, err)
	}
	s.publish(m)
	s.committed(m)
	return db, ix, nil
}

// Close commits what is pending and closes the database. Calls after Close
// fail with ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.stopFlush) })
	<-s.flushDone
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	ferr := s.flushLocked() // leaves no pending transaction, committed or not
	err := s.db.Close()
	s.db, s.idx = nil, nil
	return errors.Join(ferr, err)
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

// Revision returns the store revision after the last applied batch.
func (s *Store) Revision() int64 { return s.rev.Load() }

// CompactRevision returns the revision of the last compaction (0 if none).
func (s *Store) CompactRevision() int64 { return s.compactRev.Load() }

// AppliedIndex returns the Raft index of the last entry whose effects are
// committed to the database file. Entries applied after it are visible to
// readers but are applied again after a crash.
func (s *Store) AppliedIndex() uint64 { return s.durableApplied.Load() }

// Size returns the size of the database file in bytes (0 once closed).
func (s *Store) Size() int64 {
	var n int64
	_ = s.view(func(tx *bbolt.Tx) error {
		n = tx.Size()
		return nil
	})
	return n
}

// meta is the content of the meta bucket.
type meta struct {
	applied    uint64
	rev        int64
	compactRev int64
}

func readMeta(tx *bbolt.Tx) (meta, error) {
	b := tx.Bucket(bucketMeta)
	if b == nil {
		return meta{}, fmt.Errorf("%w: no meta bucket", ErrCorrupt)
	}
	m := meta{rev: initialRevision}
	for _, f := range []struct {
		key []byte
		set func(uint64)
	}{
		{metaApplied, func(v uint64) { m.applied = v }},
		{metaRevision, func(v uint64) { m.rev = int64(v) }},
		{metaCompact, func(v uint64) { m.compactRev = int64(v) }},
	} {
		v := b.Get(f.key)
		if v == nil {
			continue
		}
		if len(v) != 8 {
			return meta{}, fmt.Errorf("%w: meta %s has %d bytes", ErrCorrupt, f.key, len(v))
		}
		f.set(binary.BigEndian.Uint64(v))
	}
	return m, nil
}

func writeMeta(tx *bbolt.Tx, m meta) error {
	b := tx.Bucket(bucketMeta)
	if err := b.Put(metaApplied, u64(m.applied)); err != nil {
		return err
	}
	if err := b.Put(metaRevision, i64(m.rev)); err != nil {
		return err
	}
	return b.Put(metaCompact, i64(m.compactRev))
}

func (s *Store) publish(m meta) {
	s.rev.Store(m.rev)
	s.compactRev.Store(m.compactRev)
	s.applied.Store(m.applied)
}

// marshal encodes m deterministically, so replicas write identical bytes.
func marshal(m proto.Message) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

func unmarshalKV(b []byte) (*raftkvv1.KeyValue, error) {
	kv := &raftkvv1.KeyValue{}
	if err := proto.Unmarshal(b, kv); err != nil {
		return nil, fmt.Errorf("%w: key value: %v", ErrCorrupt, err)
	}
	return kv, nil
}

// checkLayout rejects a database written with an older layout.
func checkLayout(tx *bbolt.Tx) error {
	for _, name := range legacyBuckets {
		if tx.Bucket(name) != nil {
			return fmt.Errorf("%w: %s bucket of an older layout", ErrCorrupt, name)
		}
	}
	return nil
}

// readIndex runs fn with the key index locked for reading and a storeReader
// that holds every record that reads at revisions in [idx.compactRev, idx.rev]
// need. fn may unlock the index early through the function it gets, to fetch
// records without holding it.
func (s *Store) readIndex(fn func(ix *index, rd *storeReader, unlock func()) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return ErrClosed
	}
	ix := s.idx
	ix.mu.RLock()
	locked := true
	unlock := func() {
		if locked {
			locked = false
			ix.mu.RUnlock()
		}
	}
	defer unlock()
	rd, err := s.beginRead()
	if err != nil {
		return err
	}
	defer rd.tx.Rollback()
	return fn(ix, rd, unlock)
}

func header(rev int64) *raftkvv1.ResponseHeader {
	return &raftkvv1.ResponseHeader{Revision: rev}
}
