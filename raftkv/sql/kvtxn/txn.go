package kvtxn

import (
	"bytes"
	"context"
	"errors"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv/client"
)

// KV is one key and its value.
type KV struct {
	Key, Value []byte
}

// Txn is one transaction. It is used by one goroutine at a time and ends with
// Commit or Rollback; after that every method fails with ErrTxnDone (Rollback
// and LockForUpdate do nothing).
type Txn struct {
	db   *DB
	iso  Isolation
	done bool

	// rev is the revision reads happen at: the snapshot (serializable) or the
	// current statement's revision (read committed); 0 until the first read
	// (of the statement) takes it.
	rev int64
	// spans are the key ranges read, validated at commit (serializable only).
	spans spanSet
	// locks are the keys passed to LockForUpdate and the revision they were
	// read at (0: locked before any read of the statement; the next read's
	// revision is theirs).
	locks map[string]int64
	w     writeBuffer
}

// ReadRevision returns the revision the transaction reads at: its snapshot
// (serializable) or the current statement's (read committed); 0 before the
// first read.
func (t *Txn) ReadRevision() int64 { return t.rev }

// StartStatement begins a statement. Under ReadCommitted the next read takes a
// fresh revision, so the statement sees every transaction committed before it;
// under Serializable it does nothing.
func (t *Txn) StartStatement() {
	if t.iso == ReadCommitted {
		t.rev = 0
	}
}

// setRev records rev as the read revision, taken by a linearizable read; it
// is also the revision of the keys locked before that read.
func (t *Txn) setRev(rev int64) {
	t.rev = rev
	for k, r := range t.locks {
		if r == 0 {
			t.locks[k] = rev
			if t.iso == Serializable {
				t.spans.add(pointSpan([]byte(k)))
			}
		}
	}
}

// read runs a Get for key with opts at the transaction's read revision,
// taking that revision first if needed.
func (t *Txn) read(ctx context.Context, op string, key []byte, opts ...client.OpOption) (*raftkvv1.RangeResponse, error) {
	if t.rev == 0 {
		resp, err := t.db.kv.Get(ctx, string(key), opts...)
		if err != nil {
			return nil, kvError(ctx, op, err)
		}
		t.setRev(resp.GetHeader().GetRevision())
		return resp, nil
	}
	// Any replica that has applied rev answers for it; one that has not
	// says so, and the leader answers then.
	resp, err := t.db.kv.Get(ctx, string(key), append(opts, client.WithRev(t.rev), client.WithSerializable())...)
	if errors.Is(err, client.ErrFutureRevision) {
		resp, err = t.db.kv.Get(ctx, string(key), append(opts, client.WithRev(t.rev))...)
	}
	if errors.Is(err, client.ErrCompacted) {
		return nil, conflictError("the snapshot at revision %d was compacted while the transaction ran", t.rev)
	}
	if err != nil {
		return nil, kvError(ctx, op, err)
	}
	return resp, nil
}

// Get reads key: the transaction's own buffered write of it if there is one,
// else the key as of the read revision. found is false when the key does not
// exist.
func (t *Txn) Get(ctx context.Context, key []byte) (value []byte, found bool, err error) {
	if t.done {
		return nil, false, doneError("get")
	}
	if len(key) == 0 {
		return nil, false, nil // raftkv has no empty key
	}
	if v, ok, buffered := t.w.lookup(key); buffered {
		return bytes.Clone(v), ok, nil
	}
	resp, err := t.read(ctx, "get", key)
	if err != nil {
		return nil, false, err
	}
	if t.iso == Serializable {
		t.spans.add(pointSpan(key))
	}
	if len(resp.GetKvs()) == 0 {
		return nil, false, nil
	}
	return resp.GetKvs()[0].GetValue(), true, nil
}

// checkWrite refuses the reserved marker keys.
func (t *Txn) checkWrite(op string, key []byte) error {
	if t.done {
		return doneError(op)
	}
	if len(key) == 0 {
		return emptyKeyError(op)
	}
	if bytes.HasPrefix(key, []byte(markerPrefix)) {
		return reservedError(op, key)
	}
	return nil
}

// checkLimits reports ErrTooLarge when adding dOps ops and dBytes bytes would
// pass the limits.
func (t *Txn) checkLimits(dOps, dBytes int) error {
	o := t.db.opts
	if n := t.w.ops + dOps; dOps > 0 && n > o.MaxWrites {
		return tooLargeError("it would write %d keys or ranges, the limit (MaxWrites) is %d", n, o.MaxWrites)
	}
	if n := t.w.bytes + dBytes; dBytes > 0 && n > o.MaxWriteBytes {
		return tooLargeError("it would write %d bytes of keys and values, the limit (MaxWriteBytes) is %d", n, o.MaxWriteBytes)
	}
	return nil
}

// Put buffers a write of value to key. It fails with ErrTooLarge past
// Options.MaxWrites or MaxWriteBytes, leaving the buffer unchanged.
func (t *Txn) Put(key, value []byte) error {
	if err := t.checkWrite("put", key); err != nil {
		return err
	}
	if err := t.checkLimits(t.w.putCost(key, value)); err != nil {
		return err
	}
	t.w.put(key, value)
	return nil
}

// Delete buffers a delete of key.
func (t *Txn) Delete(key []byte) error {
	if err := t.checkWrite("delete", key); err != nil {
		return err
	}
	if err := t.checkLimits(t.w.deleteCost(key)); err != nil {
		return err
	}
	t.w.del(key)
	return nil
}

// DeleteRange buffers a delete of every key in [start, end); an empty end
// means every key >= start. Commit markers (/cairn/sql/txn/) are never
// deleted: the range is clipped around them. An empty range does nothing.
func (t *Txn) DeleteRange(start, end []byte) error {
	if t.done {
		return doneError("delete range")
	}
	s, ok := scanSpan(start, end)
	if !ok {
		return nil
	}
	p := t.w.planDeleteRange(s)
	if err := t.checkLimits(p.ops, p.bytes); err != nil {
		return err
	}
	t.w.deleteRange(p)
	return nil
}

// LockForUpdate marks key as read for update (SELECT … FOR UPDATE): Commit
// fails with ErrConflict if it changed after the revision at which the
// transaction read it, under ReadCommitted too. Call it after reading the
// key; a key locked before any read of the statement takes the revision of
// the statement's next read, and one never read is not validated. Under
// ReadCommitted each locked key is one compare of the commit, so raftkv's
// max_txn_ops bounds how many keys a transaction can lock (past it Commit
// fails with ErrTooLarge); under Serializable locked keys join the read
// spans.
func (t *Txn) LockForUpdate(key []byte) {
	if t.done || len(key) == 0 {
		return
	}
	if t.locks == nil {
		t.locks = map[string]int64{}
	}
	if r, ok := t.locks[string(key)]; ok && r != 0 {
		return // locked since an earlier read: keep the older revision
	}
	t.locks[string(key)] = t.rev
	if t.rev != 0 && t.iso == Serializable {
		t.spans.add(pointSpan(key))
	}
}

// Rollback ends the transaction without writing anything. It makes no RPC.
func (t *Txn) Rollback() {
	t.done = true
	t.w = writeBuffer{}
	t.spans.spans = nil
	t.locks = nil
}

// scanSpan turns Scan's and DeleteRange's arguments into a span: an empty
// start is the first key ("\x00": raftkv has no empty key), an empty end is no
// end. ok is false for an empty range.
func scanSpan(start, end []byte) (span, bool) {
	s := span{start: bytes.Clone(start), end: bytes.Clone(end)}
	if len(s.start) == 0 {
		s.start = []byte{0}
	}
	if len(end) == 0 {
		s.end = nil
	}
	if s.end != nil && bytes.Compare(s.start, s.end) >= 0 {
		return span{}, false
	}
	return s, true
}
