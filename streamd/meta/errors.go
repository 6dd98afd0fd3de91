package meta

import (
	"errors"
	"fmt"

	"cairn.dev/cairn/node/rpcerr"
	streamdraftv1 "cairn.dev/cairn/proto/cairn/streamd/raft/v1"
)

// Sentinel errors. Reads return them wrapped with what they are about; apply
// results carry the matching rpcerr reason instead, which ResultError turns
// back into the sentinel. Errors about a request field also carry rpcerr
// metadata (rpcerr.KeyField, rpcerr.KeyLimit), which rpcerr.MetadataOf reads.
var (
	// ErrInvalidArgument means a command or a configuration is malformed or
	// out of its bounds.
	ErrInvalidArgument = errors.New("meta: invalid argument")
	// ErrNodeNotFound means no node of that id is registered.
	ErrNodeNotFound = errors.New("meta: node not found")
	// ErrTopicNotFound means the topic does not exist.
	ErrTopicNotFound = errors.New("meta: topic not found")
	// ErrTopicExists means a topic of that name exists with other
	// partitions, replication or configuration.
	ErrTopicExists = errors.New("meta: topic exists with another configuration")
	// ErrPartitionNotFound means the topic has no such partition.
	ErrPartitionNotFound = errors.New("meta: partition not found")
	// ErrFencedLeaderEpoch means an AlterPartition named a leader or epochs
	// that are not the partition's current ones.
	ErrFencedLeaderEpoch = errors.New("meta: fenced leader epoch")
	// ErrNotEnoughNodes means fewer unfenced nodes are registered than the
	// replication asked for.
	ErrNotEnoughNodes = errors.New("meta: not enough nodes")
	// ErrGroupNotFound means the group has no committed offsets.
	ErrGroupNotFound = errors.New("meta: group not found")
	// ErrClosed means the store has been closed.
	ErrClosed = errors.New("meta: closed")
	// ErrCorrupt means the database holds data this package did not write.
	ErrCorrupt = errors.New("meta: corrupt database")
)

// Metadata keys this package adds to rpcerr's.
const (
	// KeyEpoch is a partition's current leader epoch (FENCED_LEADER_EPOCH).
	KeyEpoch = "epoch"
	// KeyPartitionEpoch is a partition's current partition epoch.
	KeyPartitionEpoch = "partition_epoch"
)

// reasons pairs each apply-result reason with its sentinel.
var reasons = rpcerr.Sentinels{
	{Reason: rpcerr.InvalidArgument, Err: ErrInvalidArgument},
	{Reason: rpcerr.UnknownMember, Err: ErrNodeNotFound},
	{Reason: rpcerr.TopicNotFound, Err: ErrTopicNotFound},
	{Reason: rpcerr.TopicExists, Err: ErrTopicExists},
	{Reason: rpcerr.PartitionNotFound, Err: ErrPartitionNotFound},
	{Reason: rpcerr.FencedLeaderEpoch, Err: ErrFencedLeaderEpoch},
	{Reason: rpcerr.NotEnoughReplicas, Err: ErrNotEnoughNodes},
	{Reason: rpcerr.GroupNotFound, Err: ErrGroupNotFound},
}

// ReasonOf returns the rpcerr reason an apply result uses for err (one of
// the sentinels above, possibly wrapped), or "" for any other error.
func ReasonOf(err error) rpcerr.Reason { return reasons.ReasonOf(err) }

// ResultError returns the error a CommandResult stands for: nil when it
// carries no error, else the sentinel of its reason wrapped with its message
// and annotated with its metadata (rpcerr.WithMetadata). An unknown reason
// gives a plain error naming it.
func ResultError(res *streamdraftv1.CommandResult) error {
	return reasons.Error(rpcerr.Reason(res.GetError()), res.GetErrorMessage(), res.GetErrorMetadata())
}

// failure is a deterministic apply outcome: a reason, a message and
// metadata.
type failure struct {
	reason rpcerr.Reason
	msg    string
	md     map[string]string
	// partition, when set, is the partition's current state, carried in
	// the result beside the failure (a stale AlterPartition).
	partition *streamdraftv1.PartitionRecord
}

func (f *failure) Error() string { return string(f.reason) + ": " + f.msg }

func fail(reason rpcerr.Reason, format string, args ...any) *failure {
	return &failure{reason: reason, msg: fmt.Sprintf(format, args...)}
}

// with adds metadata key/value pairs.
func (f *failure) with(kv ...string) *failure {
	if f.md == nil {
		f.md = map[string]string{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		f.md[kv[i]] = kv[i+1]
	}
	return f
}

// failureOf turns a validation error of this package (a sentinel wrapped
// with a message and metadata) into a failure with the same reason, message
// and metadata.
func failureOf(err error) *failure {
	reason, msg, md := reasons.Split(err)
	if reason == "" {
		reason = rpcerr.InvalidArgument
	}
	return &failure{reason: reason, msg: msg, md: md}
}
