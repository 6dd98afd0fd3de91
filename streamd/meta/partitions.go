package meta

import (
	"fmt"
	"slices"
	"strconv"

	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node/rpcerr"
	streamdraftv1 "cairn.dev/cairn/proto/cairn/streamd/raft/v1"
)

// partitionNotFound is the failure for a partition a topic does not have.
func partitionNotFound(t *streamdraftv1.TopicRecord, p int32) *failure {
	return fail(rpcerr.PartitionNotFound, "topic %q has %d partitions, not %d", t.Name, t.Partitions, p).
		with(rpcerr.KeyField, "partition", rpcerr.KeyLimit, strconv.Itoa(int(t.Partitions)))
}

// loadPartition returns a partition by topic id, or the failure saying
// which of the two does not exist.
func (a *applier) loadPartition(topicID uint64, p int32) (*streamdraftv1.TopicRecord, *streamdraftv1.PartitionRecord, error) {
	t, err := getTopicByID(a.tx, topicID)
	if err != nil {
		return nil, nil, err
	}
	if t == nil {
		return nil, nil, fail(rpcerr.TopicNotFound, "no topic has id %d", topicID).with(rpcerr.KeyField, "topic_id")
	}
	if p < 0 || p >= t.Partitions {
		return nil, nil, partitionNotFound(t, p)
	}
	rec, err := getPartition(a.tx, topicID, p)
	if err != nil {
		return nil, nil, err
	}
	if rec == nil {
		return nil, nil, fmt.Errorf("%w: topic %q has no record of partition %d", ErrCorrupt, t.Name, p)
	}
	return t, rec, nil
}

// alterPartition replaces a partition's ISR on behalf of its current leader.
func (a *applier) alterPartition(op *streamdraftv1.AlterPartitionOp) (*streamdraftv1.PartitionsResult, error) {
	_, p, err := a.loadPartition(op.GetTopicId(), op.GetPartition())
	if err != nil {
		return nil, err
	}
	if op.GetLeader() == "" || op.GetLeader() != p.Leader || op.GetLeaderEpoch() != p.LeaderEpoch || op.GetPartitionEpoch() != p.PartitionEpoch {
		f := fail(rpcerr.FencedLeaderEpoch, "partition %d of topic %d is led by %q at leader epoch %d, partition epoch %d; the request names %q at %d, %d",
			p.Partition, p.TopicId, p.Leader, p.LeaderEpoch, p.PartitionEpoch, op.GetLeader(), op.GetLeaderEpoch(), op.GetPartitionEpoch()).
			with(rpcerr.KeyLeader, p.Leader, KeyEpoch, strconv.Itoa(int(p.LeaderEpoch)), KeyPartitionEpoch, strconv.Itoa(int(p.PartitionEpoch)))
		f.partition = p
		return nil, f
	}
	nodes, err := a.nodes()
	if err != nil {
		return nil, err
	}
	newISR := op.GetNewIsr()
	for i, r := range newISR {
		field := "new_isr[" + strconv.Itoa(i) + "]"
		switch {
		case !slices.Contains(p.Replicas, r):
			return nil, fail(rpcerr.InvalidArgument, "%q is not a replica of the partition (%v)", r, p.Replicas).with(rpcerr.KeyField, field)
		case slices.Contains(newISR[:i], r):
			return nil, fail(rpcerr.InvalidArgument, "%q is named twice", r).with(rpcerr.KeyField, field)
		case !slices.Contains(p.Isr, r) && nodes[r].GetFenced():
			return nil, fail(rpcerr.InvalidArgument, "%q is fenced and may not join the ISR", r).with(rpcerr.KeyField, field)
		}
	}
	if !slices.Contains(newISR, p.Leader) {
		return nil, fail(rpcerr.InvalidArgument, "new_isr %v must hold the leader %q", newISR, p.Leader).with(rpcerr.KeyField, "new_isr")
	}
	before := proto.Clone(p).(*streamdraftv1.PartitionRecord)
	// The ISR is kept in replica order, so that an equal set is an equal
	// record.
	p.Isr = slices.DeleteFunc(slices.Clone(p.Replicas), func(r string) bool { return !slices.Contains(newISR, r) })
	if err := a.savePartition(before, p, nil); err != nil {
		return nil, err
	}
	return &streamdraftv1.PartitionsResult{Partitions: []*streamdraftv1.PartitionRecord{p}}, nil
}

// electPreferredLeader moves the leadership of the named partitions to their
// first replica where it is in the ISR, unfenced and not the leader.
func (a *applier) electPreferredLeader(op *streamdraftv1.ElectPreferredLeaderOp) (*streamdraftv1.PartitionsResult, error) {
	nodes, err := a.nodes()
	if err != nil {
		return nil, err
	}
	prefer := func(p *streamdraftv1.PartitionRecord) {
		if pref := p.Replicas[0]; p.Leader != pref && slices.Contains(p.Isr, pref) && nodes[pref] != nil && !nodes[pref].Fenced {
			setLeader(p, pref)
		}
	}
	res := &streamdraftv1.PartitionsResult{}
	if op.GetTopicId() == 0 {
		if op.Partition != nil {
			return nil, fail(rpcerr.InvalidArgument, "partition needs a topic_id").with(rpcerr.KeyField, "partition")
		}
		return res, a.eachPartition(prefer, &res.Partitions)
	}
	t, err := getTopicByID(a.tx, op.GetTopicId())
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, fail(rpcerr.TopicNotFound, "no topic has id %d", op.GetTopicId()).with(rpcerr.KeyField, "topic_id")
	}
	var parts []*streamdraftv1.PartitionRecord
	if op.Partition != nil {
		_, p, err := a.loadPartition(t.Id, op.GetPartition())
		if err != nil {
			return nil, err
		}
		parts = []*streamdraftv1.PartitionRecord{p}
	} else if parts, err = topicPartitions(a.tx, t.Id); err != nil {
		return nil, err
	}
	for _, p := range parts {
		before := proto.Clone(p).(*streamdraftv1.PartitionRecord)
		prefer(p)
		if err := a.savePartition(before, p, &res.Partitions); err != nil {
			return nil, err
		}
	}
	return res, nil
}
