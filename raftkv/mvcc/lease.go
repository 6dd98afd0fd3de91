package mvcc

import (
	"fmt"

	"go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	raftkvraftv1 "cairn.dev/cairn/proto/cairn/raftkv/raft/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// Leases are records in the leases bucket; the keys attached to a lease are
// only in memory (index.leases), rebuilt from the keys' current values at
// open. The state machine keeps no clock: the leader decides when a lease
// expired and proposes a LeaseExpire command.

func (a *applier) applyLeaseGrant(req *raftkvv1.LeaseGrantRequest) (*raftkvv1.LeaseGrantResponse, error) {
	id := req.GetId()
	if id == 0 {
		// The entry's index is the same on every replica, and unique.
		id = int64(a.index)
	}
	if a.leaseExists(id) {
		return nil, fmt.Errorf("%w: %d", ErrLeaseExists, id)
	}
	rec := &raftkvraftv1.LeaseRecord{Id: id, Ttl: req.GetTtl()}
	enc, err := marshal(rec)
	if err != nil {
		return nil, err
	}
	if err := a.leases.Put(leaseKey(id), enc); err != nil {
		return nil, err
	}
	a.leasesChanged = true
	return &raftkvv1.LeaseGrantResponse{Header: header(a.m.rev), Id: id, Ttl: rec.Ttl}, nil
}

func (a *applier) applyLeaseRevoke(req *raftkvv1.LeaseRevokeRequest) (*raftkvv1.LeaseRevokeResponse, error) {
	id := req.GetId()
	if !a.leaseExists(id) {
		return nil, fmt.Errorf("%w: %d", ErrLeaseNotFound, id)
	}
	a.beginWrite()
	if err := a.revokeLease(id); err != nil {
		return nil, err
	}
	return &raftkvv1.LeaseRevokeResponse{Header: header(a.endWrite())}, nil
}

func (a *applier) applyLeaseExpire(req *raftkvraftv1.LeaseExpire) (*raftkvraftv1.LeaseExpireResult, error) {
	res := &raftkvraftv1.LeaseExpireResult{}
	a.beginWrite()
	for _, id := range req.GetIds() {
		if !a.leaseExists(id) {
			continue // already revoked, or listed twice
		}
		if err := a.revokeLease(id); err != nil {
			return nil, err
		}
		res.Revoked = append(res.Revoked, id)
	}
	a.endWrite()
	return res, nil
}

// revokeLease deletes the keys attached to lease id at the pending revision, in
// key order, then the lease. It must run between beginWrite and endWrite.
func (a *applier) revokeLease(id int64) error {
	for _, k := range a.leaseKeys(id) {
		if _, err := a.deleteKeys(keyRange{start: []byte(k), single: true}); err != nil {
			return err
		}
	}
	a.leasesChanged = true
	return a.leases.Delete(leaseKey(id))
}

// Leases returns every lease, ordered by id as stored (non-negative ids
// ascending). It returns nil once the store is closed.
func (s *Store) Leases() []*raftkvraftv1.LeaseRecord {
	var out []*raftkvraftv1.LeaseRecord
	err := s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketLeases).ForEach(func(_, v []byte) error {
			rec := &raftkvraftv1.LeaseRecord{}
			if err := proto.Unmarshal(v, rec); err != nil {
				return fmt.Errorf("%w: lease record: %v", ErrCorrupt, err)
			}
			out = append(out, rec)
			return nil
		})
	})
	if err != nil {
		s.logger.Error("mvcc: list leases", "err", err)
		return nil
	}
	return out
}

// Lease returns lease id and the keys attached to it, in key order, or
// ErrLeaseNotFound.
func (s *Store) Lease(id int64) (*raftkvraftv1.LeaseRecord, [][]byte, error) {
	var rec *raftkvraftv1.LeaseRecord
	var keys [][]byte
	err := s.readIndex(func(ix *index, rd *storeReader, unlock func()) error {
		v := rd.tx.Bucket(bucketLeases).Get(leaseKey(id))
		if v == nil {
			return fmt.Errorf("%w: %d", ErrLeaseNotFound, id)
		}
		rec = &raftkvraftv1.LeaseRecord{}
		if err := proto.Unmarshal(v, rec); err != nil {
			return fmt.Errorf("%w: lease record: %v", ErrCorrupt, err)
		}
		for _, k := range ix.leaseKeys(id) {
			keys = append(keys, []byte(k))
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return rec, keys, nil
}
