package meta

import (
	"context"
	"time"

	"cairn.dev/cairn/node/raftnode"
	streamdraftv1 "cairn.dev/cairn/proto/cairn/streamd/raft/v1"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
)

// ApplyFunc commits an encoded Command and returns the state machine's
// encoded result: raftnode's Node.Apply (forwarded to the leader) or
// ApplyAsLeader.
type ApplyFunc func(ctx context.Context, cmd []byte) ([]byte, error)

// Propose stamps cmd with now (the only clock the state machine sees),
// commits it through apply and decodes its result. Errors of apply
// (raftnode's sentinels) and decoding come back with a nil result. A failure
// the state machine recorded comes back as ResultError's error (a sentinel
// of this package, with rpcerr metadata) together with the result, which for
// a stale AlterPartition holds the partition's current state.
func Propose(ctx context.Context, apply ApplyFunc, now time.Time, cmd *streamdraftv1.Command) (*streamdraftv1.CommandResult, error) {
	cmd.UnixNanos = now.UnixNano()
	res, err := raftnode.Propose[streamdraftv1.CommandResult](ctx, apply, cmd)
	if err != nil {
		return nil, err
	}
	return res, ResultError(res)
}

// RegisterNode adds node id at addr, or updates its address; a new node is
// unfenced. Result: node.
func RegisterNode(id, addr string) *streamdraftv1.Command {
	return RegisterIncarnation(id, addr, 0)
}

// RegisterIncarnation is RegisterNode for a node's run identified by
// incarnation (its process start time): a known node with another
// incarnation restarted and is fenced in the same entry.
func RegisterIncarnation(id, addr string, incarnation int64) *streamdraftv1.Command {
	return &streamdraftv1.Command{Op: &streamdraftv1.Command_RegisterNode{RegisterNode: &streamdraftv1.RegisterNodeOp{Id: id, Addr: addr, Incarnation: incarnation}}}
}

// FenceNode fences node id: it leaves every ISR that has another member, and
// each partition it led gets the first unfenced ISR replica as leader (none:
// offline). Result: node, with the partitions changed.
func FenceNode(id string) *streamdraftv1.Command {
	return &streamdraftv1.Command{Op: &streamdraftv1.Command_FenceNode{FenceNode: &streamdraftv1.FenceNodeOp{Id: id}}}
}

// UnfenceNode unfences node id; offline partitions whose ISR holds it get it
// as leader. Result: node, with the partitions changed.
func UnfenceNode(id string) *streamdraftv1.Command {
	return &streamdraftv1.Command{Op: &streamdraftv1.Command_UnfenceNode{UnfenceNode: &streamdraftv1.UnfenceNodeOp{Id: id}}}
}

// CreateTopic creates a topic; cfg should be complete (WithDefaults).
// Result: topic.
func CreateTopic(name string, partitions, replication int32, cfg *streamdv1.TopicConfig) *streamdraftv1.Command {
	return &streamdraftv1.Command{Op: &streamdraftv1.Command_CreateTopic{CreateTopic: &streamdraftv1.CreateTopicOp{
		Name: name, Partitions: partitions, Replication: replication, Config: cfg}}}
}

// DeleteTopic deletes a topic, its partitions and its committed offsets.
// Result: delete_topic.
func DeleteTopic(name string) *streamdraftv1.Command {
	return &streamdraftv1.Command{Op: &streamdraftv1.Command_DeleteTopic{DeleteTopic: &streamdraftv1.DeleteTopicOp{Name: name}}}
}

// AddPartitions raises a topic's partition count to total. Result: topic.
func AddPartitions(name string, total int32) *streamdraftv1.Command {
	return &streamdraftv1.Command{Op: &streamdraftv1.Command_AddPartitions{AddPartitions: &streamdraftv1.AddPartitionsOp{Name: name, Total: total}}}
}

// UpdateTopicConfig changes the configuration fields named in mask. Result:
// topic.
func UpdateTopicConfig(name string, cfg *streamdv1.TopicConfig, mask []string) *streamdraftv1.Command {
	return &streamdraftv1.Command{Op: &streamdraftv1.Command_UpdateTopicConfig{UpdateTopicConfig: &streamdraftv1.UpdateTopicConfigOp{
		Name: name, Config: cfg, Mask: mask}}}
}

// AlterPartition asks to replace the ISR of partition cur (the leader's view
// of it: its leader and epochs must still be current) with newISR. Result:
// partitions, the one partition as it is now (also when refused with
// ErrFencedLeaderEpoch).
func AlterPartition(cur *streamdraftv1.PartitionRecord, newISR []string) *streamdraftv1.Command {
	return &streamdraftv1.Command{Op: &streamdraftv1.Command_AlterPartition{AlterPartition: &streamdraftv1.AlterPartitionOp{
		TopicId: cur.GetTopicId(), Partition: cur.GetPartition(), Leader: cur.GetLeader(),
		LeaderEpoch: cur.GetLeaderEpoch(), PartitionEpoch: cur.GetPartitionEpoch(), NewIsr: newISR}}}
}

// ElectPreferredLeader moves the leadership of one partition to its first
// replica when that is in the ISR, unfenced and not the leader. Result:
// partitions, those whose leader changed.
func ElectPreferredLeader(topicID uint64, partition int32) *streamdraftv1.Command {
	return &streamdraftv1.Command{Op: &streamdraftv1.Command_ElectPreferredLeader{ElectPreferredLeader: &streamdraftv1.ElectPreferredLeaderOp{
		TopicId: topicID, Partition: &partition}}}
}

// ElectPreferredLeaders is ElectPreferredLeader for every partition of a
// topic, or of every topic when topicID is 0.
func ElectPreferredLeaders(topicID uint64) *streamdraftv1.Command {
	return &streamdraftv1.Command{Op: &streamdraftv1.Command_ElectPreferredLeader{ElectPreferredLeader: &streamdraftv1.ElectPreferredLeaderOp{
		TopicId: topicID}}}
}

// CommitOffsets records a group's offsets, all or none. Result:
// commit_offsets.
func CommitOffsets(group string, offsets []*streamdv1.PartitionOffset) *streamdraftv1.Command {
	return &streamdraftv1.Command{Op: &streamdraftv1.Command_CommitOffsets{CommitOffsets: &streamdraftv1.CommitOffsetsOp{
		Group: group, Offsets: offsets}}}
}

// DeleteGroup drops a group's committed offsets. Result: delete_group.
func DeleteGroup(group string) *streamdraftv1.Command {
	return &streamdraftv1.Command{Op: &streamdraftv1.Command_DeleteGroup{DeleteGroup: &streamdraftv1.DeleteGroupOp{Group: group}}}
}

// AllocateProducerID hands out the next producer id (FirstProducerID,
// then one more each time). Result: allocate_producer_id.
func AllocateProducerID() *streamdraftv1.Command {
	return &streamdraftv1.Command{Op: &streamdraftv1.Command_AllocateProducerId{AllocateProducerId: &streamdraftv1.AllocateProducerIdOp{}}}
}
