package meta

import (
	"encoding/binary"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	streamdraftv1 "cairn.dev/cairn/proto/cairn/streamd/raft/v1"
)

// Bucket and key names: part of the on-disk format (see doc.go).
var (
	bucketMeta        = []byte("meta")
	bucketNodes       = []byte("nodes")
	bucketTopics      = []byte("topics")
	bucketTopicIDs    = []byte("topicids")
	bucketPartitions  = []byte("partitions")
	bucketOffsets     = []byte("offsets")
	bucketTopicGroups = []byte("topicgroups")

	allBuckets = [][]byte{bucketMeta, bucketNodes, bucketTopics, bucketTopicIDs,
		bucketPartitions, bucketOffsets, bucketTopicGroups}

	metaNextProducerID = []byte("next_producer_id")
)

// partitionKey is topic id ‖ partition, big-endian, so a topic's partitions
// are adjacent and in order.
func partitionKey(topicID uint64, p int32) []byte {
	k := make([]byte, 12)
	binary.BigEndian.PutUint64(k, topicID)
	binary.BigEndian.PutUint32(k[8:], uint32(p))
	return k
}

func topicIDKey(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

// offsetKey is group ‖ 0 ‖ topic id ‖ partition; group names hold no NUL,
// so a group's offsets are adjacent, by topic id and partition.
func offsetKey(group string, topicID uint64, p int32) []byte {
	k := append(groupPrefix(group), topicIDKey(topicID)...)
	return binary.BigEndian.AppendUint32(k, uint32(p))
}

func groupPrefix(group string) []byte { return append([]byte(group), 0) }

// splitOffsetKey is the inverse of offsetKey.
func splitOffsetKey(k []byte) (group string, topicID uint64, p int32, err error) {
	if len(k) < 13 || k[len(k)-13] != 0 {
		return "", 0, 0, fmt.Errorf("%w: offset key %x", ErrCorrupt, k)
	}
	n := len(k) - 13
	return string(k[:n]), binary.BigEndian.Uint64(k[n+1:]), int32(binary.BigEndian.Uint32(k[n+9:])), nil
}

// topicGroupKey is topic id ‖ group: the index of the groups that committed
// offsets of a topic, for DeleteTopic.
func topicGroupKey(topicID uint64, group string) []byte {
	return append(topicIDKey(topicID), group...)
}

func getUint(b *bbolt.Bucket, key []byte) (uint64, bool, error) {
	v := b.Get(key)
	if v == nil {
		return 0, false, nil
	}
	if len(v) != 8 {
		return 0, false, fmt.Errorf("%w: meta %s is %d bytes", ErrCorrupt, key, len(v))
	}
	return binary.BigEndian.Uint64(v), true, nil
}

func putUint(b *bbolt.Bucket, key []byte, v uint64) error {
	return b.Put(key, binary.BigEndian.AppendUint64(nil, v))
}

// unmarshal decodes a stored record.
func unmarshal[M proto.Message](what string, key, v []byte, m M) (M, error) {
	if err := proto.Unmarshal(v, m); err != nil {
		return m, fmt.Errorf("%w: %s %x: %v", ErrCorrupt, what, key, err)
	}
	return m, nil
}

func put(b *bbolt.Bucket, key []byte, m proto.Message) error {
	v, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return err
	}
	return b.Put(key, v)
}

func getNode(tx *bbolt.Tx, id string) (*streamdraftv1.NodeRecord, error) {
	v := tx.Bucket(bucketNodes).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	return unmarshal("node", []byte(id), v, &streamdraftv1.NodeRecord{})
}

func getTopic(tx *bbolt.Tx, name string) (*streamdraftv1.TopicRecord, error) {
	v := tx.Bucket(bucketTopics).Get([]byte(name))
	if v == nil {
		return nil, nil
	}
	return unmarshal("topic", []byte(name), v, &streamdraftv1.TopicRecord{})
}

func getTopicByID(tx *bbolt.Tx, id uint64) (*streamdraftv1.TopicRecord, error) {
	name := tx.Bucket(bucketTopicIDs).Get(topicIDKey(id))
	if name == nil {
		return nil, nil
	}
	t, err := getTopic(tx, string(name))
	if err == nil && t == nil {
		return nil, fmt.Errorf("%w: topic id %d names %q, which does not exist", ErrCorrupt, id, name)
	}
	return t, err
}

func getPartition(tx *bbolt.Tx, topicID uint64, p int32) (*streamdraftv1.PartitionRecord, error) {
	k := partitionKey(topicID, p)
	v := tx.Bucket(bucketPartitions).Get(k)
	if v == nil {
		return nil, nil
	}
	return unmarshal("partition", k, v, &streamdraftv1.PartitionRecord{})
}

// topicPartitions returns a topic's partitions in order.
func topicPartitions(tx *bbolt.Tx, topicID uint64) ([]*streamdraftv1.PartitionRecord, error) {
	var out []*streamdraftv1.PartitionRecord
	prefix := topicIDKey(topicID)
	c := tx.Bucket(bucketPartitions).Cursor()
	for k, v := c.Seek(prefix); k != nil && len(k) == 12 && string(k[:8]) == string(prefix); k, v = c.Next() {
		p, err := unmarshal("partition", k, v, &streamdraftv1.PartitionRecord{})
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func hasPrefix(k, prefix []byte) bool {
	return len(k) >= len(prefix) && string(k[:len(prefix)]) == string(prefix)
}

// prefixKeys returns copies of the keys of b that start with prefix.
func prefixKeys(b *bbolt.Bucket, prefix []byte) [][]byte {
	var out [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
		out = append(out, append([]byte(nil), k...))
	}
	return out
}

func unixNanos(n int64) time.Time { return time.Unix(0, n).UTC() }
