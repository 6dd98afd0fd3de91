package raftkv

import (
	"bytes"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node/rpcerr"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// limits are the request limits a Server enforces, from Config.
type limits struct {
	maxKey, maxValue, maxRequest, maxTxnOps int
	maxLeaseTTL                             int64
}

func (c Config) limits() limits {
	return limits{
		maxKey:      c.MaxKeyBytes,
		maxValue:    c.MaxValueBytes,
		maxRequest:  c.MaxRequestBytes,
		maxTxnOps:   c.MaxTxnOps,
		maxLeaseTTL: c.MaxLeaseTTL,
	}
}

// overLimit is the error for field being size units long, over the limit
// named limitName: its message and its metadata name the field, the size and
// the limit.
func overLimit(sentinel error, field, units string, size int, limitName string, limit int) error {
	return rpcerr.WithMetadata(fmt.Errorf("%w: %s is %d %s, the limit (%s) is %d", sentinel, field, size, units, limitName, limit),
		rpcerr.KeyField, field, rpcerr.KeySize, strconv.Itoa(size), rpcerr.KeyLimit, strconv.Itoa(limit), rpcerr.KeyLimitName, limitName)
}

// fieldErr annotates err with the field it is about.
func fieldErr(field string, err error) error { return rpcerr.WithMetadata(err, rpcerr.KeyField, field) }

func (l limits) key(field string, key []byte) error {
	if len(key) == 0 {
		return fieldErr(field, fmt.Errorf("%w: %s must not be empty", ErrEmptyKey, field))
	}
	if len(key) > l.maxKey {
		return overLimit(ErrKeyTooLarge, field, "bytes", len(key), "max_key_bytes", l.maxKey)
	}
	return nil
}

// keyRange checks a key with an optional range_end: range_end must sort after key,
// or be "\x00" (every key >= key).
func (l limits) keyRange(field string, key, end []byte) error {
	if err := l.key(field+".key", key); err != nil {
		return err
	}
	if len(end) > l.maxKey {
		return overLimit(ErrKeyTooLarge, field+".range_end", "bytes", len(end), "max_key_bytes", l.maxKey)
	}
	if len(end) > 0 && !bytes.Equal(end, []byte{0}) && bytes.Compare(end, key) <= 0 {
		return fieldErr(field+".range_end", fmt.Errorf("%w: %s.range_end %q must sort after key %q (or be \"\\x00\" for every key >= key)", ErrBadRange, field, end, key))
	}
	return nil
}

func (l limits) size(field string, m proto.Message) error {
	if n := proto.Size(m); n > l.maxRequest {
		return overLimit(ErrRequestTooLarge, field, "bytes encoded", n, "max_request_bytes", l.maxRequest)
	}
	return nil
}

func (l limits) validateRange(field string, r *raftkvv1.RangeRequest, inTxn bool) error {
	if err := l.keyRange(field, r.GetKey(), r.GetRangeEnd()); err != nil {
		return err
	}
	if r.GetLimit() < 0 {
		return fieldErr(field+".limit", fmt.Errorf("%w: %s.limit %d must be >= 0", ErrInvalidArgument, field, r.GetLimit()))
	}
	if r.GetRevision() < 0 {
		return fieldErr(field+".revision", fmt.Errorf("%w: %s.revision %d must be >= 0", ErrInvalidArgument, field, r.GetRevision()))
	}
	if inTxn && r.GetRevision() != 0 {
		return fieldErr(field+".revision", fmt.Errorf("%w: %s.revision must be 0 inside a txn", ErrInvalidArgument, field))
	}
	if _, ok := raftkvv1.Consistency_name[int32(r.GetConsistency())]; !ok {
		return fieldErr(field+".consistency", fmt.Errorf("%w: %s.consistency %d is not a known value", ErrInvalidArgument, field, r.GetConsistency()))
	}
	return nil
}

func (l limits) validatePut(field string, r *raftkvv1.PutRequest) error {
	if err := l.key(field+".key", r.GetKey()); err != nil {
		return err
	}
	if len(r.GetValue()) > l.maxValue {
		return overLimit(ErrValueTooLarge, field+".value", "bytes", len(r.GetValue()), "max_value_bytes", l.maxValue)
	}
	if r.GetLease() < 0 {
		return fieldErr(field+".lease", fmt.Errorf("%w: %s.lease %d must be >= 0", ErrInvalidArgument, field, r.GetLease()))
	}
	return nil
}

func (l limits) validateDelete(field string, r *raftkvv1.DeleteRangeRequest) error {
	return l.keyRange(field, r.GetKey(), r.GetRangeEnd())
}

func (l limits) validateTxn(r *raftkvv1.TxnRequest) error {
	if err := l.size("txn", r); err != nil {
		return err
	}
	for name, n := range map[string]int{"compare": len(r.GetCompare()), "success": len(r.GetSuccess()), "failure": len(r.GetFailure())} {
		if n > l.maxTxnOps {
			return rpcerr.WithMetadata(fmt.Errorf("%w: txn has %d %s entries, the limit (max_txn_ops) is %d", ErrTooManyOps, n, name, l.maxTxnOps),
				rpcerr.KeyField, "txn."+name, rpcerr.KeySize, strconv.Itoa(n), rpcerr.KeyLimit, strconv.Itoa(l.maxTxnOps), rpcerr.KeyLimitName, "max_txn_ops")
		}
	}
	for i, c := range r.GetCompare() {
		field := fmt.Sprintf("compare[%d]", i)
		if err := l.keyRange(field, c.GetKey(), c.GetRangeEnd()); err != nil {
			return err
		}
		if c.GetResult() == raftkvv1.Compare_COMPARE_RESULT_UNSPECIFIED || raftkvv1.Compare_CompareResult_name[int32(c.GetResult())] == "" {
			return fieldErr(field+".result", fmt.Errorf("%w: %s.result must be EQUAL, GREATER, LESS or NOT_EQUAL", ErrInvalidArgument, field))
		}
		if err := checkCompareTarget(field, c); err != nil {
			return err
		}
	}
	for branch, ops := range map[string][]*raftkvv1.RequestOp{"success": r.GetSuccess(), "failure": r.GetFailure()} {
		for i, op := range ops {
			field := fmt.Sprintf("%s[%d]", branch, i)
			var err error
			switch o := op.GetRequest().(type) {
			case *raftkvv1.RequestOp_RequestRange:
				err = l.validateRange(field+".range", o.RequestRange, true)
			case *raftkvv1.RequestOp_RequestPut:
				err = l.validatePut(field+".put", o.RequestPut)
			case *raftkvv1.RequestOp_RequestDeleteRange:
				err = l.validateDelete(field+".delete_range", o.RequestDeleteRange)
			default:
				err = fieldErr(field, fmt.Errorf("%w: %s has no operation", ErrInvalidArgument, field))
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func checkCompareTarget(field string, c *raftkvv1.Compare) error {
	want := map[raftkvv1.Compare_CompareTarget]bool{}
	switch c.GetTargetUnion().(type) {
	case *raftkvv1.Compare_Version:
		want[raftkvv1.Compare_COMPARE_TARGET_VERSION] = true
	case *raftkvv1.Compare_CreateRevision:
		want[raftkvv1.Compare_COMPARE_TARGET_CREATE] = true
	case *raftkvv1.Compare_ModRevision:
		want[raftkvv1.Compare_COMPARE_TARGET_MOD] = true
		want[raftkvv1.Compare_COMPARE_TARGET_CHANGED] = true
	case *raftkvv1.Compare_Value:
		want[raftkvv1.Compare_COMPARE_TARGET_VALUE] = true
	case *raftkvv1.Compare_Lease:
		want[raftkvv1.Compare_COMPARE_TARGET_LEASE] = true
	case nil:
		// A zero target value (e.g. version 0) is sent as an unset oneof by some
		// clients; accept any known target then.
		if c.GetTarget() != raftkvv1.Compare_COMPARE_TARGET_UNSPECIFIED && raftkvv1.Compare_CompareTarget_name[int32(c.GetTarget())] != "" {
			return nil
		}
	}
	if !want[c.GetTarget()] {
		return fieldErr(field+".target", fmt.Errorf("%w: %s.target %v does not match the value set in %s.target_union", ErrInvalidArgument, field, c.GetTarget(), field))
	}
	return nil
}

func (l limits) validateLeaseTTL(ttl int64) error {
	if ttl < 1 || ttl > l.maxLeaseTTL {
		return rpcerr.WithMetadata(fmt.Errorf("%w: ttl %d must be in [1, %d] seconds (max_lease_ttl)", ErrBadTTL, ttl, l.maxLeaseTTL),
			rpcerr.KeyField, "ttl", rpcerr.KeySize, strconv.FormatInt(ttl, 10), rpcerr.KeyLimit, strconv.FormatInt(l.maxLeaseTTL, 10), rpcerr.KeyLimitName, "max_lease_ttl")
	}
	return nil
}
