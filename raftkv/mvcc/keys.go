package mvcc

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// Records of the revs bucket. A record's key is
//
//	revision as 8 bytes big endian ‖ sub as 4 bytes big endian
//
// so records sort by revision, then by their order within the revision (the
// write path only ever appends). Its value is
//
//	prev revision (8 bytes BE, 0 for none) ‖ prev sub (4 bytes BE) ‖ KeyValue
//
// The KeyValue is the key after the change; a delete (a tombstone) stores only
// key and mod_revision, so its version is 0, which no put has. prev locates the
// record of the key's previous value (the event's prev_kv), when there was one.

const (
	revLen       = 8
	recordKeyLen = revLen + 4
	recordHdrLen = revLen + 4
)

// recordKey is the revs bucket key of the sub-th change at rev.
func recordKey(rev int64, sub uint32) []byte {
	b := make([]byte, recordKeyLen)
	binary.BigEndian.PutUint64(b, uint64(rev))
	binary.BigEndian.PutUint32(b[revLen:], sub)
	return b
}

func parseRecordKey(b []byte) (rev int64, sub uint32, err error) {
	if len(b) != recordKeyLen {
		return 0, 0, fmt.Errorf("%w: record key of %d bytes", ErrCorrupt, len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), binary.BigEndian.Uint32(b[revLen:]), nil
}

func recordKeyRev(b []byte) int64 { return int64(binary.BigEndian.Uint64(b[:revLen])) }

// encodeRecord encodes kv with a link to the record of the previous value
// (prev.rev 0 for none), deterministically so replicas write identical bytes.
func encodeRecord(prev revision, kv *raftkvv1.KeyValue) ([]byte, error) {
	b := make([]byte, recordHdrLen, recordHdrLen+proto.Size(kv))
	binary.BigEndian.PutUint64(b, uint64(prev.rev))
	binary.BigEndian.PutUint32(b[revLen:], prev.sub)
	return proto.MarshalOptions{Deterministic: true}.MarshalAppend(b, kv)
}

// decodeRecord decodes a record value.
func decodeRecord(v []byte) (prev revision, kv *raftkvv1.KeyValue, err error) {
	if len(v) < recordHdrLen {
		return revision{}, nil, fmt.Errorf("%w: record of %d bytes", ErrCorrupt, len(v))
	}
	prev = revision{rev: int64(binary.BigEndian.Uint64(v)), sub: binary.BigEndian.Uint32(v[revLen:])}
	kv, err = unmarshalKV(v[recordHdrLen:])
	return prev, kv, err
}

// scanRecord extracts key, version and lease from a record value without
// decoding the rest. key aliases v.
func scanRecord(v []byte) (key []byte, version, lease int64, err error) {
	if len(v) < recordHdrLen {
		return nil, 0, 0, fmt.Errorf("%w: record of %d bytes", ErrCorrupt, len(v))
	}
	b := v[recordHdrLen:]
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, 0, 0, fmt.Errorf("%w: record: %v", ErrCorrupt, protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			key, n = protowire.ConsumeBytes(b)
		case num == 4 && typ == protowire.VarintType:
			var x uint64
			x, n = protowire.ConsumeVarint(b)
			version = int64(x)
		case num == 6 && typ == protowire.VarintType:
			var x uint64
			x, n = protowire.ConsumeVarint(b)
			lease = int64(x)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return nil, 0, 0, fmt.Errorf("%w: record: %v", ErrCorrupt, protowire.ParseError(n))
		}
		b = b[n:]
	}
	if len(key) == 0 {
		return nil, 0, 0, fmt.Errorf("%w: record without key", ErrCorrupt)
	}
	return key, version, lease, nil
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func i64(v int64) []byte { return u64(uint64(v)) }

func leaseKey(id int64) []byte { return i64(id) }

// keyRange is the set of keys selected by a (key, range_end) pair, with etcd's
// rules: empty end selects key alone; end "\x00" selects every key >= key;
// key "\x00" with end "\x00" selects every key.
type keyRange struct {
	start  []byte // first key; nil means from the first key
	end    []byte // exclusive end; nil means unbounded (when !single)
	single bool
}

func newKeyRange(key, end []byte) keyRange {
	switch {
	case len(end) == 0:
		return keyRange{start: key, single: true}
	case len(end) == 1 && end[0] == 0:
		if len(key) == 1 && key[0] == 0 {
			return keyRange{}
		}
		return keyRange{start: key}
	default:
		return keyRange{start: key, end: end}
	}
}

func (r keyRange) contains(k []byte) bool {
	if r.single {
		return bytes.Equal(k, r.start)
	}
	if bytes.Compare(k, r.start) < 0 {
		return false
	}
	return r.end == nil || bytes.Compare(k, r.end) < 0
}

// pastEnd reports whether k, and so every key after it, is beyond the range.
func (r keyRange) pastEnd(k []byte) bool {
	if r.single {
		return bytes.Compare(k, r.start) > 0
	}
	return r.end != nil && bytes.Compare(k, r.end) >= 0
}

// empty reports whether the range can hold no key at all.
func (r keyRange) empty() bool {
	if r.single {
		return len(r.start) == 0
	}
	return r.end != nil && bytes.Compare(r.start, r.end) >= 0
}

// ascend calls fn, in key order, for every key of kr in t until fn returns
// false.
func (r keyRange) ascend(t *btree, fn func(*keyIndex) bool) {
	if r.empty() {
		return
	}
	if r.single {
		if ki := t.get(r.start); ki != nil {
			fn(ki)
		}
		return
	}
	t.ascend(r.start, func(ki *keyIndex) bool {
		if r.pastEnd(ki.key) {
			return false
		}
		return fn(ki)
	})
}
