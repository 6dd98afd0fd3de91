package lockbench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// The etcd lock recipe (what etcd's concurrency.Mutex does), spoken over
// etcd's v3 gRPC API with messages encoded by hand, so that no etcd module is
// needed:
//
//   - a session is a lease, kept alive every TTL/3 on a LeaseKeepAlive stream;
//   - Lock(name) creates name/<lease> with the lease if it does not exist, in a
//     transaction that also reads the oldest key under name/ (the owner). The
//     key's create revision is the lock's token. If the owner is not our key,
//     wait: repeatedly read the newest key under name/ created before ours and
//     watch it until it is deleted; when none is left, check that our key
//     still exists (the lease did not expire meanwhile) and hold the lock;
//   - Unlock deletes our key.

// etcd's gRPC methods, as named in etcdserverpb/rpc.proto.
const (
	etcdTxn          = "/etcdserverpb.KV/Txn"
	etcdRange        = "/etcdserverpb.KV/Range"
	etcdDeleteRange  = "/etcdserverpb.KV/DeleteRange"
	etcdLeaseGrant   = "/etcdserverpb.Lease/LeaseGrant"
	etcdLeaseRevoke  = "/etcdserverpb.Lease/LeaseRevoke"
	etcdLeaseKeepAli = "/etcdserverpb.Lease/LeaseKeepAlive"
	etcdWatch        = "/etcdserverpb.Watch/Watch"
)

// Enum values of etcdserverpb.
const (
	etcdCompareEqual  = 0 // Compare.CompareResult.EQUAL
	etcdTargetCreate  = 1 // Compare.CompareTarget.CREATE
	etcdSortDescend   = 2 // RangeRequest.SortOrder.DESCEND
	etcdSortAscend    = 1 // RangeRequest.SortOrder.ASCEND
	etcdSortByCreate  = 2 // RangeRequest.SortTarget.CREATE
	etcdEventDelete   = 1 // mvccpb.Event.EventType.DELETE
	etcdNoLease       = 0
	etcdMaxCreateNone = 0
)

// etcdDriver shares Config.Conns gRPC connections, spread over the endpoints.
type etcdDriver struct {
	cfg   Config
	conns []*grpc.ClientConn
}

func newEtcdDriver(cfg Config) (Driver, error) {
	d := &etcdDriver{cfg: cfg}
	for i := range cfg.Conns {
		creds := insecure.NewCredentials()
		if cfg.TLS != nil {
			creds = credentials.NewTLS(cfg.TLS)
		}
		cc, err := grpc.NewClient(cfg.Endpoints[i%len(cfg.Endpoints)], grpc.WithTransportCredentials(creds))
		if err != nil {
			d.Close()
			return nil, err
		}
		d.conns = append(d.conns, cc)
	}
	return d, nil
}

func (d *etcdDriver) Close() error {
	var errs []error
	for _, cc := range d.conns {
		errs = append(errs, cc.Close())
	}
	return errors.Join(errs...)
}

func (d *etcdDriver) NewLocker(ctx context.Context, i int) (Locker, error) {
	cc := d.conns[i%len(d.conns)]
	var resp rawMessage
	req := rawMessage(protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), uint64(max(1, d.cfg.TTL/time.Second))))
	if err := cc.Invoke(ctx, etcdLeaseGrant, &req, &resp, rawCall); err != nil {
		return nil, fmt.Errorf("etcd lease grant: %w", err)
	}
	f, err := fields(resp)
	if err != nil {
		return nil, err
	}
	if e := f.bytes(4); len(e) > 0 {
		return nil, fmt.Errorf("etcd lease grant: %s", e)
	}
	l := &etcdLocker{cc: cc, lease: int64(f.varint(2)), ttl: d.cfg.TTL, keys: map[string]string{}}
	kctx, cancel := context.WithCancel(context.Background())
	l.stop = cancel
	l.wg.Go(func() { l.keepAlive(kctx) })
	return l, nil
}

type etcdLocker struct {
	cc    grpc.ClientConnInterface
	lease int64
	ttl   time.Duration
	stop  context.CancelFunc
	wg    sync.WaitGroup
	keys  map[string]string // lock name -> our key; used by one goroutine
}

// keepAlive renews the lease every TTL/3 until ctx ends.
func (l *etcdLocker) keepAlive(ctx context.Context) {
	for ctx.Err() == nil {
		st, err := l.cc.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, etcdLeaseKeepAli, rawCall)
		for err == nil {
			req := rawMessage(protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), uint64(l.lease)))
			if err = st.SendMsg(&req); err != nil {
				break
			}
			var resp rawMessage
			if err = st.RecvMsg(&resp); err != nil {
				break
			}
			sleep(ctx, l.ttl/3)
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (l *etcdLocker) Close(ctx context.Context) error {
	l.stop()
	l.wg.Wait()
	req := rawMessage(protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), uint64(l.lease)))
	var resp rawMessage
	return l.cc.Invoke(ctx, etcdLeaseRevoke, &req, &resp, rawCall)
}

func (l *etcdLocker) Lock(ctx context.Context, name string) (uint64, error) {
	prefix := name + "/"
	key := prefix + strconv.FormatInt(l.lease, 16)
	end := prefixEnd(prefix)
	// Txn: if create_revision(key) = 0 then put(key, lease), range(owner)
	// else range(key), range(owner).
	cmp := appendCompareCreateZero(nil, key)
	owner := appendRange(nil, prefix, end, etcdSortAscend, 0)
	var txn []byte
	txn = protowire.AppendTag(txn, 1, protowire.BytesType)
	txn = protowire.AppendBytes(txn, cmp)
	txn = appendRequestOp(txn, 2, 2, appendPut(nil, key, l.lease))
	txn = appendRequestOp(txn, 2, 1, owner)
	txn = appendRequestOp(txn, 3, 1, appendRange(nil, key, nil, 0, 0))
	txn = appendRequestOp(txn, 3, 1, owner)
	req := rawMessage(txn)
	var resp rawMessage
	if err := l.cc.Invoke(ctx, etcdTxn, &req, &resp, rawCall); err != nil {
		return 0, fmt.Errorf("etcd lock txn: %w", err)
	}
	f, err := fields(resp)
	if err != nil {
		return 0, err
	}
	ops := f.all(3) // ResponseOp
	if len(ops) != 2 {
		return 0, fmt.Errorf("etcd lock txn: %d responses, want 2", len(ops))
	}
	var myRev int64
	if f.varint(2) == 1 { // succeeded: our key was created by this txn
		myRev = int64(headerRevision(f.bytes(1)))
	} else {
		rr, err := responseRange(ops[0])
		var kvs []etcdKV
		if err == nil {
			kvs, err = rangeKVs(rr)
		}
		if err != nil || len(kvs) == 0 {
			return 0, fmt.Errorf("etcd lock txn: own key missing: %v", err)
		}
		myRev = kvs[0].createRev
	}
	l.keys[name] = key
	rr, err := responseRange(ops[1])
	if err != nil {
		return 0, err
	}
	owners, err := rangeKVs(rr)
	if err != nil {
		return 0, err
	}
	if len(owners) == 0 || owners[0].createRev == myRev {
		return uint64(myRev), nil
	}
	if err := l.waitDeletes(ctx, prefix, end, myRev-1); err != nil {
		return 0, err
	}
	// The lease may have expired while we waited: our key must still exist.
	req = rawMessage(appendRange(nil, key, nil, 0, 0))
	if err := l.cc.Invoke(ctx, etcdRange, &req, &resp, rawCall); err != nil {
		return 0, fmt.Errorf("etcd lock check: %w", err)
	}
	kvs, err := rangeKVs(resp)
	if err != nil {
		return 0, err
	}
	if len(kvs) == 0 {
		return 0, errors.New("etcd lock: session expired while waiting")
	}
	return uint64(myRev), nil
}

// waitDeletes waits until no key under prefix was created at or before
// maxCreate: it watches the newest one for its deletion, again and again.
func (l *etcdLocker) waitDeletes(ctx context.Context, prefix string, end []byte, maxCreate int64) error {
	for {
		req := rawMessage(appendRange(nil, prefix, end, etcdSortDescend, maxCreate))
		var resp rawMessage
		if err := l.cc.Invoke(ctx, etcdRange, &req, &resp, rawCall); err != nil {
			return fmt.Errorf("etcd lock wait: %w", err)
		}
		kvs, err := rangeKVs(resp)
		if err != nil {
			return err
		}
		if len(kvs) == 0 {
			return nil
		}
		f, err := fields(resp)
		if err != nil {
			return err
		}
		if err := l.waitDelete(ctx, kvs[0].key, int64(headerRevision(f.bytes(1)))); err != nil {
			return err
		}
	}
}

// waitDelete watches key from rev+1 until it is deleted.
func (l *etcdLocker) waitDelete(ctx context.Context, key []byte, rev int64) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := l.cc.NewStream(wctx, &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, etcdWatch, rawCall)
	if err != nil {
		return fmt.Errorf("etcd watch: %w", err)
	}
	var create []byte
	create = protowire.AppendTag(create, 1, protowire.BytesType) // WatchCreateRequest.key
	create = protowire.AppendBytes(create, key)
	create = protowire.AppendTag(create, 3, protowire.VarintType) // start_revision
	create = protowire.AppendVarint(create, uint64(rev+1))
	var wr []byte
	wr = protowire.AppendTag(wr, 1, protowire.BytesType) // WatchRequest.create_request
	wr = protowire.AppendBytes(wr, create)
	req := rawMessage(wr)
	if err := st.SendMsg(&req); err != nil {
		return fmt.Errorf("etcd watch: %w", err)
	}
	for {
		var resp rawMessage
		if err := st.RecvMsg(&resp); err != nil {
			return fmt.Errorf("etcd watch: %w", err)
		}
		f, err := fields(resp)
		if err != nil {
			return err
		}
		if f.varint(4) == 1 { // canceled
			return fmt.Errorf("etcd watch canceled: %s", f.bytes(6))
		}
		for _, ev := range f.all(11) {
			ef, err := fields(ev)
			if err != nil {
				return err
			}
			if ef.varint(1) == etcdEventDelete {
				return nil
			}
		}
	}
}

func (l *etcdLocker) Unlock(ctx context.Context, name string) error {
	key, ok := l.keys[name]
	if !ok {
		return ErrNotHeld
	}
	delete(l.keys, name)
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, key)
	req := rawMessage(b)
	var resp rawMessage
	if err := l.cc.Invoke(ctx, etcdDeleteRange, &req, &resp, rawCall); err != nil {
		return fmt.Errorf("etcd unlock: %w", err)
	}
	f, err := fields(resp)
	if err != nil {
		return err
	}
	if f.varint(2) == 0 { // deleted
		return ErrNotHeld
	}
	return nil
}

// appendCompareCreateZero appends Compare{result: EQUAL, target: CREATE, key,
// create_revision: 0}.
func appendCompareCreateZero(b []byte, key string) []byte {
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, etcdCompareEqual)
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, etcdTargetCreate)
	b = protowire.AppendTag(b, 3, protowire.BytesType)
	b = protowire.AppendString(b, key)
	b = protowire.AppendTag(b, 5, protowire.VarintType) // the oneof member, present
	return protowire.AppendVarint(b, 0)
}

// appendPut appends PutRequest{key, lease}.
func appendPut(b []byte, key string, lease int64) []byte {
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, key)
	if lease != etcdNoLease {
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(lease))
	}
	return b
}

// appendRange appends RangeRequest{key, range_end, limit 1 and sorted by create
// revision when order is set, max_create_revision when set}.
func appendRange(b []byte, key string, end []byte, order int, maxCreate int64) []byte {
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, key)
	if end != nil {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, end)
	}
	if order != 0 {
		b = protowire.AppendTag(b, 3, protowire.VarintType) // limit
		b = protowire.AppendVarint(b, 1)
		b = protowire.AppendTag(b, 5, protowire.VarintType) // sort_order
		b = protowire.AppendVarint(b, uint64(order))
		b = protowire.AppendTag(b, 6, protowire.VarintType) // sort_target
		b = protowire.AppendVarint(b, etcdSortByCreate)
	}
	if maxCreate != etcdMaxCreateNone {
		b = protowire.AppendTag(b, 13, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(maxCreate))
	}
	return b
}

// appendRequestOp appends field num of a TxnRequest: a RequestOp whose member
// field is member (1 range, 2 put) holding msg.
func appendRequestOp(b []byte, num, member protowire.Number, msg []byte) []byte {
	var op []byte
	op = protowire.AppendTag(op, member, protowire.BytesType)
	op = protowire.AppendBytes(op, msg)
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, op)
}

// prefixEnd is the range end covering every key with prefix.
func prefixEnd(prefix string) []byte {
	end := []byte(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return []byte{0}
}

type etcdKV struct {
	key       []byte
	createRev int64
}

// rangeKVs decodes the kvs of a RangeResponse.
func rangeKVs(b []byte) ([]etcdKV, error) {
	f, err := fields(b)
	if err != nil {
		return nil, err
	}
	var out []etcdKV
	for _, kv := range f.all(2) {
		kf, err := fields(kv)
		if err != nil {
			return nil, err
		}
		out = append(out, etcdKV{key: kf.bytes(1), createRev: int64(kf.varint(2))})
	}
	return out, nil
}

// responseRange returns the RangeResponse inside a ResponseOp.
func responseRange(op []byte) ([]byte, error) {
	f, err := fields(op)
	if err != nil {
		return nil, err
	}
	return f.bytes(1), nil
}

func headerRevision(h []byte) uint64 {
	f, err := fields(h)
	if err != nil {
		return 0
	}
	return f.varint(3)
}

// msgFields is a decoded message: the raw values of each field, in order.
type msgFields map[protowire.Number][][]byte

func (f msgFields) all(n protowire.Number) [][]byte { return f[n] }

func (f msgFields) bytes(n protowire.Number) []byte {
	if v := f[n]; len(v) > 0 {
		return v[len(v)-1]
	}
	return nil
}

func (f msgFields) varint(n protowire.Number) uint64 {
	b := f.bytes(n)
	if b == nil {
		return 0
	}
	v, _ := protowire.ConsumeVarint(b)
	return v
}

// fields decodes the top level of message b: bytes fields as their content,
// varints as their encoding.
func fields(b []byte) (msgFields, error) {
	out := msgFields{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, fmt.Errorf("lockbench: bad etcd response: %w", protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		switch typ {
		case protowire.BytesType:
			val, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return nil, fmt.Errorf("lockbench: bad etcd response: %w", protowire.ParseError(m))
			}
			v, n = val, m
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, fmt.Errorf("lockbench: bad etcd response: %w", protowire.ParseError(n))
			}
			v = b[:n]
		}
		out[num] = append(out[num], v)
		b = b[n:]
	}
	return out, nil
}

// rawMessage is an encoded protobuf message.
type rawMessage []byte

// rawCodec passes *rawMessage through; named "proto" for the usual content type.
type rawCodec struct{}

var rawCall = grpc.ForceCodecV2(rawCodec{})

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(*rawMessage)
	if !ok {
		return nil, fmt.Errorf("lockbench: raw codec cannot marshal %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(*m)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(*rawMessage)
	if !ok {
		return fmt.Errorf("lockbench: raw codec cannot unmarshal into %T", v)
	}
	*m = data.Materialize()
	return nil
}
