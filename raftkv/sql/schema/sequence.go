package schema

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	mrand "math/rand/v2"
	"time"

	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// NextVal retries its transaction after a conflict (another caller took a
// value) with a jittered backoff growing from nextValBackoff to
// maxNextValBackoff, until ctx ends: under heavy contention on one sequence
// every caller eventually wins a round.
const (
	nextValBackoff    = 500 * time.Microsecond
	maxNextValBackoff = 20 * time.Millisecond
)

func seqCounterKey(counter string) []byte { return []byte(seqCounterPrefix + counter) }

// newSequence returns a sequence for a column of type typ with a fresh
// counter key: a re-created sequence of the same name never continues an
// old counter (a rolled-back CREATE may leave one behind).
func newSequence(name string, typ value.Type) (*Sequence, error) {
	var r [12]byte
	if _, err := rand.Read(r[:]); err != nil {
		return nil, sqlerr.Wrap(sqlerr.Internal, err, "sequence %q: %v", name, err)
	}
	maxv := int64(math.MaxInt64)
	switch typ.Width {
	case 2:
		maxv = math.MaxInt16
	case 4:
		maxv = math.MaxInt32
	}
	return &Sequence{Name: name, Start: 1, Increment: 1, Min: 1, Max: maxv, counter: hex.EncodeToString(r[:])}, nil
}

// restart gives s a fresh counter starting at its minimum (TRUNCATE …
// RESTART IDENTITY): the
// descriptor change is transactional, so a rolled-back restart keeps the
// old counter.
func (s *Sequence) restart() error {
	var r [12]byte
	if _, err := rand.Read(r[:]); err != nil {
		return sqlerr.Wrap(sqlerr.Internal, err, "sequence %q: %v", s.Name, err)
	}
	s.counter = hex.EncodeToString(r[:])
	s.Start = s.Min
	return nil
}

// NextVal returns the next value of sequence seq of cat (the catalog the
// caller's transaction loaded). The increment runs in its own small
// transaction on db, committed before NextVal returns, NOT in the caller's
// transaction: like PostgreSQL's nextval it is never rolled back, so values
// are unique but gaps appear (a rolled-back INSERT, a retried increment after
// an ambiguous commit), and concurrent inserts never conflict on the
// sequence. Each call costs one raftkv transaction (values are not cached in
// blocks, so they increase in commit order across every node). A sequence
// created by the caller's still-uncommitted transaction works: its counter
// key is fresh.
//
// Errors: 42P01 when seq does not exist in cat, 2200H past the sequence's
// maximum, ctx errors (also when ctx ends while retrying conflicts), and
// raftkv errors.
func NextVal(ctx context.Context, db *kvtxn.DB, cat *Catalog, seq string) (int64, error) {
	s, ok := cat.seqs[seq]
	if !ok {
		return 0, errUndefinedTable(seq)
	}
	key := seqCounterKey(s.counter)
	backoff := nextValBackoff
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			wait := backoff/2 + mrand.N(backoff/2+1)
			backoff = min(2*backoff, maxNextValBackoff)
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(wait):
			}
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		txn := db.Begin(kvtxn.Serializable)
		b, found, err := txn.Get(ctx, key)
		if err != nil {
			txn.Rollback()
			return 0, err
		}
		next := s.Start
		if found {
			if len(b) != 8 {
				txn.Rollback()
				return 0, corrupt(string(key), errors.New("sequence counter is not 8 bytes"))
			}
			last := int64(binary.BigEndian.Uint64(b))
			if last > s.Max-s.Increment {
				txn.Rollback()
				return 0, sqlerr.New(codeSequenceLimit, "nextval: reached maximum value of sequence \"%s\" (%d)", s.Name, s.Max)
			}
			next = last + s.Increment
		}
		if err := txn.Put(key, binary.BigEndian.AppendUint64(nil, uint64(next))); err != nil {
			txn.Rollback()
			return 0, err
		}
		err = txn.Commit(ctx)
		if err == nil {
			return next, nil
		}
		if !errors.Is(err, kvtxn.ErrConflict) && !errors.Is(err, kvtxn.ErrAmbiguous) {
			return 0, err
		}
		// A conflict means another caller took a value; an ambiguous
		// commit may have taken one for us, which only leaves a gap.
	}
}
