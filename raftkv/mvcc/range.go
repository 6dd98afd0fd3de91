package mvcc

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// Range reads the keys selected by req at req.Revision (the current revision
// when 0). It fails with ErrCompacted when the revision is below the compact
// revision and with ErrFutureRevision when it is above the current one. It
// walks the key index, then fetches the values from a bbolt read transaction,
// and is safe to call concurrently with ApplyBatch. req.Consistency is
// ignored: the caller decides where the read is served.
func (s *Store) Range(req *raftkvv1.RangeRequest) (*raftkvv1.RangeResponse, error) {
	var resp *raftkvv1.RangeResponse
	err := s.readIndex(func(ix *index, tx *bbolt.Tx, unlock func()) error {
		rev := req.GetRevision()
		if rev <= 0 {
			rev = ix.rev
		}
		if rev > ix.rev {
			return ErrFutureRevision
		}
		if rev < ix.compactRev {
			return ErrCompacted
		}
		resp = &raftkvv1.RangeResponse{Header: header(rev)}
		refs := rangeIndex(&ix.tree, req, rev, resp)
		unlock()
		var err error
		resp.Kvs, err = fetchKVs(tx.Bucket(bucketRevs), refs, req.GetKeysOnly())
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// rangeIndex walks t over the keys of req as of rev. It sets resp's Count,
// More and NextKey and returns the records of the KeyValues to return, in key
// order.
func rangeIndex(t *btree, req *raftkvv1.RangeRequest, rev int64, resp *raftkvv1.RangeResponse) []revision {
	limit := req.GetLimit()
	countOnly := req.GetCountOnly()
	var refs []revision
	newKeyRange(req.GetKey(), req.GetRangeEnd()).ascend(t, func(ki *keyIndex) bool {
		r, ok := ki.at(rev)
		if !ok {
			return true
		}
		resp.Count++
		switch {
		case countOnly:
		case limit > 0 && int64(len(refs)) >= limit:
			if !resp.More {
				resp.More = true
				resp.NextKey = bytes.Clone(ki.key)
			}
		default:
			refs = append(refs, r)
		}
		return true
	})
	return refs
}

// fetchKVs reads the KeyValues of refs from the revs bucket b.
func fetchKVs(b *bbolt.Bucket, refs []revision, keysOnly bool) ([]*raftkvv1.KeyValue, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	kvs := make([]*raftkvv1.KeyValue, len(refs))
	rd := recordReader{c: b.Cursor()}
	for i, r := range refs {
		kv, err := rd.kv(r)
		if err != nil {
			return nil, err
		}
		if keysOnly {
			kv.Value = nil
		}
		kvs[i] = kv
	}
	return kvs, nil
}

// fetchKV reads the KeyValue of record r.
func fetchKV(b *bbolt.Bucket, r revision) (*raftkvv1.KeyValue, error) {
	rd := recordReader{c: b.Cursor()}
	return rd.kv(r)
}

// recordReader reads records by revision, reusing one cursor.
type recordReader struct {
	c   *bbolt.Cursor
	key [recordKeyLen]byte
}

// kv returns the KeyValue of record r.
func (rd *recordReader) kv(r revision) (*raftkvv1.KeyValue, error) {
	binary.BigEndian.PutUint64(rd.key[:], uint64(r.rev))
	binary.BigEndian.PutUint32(rd.key[revLen:], r.sub)
	k, v := rd.c.Seek(rd.key[:])
	if !bytes.Equal(k, rd.key[:]) {
		return nil, fmt.Errorf("%w: missing record %d/%d", ErrCorrupt, r.rev, r.sub)
	}
	_, kv, err := decodeRecord(v)
	return kv, err
}
