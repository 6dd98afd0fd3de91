package mvcc

import (
	"fmt"

	"go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// Events returns the stored events with revision >= fromRev on the keys
// selected by key and rangeEnd (same rules as Range), in revision order, each
// with its prev_kv. Watchers use it to catch up.
//
// It also returns complete: every matching event with revision in
// [fromRev, complete] is in the answer, so a watcher continues from complete+1.
// Without a limit, complete is the store revision at read time.
//
// limit > 0 caps the number of events, but a revision's events are never split:
// when the cap falls inside a revision, that revision is left out (complete is
// the revision before it), unless it is the first revision of the answer, in
// which case it is returned whole even if that exceeds limit.
//
// fromRev <= CompactRevision fails with ErrCompacted (fromRev < 1 counts as 1).
func (s *Store) Events(fromRev int64, key, rangeEnd []byte, limit int) ([]*raftkvv1.Event, int64, error) {
	var out []*raftkvv1.Event
	var complete int64
	err := s.view(func(tx *bbolt.Tx) error {
		m, err := readMeta(tx)
		if err != nil {
			return err
		}
		out, complete, err = eventsTx(tx, m, fromRev, newKeyRange(key, rangeEnd), limit)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, complete, nil
}

func eventsTx(tx *bbolt.Tx, m meta, fromRev int64, kr keyRange, limit int) ([]*raftkvv1.Event, int64, error) {
	if fromRev < 1 {
		fromRev = 1
	}
	if fromRev <= m.compactRev {
		return nil, 0, ErrCompacted
	}
	var out []*raftkvv1.Event
	if kr.empty() || fromRev > m.rev {
		return nil, m.rev, nil
	}
	c := tx.Bucket(bucketEvents).Cursor()
	for k, v := c.Seek(eventKey(fromRev, 0)); k != nil; k, v = c.Next() {
		rev := eventKeyRev(k)
		if limit > 0 && len(out) >= limit && rev != eventRev(out[len(out)-1]) {
			// The cap is reached at a revision boundary.
			return out, rev - 1, nil
		}
		ev := &raftkvv1.Event{}
		if err := proto.Unmarshal(v, ev); err != nil {
			return nil, 0, fmt.Errorf("%w: event: %v", ErrCorrupt, err)
		}
		if !kr.contains(ev.GetKv().GetKey()) {
			continue
		}
		if limit > 0 && len(out) >= limit {
			// The cap falls inside revision rev: drop its events unless it is
			// the only revision of the answer.
			first := eventRev(out[0])
			if first != rev {
				i := len(out)
				for i > 0 && eventRev(out[i-1]) == rev {
					i--
				}
				return out[:i], rev - 1, nil
			}
		}
		out = append(out, ev)
	}
	return out, m.rev, nil
}

func eventRev(ev *raftkvv1.Event) int64 { return ev.GetKv().GetModRevision() }
