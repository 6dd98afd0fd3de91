package mvcc

import (
	"bytes"

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
	err := s.readIndex(func(ix *index, rd *storeReader, unlock func()) error {
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
		resp.Kvs, err = fetchKVs(rd, refs, req.GetKeysOnly())
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

// fetchKVs reads the KeyValues of refs from src.
func fetchKVs(src recordSource, refs []revision, keysOnly bool) ([]*raftkvv1.KeyValue, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	kvs := make([]*raftkvv1.KeyValue, len(refs))
	for i, r := range refs {
		kv, err := fetchKV(src, r)
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

// fetchKV reads the KeyValue of record r from src.
func fetchKV(src recordSource, r revision) (*raftkvv1.KeyValue, error) {
	v, err := src.record(r)
	if err != nil {
		return nil, err
	}
	_, kv, err := decodeRecord(v)
	return kv, err
}
