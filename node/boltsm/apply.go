package boltsm

import (
	"encoding/binary"

	"go.etcd.io/bbolt"

	"cairn.dev/cairn/node/raftnode"
)

// ApplyBatch applies committed entries in order, in one bbolt transaction
// that also records the last entry's index, and returns one result per
// entry, from the ApplyFunc. Entries at or below the applied index are
// skipped (their result is empty, not nil). An error is a storage failure:
// nothing in the batch was applied and the store refuses every later batch.
// Called by one goroutine at a time.
func (s *Store) ApplyBatch(entries []raftnode.Entry) ([][]byte, error) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return nil, s.opts.ErrClosed
	}
	if s.failed != nil {
		return nil, s.errFailed()
	}
	out := make([][]byte, len(entries))
	for i := range out {
		out[i] = []byte{}
	}
	applied := s.applied.Load()
	if len(entries) == 0 || entries[len(entries)-1].Index <= applied {
		return out, nil
	}
	changed := false
	err := s.db.Update(func(tx *bbolt.Tx) error {
		last, err := s.readApplied(tx)
		if err != nil {
			return err
		}
		for i, e := range entries {
			if e.Index <= last {
				continue
			}
			res, ch, err := s.apply(tx, e)
			if err != nil {
				return err
			}
			if res == nil {
				res = []byte{}
			}
			out[i], changed, last = res, changed || ch, e.Index
		}
		applied = last
		return tx.Bucket(metaBucket).Put(appliedKey, binary.BigEndian.AppendUint64(nil, last))
	})
	if err != nil {
		s.failed = err
		s.logger.Error(s.opts.Name+" store failed", "err", err)
		return nil, err
	}
	s.applied.Store(applied)
	if changed {
		s.notifyChanged()
	}
	return out, nil
}
