package mvcc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
	"time"

	"go.etcd.io/bbolt"
)

// Batched commits.
//
// ApplyBatch does not commit its bbolt write transaction every time: applied
// changes accumulate in one open transaction, which is committed (and
// fsynced) once it is CommitInterval old or holds CommitEntries entries,
// before a snapshot, on Close, and at once for batches that compact or change
// leases. Readers see a batch as soon as ApplyBatch returns: records written
// since the last commit are also kept in memory (the overlay) until they are
// committed.
//
// This is safe because the store is a Raft state machine: an entry is
// acknowledged only once it is durable in the Raft log, and after a crash Raft
// replays the log from the last snapshot, so the entries whose commit was lost
// are applied again (the store skips those at or below its durable
// AppliedIndex). Every snapshot is taken after a commit.
//
// Visibility protocol. The overlay holds every record with a revision above
// durableRev; a commit first makes its records durable, then raises durableRev
// and drops them from the overlay, under ovMu. A reader takes the overlay and
// durableRev under ovMu and only then begins its bbolt read transaction: a
// record at or below the durableRev it saw was committed before that, so the
// transaction has it; every other record it may need is in the overlay it took.

// Defaults of Options.CommitInterval and Options.CommitEntries.
const (
	DefaultCommitInterval = 100 * time.Millisecond
	DefaultCommitEntries  = 10000
)

// pendingRec is a record written by a transaction that is not committed yet.
type pendingRec struct {
	rev int64
	sub uint32
	val []byte
}

// pendingTx is the open write transaction of applied but uncommitted batches.
type pendingTx struct {
	tx      *bbolt.Tx
	m       meta // the meta after its last batch
	entries int
	since   time.Time
}

// recordSource reads records of the revs bucket by revision.
type recordSource interface {
	// record returns the value of record r, or ErrCorrupt when it is missing.
	record(r revision) ([]byte, error)
}

// boltRecords reads records from a bbolt bucket, reusing one cursor.
type boltRecords struct {
	c   *bbolt.Cursor
	key [recordKeyLen]byte
}

func newBoltRecords(b *bbolt.Bucket) *boltRecords { return &boltRecords{c: b.Cursor()} }

func (br *boltRecords) record(r revision) ([]byte, error) {
	binary.BigEndian.PutUint64(br.key[:], uint64(r.rev))
	binary.BigEndian.PutUint32(br.key[revLen:], r.sub)
	k, v := br.c.Seek(br.key[:])
	if !bytes.Equal(k, br.key[:]) {
		return nil, fmt.Errorf("%w: missing record %d/%d", ErrCorrupt, r.rev, r.sub)
	}
	return v, nil
}

// storeReader is a reader's consistent view of the records: a bbolt read
// transaction plus the overlay of records not committed when it began.
type storeReader struct {
	tx      *bbolt.Tx
	bolt    *boltRecords
	ov      []pendingRec // the records above durable, sorted by (rev, sub); read-only
	durable int64        // records at or below it are in tx
}

func (sr *storeReader) record(r revision) ([]byte, error) {
	if r.rev <= sr.durable {
		return sr.bolt.record(r)
	}
	i := sort.Search(len(sr.ov), func(i int) bool {
		p := sr.ov[i]
		return p.rev > r.rev || (p.rev == r.rev && p.sub >= r.sub)
	})
	if i == len(sr.ov) || sr.ov[i].rev != r.rev || sr.ov[i].sub != r.sub {
		return nil, fmt.Errorf("%w: missing record %d/%d", ErrCorrupt, r.rev, r.sub)
	}
	return sr.ov[i].val, nil
}

// scan calls fn with the revision and value of every record with revision at
// or above fromRev, in (rev, sub) order, until fn returns false or an error.
func (sr *storeReader) scan(fromRev int64, fn func(rev int64, v []byte) (bool, error)) error {
	c := sr.tx.Bucket(bucketRevs).Cursor()
	for k, v := c.Seek(recordKey(fromRev, 0)); k != nil; k, v = c.Next() {
		rev := recordKeyRev(k)
		if rev > sr.durable {
			break
		}
		if more, err := fn(rev, v); !more || err != nil {
			return err
		}
	}
	for _, p := range sr.ov {
		if p.rev < fromRev {
			continue
		}
		if more, err := fn(p.rev, p.val); !more || err != nil {
			return err
		}
	}
	return nil
}

// beginRead returns a storeReader; the caller must hold s.mu and ix.mu for
// reading and roll back the transaction.
func (s *Store) beginRead() (*storeReader, error) {
	s.ovMu.RLock()
	ov, durable := s.ov, s.durableRev
	s.ovMu.RUnlock()
	tx, err := s.db.Begin(false)
	if err != nil {
		return nil, err
	}
	return &storeReader{tx: tx, bolt: newBoltRecords(tx.Bucket(bucketRevs)), ov: ov, durable: durable}, nil
}

// Flush commits the applied changes that are not committed yet, so that they
// are in the database file and in snapshots taken after it.
func (s *Store) Flush() error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return ErrClosed
	}
	return s.flushLocked()
}

// flushLocked commits the pending transaction. The caller holds applyMu and
// s.mu for reading, with s.db open.
func (s *Store) flushLocked() error {
	if s.failed != nil {
		return s.failed
	}
	p := s.pending
	if p == nil {
		return nil
	}
	s.pending = nil
	if err := p.tx.Commit(); err != nil {
		s.failed = fmt.Errorf("mvcc: commit: %w", err)
		return s.failed
	}
	s.committed(p.m)
	return nil
}

// committed records that the changes up to m are durable.
func (s *Store) committed(m meta) {
	s.ovMu.Lock()
	s.ov = nil
	s.durableRev = m.rev
	s.ovMu.Unlock()
	s.durableApplied.Store(m.applied)
}

// flushLoop commits pending changes once they are CommitInterval old, when no
// batch comes to do it. It returns when s.stopFlush is closed.
func (s *Store) flushLoop(interval time.Duration) {
	defer close(s.flushDone)
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	for {
		select {
		case <-s.stopFlush:
			return
		case <-t.C:
		}
		s.applyMu.Lock()
		if p := s.pending; p != nil && time.Since(p.since) >= interval {
			s.mu.RLock()
			if s.db != nil {
				if err := s.flushLocked(); err != nil {
					s.logger.Error("mvcc: background commit failed; the store refuses further batches", "err", err)
				}
			}
			s.mu.RUnlock()
		}
		s.applyMu.Unlock()
	}
}
