package meta

import (
	"cmp"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"
	"google.golang.org/protobuf/types/known/timestamppb"

	streamdraftv1 "cairn.dev/cairn/proto/cairn/streamd/raft/v1"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
)

// Reads see the state as of the last applied batch, each in one bbolt read
// transaction (so a read that returns several records returns a consistent
// set). They read the local state: a caller that needs a linearizable read
// does the Raft read barrier first. Returned records are the caller's.

// Node returns a registered node, or ErrNodeNotFound.
func (s *Store) Node(id string) (n *streamdraftv1.NodeRecord, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		if n, err = getNode(tx, id); err == nil && n == nil {
			err = fmt.Errorf("%w: %q", ErrNodeNotFound, id)
		}
		return err
	})
	return n, err
}

// Nodes returns every registered node, by id.
func (s *Store) Nodes() (out []*streamdraftv1.NodeRecord, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketNodes).ForEach(func(k, v []byte) error {
			n, err := unmarshal("node", k, v, &streamdraftv1.NodeRecord{})
			out = append(out, n)
			return err
		})
	})
	return out, err
}

// Topic returns a topic by name, or ErrTopicNotFound.
func (s *Store) Topic(name string) (t *streamdraftv1.TopicRecord, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		if t, err = getTopic(tx, name); err == nil && t == nil {
			err = fmt.Errorf("%w: %q", ErrTopicNotFound, name)
		}
		return err
	})
	return t, err
}

// TopicByID returns a topic by id, or ErrTopicNotFound (also for the id of a
// deleted topic).
func (s *Store) TopicByID(id uint64) (t *streamdraftv1.TopicRecord, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		if t, err = getTopicByID(tx, id); err == nil && t == nil {
			err = fmt.Errorf("%w: id %d", ErrTopicNotFound, id)
		}
		return err
	})
	return t, err
}

// Topics returns every topic, by name.
func (s *Store) Topics() (out []*streamdraftv1.TopicRecord, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketTopics).ForEach(func(k, v []byte) error {
			t, err := unmarshal("topic", k, v, &streamdraftv1.TopicRecord{})
			out = append(out, t)
			return err
		})
	})
	return out, err
}

// TopicState is a topic with its partitions, read together.
type TopicState struct {
	Topic *streamdraftv1.TopicRecord
	// Partitions are in partition order.
	Partitions []*streamdraftv1.PartitionRecord
}

// DescribeTopic returns a topic and its partitions, or ErrTopicNotFound.
func (s *Store) DescribeTopic(name string) (ts TopicState, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		t, err := getTopic(tx, name)
		if err != nil {
			return err
		}
		if t == nil {
			return fmt.Errorf("%w: %q", ErrTopicNotFound, name)
		}
		parts, err := topicPartitions(tx, t.Id)
		ts = TopicState{Topic: t, Partitions: parts}
		return err
	})
	return ts, err
}

// Metadata returns the nodes and the named topics with their partitions
// (every topic, by name, when names is empty), read together. Names of
// topics that do not exist are left out.
func (s *Store) Metadata(names ...string) (nodes []*streamdraftv1.NodeRecord, topics []TopicState, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		err := tx.Bucket(bucketNodes).ForEach(func(k, v []byte) error {
			n, err := unmarshal("node", k, v, &streamdraftv1.NodeRecord{})
			nodes = append(nodes, n)
			return err
		})
		if err != nil {
			return err
		}
		if len(names) == 0 {
			err = tx.Bucket(bucketTopics).ForEach(func(k, _ []byte) error {
				names = append(names, string(k))
				return nil
			})
			if err != nil {
				return err
			}
		}
		for _, name := range names {
			t, err := getTopic(tx, name)
			if err != nil {
				return err
			}
			if t == nil {
				continue
			}
			parts, err := topicPartitions(tx, t.Id)
			if err != nil {
				return err
			}
			topics = append(topics, TopicState{Topic: t, Partitions: parts})
		}
		return nil
	})
	return nodes, topics, err
}

// Partition returns one partition, or ErrTopicNotFound or
// ErrPartitionNotFound.
func (s *Store) Partition(topicID uint64, partition int32) (p *streamdraftv1.PartitionRecord, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		t, err := getTopicByID(tx, topicID)
		if err != nil {
			return err
		}
		if t == nil {
			return fmt.Errorf("%w: id %d", ErrTopicNotFound, topicID)
		}
		if partition < 0 || partition >= t.Partitions {
			return fmt.Errorf("%w: topic %q has %d partitions, not %d", ErrPartitionNotFound, t.Name, t.Partitions, partition)
		}
		if p, err = getPartition(tx, topicID, partition); err == nil && p == nil {
			err = fmt.Errorf("%w: topic %q has no record of partition %d", ErrCorrupt, t.Name, partition)
		}
		return err
	})
	return p, err
}

// Partitions returns a topic's partitions in order, or ErrTopicNotFound.
func (s *Store) Partitions(topicID uint64) (out []*streamdraftv1.PartitionRecord, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		t, err := getTopicByID(tx, topicID)
		if err != nil {
			return err
		}
		if t == nil {
			return fmt.Errorf("%w: id %d", ErrTopicNotFound, topicID)
		}
		out, err = topicPartitions(tx, topicID)
		return err
	})
	return out, err
}

// Replica is one partition a node holds, with its topic.
type Replica struct {
	Topic     *streamdraftv1.TopicRecord
	Partition *streamdraftv1.PartitionRecord
}

// ReplicasOn returns every partition whose replicas include nodeID, by topic
// id and partition, each with its topic (records of one topic share the
// TopicRecord). The server reconciles its local replicas with it.
func (s *Store) ReplicasOn(nodeID string) (out []Replica, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		var t *streamdraftv1.TopicRecord
		return tx.Bucket(bucketPartitions).ForEach(func(k, v []byte) error {
			p, err := unmarshal("partition", k, v, &streamdraftv1.PartitionRecord{})
			if err != nil {
				return err
			}
			if !slices.Contains(p.Replicas, nodeID) {
				return nil
			}
			if t == nil || t.Id != p.TopicId {
				if t, err = getTopicByID(tx, p.TopicId); err != nil {
					return err
				}
				if t == nil {
					return fmt.Errorf("%w: partition %x of no topic", ErrCorrupt, k)
				}
			}
			out = append(out, Replica{Topic: t, Partition: p})
			return nil
		})
	})
	return out, err
}

// GroupOffsets returns a group's committed offsets, by topic name and
// partition: every one when filter is empty, else those of the partitions
// filter names (a partition never committed, or of an unknown topic, is
// absent). A group that committed nothing has no offsets (and no error).
func (s *Store) GroupOffsets(group string, filter []*streamdv1.TopicPartition) (out []*streamdv1.PartitionOffset, err error) {
	want := map[string]map[int32]bool{}
	for _, tp := range filter {
		if want[tp.GetTopic()] == nil {
			want[tp.GetTopic()] = map[int32]bool{}
		}
		want[tp.GetTopic()][tp.GetPartition()] = true
	}
	err = s.view(func(tx *bbolt.Tx) error {
		names := map[uint64]string{}
		prefix := groupPrefix(group)
		c := tx.Bucket(bucketOffsets).Cursor()
		for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
			_, topicID, p, err := splitOffsetKey(k)
			if err != nil {
				return err
			}
			name, ok := names[topicID]
			if !ok {
				n := tx.Bucket(bucketTopicIDs).Get(topicIDKey(topicID))
				if n == nil {
					return fmt.Errorf("%w: offset %x of no topic", ErrCorrupt, k)
				}
				name = string(n)
				names[topicID] = name
			}
			if len(filter) > 0 && !want[name][p] {
				continue
			}
			rec, err := unmarshal("offset", k, v, &streamdraftv1.OffsetRecord{})
			if err != nil {
				return err
			}
			out = append(out, &streamdv1.PartitionOffset{Topic: name, Partition: p, Offset: rec.Offset,
				Metadata: rec.Metadata, Committed: timestamppb.New(unixNanos(rec.CommittedUnixNanos))})
		}
		return nil
	})
	slices.SortFunc(out, func(a, b *streamdv1.PartitionOffset) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return out, err
}

// Groups returns the groups that have committed offsets, by name.
func (s *Store) Groups() (out []string, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketOffsets).Cursor()
		for k, _ := c.First(); k != nil; {
			group, _, _, err := splitOffsetKey(k)
			if err != nil {
				return err
			}
			out = append(out, group)
			// Skip the group's other offsets: seek past group ‖ 0.
			k, _ = c.Seek(append([]byte(group), 1))
		}
		return nil
	})
	return out, err
}
