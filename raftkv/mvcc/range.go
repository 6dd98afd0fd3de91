package mvcc

import (
	"bytes"
	"fmt"

	"go.etcd.io/bbolt"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// History values: a put stores histPut ‖ KeyValue, a delete stores histTombstone.
const (
	histPut       byte = 'p'
	histTombstone byte = 'd'
)

// Range reads the keys selected by req at req.Revision (the current revision
// when 0). It fails with ErrCompacted when the revision is below the compact
// revision and with ErrFutureRevision when it is above the current one. It runs
// in a bbolt read transaction and is safe to call concurrently with ApplyBatch.
// req.Consistency is ignored: the caller decides where the read is served.
func (s *Store) Range(req *raftkvv1.RangeRequest) (*raftkvv1.RangeResponse, error) {
	var resp *raftkvv1.RangeResponse
	err := s.view(func(tx *bbolt.Tx) error {
		m, err := readMeta(tx)
		if err != nil {
			return err
		}
		resp, err = rangeTx(tx, m, req, req.GetRevision())
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// rangeTx serves req in tx at revision rev (0 or less: current revision m.rev).
func rangeTx(tx *bbolt.Tx, m meta, req *raftkvv1.RangeRequest, rev int64) (*raftkvv1.RangeResponse, error) {
	if rev <= 0 {
		rev = m.rev
	}
	if rev > m.rev {
		return nil, ErrFutureRevision
	}
	if rev < m.compactRev {
		return nil, ErrCompacted
	}
	resp := &raftkvv1.RangeResponse{Header: header(rev)}
	kr := newKeyRange(req.GetKey(), req.GetRangeEnd())
	if kr.empty() {
		return resp, nil
	}
	limit := req.GetLimit()
	visit := func(key, val []byte) error {
		resp.Count++
		if req.GetCountOnly() {
			return nil
		}
		if limit > 0 && int64(len(resp.Kvs)) >= limit {
			if !resp.More {
				resp.More = true
				resp.NextKey = bytes.Clone(key)
			}
			return nil
		}
		kv, err := unmarshalKV(val)
		if err != nil {
			return err
		}
		if req.GetKeysOnly() {
			kv.Value = nil
		}
		resp.Kvs = append(resp.Kvs, kv)
		return nil
	}
	var err error
	if rev == m.rev {
		err = scanCurrent(tx, kr, visit)
	} else {
		err = scanHistory(tx, kr, rev, visit)
	}
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// scanCurrent calls fn, in key order, for every key of kr in the current state
// with its encoded KeyValue. The slices are only valid during the call.
func scanCurrent(tx *bbolt.Tx, kr keyRange, fn func(key, val []byte) error) error {
	b := tx.Bucket(bucketKV)
	if kr.single {
		if v := b.Get(kr.start); v != nil {
			return fn(kr.start, v)
		}
		return nil
	}
	c := b.Cursor()
	var k, v []byte
	if len(kr.start) == 0 {
		k, v = c.First()
	} else {
		k, v = c.Seek(kr.start)
	}
	for ; k != nil && !kr.pastEnd(k); k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// scanHistory calls fn, in key order, for every key of kr that existed at rev,
// with its encoded KeyValue as of rev. The slices are only valid during the call.
func scanHistory(tx *bbolt.Tx, kr keyRange, rev int64, fn func(key, val []byte) error) error {
	c := tx.Bucket(bucketHistory).Cursor()
	var k, v []byte
	if len(kr.start) == 0 && !kr.single {
		k, v = c.First()
	} else {
		k, v = c.Seek(historyPrefix(kr.start))
	}
	for k != nil {
		if len(k) <= revLen {
			return fmt.Errorf("%w: short history key", ErrCorrupt)
		}
		prefix := k[:len(k)-revLen]
		key, _, err := unescapeKey(prefix)
		if err != nil {
			return err
		}
		if kr.pastEnd(key) {
			return nil
		}
		// Find the newest entry of key at or below rev.
		var best []byte
		for ; k != nil && len(k) > revLen && bytes.Equal(k[:len(k)-revLen], prefix); k, v = c.Next() {
			if eventKeyRev(k[len(k)-revLen:]) > rev {
				continue
			}
			best = v
		}
		if len(best) > 0 && best[0] == histPut && kr.contains(key) {
			if err := fn(key, best[1:]); err != nil {
				return err
			}
		}
	}
	return nil
}
