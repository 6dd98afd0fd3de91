package kvtxn

import (
	"bytes"
	"context"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv/client"
)

// Scan calls fn for the keys in [start, end) in ascending key order, as the
// transaction sees them: the snapshot (paged from raftkv, Options.PageSize
// keys at a time) merged with the transaction's buffered writes as they were
// when Scan began (buffered puts appear, buffered deletes hide keys). An
// empty start is the first key, an empty end means no end. limit caps the
// keys passed to fn (0: none). Scan stops when fn returns false or an error,
// which Scan returns. Pages never start inside a range the transaction
// deleted: those keys are hidden anyway.
//
// Under Serializable the keys observed are recorded for validation: the
// whole range when the Scan reached its end, [start, last key passed to fn]
// when it stopped early.
func (t *Txn) Scan(ctx context.Context, start, end []byte, limit int, fn func(KV) (more bool, err error)) error {
	if t.done {
		return doneError("scan")
	}
	s, ok := scanSpan(start, end)
	if !ok {
		return nil
	}
	points, tombs := t.w.view(s)
	it := &pageIter{t: t, ctx: ctx, span: s, next: s.start, pageSize: t.db.opts.PageSize, tombs: tombs}
	if limit > 0 && limit < it.pageSize {
		it.pageSize = limit
	}
	var last []byte
	delivered := 0
	complete := false
	var err error
	for {
		var snap *raftkvv1.KeyValue
		snap, err = it.peek()
		if err != nil {
			break
		}
		if snap == nil && len(points) == 0 {
			complete = true
			break
		}
		var kv KV
		if len(points) > 0 && (snap == nil || bytes.Compare(points[0].key, snap.GetKey()) <= 0) {
			p := points[0]
			points = points[1:]
			if snap != nil && bytes.Equal(p.key, snap.GetKey()) {
				it.advance()
			}
			if p.del {
				continue
			}
			kv = KV{Key: p.key, Value: bytes.Clone(p.value)}
		} else {
			it.advance()
			if inAny(tombs, snap.GetKey()) {
				continue
			}
			kv = KV{Key: snap.GetKey(), Value: snap.GetValue()}
		}
		last = kv.Key
		delivered++
		var more bool
		more, err = fn(kv)
		if err != nil || !more || (limit > 0 && delivered >= limit) {
			break
		}
	}
	if t.iso == Serializable && t.rev != 0 {
		switch {
		case complete:
			t.spans.add(s)
		case last != nil:
			t.spans.add(span{start: s.start, end: append(bytes.Clone(last), 0)})
		}
	}
	return err
}

// inAny reports whether k is in one of spans.
func inAny(spans []span, k []byte) bool {
	for _, s := range spans {
		if s.contains(k) {
			return true
		}
	}
	return false
}

// pageIter walks the snapshot of a span a page at a time.
type pageIter struct {
	t        *Txn
	ctx      context.Context
	span     span
	next     []byte // where the next page starts; nil when there is no next page
	pageSize int
	kvs      []*raftkvv1.KeyValue
	tombs    []span // the transaction's deleted ranges: no page starts inside one
}

// skipTombs moves next past the deleted range it is in, if any: the keys
// there are hidden, so reading them would be wasted.
func (it *pageIter) skipTombs() {
	for _, tb := range it.tombs {
		if it.next == nil || !tb.contains(it.next) {
			continue
		}
		it.next = tb.end
		if it.next == nil || (it.span.end != nil && bytes.Compare(it.next, it.span.end) >= 0) {
			it.next = nil
		}
	}
}

// peek returns the next key-value, fetching a page if needed; nil at the end.
func (it *pageIter) peek() (*raftkvv1.KeyValue, error) {
	for len(it.kvs) == 0 {
		it.skipTombs()
		if it.next == nil {
			return nil, nil
		}
		opts := []client.OpOption{client.WithLimit(int64(it.pageSize)), client.WithFromKey()}
		if it.span.end != nil {
			opts[1] = client.WithRange(string(it.span.end))
		}
		resp, err := it.t.read(it.ctx, "scan", it.next, opts...)
		if err != nil {
			return nil, err
		}
		it.kvs = resp.GetKvs()
		it.next = nil
		if resp.GetMore() && len(resp.GetNextKey()) > 0 {
			it.next = resp.GetNextKey()
		}
		// Later pages may be larger: small first pages serve small limits.
		it.pageSize = it.t.db.opts.PageSize
	}
	return it.kvs[0], nil
}

func (it *pageIter) advance() { it.kvs = it.kvs[1:] }
