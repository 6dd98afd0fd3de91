package mvcc

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Key encoding for the history bucket. A history key is
//
//	escape(user key) ‖ 0x00 0x01 ‖ revision as 8 bytes big endian
//
// where escape replaces every 0x00 byte by 0x00 0xFF. The terminator 0x00 0x01
// sorts below any escaped continuation of the key (0x00 0xFF, or a byte >= 0x01),
// so byte order of history keys is (user key, revision) order.

const revLen = 8

// escapeKey appends the escaped, terminated form of key to dst.
func escapeKey(dst, key []byte) []byte {
	for _, b := range key {
		if b == 0x00 {
			dst = append(dst, 0x00, 0xFF)
		} else {
			dst = append(dst, b)
		}
	}
	return append(dst, 0x00, 0x01)
}

// unescapeKey decodes an escaped, terminated key at the start of b. It returns
// the user key and the number of bytes of b consumed.
func unescapeKey(b []byte) (key []byte, n int, err error) {
	key = make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != 0x00 {
			key = append(key, b[i])
			continue
		}
		if i+1 >= len(b) {
			return nil, 0, fmt.Errorf("%w: truncated escaped key", ErrCorrupt)
		}
		switch b[i+1] {
		case 0xFF:
			key = append(key, 0x00)
			i++
		case 0x01:
			return key, i + 2, nil
		default:
			return nil, 0, fmt.Errorf("%w: bad escape byte %#x", ErrCorrupt, b[i+1])
		}
	}
	return nil, 0, fmt.Errorf("%w: unterminated escaped key", ErrCorrupt)
}

// historyKey returns the history bucket key of key at rev.
func historyKey(key []byte, rev int64) []byte {
	b := escapeKey(make([]byte, 0, len(key)+2+revLen), key)
	return binary.BigEndian.AppendUint64(b, uint64(rev))
}

// historyPrefix returns the prefix shared by every history key of key.
func historyPrefix(key []byte) []byte {
	return escapeKey(make([]byte, 0, len(key)+2+revLen), key)
}

// parseHistoryKey splits a history key into user key and revision.
func parseHistoryKey(b []byte) (key []byte, rev int64, err error) {
	key, n, err := unescapeKey(b)
	if err != nil {
		return nil, 0, err
	}
	if len(b)-n != revLen {
		return nil, 0, fmt.Errorf("%w: history key of %d bytes", ErrCorrupt, len(b))
	}
	return key, int64(binary.BigEndian.Uint64(b[n:])), nil
}

// eventKey is the events bucket key of the sub-th event at rev.
func eventKey(rev int64, sub uint32) []byte {
	b := make([]byte, revLen+4)
	binary.BigEndian.PutUint64(b, uint64(rev))
	binary.BigEndian.PutUint32(b[revLen:], sub)
	return b
}

func eventKeyRev(b []byte) int64 { return int64(binary.BigEndian.Uint64(b[:revLen])) }

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func i64(v int64) []byte { return u64(uint64(v)) }

func leaseKey(id int64) []byte { return i64(id) }

// leaseKeysKey is the lease_keys bucket key attaching key to lease id.
func leaseKeysKey(id int64, key []byte) []byte {
	return append(i64(id), key...)
}

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
