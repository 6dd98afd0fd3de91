package streamd

import (
	"errors"
	"fmt"

	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/node/rpcerr"
	"cairn.dev/cairn/streamd/group"
	"cairn.dev/cairn/streamd/meta"
	"cairn.dev/cairn/streamd/partlog"
	"cairn.dev/cairn/streamd/record"
)

// Errors of the streamd server. The domain packages (meta, partlog, group)
// have their own sentinels; toStatus maps them all to gRPC status codes.
var (
	// ErrInvalidArgument covers malformed requests; the metadata names the field.
	ErrInvalidArgument = errors.New("streamd: invalid argument")
	// ErrTooLarge means a size or count is over its limit.
	ErrTooLarge = errors.New("streamd: too large")
	// ErrNotLeader means this node does not lead the partition (metadata
	// leader, leader_addr).
	ErrNotLeader = errors.New("streamd: not the partition leader")
	// ErrOffline means the partition has no leader.
	ErrOffline = errors.New("streamd: partition offline")
	// ErrNotEnoughReplicas means the ISR is smaller than min_insync_replicas.
	ErrNotEnoughReplicas = errors.New("streamd: not enough in-sync replicas")
	// ErrFencedEpoch means a request carried an older leader epoch.
	ErrFencedEpoch = errors.New("streamd: fenced leader epoch")
	// ErrOutcomeUnknown means an append was made but not confirmed as acks
	// asked before the leader lost its role or the wait ended.
	ErrOutcomeUnknown = errors.New("streamd: outcome unknown")
	// ErrTooMany means a node-wide count limit (waiting fetches) was reached.
	ErrTooMany = errors.New("streamd: limit reached")
	// ErrShuttingDown means the server is stopping.
	ErrShuttingDown = errors.New("streamd: server is shutting down")
	// ErrNotController means a controller-only request reached another node.
	ErrNotController = errors.New("streamd: not the controller")
)

// statusRules map sentinels to reasons, first match wins.
var statusRules = append([]rpcerr.Rule{
	{Err: ErrInvalidArgument, Reason: rpcerr.InvalidArgument},
	{Err: ErrTooLarge, Reason: rpcerr.LimitExceeded},
	{Err: ErrNotLeader, Reason: rpcerr.NotPartitionLeader},
	{Err: ErrOffline, Reason: rpcerr.PartitionOffline},
	{Err: ErrNotEnoughReplicas, Reason: rpcerr.NotEnoughReplicas},
	{Err: ErrFencedEpoch, Reason: rpcerr.FencedLeaderEpoch},
	{Err: ErrOutcomeUnknown, Reason: rpcerr.OutcomeUnknown},
	{Err: ErrTooMany, Reason: rpcerr.LimitExceeded},
	{Err: ErrShuttingDown, Reason: rpcerr.ShuttingDown},
	{Err: ErrNotController, Reason: rpcerr.NotLeader},

	{Err: meta.ErrInvalidArgument, Reason: rpcerr.InvalidArgument},
	{Err: meta.ErrTopicNotFound, Reason: rpcerr.TopicNotFound},
	{Err: meta.ErrTopicExists, Reason: rpcerr.TopicExists},
	{Err: meta.ErrPartitionNotFound, Reason: rpcerr.PartitionNotFound},
	{Err: meta.ErrFencedLeaderEpoch, Reason: rpcerr.FencedLeaderEpoch},
	{Err: meta.ErrNotEnoughNodes, Reason: rpcerr.InvalidArgument},

	{Err: partlog.ErrOffsetOutOfRange, Reason: rpcerr.OffsetOutOfRange},
	{Err: partlog.ErrOffsetMismatch, Reason: rpcerr.OffsetMismatch},
	{Err: partlog.ErrOutOfOrderSequence, Reason: rpcerr.OutOfOrderSequence},
	{Err: partlog.ErrProducerFenced, Reason: rpcerr.ProducerFenced},
	{Err: record.ErrCorrupt, Reason: rpcerr.CorruptBatch},
	{Err: partlog.ErrBatchTooLarge, Reason: rpcerr.LimitExceeded},

	{Err: group.ErrUnknownMember, Reason: rpcerr.UnknownGroupMember},
	{Err: group.ErrIllegalGeneration, Reason: rpcerr.IllegalGeneration},
	{Err: group.ErrRebalanceInProgress, Reason: rpcerr.RebalanceInProgress},
	{Err: group.ErrNotAssigned, Reason: rpcerr.NotAssigned},
	{Err: meta.ErrGroupNotFound, Reason: rpcerr.GroupNotFound},
	{Err: group.ErrLimit, Reason: rpcerr.LimitExceeded},
	{Err: group.ErrAssignorMismatch, Reason: rpcerr.InvalidArgument},
	{Err: group.ErrInvalidArgument, Reason: rpcerr.InvalidArgument},
	{Err: group.ErrClosed, Reason: rpcerr.NotLeader},
}, raftnode.StatusRules...)

// toStatus is streamd's one error mapper: every handler returns its errors
// through it.
func toStatus(err error) error { return rpcerr.ToStatus(err, statusRules) }

// invalid returns an ErrInvalidArgument naming field.
func invalid(field, format string, args ...any) error {
	return rpcerr.WithMetadata(fmt.Errorf("%w: %s: %s", ErrInvalidArgument, field, fmt.Sprintf(format, args...)), rpcerr.KeyField, field)
}

// notControllerErr says which node is the controller, when one is known.
func notControllerErr(id, addr string) error {
	if id == "" {
		return fmt.Errorf("%w: no controller is known", ErrNotController)
	}
	return rpcerr.WithMetadata(fmt.Errorf("%w: the controller is %s", ErrNotController, id), rpcerr.KeyLeader, id, rpcerr.KeyLeaderAddr, addr)
}

// tooLarge returns an ErrTooLarge naming field, its size and the limit.
func tooLarge(field string, size, limit int, limitName string) error {
	return rpcerr.WithMetadata(fmt.Errorf("%w: %s is %d bytes, the limit (%s) is %d", ErrTooLarge, field, size, limitName, limit),
		rpcerr.KeyField, field, rpcerr.KeySize, fmt.Sprint(size), rpcerr.KeyLimit, fmt.Sprint(limit), rpcerr.KeyLimitName, limitName)
}

// partitionNotFound says the topic has n partitions.
func partitionNotFound(topic string, p, n int32) error {
	return rpcerr.WithMetadata(fmt.Errorf("%w: topic %q has partitions 0..%d, not %d", meta.ErrPartitionNotFound, topic, n-1, p),
		rpcerr.KeyField, "partition", rpcerr.KeyLimit, fmt.Sprint(n))
}

// withOffsets adds what a client needs to retry to a conditional append's
// mismatch: the log's end offset and the offset the append expected.
func withOffsets(err error) error {
	var m *partlog.MismatchError
	if !errors.As(err, &m) {
		return err
	}
	return rpcerr.WithMetadata(err, rpcerr.KeyEndOffset, fmt.Sprint(m.End), rpcerr.KeyExpectedOffset, fmt.Sprint(m.Expected))
}

// offline says the partition has no leader.
func offline(topic string, p int32) error {
	return fmt.Errorf("%w: %s/%d has no leader: every in-sync replica is down", ErrOffline, topic, p)
}

// groupNotFound says the group has neither members nor committed offsets.
func groupNotFound(g string) error {
	return rpcerr.WithMetadata(fmt.Errorf("%w: group %q has no members and no committed offsets", meta.ErrGroupNotFound, g), rpcerr.KeyField, "group")
}
