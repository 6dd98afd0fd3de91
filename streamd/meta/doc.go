// Package meta is the replicated state machine of streamd's controller: the
// nodes, topics, partitions (replicas, leader, epochs, ISR), consumer-group
// committed offsets and the producer id counter, in one bbolt file. [Store]
// implements raftnode.StateMachine; the package also holds the rules the
// server checks before proposing (topic configuration defaults and bounds,
// names) and constructors of the commands.
//
// The Raft layer feeds committed entries to [Store.ApplyBatch] from one
// goroutine. Each entry is a proto-encoded streamdraftv1.Command and each
// result a proto-encoded streamdraftv1.CommandResult. Applying is
// deterministic: times come only from the command's unix_nanos, topic ids are
// the Raft index of the creating entry, placement and elections depend only
// on the stored state. Each batch is one bbolt transaction that also records
// the last applied index, so entries at or below it (Raft replays its log
// after a restart) are skipped.
//
// A command that fails carries a node/rpcerr reason, a message and metadata
// (field, limit, epoch) in its result and changes nothing; [ResultError]
// turns them back into this package's sentinels, and [Propose] does the whole
// round trip for a proposer.
//
// # Rules
//
// Every partition keeps these invariants, which every command preserves:
// the ISR is never empty and is a subset of the replicas, in replica order;
// the leader is "" (offline) or an unfenced member of the ISR; a fenced node
// is in an ISR only as its sole member (the partition waits for it);
// leader_epoch grows by one on every leader change and partition_epoch on
// every change of leader or ISR (once per command).
//
//   - RegisterNode adds an unfenced node or updates a known node's address;
//     a known node registering with a new incarnation (a restart) is fenced.
//   - FenceNode removes the node from every ISR with another member and gives
//     each partition it led the first replica that is in the ISR and
//     unfenced (none: offline). UnfenceNode gives offline partitions whose
//     ISR holds the node to it.
//   - CreateTopic places partition p on replication consecutive nodes of the
//     unfenced nodes sorted by id, starting at (p + topic id) mod n; leader
//     and ISR are the replicas' first and all; epochs 0. Creating an
//     existing topic with the same partitions, replication and (defaulted)
//     config succeeds with created=false; otherwise TOPIC_EXISTS.
//     Replication above the registered nodes is INVALID_ARGUMENT, above the
//     unfenced ones NOT_ENOUGH_REPLICAS ([ErrNotEnoughNodes]); both name the
//     field replication and the limit.
//   - AddPartitions places the new partitions the same way; UpdateTopicConfig
//     changes the masked fields ([MergeTopicConfig]); DeleteTopic drops the
//     topic, its partitions and every offset committed for it.
//   - AlterPartition (from the partition's leader) replaces the ISR only when
//     leader, leader_epoch and partition_epoch are current, else
//     FENCED_LEADER_EPOCH with the current partition in the result; the new
//     ISR must hold the leader and only replicas, and may not add a fenced
//     node.
//   - ElectPreferredLeader moves leadership to replicas[0] when it is in the
//     ISR, unfenced and not the leader.
//   - CommitOffsets records offsets (all or none; the topic and partition
//     must exist) at the command's time; DeleteGroup drops a group's
//     offsets (GROUP_NOT_FOUND when it has none).
//   - AllocateProducerId returns 1000, 1001, ...
//
// Reads ([Store.Topic], [Store.ReplicasOn], [Store.GroupOffsets], ...) may
// be called concurrently with each other and with ApplyBatch, and see every
// batch ApplyBatch returned. They read the local state: a caller that needs
// a linearizable read does the Raft read barrier first. [Store.Changed]
// wakes whoever reacts to new state (the server reconciling its replicas).
//
// On-disk layout (bbolt buckets; integers big-endian):
//
//	meta        "applied" → raft index, "next_producer_id" → next id
//	nodes       node id → NodeRecord
//	topics      name → TopicRecord
//	topicids    topic id → name
//	partitions  topic id ‖ partition → PartitionRecord
//	offsets     group ‖ 0 ‖ topic id ‖ partition → OffsetRecord
//	topicgroups topic id ‖ group → ∅: the groups with offsets of a topic
package meta
