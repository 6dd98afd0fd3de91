package meta

import (
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/node/rpcerr"
	streamdraftv1 "cairn.dev/cairn/proto/cairn/streamd/raft/v1"
)

// ApplyBatch applies committed entries in order, in one bbolt transaction
// that also records the last entry's index, and returns one encoded
// streamdraftv1.CommandResult per entry. Entries at or below the applied
// index are skipped (their result is empty). A command that fails (no such
// topic, a stale AlterPartition, ...) changes nothing and carries the
// failure in its result. An error is a storage failure: nothing in the
// batch was applied and the store refuses every later batch. Called by one
// goroutine at a time.
func (s *Store) ApplyBatch(entries []raftnode.Entry) ([][]byte, error) {
	return s.sm.ApplyBatch(entries)
}

// apply is the boltsm.ApplyFunc of the store: it applies one entry and
// encodes its result deterministically.
func apply(tx *bbolt.Tx, e raftnode.Entry) ([]byte, bool, error) {
	a := &applier{tx: tx}
	res, err := a.applyEntry(e)
	if err != nil {
		return nil, false, fmt.Errorf("meta: apply entry %d: %w", e.Index, err)
	}
	out, err := proto.MarshalOptions{Deterministic: true}.Marshal(res)
	if err != nil {
		return nil, false, fmt.Errorf("meta: encode result of entry %d: %w", e.Index, err)
	}
	return out, a.changed, nil
}

// applier applies one entry inside its batch's write transaction.
type applier struct {
	tx *bbolt.Tx
	// changed is set by every write.
	changed bool
	now     int64  // the command's unix_nanos
	index   uint64 // the entry's Raft index
}

// applyEntry applies one entry. Deterministic failures are in the result
// (and changed nothing: every command checks before it writes); an error is
// a storage failure.
func (a *applier) applyEntry(e raftnode.Entry) (*streamdraftv1.CommandResult, error) {
	a.index = e.Index
	cmd := &streamdraftv1.Command{}
	if err := proto.Unmarshal(e.Data, cmd); err != nil {
		return failResult(fail(rpcerr.InvalidArgument, "undecodable command: %v", err)), nil
	}
	a.now = cmd.GetUnixNanos()
	res, err := a.dispatch(cmd)
	if err != nil {
		var f *failure
		if errors.As(err, &f) {
			return failResult(f), nil
		}
		return nil, err
	}
	return res, nil
}

func failResult(f *failure) *streamdraftv1.CommandResult {
	res := &streamdraftv1.CommandResult{Error: string(f.reason), ErrorMessage: f.msg, ErrorMetadata: f.md}
	if f.partition != nil {
		res.Result = &streamdraftv1.CommandResult_Partitions{Partitions: &streamdraftv1.PartitionsResult{
			Partitions: []*streamdraftv1.PartitionRecord{f.partition}}}
	}
	return res
}

func (a *applier) dispatch(cmd *streamdraftv1.Command) (*streamdraftv1.CommandResult, error) {
	switch op := cmd.GetOp().(type) {
	case *streamdraftv1.Command_RegisterNode:
		r, err := a.registerNode(op.RegisterNode)
		return &streamdraftv1.CommandResult{Result: &streamdraftv1.CommandResult_Node{Node: r}}, err
	case *streamdraftv1.Command_FenceNode:
		r, err := a.setFenced(op.FenceNode.GetId(), true)
		return &streamdraftv1.CommandResult{Result: &streamdraftv1.CommandResult_Node{Node: r}}, err
	case *streamdraftv1.Command_UnfenceNode:
		r, err := a.setFenced(op.UnfenceNode.GetId(), false)
		return &streamdraftv1.CommandResult{Result: &streamdraftv1.CommandResult_Node{Node: r}}, err
	case *streamdraftv1.Command_CreateTopic:
		r, err := a.createTopic(op.CreateTopic)
		return &streamdraftv1.CommandResult{Result: &streamdraftv1.CommandResult_Topic{Topic: r}}, err
	case *streamdraftv1.Command_DeleteTopic:
		r, err := a.deleteTopic(op.DeleteTopic)
		return &streamdraftv1.CommandResult{Result: &streamdraftv1.CommandResult_DeleteTopic{DeleteTopic: r}}, err
	case *streamdraftv1.Command_AddPartitions:
		r, err := a.addPartitions(op.AddPartitions)
		return &streamdraftv1.CommandResult{Result: &streamdraftv1.CommandResult_Topic{Topic: r}}, err
	case *streamdraftv1.Command_UpdateTopicConfig:
		r, err := a.updateTopicConfig(op.UpdateTopicConfig)
		return &streamdraftv1.CommandResult{Result: &streamdraftv1.CommandResult_Topic{Topic: r}}, err
	case *streamdraftv1.Command_AlterPartition:
		r, err := a.alterPartition(op.AlterPartition)
		return &streamdraftv1.CommandResult{Result: &streamdraftv1.CommandResult_Partitions{Partitions: r}}, err
	case *streamdraftv1.Command_ElectPreferredLeader:
		r, err := a.electPreferredLeader(op.ElectPreferredLeader)
		return &streamdraftv1.CommandResult{Result: &streamdraftv1.CommandResult_Partitions{Partitions: r}}, err
	case *streamdraftv1.Command_CommitOffsets:
		r, err := a.commitOffsets(op.CommitOffsets)
		return &streamdraftv1.CommandResult{Result: &streamdraftv1.CommandResult_CommitOffsets{CommitOffsets: r}}, err
	case *streamdraftv1.Command_DeleteGroup:
		r, err := a.deleteGroup(op.DeleteGroup)
		return &streamdraftv1.CommandResult{Result: &streamdraftv1.CommandResult_DeleteGroup{DeleteGroup: r}}, err
	case *streamdraftv1.Command_AllocateProducerId:
		r, err := a.allocateProducerID()
		return &streamdraftv1.CommandResult{Result: &streamdraftv1.CommandResult_AllocateProducerId{AllocateProducerId: r}}, err
	default:
		return nil, fail(rpcerr.InvalidArgument, "command has no known op")
	}
}

// put writes a record and marks the batch as changing state.
func (a *applier) put(bucket, key []byte, m proto.Message) error {
	a.changed = true
	return put(a.tx.Bucket(bucket), key, m)
}

// del deletes a key and marks the batch as changing state.
func (a *applier) del(bucket, key []byte) error {
	a.changed = true
	return a.tx.Bucket(bucket).Delete(key)
}
