package mvcc

import (
	"bytes"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// Entry is one committed Raft log entry.
type Entry struct {
	// Index is the entry's Raft log index; entries must be applied in index order.
	Index uint64
	// Cmd is the decoded entry data.
	Cmd *raftkvv1.Command
}

// ApplyBatch applies entries in one bbolt write transaction (one fsync per
// batch) and returns one result per entry plus every event the batch produced,
// in revision order.
//
// Entries whose index is at or below AppliedIndex are replays and are skipped:
// their result is nil. Domain errors (ErrLeaseNotFound, ErrCompacted, ...) are
// deterministic outcomes reported in CommandResult.Error and ErrorMessage (see
// ErrorCode); a command that fails that way changes nothing. The returned error
// is only for storage failures, in which case nothing of the batch was applied.
//
// ApplyBatch must not be called concurrently with itself.
func (s *Store) ApplyBatch(entries []Entry) ([]*raftkvv1.CommandResult, []*raftkvv1.Event, error) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	results := make([]*raftkvv1.CommandResult, len(entries))
	if len(entries) == 0 || entries[len(entries)-1].Index <= s.applied.Load() {
		// Nothing new: avoid a write transaction and its fsync.
		if s.isClosed() {
			return nil, nil, ErrClosed
		}
		return results, nil, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return nil, nil, ErrClosed
	}
	var a *applier
	err := s.db.Update(func(tx *bbolt.Tx) error {
		m, err := readMeta(tx)
		if err != nil {
			return err
		}
		a = newApplier(tx, m)
		for i, e := range entries {
			if e.Index <= a.m.applied {
				continue
			}
			res, err := a.apply(e)
			if err != nil {
				return fmt.Errorf("mvcc: apply entry %d: %w", e.Index, err)
			}
			a.m.applied = e.Index
			results[i] = res
		}
		return writeMeta(tx, a.m)
	})
	if err != nil {
		return nil, nil, err
	}
	s.publish(a.m)
	return results, a.events, nil
}

func (s *Store) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db == nil
}

// isDomainError reports whether err is a deterministic outcome of a command
// rather than a storage failure.
func isDomainError(err error) bool {
	for _, e := range []error{ErrCompacted, ErrFutureRevision, ErrLeaseNotFound,
		ErrLeaseExists, ErrDuplicateKey, ErrEmptyKey, ErrUnknownCommand} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// applier applies commands inside one bbolt write transaction.
//
// Every command validates everything that can fail with a domain error before
// it writes anything, so a failed command leaves no trace.
type applier struct {
	tx                                     *bbolt.Tx
	m                                      meta
	index                                  uint64 // index of the entry being applied
	kv, history, evs, leases, leaseKeysBkt *bbolt.Bucket

	// writing is true between beginWrite and endWrite; sub counts the events of
	// the pending revision m.rev+1.
	writing bool
	sub     uint32
	events  []*raftkvv1.Event
}

func newApplier(tx *bbolt.Tx, m meta) *applier {
	return &applier{
		tx:           tx,
		m:            m,
		kv:           tx.Bucket(bucketKV),
		history:      tx.Bucket(bucketHistory),
		evs:          tx.Bucket(bucketEvents),
		leases:       tx.Bucket(bucketLeases),
		leaseKeysBkt: tx.Bucket(bucketLeaseKeys),
	}
}

// apply applies one entry. Domain errors become the result's error; other
// errors are storage failures.
func (a *applier) apply(e Entry) (*raftkvv1.CommandResult, error) {
	a.index = e.Index
	res, err := a.applyCmd(e.Cmd)
	if err != nil {
		if !isDomainError(err) {
			return nil, err
		}
		return &raftkvv1.CommandResult{Error: ErrorCode(err), ErrorMessage: err.Error()}, nil
	}
	return res, nil
}

func (a *applier) applyCmd(cmd *raftkvv1.Command) (*raftkvv1.CommandResult, error) {
	switch op := cmd.GetOp().(type) {
	case *raftkvv1.Command_Put:
		r, err := a.applyPut(op.Put)
		if err != nil {
			return nil, err
		}
		return &raftkvv1.CommandResult{Result: &raftkvv1.CommandResult_Put{Put: r}}, nil
	case *raftkvv1.Command_DeleteRange:
		r, err := a.applyDeleteRange(op.DeleteRange)
		if err != nil {
			return nil, err
		}
		return &raftkvv1.CommandResult{Result: &raftkvv1.CommandResult_DeleteRange{DeleteRange: r}}, nil
	case *raftkvv1.Command_Txn:
		r, err := a.applyTxn(op.Txn)
		if err != nil {
			return nil, err
		}
		return &raftkvv1.CommandResult{Result: &raftkvv1.CommandResult_Txn{Txn: r}}, nil
	case *raftkvv1.Command_Compact:
		r, err := a.applyCompact(op.Compact)
		if err != nil {
			return nil, err
		}
		return &raftkvv1.CommandResult{Result: &raftkvv1.CommandResult_Compact{Compact: r}}, nil
	case *raftkvv1.Command_LeaseGrant:
		r, err := a.applyLeaseGrant(op.LeaseGrant)
		if err != nil {
			return nil, err
		}
		return &raftkvv1.CommandResult{Result: &raftkvv1.CommandResult_LeaseGrant{LeaseGrant: r}}, nil
	case *raftkvv1.Command_LeaseRevoke:
		r, err := a.applyLeaseRevoke(op.LeaseRevoke)
		if err != nil {
			return nil, err
		}
		return &raftkvv1.CommandResult{Result: &raftkvv1.CommandResult_LeaseRevoke{LeaseRevoke: r}}, nil
	case *raftkvv1.Command_LeaseExpire:
		r, err := a.applyLeaseExpire(op.LeaseExpire)
		if err != nil {
			return nil, err
		}
		return &raftkvv1.CommandResult{Result: &raftkvv1.CommandResult_LeaseExpire{LeaseExpire: r}}, nil
	default:
		return nil, ErrUnknownCommand
	}
}

// beginWrite starts a revision: every write until endWrite happens at m.rev+1.
func (a *applier) beginWrite() {
	a.writing = true
	a.sub = 0
}

// endWrite ends the revision started by beginWrite; the revision is only used
// if at least one key changed. It returns the store revision after the write.
func (a *applier) endWrite() int64 {
	if a.sub > 0 {
		a.m.rev++
	}
	a.writing = false
	a.sub = 0
	return a.m.rev
}

func (a *applier) writeRev() int64 { return a.m.rev + 1 }

// getKV returns the current KeyValue of key, nil if absent.
func (a *applier) getKV(key []byte) (*raftkvv1.KeyValue, error) {
	v := a.kv.Get(key)
	if v == nil {
		return nil, nil
	}
	return unmarshalKV(v)
}

func (a *applier) leaseExists(id int64) bool {
	return a.leases.Get(leaseKey(id)) != nil
}

// validatePut checks what could make a put fail.
func (a *applier) validatePut(req *raftkvv1.PutRequest) error {
	if len(req.GetKey()) == 0 {
		return ErrEmptyKey
	}
	if l := req.GetLease(); l != 0 && !a.leaseExists(l) {
		return fmt.Errorf("%w: %d", ErrLeaseNotFound, l)
	}
	return nil
}

// appendEvent stores ev as the next event of the pending revision.
func (a *applier) appendEvent(ev *raftkvv1.Event) error {
	b, err := marshal(ev)
	if err != nil {
		return err
	}
	if err := a.evs.Put(eventKey(a.writeRev(), a.sub), b); err != nil {
		return err
	}
	a.sub++
	a.events = append(a.events, ev)
	return nil
}

// put writes key at the pending revision and returns its previous value.
// The request must have passed validatePut.
func (a *applier) put(req *raftkvv1.PutRequest) (*raftkvv1.KeyValue, error) {
	key := req.GetKey()
	prev, err := a.getKV(key)
	if err != nil {
		return nil, err
	}
	rev := a.writeRev()
	kv := &raftkvv1.KeyValue{
		Key:            bytes.Clone(key),
		CreateRevision: rev,
		ModRevision:    rev,
		Version:        1,
		Value:          bytes.Clone(req.GetValue()),
		Lease:          req.GetLease(),
	}
	if prev != nil {
		kv.CreateRevision = prev.CreateRevision
		kv.Version = prev.Version + 1
	}
	enc, err := marshal(kv)
	if err != nil {
		return nil, err
	}
	if err := a.kv.Put(kv.Key, enc); err != nil {
		return nil, err
	}
	if err := a.history.Put(historyKey(key, rev), append([]byte{histPut}, enc...)); err != nil {
		return nil, err
	}
	if prev != nil && prev.Lease != 0 && prev.Lease != kv.Lease {
		if err := a.leaseKeysBkt.Delete(leaseKeysKey(prev.Lease, key)); err != nil {
			return nil, err
		}
	}
	if kv.Lease != 0 {
		if err := a.leaseKeysBkt.Put(leaseKeysKey(kv.Lease, key), nil); err != nil {
			return nil, err
		}
	}
	ev := &raftkvv1.Event{Type: raftkvv1.Event_EVENT_TYPE_PUT, Kv: kv, PrevKv: prev}
	return prev, a.appendEvent(ev)
}

// deleteKeys deletes every current key of kr at the pending revision and returns
// the deleted KeyValues in key order.
func (a *applier) deleteKeys(kr keyRange) ([]*raftkvv1.KeyValue, error) {
	if kr.empty() {
		return nil, nil
	}
	var prevs []*raftkvv1.KeyValue
	err := scanCurrent(a.tx, kr, func(_, val []byte) error {
		kv, err := unmarshalKV(val)
		if err != nil {
			return err
		}
		prevs = append(prevs, kv)
		return nil
	})
	if err != nil {
		return nil, err
	}
	rev := a.writeRev()
	for _, prev := range prevs {
		if err := a.kv.Delete(prev.Key); err != nil {
			return nil, err
		}
		if err := a.history.Put(historyKey(prev.Key, rev), []byte{histTombstone}); err != nil {
			return nil, err
		}
		if prev.Lease != 0 {
			if err := a.leaseKeysBkt.Delete(leaseKeysKey(prev.Lease, prev.Key)); err != nil {
				return nil, err
			}
		}
		ev := &raftkvv1.Event{
			Type:   raftkvv1.Event_EVENT_TYPE_DELETE,
			Kv:     &raftkvv1.KeyValue{Key: prev.Key, ModRevision: rev},
			PrevKv: prev,
		}
		if err := a.appendEvent(ev); err != nil {
			return nil, err
		}
	}
	return prevs, nil
}

func (a *applier) applyPut(req *raftkvv1.PutRequest) (*raftkvv1.PutResponse, error) {
	if err := a.validatePut(req); err != nil {
		return nil, err
	}
	a.beginWrite()
	prev, err := a.put(req)
	if err != nil {
		return nil, err
	}
	resp := &raftkvv1.PutResponse{Header: header(a.endWrite())}
	if req.GetPrevKv() {
		resp.PrevKv = prev
	}
	return resp, nil
}

func (a *applier) applyDeleteRange(req *raftkvv1.DeleteRangeRequest) (*raftkvv1.DeleteRangeResponse, error) {
	a.beginWrite()
	prevs, err := a.deleteKeys(newKeyRange(req.GetKey(), req.GetRangeEnd()))
	if err != nil {
		return nil, err
	}
	resp := &raftkvv1.DeleteRangeResponse{Header: header(a.endWrite()), Deleted: int64(len(prevs))}
	if req.GetPrevKv() {
		resp.PrevKvs = prevs
	}
	return resp, nil
}

// checkDuplicates rejects a txn branch that puts a key twice or puts a key that
// one of its deletes covers.
func checkDuplicates(ops []*raftkvv1.RequestOp) error {
	var puts [][]byte
	var dels []keyRange
	for _, op := range ops {
		switch {
		case op.GetRequestPut() != nil:
			k := op.GetRequestPut().GetKey()
			for _, p := range puts {
				if bytes.Equal(p, k) {
					return fmt.Errorf("%w: %q", ErrDuplicateKey, k)
				}
			}
			puts = append(puts, k)
		case op.GetRequestDeleteRange() != nil:
			d := op.GetRequestDeleteRange()
			dels = append(dels, newKeyRange(d.GetKey(), d.GetRangeEnd()))
		}
	}
	for _, p := range puts {
		for _, d := range dels {
			if d.contains(p) {
				return fmt.Errorf("%w: %q", ErrDuplicateKey, p)
			}
		}
	}
	return nil
}

// compareInt orders a and b as -1, 0 or 1.
func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareKV evaluates c against one key's state (the zero KeyValue for a missing key).
func compareKV(c *raftkvv1.Compare, kv *raftkvv1.KeyValue) bool {
	var r int
	switch c.GetTarget() {
	case raftkvv1.Compare_COMPARE_TARGET_VERSION:
		r = compareInt(kv.GetVersion(), c.GetVersion())
	case raftkvv1.Compare_COMPARE_TARGET_CREATE:
		r = compareInt(kv.GetCreateRevision(), c.GetCreateRevision())
	case raftkvv1.Compare_COMPARE_TARGET_MOD:
		r = compareInt(kv.GetModRevision(), c.GetModRevision())
	case raftkvv1.Compare_COMPARE_TARGET_VALUE:
		r = bytes.Compare(kv.GetValue(), c.GetValue())
	case raftkvv1.Compare_COMPARE_TARGET_LEASE:
		r = compareInt(kv.GetLease(), c.GetLease())
	default:
		return false
	}
	switch c.GetResult() {
	case raftkvv1.Compare_COMPARE_RESULT_EQUAL:
		return r == 0
	case raftkvv1.Compare_COMPARE_RESULT_GREATER:
		return r > 0
	case raftkvv1.Compare_COMPARE_RESULT_LESS:
		return r < 0
	case raftkvv1.Compare_COMPARE_RESULT_NOT_EQUAL:
		return r != 0
	default:
		return false
	}
}

// evalCompare evaluates c against the current state, as etcd does: it must hold
// for every key in its range; when the range holds no key, it is evaluated
// against a missing key (all fields zero), except that a VALUE compare on no key
// is false.
func (a *applier) evalCompare(c *raftkvv1.Compare) (bool, error) {
	kr := newKeyRange(c.GetKey(), c.GetRangeEnd())
	found, ok := false, true
	if !kr.empty() {
		err := scanCurrent(a.tx, kr, func(_, val []byte) error {
			found = true
			if !ok {
				return nil
			}
			kv, err := unmarshalKV(val)
			if err != nil {
				return err
			}
			ok = compareKV(c, kv)
			return nil
		})
		if err != nil {
			return false, err
		}
	}
	if found {
		return ok, nil
	}
	if c.GetTarget() == raftkvv1.Compare_COMPARE_TARGET_VALUE {
		return false, nil
	}
	return compareKV(c, &raftkvv1.KeyValue{}), nil
}

func (a *applier) applyTxn(req *raftkvv1.TxnRequest) (*raftkvv1.TxnResponse, error) {
	if err := checkDuplicates(req.GetSuccess()); err != nil {
		return nil, err
	}
	if err := checkDuplicates(req.GetFailure()); err != nil {
		return nil, err
	}
	succeeded := true
	for _, c := range req.GetCompare() {
		ok, err := a.evalCompare(c)
		if err != nil {
			return nil, err
		}
		if !ok {
			succeeded = false
			break
		}
	}
	ops := req.GetSuccess()
	if !succeeded {
		ops = req.GetFailure()
	}
	for _, op := range ops {
		if p := op.GetRequestPut(); p != nil {
			if err := a.validatePut(p); err != nil {
				return nil, err
			}
		}
	}

	a.beginWrite()
	resp := &raftkvv1.TxnResponse{Succeeded: succeeded, Responses: make([]*raftkvv1.ResponseOp, 0, len(ops))}
	for _, op := range ops {
		var r *raftkvv1.ResponseOp
		switch {
		case op.GetRequestRange() != nil:
			// Reads see the txn's earlier writes; the revision field is ignored.
			rr, err := rangeTx(a.tx, a.m, op.GetRequestRange(), a.m.rev)
			if err != nil {
				return nil, err
			}
			r = &raftkvv1.ResponseOp{Response: &raftkvv1.ResponseOp_ResponseRange{ResponseRange: rr}}
		case op.GetRequestPut() != nil:
			p := op.GetRequestPut()
			prev, err := a.put(p)
			if err != nil {
				return nil, err
			}
			pr := &raftkvv1.PutResponse{}
			if p.GetPrevKv() {
				pr.PrevKv = prev
			}
			r = &raftkvv1.ResponseOp{Response: &raftkvv1.ResponseOp_ResponsePut{ResponsePut: pr}}
		case op.GetRequestDeleteRange() != nil:
			d := op.GetRequestDeleteRange()
			prevs, err := a.deleteKeys(newKeyRange(d.GetKey(), d.GetRangeEnd()))
			if err != nil {
				return nil, err
			}
			dr := &raftkvv1.DeleteRangeResponse{Deleted: int64(len(prevs))}
			if d.GetPrevKv() {
				dr.PrevKvs = prevs
			}
			r = &raftkvv1.ResponseOp{Response: &raftkvv1.ResponseOp_ResponseDeleteRange{ResponseDeleteRange: dr}}
		default:
			r = &raftkvv1.ResponseOp{}
		}
		resp.Responses = append(resp.Responses, r)
	}
	rev := a.endWrite()
	resp.Header = header(rev)
	for _, r := range resp.Responses {
		switch x := r.GetResponse().(type) {
		case *raftkvv1.ResponseOp_ResponseRange:
			x.ResponseRange.Header = header(rev)
		case *raftkvv1.ResponseOp_ResponsePut:
			x.ResponsePut.Header = header(rev)
		case *raftkvv1.ResponseOp_ResponseDeleteRange:
			x.ResponseDeleteRange.Header = header(rev)
		}
	}
	return resp, nil
}

// applyCompact discards the history that no read at or after req.Revision needs,
// and the events at or below it.
func (a *applier) applyCompact(req *raftkvv1.CompactRequest) (*raftkvv1.CompactResponse, error) {
	rev := req.GetRevision()
	if rev > a.m.rev {
		return nil, ErrFutureRevision
	}
	if rev <= a.m.compactRev {
		return nil, ErrCompacted
	}
	if err := compactHistory(a.history, rev); err != nil {
		return nil, err
	}
	if err := compactEvents(a.evs, rev); err != nil {
		return nil, err
	}
	a.m.compactRev = rev
	return &raftkvv1.CompactResponse{Header: header(a.m.rev)}, nil
}

// compactHistory deletes, for every key, the history entries older than its
// newest entry at or below rev, and that entry too when it is a tombstone.
func compactHistory(b *bbolt.Bucket, rev int64) error {
	var doomed [][]byte
	var prefix, newest []byte // newest entry <= rev of the current key
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) <= revLen {
			return fmt.Errorf("%w: short history key", ErrCorrupt)
		}
		p := k[:len(k)-revLen]
		if !bytes.Equal(p, prefix) {
			prefix, newest = p, nil
		}
		if eventKeyRev(k[len(k)-revLen:]) > rev {
			continue
		}
		if newest != nil {
			doomed = append(doomed, newest)
		}
		newest = bytes.Clone(k)
		if len(v) > 0 && v[0] == histTombstone {
			doomed = append(doomed, newest)
			newest = nil
		}
	}
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// compactEvents deletes the events at or below rev.
func compactEvents(b *bbolt.Bucket, rev int64) error {
	var doomed [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && eventKeyRev(k) <= rev; k, _ = c.Next() {
		doomed = append(doomed, bytes.Clone(k))
	}
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
