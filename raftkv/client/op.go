package client

import (
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// OpOption configures one call or one Op. Options that do not apply to a call are
// ignored (WithLease on Get, WithLimit on Put, ...).
type OpOption func(*op)

// op is the union of every per-call setting.
type op struct {
	key, end      []byte
	val           []byte
	prefix        bool
	fromKey       bool
	limit         int64
	rev           int64
	keysOnly      bool
	countOnly     bool
	serializable  bool
	prevKV        bool
	lease         int64
	filterPut     bool
	filterDelete  bool
	createdNotify bool
}

// WithPrefix makes the call apply to every key with the call's key as prefix.
func WithPrefix() OpOption { return func(o *op) { o.prefix, o.fromKey, o.end = true, false, nil } }

// WithRange makes the call apply to the keys in [key, end).
func WithRange(end string) OpOption {
	return func(o *op) { o.end, o.prefix, o.fromKey = []byte(end), false, false }
}

// WithFromKey makes the call apply to every key >= the call's key.
func WithFromKey() OpOption { return func(o *op) { o.fromKey, o.prefix, o.end = true, false, nil } }

// WithLimit caps the number of keys a Get returns; 0 means no cap.
func WithLimit(n int64) OpOption { return func(o *op) { o.limit = n } }

// WithRev makes a Get read at revision rev, or a Watch start at rev (0 means the
// latest for a Get, and "after the current revision" for a Watch).
func WithRev(rev int64) OpOption { return func(o *op) { o.rev = rev } }

// WithKeysOnly makes a Get return keys without values.
func WithKeysOnly() OpOption { return func(o *op) { o.keysOnly = true } }

// WithCountOnly makes a Get return only the count of keys.
func WithCountOnly() OpOption { return func(o *op) { o.countOnly = true } }

// WithSerializable makes a Get read the local replica of whichever node answers:
// faster, but possibly stale.
func WithSerializable() OpOption { return func(o *op) { o.serializable = true } }

// WithPrevKV makes a Put or Delete return the previous key-values, and a Watch
// deliver the previous key-value of each event.
func WithPrevKV() OpOption { return func(o *op) { o.prevKV = true } }

// WithLease attaches the key of a Put to a lease.
func WithLease(id int64) OpOption { return func(o *op) { o.lease = id } }

// WithFilterPut makes a Watch drop put events.
func WithFilterPut() OpOption { return func(o *op) { o.filterPut = true } }

// WithFilterDelete makes a Watch drop delete events.
func WithFilterDelete() OpOption { return func(o *op) { o.filterDelete = true } }

// WithCreatedNotify makes a Watch deliver, once, the response that confirms the
// watch is established (Created true, no events, Header.Revision the revision it
// started after). Later reconnections are not reported.
func WithCreatedNotify() OpOption { return func(o *op) { o.createdNotify = true } }

func newOp(key string, opts []OpOption) *op {
	o := &op{key: []byte(key)}
	for _, opt := range opts {
		opt(o)
	}
	switch {
	case o.prefix:
		if len(o.key) == 0 {
			o.key, o.end = []byte{0}, []byte{0}
		} else {
			o.end = PrefixEnd(o.key)
		}
	case o.fromKey:
		if len(o.key) == 0 {
			o.key = []byte{0}
		}
		o.end = []byte{0}
	}
	return o
}

// PrefixEnd returns the range end that, with prefix as the range start, selects
// every key that has the prefix: prefix with its last byte below 0xff incremented
// and the bytes after it dropped. When every byte is 0xff (or prefix is empty) no
// such key exists and PrefixEnd returns "\x00", which means "no end".
func PrefixEnd(prefix []byte) []byte {
	for i := len(prefix) - 1; i >= 0; i-- {
		if prefix[i] < 0xff {
			end := make([]byte, i+1)
			copy(end, prefix)
			end[i]++
			return end
		}
	}
	return []byte{0}
}

func (o *op) rangeRequest() *raftkvv1.RangeRequest {
	r := &raftkvv1.RangeRequest{
		Key:         o.key,
		RangeEnd:    o.end,
		Limit:       o.limit,
		Revision:    o.rev,
		KeysOnly:    o.keysOnly,
		CountOnly:   o.countOnly,
		Consistency: raftkvv1.Consistency_CONSISTENCY_LINEARIZABLE,
	}
	if o.serializable {
		r.Consistency = raftkvv1.Consistency_CONSISTENCY_SERIALIZABLE
	}
	return r
}

func (o *op) putRequest() *raftkvv1.PutRequest {
	return &raftkvv1.PutRequest{Key: o.key, Value: o.val, Lease: o.lease, PrevKv: o.prevKV}
}

func (o *op) deleteRequest() *raftkvv1.DeleteRangeRequest {
	return &raftkvv1.DeleteRangeRequest{Key: o.key, RangeEnd: o.end, PrevKv: o.prevKV}
}

func (o *op) watchRequest() *raftkvv1.WatchRequest {
	r := &raftkvv1.WatchRequest{Key: o.key, RangeEnd: o.end, StartRevision: o.rev, PrevKv: o.prevKV}
	if o.filterPut {
		r.Filters = append(r.Filters, raftkvv1.WatchRequest_FILTER_TYPE_NOPUT)
	}
	if o.filterDelete {
		r.Filters = append(r.Filters, raftkvv1.WatchRequest_FILTER_TYPE_NODELETE)
	}
	return r
}

// Op is one operation of a transaction, built by OpGet, OpPut or OpDelete.
type Op struct {
	req *raftkvv1.RequestOp
}

// OpGet is a Get inside a transaction. WithSerializable is ignored: a transaction
// is always linearizable.
func OpGet(key string, opts ...OpOption) Op {
	r := newOp(key, opts).rangeRequest()
	r.Consistency = raftkvv1.Consistency_CONSISTENCY_UNSPECIFIED
	return Op{req: &raftkvv1.RequestOp{Request: &raftkvv1.RequestOp_RequestRange{RequestRange: r}}}
}

// OpPut is a Put inside a transaction.
func OpPut(key, val string, opts ...OpOption) Op {
	o := newOp(key, opts)
	o.val = []byte(val)
	return Op{req: &raftkvv1.RequestOp{Request: &raftkvv1.RequestOp_RequestPut{RequestPut: o.putRequest()}}}
}

// OpDelete is a Delete inside a transaction.
func OpDelete(key string, opts ...OpOption) Op {
	r := newOp(key, opts).deleteRequest()
	return Op{req: &raftkvv1.RequestOp{Request: &raftkvv1.RequestOp_RequestDeleteRange{RequestDeleteRange: r}}}
}

// Proto returns the request of the op.
func (o Op) Proto() *raftkvv1.RequestOp { return o.req }
