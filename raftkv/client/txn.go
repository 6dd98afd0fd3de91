package client

import (
	"context"
	"fmt"

	"google.golang.org/grpc"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// Cmp is one condition of a transaction. Build it with Compare over a target made
// by Value, Version, CreateRevision, ModRevision, Changed, ChangedRange or
// LeaseValue.
type Cmp struct {
	pb  *raftkvv1.Compare
	err error
}

func target(key string, t raftkvv1.Compare_CompareTarget) Cmp {
	return Cmp{pb: &raftkvv1.Compare{Key: []byte(key), Target: t}}
}

// Value targets the value of key. Compare it with a string or []byte.
func Value(key string) Cmp { return target(key, raftkvv1.Compare_COMPARE_TARGET_VALUE) }

// Version targets the version of key (0 when it does not exist).
func Version(key string) Cmp { return target(key, raftkvv1.Compare_COMPARE_TARGET_VERSION) }

// CreateRevision targets the creation revision of key (0 when it does not exist).
func CreateRevision(key string) Cmp { return target(key, raftkvv1.Compare_COMPARE_TARGET_CREATE) }

// ModRevision targets the last modification revision of key.
func ModRevision(key string) Cmp { return target(key, raftkvv1.Compare_COMPARE_TARGET_MOD) }

// Changed targets the revision of the latest change, put or delete, of key (0
// when it never changed). Compare it with an integer: Compare(Changed(k), "<",
// rev+1) holds when key has not changed since revision rev. Deletes compacted
// away are invisible, so while the latest change found is at or below the
// store's compact revision C the server holds the compare only if it holds for
// every revision in [0, C]: "<" with a value at or below C fails (see
// COMPARE_TARGET_CHANGED in the proto).
func Changed(key string) Cmp { return target(key, raftkvv1.Compare_COMPARE_TARGET_CHANGED) }

// ChangedRange targets the latest change, put or delete, of any key in [key,
// end), like Changed; end "\x00" means every key >= key. It is
// Changed(key).WithRange(end) made in one call.
func ChangedRange(key, end string) Cmp {
	c := Changed(key)
	c.pb.RangeEnd = []byte(end)
	return c
}

// LeaseValue targets the lease id key is attached to (0 for none).
func LeaseValue(key string) Cmp { return target(key, raftkvv1.Compare_COMPARE_TARGET_LEASE) }

// compareResults maps the operators Compare accepts to the proto enum.
var compareResults = map[string]raftkvv1.Compare_CompareResult{
	"=":  raftkvv1.Compare_COMPARE_RESULT_EQUAL,
	"==": raftkvv1.Compare_COMPARE_RESULT_EQUAL,
	"!=": raftkvv1.Compare_COMPARE_RESULT_NOT_EQUAL,
	"<":  raftkvv1.Compare_COMPARE_RESULT_LESS,
	">":  raftkvv1.Compare_COMPARE_RESULT_GREATER,
}

// Compare returns the condition "target op v". op is one of "=", "==", "!=", "<",
// ">". v is a string or []byte for Value, an integer for the other targets. A bad
// op or a v of the wrong type does not panic: Txn.Commit returns ErrInvalidCompare.
func Compare(t Cmp, op string, v any) Cmp {
	if t.err != nil {
		return t
	}
	if t.pb == nil {
		return Cmp{err: fmt.Errorf("%w: no target", ErrInvalidCompare)}
	}
	pb := &raftkvv1.Compare{Key: t.pb.Key, RangeEnd: t.pb.RangeEnd, Target: t.pb.Target}
	res, ok := compareResults[op]
	if !ok {
		return Cmp{err: fmt.Errorf("%w: unknown operator %q (want =, !=, < or >)", ErrInvalidCompare, op)}
	}
	pb.Result = res
	if pb.Target == raftkvv1.Compare_COMPARE_TARGET_VALUE {
		switch v := v.(type) {
		case string:
			pb.TargetUnion = &raftkvv1.Compare_Value{Value: []byte(v)}
		case []byte:
			pb.TargetUnion = &raftkvv1.Compare_Value{Value: v}
		default:
			return Cmp{err: fmt.Errorf("%w: value of %q compared with %T, want string or []byte", ErrInvalidCompare, pb.Key, v)}
		}
		return Cmp{pb: pb}
	}
	var n int64
	switch v := v.(type) {
	case int:
		n = int64(v)
	case int64:
		n = v
	case int32:
		n = int64(v)
	default:
		return Cmp{err: fmt.Errorf("%w: %s of %q compared with %T, want an integer", ErrInvalidCompare, pb.Target, pb.Key, v)}
	}
	switch pb.Target {
	case raftkvv1.Compare_COMPARE_TARGET_VERSION:
		pb.TargetUnion = &raftkvv1.Compare_Version{Version: n}
	case raftkvv1.Compare_COMPARE_TARGET_CREATE:
		pb.TargetUnion = &raftkvv1.Compare_CreateRevision{CreateRevision: n}
	case raftkvv1.Compare_COMPARE_TARGET_MOD, raftkvv1.Compare_COMPARE_TARGET_CHANGED:
		pb.TargetUnion = &raftkvv1.Compare_ModRevision{ModRevision: n}
	case raftkvv1.Compare_COMPARE_TARGET_LEASE:
		pb.TargetUnion = &raftkvv1.Compare_Lease{Lease: n}
	default:
		return Cmp{err: fmt.Errorf("%w: unknown target %s", ErrInvalidCompare, pb.Target)}
	}
	return Cmp{pb: pb}
}

// WithRange makes the condition hold for every key in [key, end).
func (c Cmp) WithRange(end string) Cmp {
	if c.pb == nil {
		return c
	}
	pb := &raftkvv1.Compare{
		Result:      c.pb.Result,
		Target:      c.pb.Target,
		Key:         c.pb.Key,
		TargetUnion: c.pb.TargetUnion,
		RangeEnd:    []byte(end),
	}
	return Cmp{pb: pb, err: c.err}
}

// WithPrefix makes the condition hold for every key with the compare's key as prefix.
func (c Cmp) WithPrefix() Cmp {
	if c.pb == nil {
		return c
	}
	return c.WithRange(string(PrefixEnd(c.pb.Key)))
}

// Err returns the error of a badly built compare, nil if it is well formed.
func (c Cmp) Err() error { return c.err }

// Proto returns the compare as sent to the server (nil if Err is not nil).
func (c Cmp) Proto() *raftkvv1.Compare { return c.pb }

// Txn builds a transaction: If(compares...).Then(ops...).Else(ops...).Commit().
// A Txn is used by one goroutine and committed once.
type Txn struct {
	c         *Client
	ctx       context.Context
	cmps      []*raftkvv1.Compare
	then, els []*raftkvv1.RequestOp
	err       error
}

// Txn starts a transaction that Commit will run under ctx.
func (c *Client) Txn(ctx context.Context) *Txn { return &Txn{c: c, ctx: ctx} }

// If adds conditions; the transaction succeeds when all of them hold.
func (t *Txn) If(cs ...Cmp) *Txn {
	for _, cmp := range cs {
		if cmp.err != nil {
			if t.err == nil {
				t.err = cmp.err
			}
			continue
		}
		if cmp.pb == nil {
			if t.err == nil {
				t.err = fmt.Errorf("%w: empty compare", ErrInvalidCompare)
			}
			continue
		}
		t.cmps = append(t.cmps, cmp.pb)
	}
	return t
}

// Then adds ops run when every condition holds.
func (t *Txn) Then(ops ...Op) *Txn {
	for _, o := range ops {
		t.then = append(t.then, o.req)
	}
	return t
}

// Else adds ops run when a condition does not hold.
func (t *Txn) Else(ops ...Op) *Txn {
	for _, o := range ops {
		t.els = append(t.els, o.req)
	}
	return t
}

// Commit sends the transaction. It is a write, never retried, even when all its
// ops are reads (see the package documentation).
func (t *Txn) Commit() (*raftkvv1.TxnResponse, error) {
	if t.err != nil {
		return nil, errs.Local("txn", t.err)
	}
	req := &raftkvv1.TxnRequest{Compare: t.cmps, Success: t.then, Failure: t.els}
	return call(t.ctx, t.c, "txn", kindWrite, func(ctx context.Context, co ...grpc.CallOption) (*raftkvv1.TxnResponse, error) {
		return t.c.kv.Txn(ctx, req, co...)
	})
}
