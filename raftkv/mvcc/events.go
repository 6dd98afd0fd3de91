package mvcc

import (
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
	err := s.readIndex(func(ix *index, rd *storeReader, unlock func()) error {
		rev, compactRev := ix.rev, ix.compactRev
		unlock()
		var err error
		out, complete, err = readEvents(rd, rev, compactRev, fromRev, newKeyRange(key, rangeEnd), limit)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, complete, nil
}

// readEvents reads the events of the records in rd with revision in
// [fromRev, rev]; compactRev is the compact revision of rd.
func readEvents(rd *storeReader, rev, compactRev, fromRev int64, kr keyRange, limit int) ([]*raftkvv1.Event, int64, error) {
	if fromRev < 1 {
		fromRev = 1
	}
	if fromRev <= compactRev {
		return nil, 0, ErrCompacted
	}
	if kr.empty() || fromRev > rev {
		return nil, rev, nil
	}
	var out []*raftkvv1.Event
	complete := rev
	err := rd.scan(fromRev, func(evRev int64, v []byte) (bool, error) {
		if evRev > rev {
			return false, nil
		}
		if limit > 0 && len(out) >= limit && evRev != eventRev(out[len(out)-1]) {
			// The cap is reached at a revision boundary.
			complete = evRev - 1
			return false, nil
		}
		prev, kv, err := decodeRecord(v)
		if err != nil {
			return false, err
		}
		if !kr.contains(kv.GetKey()) {
			return true, nil
		}
		if limit > 0 && len(out) >= limit {
			// The cap falls inside revision evRev: drop its events unless it
			// is the only revision of the answer.
			first := eventRev(out[0])
			if first != evRev {
				i := len(out)
				for i > 0 && eventRev(out[i-1]) == evRev {
					i--
				}
				out, complete = out[:i], evRev-1
				return false, nil
			}
		}
		ev := &raftkvv1.Event{Type: raftkvv1.Event_EVENT_TYPE_PUT, Kv: kv}
		if kv.GetVersion() == 0 {
			ev.Type = raftkvv1.Event_EVENT_TYPE_DELETE
		}
		if prev.rev != 0 {
			// The previous value is above the compact revision or the newest
			// at it, so compaction kept its record.
			if ev.PrevKv, err = fetchKV(rd, prev); err != nil {
				return false, err
			}
		}
		out = append(out, ev)
		return true, nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, complete, nil
}

func eventRev(ev *raftkvv1.Event) int64 { return ev.GetKv().GetModRevision() }
