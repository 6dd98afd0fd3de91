package mvcc

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	raftkvraftv1 "cairn.dev/cairn/proto/cairn/raftkv/raft/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// Entry is one committed Raft log entry.
type Entry struct {
	// Index is the entry's Raft log index; entries must be applied in index order.
	Index uint64
	// Cmd is the decoded entry data.
	Cmd *raftkvraftv1.Command
}

// ApplyBatch applies entries and returns one result per entry plus every event
// the batch produced, in revision order.
//
// Entries whose index is at or below the last applied one are replays and are
// skipped: their result is nil. Domain errors (ErrLeaseNotFound, ErrCompacted,
// ...) are deterministic outcomes reported in CommandResult.Error and
// ErrorMessage (see ErrorCode); a command that fails that way changes nothing.
//
// The batch's changes are visible to readers (Range, Events, Lease, Revision)
// when ApplyBatch returns. They are written to the open write transaction,
// which is committed later together with other batches (see pending.go), or
// at once when the batch compacts or changes leases.
//
// The returned error is only for storage failures. Then nothing of the batch
// was applied, the changes of earlier batches not yet committed are lost too,
// and the store refuses further batches: the caller must stop and recover by
// replaying its log after a restart.
//
// ApplyBatch must not be called concurrently with itself.
func (s *Store) ApplyBatch(entries []Entry) ([]*raftkvraftv1.CommandResult, []*raftkvv1.Event, error) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if s.failed != nil {
		return nil, nil, s.failed
	}
	results := make([]*raftkvraftv1.CommandResult, len(entries))
	if len(entries) == 0 || entries[len(entries)-1].Index <= s.applied.Load() {
		// Nothing new: avoid a write transaction.
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
	p := s.pending
	if p == nil {
		tx, err := s.db.Begin(true)
		if err != nil {
			return nil, nil, err
		}
		p = &pendingTx{tx: tx, since: time.Now()}
	}
	a, err := newApplier(p.tx, s.idx)
	if err != nil {
		s.abort(p, err)
		return nil, nil, s.failed
	}
	if err := a.applyAll(entries, results); err != nil {
		a.rollback()
		s.abort(p, err)
		return nil, nil, s.failed
	}
	p.m = a.m
	p.entries += len(entries)
	commitNow := a.compacted || a.leasesChanged || s.commitInterval < 0 ||
		p.entries >= s.commitEntries || time.Since(p.since) >= s.commitInterval
	if err := s.finish(a, p, commitNow); err != nil {
		return nil, nil, err
	}
	return results, a.events, nil
}

// abort rolls back the pending transaction after a storage failure and marks
// the store failed.
func (s *Store) abort(p *pendingTx, err error) {
	_ = p.tx.Rollback()
	s.pending = nil
	s.failed = fmt.Errorf("mvcc: %w", err)
}

// applyAll applies the new entries and writes the meta bucket.
func (a *applier) applyAll(entries []Entry, results []*raftkvraftv1.CommandResult) error {
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
	return writeMeta(a.tx, a.m)
}

// finish publishes a's batch to readers: the key index, the overlay (or, when
// commitNow, a commit of the pending transaction) and the cached meta values.
// A batch that compacts keeps the index locked across the commit, so that no
// reader pairs the old index with a transaction that no longer holds the
// compacted records.
func (s *Store) finish(a *applier, p *pendingTx, commitNow bool) error {
	ix := a.ix
	var compacted btree
	if a.compacted {
		compacted = ix.compacted(a.m.compactRev)
		ix.mu.Lock()
	}
	var err error
	if commitNow {
		s.pending = nil
		if err = p.tx.Commit(); err == nil {
			s.committed(a.m)
		}
	} else {
		s.pending = p
		s.ovMu.Lock()
		s.ov = append(s.ov, a.written...)
		s.ovMu.Unlock()
	}
	if !a.compacted {
		ix.mu.Lock()
	}
	defer ix.mu.Unlock()
	if err != nil {
		a.rollbackLocked()
		s.failed = fmt.Errorf("mvcc: commit: %w", err)
		return s.failed
	}
	if a.compacted {
		ix.tree = compacted
	}
	for id, keys := range a.leaseDelta {
		for k, attached := range keys {
			if attached {
				ix.attach(id, k)
			} else {
				ix.detach(id, k)
			}
		}
	}
	ix.rev, ix.compactRev = a.m.rev, a.m.compactRev
	s.publish(a.m)
	return nil
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
//
// The applier adds the revisions it writes to the shared key index as it goes
// (readers ignore them until they are published) and removes them again if
// the batch fails; lease attachments are collected in leaseDelta and only
// applied to the index after the commit.
type applier struct {
	tx           *bbolt.Tx
	m            meta
	baseRev      int64  // store revision before the batch
	index        uint64 // index of the entry being applied
	ix           *index
	recs, leases *bbolt.Bucket

	// writing is true between beginWrite and endWrite; sub counts the changes
	// of the pending revision m.rev+1.
	writing bool
	sub     uint32
	events  []*raftkvv1.Event

	touched       []*keyIndex               // keys given a revision above baseRev
	leaseDelta    map[int64]map[string]bool // lease id → key → attached (true) or detached
	compacted     bool                      // the batch compacted
	leasesChanged bool                      // the batch granted or deleted a lease
	written       []pendingRec              // the records the batch wrote, in order
}

func newApplier(tx *bbolt.Tx, ix *index) (*applier, error) {
	m, err := readMeta(tx)
	if err != nil {
		return nil, err
	}
	recs := tx.Bucket(bucketRevs)
	// Records are only appended: fill pages completely.
	recs.FillPercent = 1.0
	return &applier{
		tx:      tx,
		m:       m,
		baseRev: m.rev,
		ix:      ix,
		recs:    recs,
		leases:  tx.Bucket(bucketLeases),
	}, nil
}

// rollback removes the batch's revisions from the key index after a failure.
func (a *applier) rollback() {
	a.ix.mu.Lock()
	defer a.ix.mu.Unlock()
	a.rollbackLocked()
}

// rollbackLocked is rollback with ix.mu held for writing. Keys the batch
// created stay in the tree without revisions, which readers skip and the next
// compaction drops.
func (a *applier) rollbackLocked() {
	for _, ki := range a.touched {
		n := len(ki.revs)
		for n > 0 && ki.revs[n-1].rev > a.baseRev {
			n--
		}
		clear(ki.revs[n:])
		ki.revs = ki.revs[:n]
	}
	a.touched = nil
}

// apply applies one entry. Domain errors become the result's error; other
// errors are storage failures.
func (a *applier) apply(e Entry) (*raftkvraftv1.CommandResult, error) {
	a.index = e.Index
	res, err := a.applyCmd(e.Cmd)
	if err != nil {
		if !isDomainError(err) {
			return nil, err
		}
		return &raftkvraftv1.CommandResult{Error: ErrorCode(err), ErrorMessage: err.Error()}, nil
	}
	return res, nil
}

func (a *applier) applyCmd(cmd *raftkvraftv1.Command) (*raftkvraftv1.CommandResult, error) {
	switch op := cmd.GetOp().(type) {
	case *raftkvraftv1.Command_Put:
		r, err := a.applyPut(op.Put)
		if err != nil {
			return nil, err
		}
		return &raftkvraftv1.CommandResult{Result: &raftkvraftv1.CommandResult_Put{Put: r}}, nil
	case *raftkvraftv1.Command_DeleteRange:
		r, err := a.applyDeleteRange(op.DeleteRange)
		if err != nil {
			return nil, err
		}
		return &raftkvraftv1.CommandResult{Result: &raftkvraftv1.CommandResult_DeleteRange{DeleteRange: r}}, nil
	case *raftkvraftv1.Command_Txn:
		r, err := a.applyTxn(op.Txn)
		if err != nil {
			return nil, err
		}
		return &raftkvraftv1.CommandResult{Result: &raftkvraftv1.CommandResult_Txn{Txn: r}}, nil
	case *raftkvraftv1.Command_Compact:
		r, err := a.applyCompact(op.Compact)
		if err != nil {
			return nil, err
		}
		return &raftkvraftv1.CommandResult{Result: &raftkvraftv1.CommandResult_Compact{Compact: r}}, nil
	case *raftkvraftv1.Command_LeaseGrant:
		r, err := a.applyLeaseGrant(op.LeaseGrant)
		if err != nil {
			return nil, err
		}
		return &raftkvraftv1.CommandResult{Result: &raftkvraftv1.CommandResult_LeaseGrant{LeaseGrant: r}}, nil
	case *raftkvraftv1.Command_LeaseRevoke:
		r, err := a.applyLeaseRevoke(op.LeaseRevoke)
		if err != nil {
			return nil, err
		}
		return &raftkvraftv1.CommandResult{Result: &raftkvraftv1.CommandResult_LeaseRevoke{LeaseRevoke: r}}, nil
	case *raftkvraftv1.Command_LeaseExpire:
		r, err := a.applyLeaseExpire(op.LeaseExpire)
		if err != nil {
			return nil, err
		}
		return &raftkvraftv1.CommandResult{Result: &raftkvraftv1.CommandResult_LeaseExpire{LeaseExpire: r}}, nil
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

// currentKV returns the current KeyValue of ki's key and its record, nil if
// the key does not exist; ki may be nil.
func (a *applier) currentKV(ki *keyIndex) (*raftkvv1.KeyValue, revision, error) {
	r, ok := ki.current()
	if !ok {
		return nil, revision{}, nil
	}
	kv, err := fetchKV(newBoltRecords(a.recs), r)
	return kv, r, err
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

// writeChange stores kv as the next change of the pending revision, linked to
// the record prev of the previous value, adds it to ki (nil: a new key) and
// returns the event.
func (a *applier) writeChange(ki *keyIndex, kv *raftkvv1.KeyValue, prev revision, prevKV *raftkvv1.KeyValue) error {
	rec, err := encodeRecord(prev, kv)
	if err != nil {
		return err
	}
	r := revision{rev: a.writeRev(), sub: a.sub, tomb: kv.Version == 0}
	if err := a.recs.Put(recordKey(r.rev, r.sub), rec); err != nil {
		return err
	}
	a.written = append(a.written, pendingRec{rev: r.rev, sub: r.sub, val: rec})
	a.ix.mu.Lock()
	if ki == nil {
		ki = &keyIndex{key: bytes.Clone(kv.Key)}
		a.ix.tree.insert(ki)
	}
	if n := len(ki.revs); n == 0 || ki.revs[n-1].rev <= a.baseRev {
		a.touched = append(a.touched, ki)
	}
	ki.revs = append(ki.revs, r)
	a.ix.mu.Unlock()
	a.sub++
	ev := &raftkvv1.Event{Type: raftkvv1.Event_EVENT_TYPE_PUT, Kv: kv, PrevKv: prevKV}
	if r.tomb {
		ev.Type = raftkvv1.Event_EVENT_TYPE_DELETE
	}
	a.events = append(a.events, ev)
	return nil
}

// setLease records that key is attached to lease id (attached) or no longer is.
func (a *applier) setLease(id int64, key []byte, attached bool) {
	if a.leaseDelta == nil {
		a.leaseDelta = map[int64]map[string]bool{}
	}
	d := a.leaseDelta[id]
	if d == nil {
		d = map[string]bool{}
		a.leaseDelta[id] = d
	}
	d[string(key)] = attached
}

// leaseKeys returns the keys attached to lease id, including the batch's
// changes, in key order.
func (a *applier) leaseKeys(id int64) []string {
	keys := a.ix.leaseKeys(id)
	d := a.leaseDelta[id]
	if len(d) == 0 {
		return keys
	}
	set := make(map[string]bool, len(keys)+len(d))
	for _, k := range keys {
		set[k] = true
	}
	maps.Copy(set, d)
	keys = keys[:0]
	for k, attached := range set {
		if attached {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// put writes key at the pending revision and returns its previous value.
// The request must have passed validatePut.
func (a *applier) put(req *raftkvv1.PutRequest) (*raftkvv1.KeyValue, error) {
	key := req.GetKey()
	ki := a.ix.tree.get(key)
	prev, prevRec, err := a.currentKV(ki)
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
	if err := a.writeChange(ki, kv, prevRec, prev); err != nil {
		return nil, err
	}
	if prev != nil && prev.Lease != 0 && prev.Lease != kv.Lease {
		a.setLease(prev.Lease, key, false)
	}
	if kv.Lease != 0 {
		a.setLease(kv.Lease, key, true)
	}
	return prev, nil
}

// liveKeys calls fn, in key order, for every key of kr that currently exists,
// with its current record. fn must not change the index.
func (a *applier) liveKeys(kr keyRange, fn func(ki *keyIndex, r revision) error) error {
	var err error
	kr.ascend(&a.ix.tree, func(ki *keyIndex) bool {
		if r, ok := ki.current(); ok {
			err = fn(ki, r)
		}
		return err == nil
	})
	return err
}

// deleteKeys deletes every current key of kr at the pending revision and returns
// the deleted KeyValues in key order.
func (a *applier) deleteKeys(kr keyRange) ([]*raftkvv1.KeyValue, error) {
	type victim struct {
		ki *keyIndex
		r  revision
	}
	var victims []victim
	err := a.liveKeys(kr, func(ki *keyIndex, r revision) error {
		victims = append(victims, victim{ki, r})
		return nil
	})
	if err != nil || len(victims) == 0 {
		return nil, err
	}
	rev := a.writeRev()
	prevs := make([]*raftkvv1.KeyValue, 0, len(victims))
	for _, v := range victims {
		prev, err := fetchKV(newBoltRecords(a.recs), v.r)
		if err != nil {
			return nil, err
		}
		prevs = append(prevs, prev)
		if err := a.writeChange(v.ki, &raftkvv1.KeyValue{Key: prev.Key, ModRevision: rev}, v.r, prev); err != nil {
			return nil, err
		}
		if prev.Lease != 0 {
			a.setLease(prev.Lease, prev.Key, false)
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
// one of its deletes covers (it names the first put repeated, or the smallest
// put key covered by the first delete, in op order, that covers one). It takes
// O(n log n) for n ops: SQL transactions send thousands of them.
func checkDuplicates(ops []*raftkvv1.RequestOp) error {
	var puts [][]byte
	seen := map[string]struct{}{}
	var dels []keyRange
	for _, op := range ops {
		switch {
		case op.GetRequestPut() != nil:
			k := op.GetRequestPut().GetKey()
			if _, dup := seen[string(k)]; dup {
				return fmt.Errorf("%w: %q", ErrDuplicateKey, k)
			}
			seen[string(k)] = struct{}{}
			puts = append(puts, k)
		case op.GetRequestDeleteRange() != nil:
			d := op.GetRequestDeleteRange()
			dels = append(dels, newKeyRange(d.GetKey(), d.GetRangeEnd()))
		}
	}
	if len(puts) == 0 || len(dels) == 0 {
		return nil
	}
	sorted := slices.Clone(puts)
	slices.SortFunc(sorted, bytes.Compare)
	for _, d := range dels {
		if d.empty() {
			continue
		}
		i, _ := slices.BinarySearchFunc(sorted, d.start, bytes.Compare)
		if i < len(sorted) && d.contains(sorted[i]) {
			return fmt.Errorf("%w: %q", ErrDuplicateKey, sorted[i])
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
	if c.GetTarget() == raftkvv1.Compare_COMPARE_TARGET_CHANGED {
		return a.evalChanged(kr, c), nil
	}
	found, ok := false, true
	err := a.liveKeys(kr, func(_ *keyIndex, r revision) error {
		found = true
		if !ok {
			return nil
		}
		kv, err := fetchKV(newBoltRecords(a.recs), r)
		if err != nil {
			return err
		}
		ok = compareKV(c, kv)
		return nil
	})
	if err != nil {
		return false, err
	}
	if found {
		return ok, nil
	}
	if c.GetTarget() == raftkvv1.Compare_COMPARE_TARGET_VALUE {
		return false, nil
	}
	return compareKV(c, &raftkvv1.KeyValue{}), nil
}

// evalChanged evaluates a CHANGED compare on kr: the latest change (put or
// delete) of any key of kr still in the key index against c's mod_revision.
//
// The index forgets deletes at or below the compact revision C, and the batch
// may hold the index from before a compaction it applied (the compacted index
// is published when the batch commits), so two replicas can see different
// changes at or below C. Only changes above C are certain and the same
// everywhere. When the latest change found is at or below C, the true latest
// change is only known to lie in [0, C], and the compare holds only if it
// holds for every revision in that interval: the outcome then depends on C
// and c alone, so every replica decides alike.
func (a *applier) evalChanged(kr keyRange, c *raftkvv1.Compare) bool {
	var latest int64
	kr.ascend(&a.ix.tree, func(ki *keyIndex) bool {
		if n := len(ki.revs); n > 0 && ki.revs[n-1].rev > latest {
			latest = ki.revs[n-1].rev
		}
		return true
	})
	v, compactRev := c.GetModRevision(), a.m.compactRev
	if latest > compactRev {
		return compareKV(&raftkvv1.Compare{Result: c.GetResult(), Target: raftkvv1.Compare_COMPARE_TARGET_MOD,
			TargetUnion: &raftkvv1.Compare_ModRevision{ModRevision: v}}, &raftkvv1.KeyValue{ModRevision: latest})
	}
	// Every x in [0, compactRev] must satisfy "x op v".
	switch c.GetResult() {
	case raftkvv1.Compare_COMPARE_RESULT_LESS:
		return compactRev < v
	case raftkvv1.Compare_COMPARE_RESULT_GREATER:
		return v < 0
	case raftkvv1.Compare_COMPARE_RESULT_EQUAL:
		return compactRev == 0 && v == 0
	case raftkvv1.Compare_COMPARE_RESULT_NOT_EQUAL:
		return v < 0 || v > compactRev
	default:
		return false
	}
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
			req := op.GetRequestRange()
			rr := &raftkvv1.RangeResponse{}
			refs := rangeIndex(&a.ix.tree, req, a.writeRev(), rr)
			var err error
			if rr.Kvs, err = fetchKVs(newBoltRecords(a.recs), refs, req.GetKeysOnly()); err != nil {
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

// applyCompact discards the records that no read at or after req.Revision
// needs; the key index drops them when the batch is committed.
func (a *applier) applyCompact(req *raftkvv1.CompactRequest) (*raftkvv1.CompactResponse, error) {
	rev := req.GetRevision()
	if rev > a.m.rev {
		return nil, ErrFutureRevision
	}
	if rev <= a.m.compactRev {
		return nil, ErrCompacted
	}
	var err error
	a.ix.tree.ascend(nil, func(ki *keyIndex) bool {
		for _, r := range ki.revs[:ki.compactable(rev)] {
			// A record an earlier compaction of the batch deleted is gone
			// already; deleting it again does nothing.
			if err = a.recs.Delete(recordKey(r.rev, r.sub)); err != nil {
				return false
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	a.m.compactRev = rev
	a.compacted = true
	return &raftkvv1.CompactResponse{Header: header(a.m.rev)}, nil
}
