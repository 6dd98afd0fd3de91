package meta

import (
	"strconv"

	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node/rpcerr"
	streamdraftv1 "cairn.dev/cairn/proto/cairn/streamd/raft/v1"
)

// topicNotFound is the failure for a topic name that does not exist.
func topicNotFound(name string) *failure {
	return fail(rpcerr.TopicNotFound, "topic %q does not exist", name).with(rpcerr.KeyField, "name")
}

// createTopic creates a topic, or finds an identical one.
func (a *applier) createTopic(op *streamdraftv1.CreateTopicOp) (*streamdraftv1.TopicResult, error) {
	if err := ValidateTopicName(op.GetName()); err != nil {
		return nil, failureOf(err)
	}
	if err := ValidatePartitions(op.GetPartitions(), MaxPartitions); err != nil {
		return nil, failureOf(err)
	}
	replication := op.GetReplication()
	if replication < 1 {
		return nil, fail(rpcerr.InvalidArgument, "replication is %d, it must be at least 1", replication).
			with(rpcerr.KeyField, "replication", rpcerr.KeyLimit, "1")
	}
	cfg := WithDefaults(op.GetConfig(), replication)
	if err := ValidateTopicConfig(cfg, replication); err != nil {
		return nil, failureOf(err)
	}
	t, err := getTopic(a.tx, op.GetName())
	if err != nil {
		return nil, err
	}
	if t != nil {
		if t.Partitions != op.GetPartitions() || t.Replication != replication || !proto.Equal(t.Config, cfg) {
			return nil, fail(rpcerr.TopicExists, "topic %q exists with %d partitions, replication %d and another configuration",
				t.Name, t.Partitions, t.Replication).with(rpcerr.KeyField, "name")
		}
		parts, err := topicPartitions(a.tx, t.Id)
		if err != nil {
			return nil, err
		}
		return &streamdraftv1.TopicResult{Topic: t, Partitions: parts}, nil
	}
	nodes, registered, err := a.unfencedNodes()
	if err != nil {
		return nil, err
	}
	if err := checkNodes(replication, nodes, registered); err != nil {
		return nil, err
	}
	t = &streamdraftv1.TopicRecord{Id: a.index, Name: op.GetName(), Replication: replication, Config: cfg,
		CreatedUnixNanos: a.now, Partitions: op.GetPartitions()}
	if err := a.put(bucketTopics, []byte(t.Name), t); err != nil {
		return nil, err
	}
	a.changed = true
	if err := a.tx.Bucket(bucketTopicIDs).Put(topicIDKey(t.Id), []byte(t.Name)); err != nil {
		return nil, err
	}
	parts, err := a.newPartitions(t, 0, t.Partitions, nodes)
	if err != nil {
		return nil, err
	}
	return &streamdraftv1.TopicResult{Topic: t, Partitions: parts, Created: true}, nil
}

// newPartitions places and writes partitions [from, to) of t over nodes.
func (a *applier) newPartitions(t *streamdraftv1.TopicRecord, from, to int32, nodes []string) ([]*streamdraftv1.PartitionRecord, error) {
	var out []*streamdraftv1.PartitionRecord
	for p := from; p < to; p++ {
		replicas := place(nodes, t.Id, p, t.Replication)
		rec := &streamdraftv1.PartitionRecord{TopicId: t.Id, Partition: p, Replicas: replicas,
			Leader: replicas[0], Isr: append([]string(nil), replicas...)}
		if err := a.put(bucketPartitions, partitionKey(t.Id, p), rec); err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// deleteTopic deletes a topic, its partitions and every offset committed for
// it.
func (a *applier) deleteTopic(op *streamdraftv1.DeleteTopicOp) (*streamdraftv1.DeleteTopicResult, error) {
	t, err := getTopic(a.tx, op.GetName())
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, topicNotFound(op.GetName())
	}
	if err := a.del(bucketTopics, []byte(t.Name)); err != nil {
		return nil, err
	}
	if err := a.del(bucketTopicIDs, topicIDKey(t.Id)); err != nil {
		return nil, err
	}
	for p := range t.Partitions {
		if err := a.del(bucketPartitions, partitionKey(t.Id, p)); err != nil {
			return nil, err
		}
	}
	// Collect first: deleting under a bbolt cursor skips keys.
	prefix := topicIDKey(t.Id)
	var groups [][]byte
	c := a.tx.Bucket(bucketTopicGroups).Cursor()
	for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
		groups = append(groups, append([]byte(nil), k...))
	}
	var deleted int64
	for _, k := range groups {
		group := string(k[len(prefix):])
		keys := prefixKeys(a.tx.Bucket(bucketOffsets), append(groupPrefix(group), prefix...))
		for _, ok := range keys {
			if err := a.del(bucketOffsets, ok); err != nil {
				return nil, err
			}
		}
		deleted += int64(len(keys))
		if err := a.del(bucketTopicGroups, k); err != nil {
			return nil, err
		}
	}
	return &streamdraftv1.DeleteTopicResult{Topic: t, OffsetsDeleted: deleted}, nil
}

// addPartitions raises a topic's partition count, placing the new
// partitions over the unfenced nodes as CreateTopic does.
func (a *applier) addPartitions(op *streamdraftv1.AddPartitionsOp) (*streamdraftv1.TopicResult, error) {
	t, err := getTopic(a.tx, op.GetName())
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, topicNotFound(op.GetName())
	}
	total := op.GetTotal()
	if total <= t.Partitions {
		return nil, fail(rpcerr.InvalidArgument, "partitions is %d, it must exceed the current count %d", total, t.Partitions).
			with(rpcerr.KeyField, "partitions", rpcerr.KeyLimit, strconv.Itoa(int(t.Partitions)))
	}
	if total > MaxPartitions {
		return nil, fail(rpcerr.InvalidArgument, "partitions is %d, at most %d are allowed", total, MaxPartitions).
			with(rpcerr.KeyField, "partitions", rpcerr.KeyLimit, strconv.Itoa(MaxPartitions))
	}
	nodes, registered, err := a.unfencedNodes()
	if err != nil {
		return nil, err
	}
	if err := checkNodes(t.Replication, nodes, registered); err != nil {
		return nil, err
	}
	from := t.Partitions
	t.Partitions = total
	if err := a.put(bucketTopics, []byte(t.Name), t); err != nil {
		return nil, err
	}
	if _, err := a.newPartitions(t, from, total, nodes); err != nil {
		return nil, err
	}
	parts, err := topicPartitions(a.tx, t.Id)
	if err != nil {
		return nil, err
	}
	return &streamdraftv1.TopicResult{Topic: t, Partitions: parts}, nil
}

// updateTopicConfig changes the configuration fields named in the mask.
func (a *applier) updateTopicConfig(op *streamdraftv1.UpdateTopicConfigOp) (*streamdraftv1.TopicResult, error) {
	t, err := getTopic(a.tx, op.GetName())
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, topicNotFound(op.GetName())
	}
	cfg, err := MergeTopicConfig(t.Config, op.GetConfig(), op.GetMask(), t.Replication)
	if err != nil {
		return nil, failureOf(err)
	}
	if !proto.Equal(cfg, t.Config) {
		t.Config = cfg
		if err := a.put(bucketTopics, []byte(t.Name), t); err != nil {
			return nil, err
		}
	}
	parts, err := topicPartitions(a.tx, t.Id)
	if err != nil {
		return nil, err
	}
	return &streamdraftv1.TopicResult{Topic: t, Partitions: parts}, nil
}
