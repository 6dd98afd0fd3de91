package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
)

// Bucket and key names. They are part of the on-disk format (see the package
// documentation).
var (
	bucketMeta   = []byte("meta")
	bucketQueues = []byte("queues")
	bucketIDs    = []byte("ids")
	bucketDLSrc  = []byte("dlsrc")
	bucketSubs   = []byte("subs")
	bucketTopics = []byte("topics")
	bucketDead   = []byte("dead")
	bucketTimers = []byte("timers")
	bucketQ      = []byte("q")

	allBuckets = [][]byte{bucketMeta, bucketQueues, bucketIDs, bucketDLSrc, bucketSubs,
		bucketTopics, bucketDead, bucketTimers, bucketQ}

	// Buckets inside q/<id>.
	subMessages = []byte("m")
	subAvail    = []byte("a")
	subReady    = []byte("r")
	subGroups   = []byte("g")
	subAge      = []byte("e")
	subDedup    = []byte("d")

	queueSubs = [][]byte{subMessages, subAvail, subReady, subGroups, subAge, subDedup}

	metaApplied  = []byte("applied")
	metaNextID   = []byte("next_id")
	metaQueues   = []byte("queues")
	metaTopics   = []byte("topics")
	metaMessages = []byte("messages")
)

// Timer kinds (the byte after the time in a timers key).
const (
	timerVisible   byte = 1 // tail: seq
	timerRetention byte = 2 // no tail
	timerDedup     byte = 3 // tail: dedup id
	timerFree      byte = 4 // no tail
)

// meta is the content of the meta bucket.
type meta struct {
	applied  uint64
	nextID   uint64
	queues   int64
	topics   int64
	messages int64
}

func readMeta(tx *bbolt.Tx) (meta, error) {
	b := tx.Bucket(bucketMeta)
	if b == nil {
		return meta{}, fmt.Errorf("%w: no meta bucket", ErrCorrupt)
	}
	m := meta{nextID: 1}
	for _, f := range []struct {
		key []byte
		set func(uint64)
	}{
		{metaApplied, func(v uint64) { m.applied = v }},
		{metaNextID, func(v uint64) { m.nextID = v }},
		{metaQueues, func(v uint64) { m.queues = int64(v) }},
		{metaTopics, func(v uint64) { m.topics = int64(v) }},
		{metaMessages, func(v uint64) { m.messages = int64(v) }},
	} {
		v := b.Get(f.key)
		if v == nil {
			continue
		}
		if len(v) != 8 {
			return meta{}, fmt.Errorf("%w: meta %s has %d bytes", ErrCorrupt, f.key, len(v))
		}
		f.set(binary.BigEndian.Uint64(v))
	}
	return m, nil
}

func writeMeta(tx *bbolt.Tx, m meta) error {
	b := tx.Bucket(bucketMeta)
	for _, f := range []struct {
		key []byte
		v   uint64
	}{
		{metaApplied, m.applied},
		{metaNextID, m.nextID},
		{metaQueues, uint64(m.queues)},
		{metaTopics, uint64(m.topics)},
		{metaMessages, uint64(m.messages)},
	} {
		if err := b.Put(f.key, u64(f.v)); err != nil {
			return err
		}
	}
	return nil
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// tsBits maps a unix-nanos time to a uint64 that sorts like it.
func tsBits(t int64) uint64 { return uint64(t) ^ (1 << 63) }

func bitsTS(v uint64) int64 { return int64(v ^ (1 << 63)) }

// timeSeqKey is time ‖ seq, the key of the a and e buckets.
func timeSeqKey(t int64, seq uint64) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, tsBits(t))
	binary.BigEndian.PutUint64(b[8:], seq)
	return b
}

func splitTimeSeq(k []byte) (int64, uint64) {
	return bitsTS(binary.BigEndian.Uint64(k)), binary.BigEndian.Uint64(k[8:])
}

// groupPrefix is len16 ‖ group, the prefix of a group's keys in g.
func groupPrefix(group string) []byte {
	b := make([]byte, 2+len(group), 2+len(group)+8)
	binary.BigEndian.PutUint16(b, uint16(len(group)))
	copy(b[2:], group)
	return b
}

func groupKey(group string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(groupPrefix(group), seq)
}

// timerKey is time ‖ kind ‖ queue id ‖ tail.
func timerKey(t int64, kind byte, qid uint64, tail []byte) []byte {
	b := make([]byte, 17, 17+len(tail))
	binary.BigEndian.PutUint64(b, tsBits(t))
	b[8] = kind
	binary.BigEndian.PutUint64(b[9:], qid)
	return append(b, tail...)
}

func timerTime(k []byte) int64 { return bitsTS(binary.BigEndian.Uint64(k)) }

// parseTimer splits a timers key; ok is false for a key too short.
func parseTimer(k []byte) (t int64, kind byte, qid uint64, tail []byte, ok bool) {
	if len(k) < 17 {
		return 0, 0, 0, nil, false
	}
	return timerTime(k), k[8], binary.BigEndian.Uint64(k[9:]), k[17:], true
}

// pairKey is a ‖ 0 ‖ b, the key of dlsrc and subs.
func pairKey(a, b string) []byte {
	k := make([]byte, 0, len(a)+1+len(b))
	k = append(k, a...)
	k = append(k, 0)
	return append(k, b...)
}

// messageID derives a message's id from the queue id, its sequence, the
// index of the entry that created it and that entry's time: a UUID-shaped
// string (version 8, the custom one), the same on every replica. The time
// makes the ids of two clusters (or of a queue purged and refilled) differ.
func messageID(qid, seq, index uint64, unixNanos int64) string {
	var in [32]byte
	binary.BigEndian.PutUint64(in[:], qid)
	binary.BigEndian.PutUint64(in[8:], seq)
	binary.BigEndian.PutUint64(in[16:], index)
	binary.BigEndian.PutUint64(in[24:], uint64(unixNanos))
	h := sha256.Sum256(in[:])
	u := h[:16]
	u[6] = u[6]&0x0f | 0x80
	u[8] = u[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], u[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], u[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], u[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], u[8:10])
	out[23] = '-'
	hex.Encode(out[24:], u[10:])
	return string(out[:])
}

// marshal encodes m deterministically, so replicas write identical bytes.
func marshal(m proto.Message) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

// empty is the value of index keys. Not nil: a bbolt Get inside the writing
// transaction returns a nil value as if the key were missing.
var empty = []byte{}
