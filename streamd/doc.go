// Package streamd is cairn's partitioned, replicated append-only log: one
// node of a streamd cluster.
//
// A Server is two things. It is a member of the controller's Raft group
// (node/raftnode with the streamd/meta state machine), which owns topics,
// partition placement, leaders and leader epochs, in-sync replica sets,
// consumer-group offsets and producer ids; while it is the Raft leader it
// also acts as the controller: it fences nodes whose heartbeats stop (their
// partitions get new leaders from the ISR), unfences returning ones, moves
// leadership back to preferred replicas and runs the consumer-group
// coordinator (streamd/group). And it hosts partition replicas (one
// streamd/partlog log each), which it leads or follows as the controller's
// state says (reconcile.go).
//
// As leader of a partition it appends produced batches, fsyncs them in a
// group-commit loop, serves followers' fetches (replica_leader.go) — which
// report each follower's log end and fsynced end — and advances the high
// watermark to the least fsynced end in the ISR; produces with acks=all
// return once the watermark passes them, consumers read below it. It asks
// the controller to shrink the ISR when a follower falls behind for
// Config.ReplicaLagMax and to grow it when one catches up. As follower it
// fetches from the leader in one long poll per leader node
// (replica_follower.go), truncates a divergent tail when the leader says its
// log ended the follower's last epoch earlier, appends, fsyncs and reports.
//
// The client API is cairn.streamd.v1; node-to-node calls are
// cairn.streamd.peer.v1. docs/streamd.md describes the guarantees.
package streamd
