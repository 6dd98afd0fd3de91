package meta

import (
	"fmt"
	"strconv"

	"cairn.dev/cairn/node/rpcerr"
	streamdraftv1 "cairn.dev/cairn/proto/cairn/streamd/raft/v1"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
)

// ValidateCommitOffsets checks what an offset commit can be checked for
// without the state: the group name, topic names, partitions and offsets
// not negative, metadata at most MaxOffsetMetadataBytes. Its errors wrap
// ErrInvalidArgument with the field ("offsets[2].offset") and, for a bound,
// the limit.
func ValidateCommitOffsets(group string, offsets []*streamdv1.PartitionOffset) error {
	if err := ValidateGroupName(group); err != nil {
		return err
	}
	for i, o := range offsets {
		field := "offsets[" + strconv.Itoa(i) + "]"
		if err := ValidateTopicName(o.GetTopic()); err != nil {
			return invalid(field+".topic", "%q is not a topic name", o.GetTopic())
		}
		if o.GetPartition() < 0 {
			return rpcerr.WithMetadata(invalid(field+".partition", "is %d, it must not be negative", o.GetPartition()), rpcerr.KeyLimit, "0")
		}
		if o.GetOffset() < 0 {
			return rpcerr.WithMetadata(invalid(field+".offset", "is %d, it must not be negative", o.GetOffset()), rpcerr.KeyLimit, "0")
		}
		if n := len(o.GetMetadata()); n > MaxOffsetMetadataBytes {
			return rpcerr.WithMetadata(invalid(field+".metadata", "is %d bytes, at most %d are allowed", n, MaxOffsetMetadataBytes),
				rpcerr.KeyLimit, strconv.Itoa(MaxOffsetMetadataBytes))
		}
	}
	return nil
}

// commitOffsets records committed offsets, all or none: every topic must
// exist and have the partition.
func (a *applier) commitOffsets(op *streamdraftv1.CommitOffsetsOp) (*streamdraftv1.CommitOffsetsResult, error) {
	if err := ValidateCommitOffsets(op.GetGroup(), op.GetOffsets()); err != nil {
		return nil, failureOf(err)
	}
	topics := map[string]*streamdraftv1.TopicRecord{}
	for i, o := range op.GetOffsets() {
		t, ok := topics[o.GetTopic()]
		if !ok {
			var err error
			if t, err = getTopic(a.tx, o.GetTopic()); err != nil {
				return nil, err
			}
			if t == nil {
				return nil, fail(rpcerr.TopicNotFound, "topic %q does not exist", o.GetTopic()).
					with(rpcerr.KeyField, fmt.Sprintf("offsets[%d].topic", i))
			}
			topics[o.GetTopic()] = t
		}
		if o.GetPartition() >= t.Partitions {
			return nil, partitionNotFound(t, o.GetPartition()).with(rpcerr.KeyField, fmt.Sprintf("offsets[%d].partition", i))
		}
	}
	group := op.GetGroup()
	for _, o := range op.GetOffsets() {
		t := topics[o.GetTopic()]
		rec := &streamdraftv1.OffsetRecord{Offset: o.GetOffset(), Metadata: o.GetMetadata(), CommittedUnixNanos: a.now}
		if err := a.put(bucketOffsets, offsetKey(group, t.Id, o.GetPartition()), rec); err != nil {
			return nil, err
		}
		if err := a.tx.Bucket(bucketTopicGroups).Put(topicGroupKey(t.Id, group), nil); err != nil {
			return nil, err
		}
	}
	return &streamdraftv1.CommitOffsetsResult{Committed: int32(len(op.GetOffsets()))}, nil
}

// deleteGroup drops every offset a group committed.
func (a *applier) deleteGroup(op *streamdraftv1.DeleteGroupOp) (*streamdraftv1.DeleteGroupResult, error) {
	group := op.GetGroup()
	if err := ValidateGroupName(group); err != nil {
		return nil, failureOf(err)
	}
	keys := prefixKeys(a.tx.Bucket(bucketOffsets), groupPrefix(group))
	if len(keys) == 0 {
		return nil, fail(rpcerr.GroupNotFound, "group %q has no committed offsets", group).with(rpcerr.KeyField, "group")
	}
	for _, k := range keys {
		_, topicID, _, err := splitOffsetKey(k)
		if err != nil {
			return nil, err
		}
		if err := a.del(bucketOffsets, k); err != nil {
			return nil, err
		}
		if err := a.del(bucketTopicGroups, topicGroupKey(topicID, group)); err != nil {
			return nil, err
		}
	}
	return &streamdraftv1.DeleteGroupResult{OffsetsDeleted: int32(len(keys))}, nil
}

// allocateProducerID hands out the next producer id.
func (a *applier) allocateProducerID() (*streamdraftv1.AllocateProducerIdResult, error) {
	b := a.tx.Bucket(bucketMeta)
	next, ok, err := getUint(b, metaNextProducerID)
	if err != nil {
		return nil, err
	}
	if !ok {
		next = FirstProducerID
	}
	a.changed = true
	if err := putUint(b, metaNextProducerID, next+1); err != nil {
		return nil, err
	}
	return &streamdraftv1.AllocateProducerIdResult{ProducerId: int64(next)}, nil
}
