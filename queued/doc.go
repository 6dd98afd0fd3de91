// Package queued is cairn's Raft-replicated message queue: the daemon library
// behind `cairn queued`.
//
// A Server hosts one member of a queued group (its own Raft group, on
// node/raftnode) over the state machine of package queued/store, which keeps
// queues, messages (bodies included), receipts, visibility deadlines and
// topics in bbolt. It serves cairn.queued.v1 (QueueService, TopicService,
// ClusterService) on one port beside the group's Raft traffic.
//
// Every handler validates its request against the limits (naming the field
// and, for sizes, the limit), then either proposes a command stamped with
// this node's clock, which a follower forwards to the leader, or reads local
// state after the linearizable read barrier, and returns its errors through
// one mapper (toStatus) with rpcerr reasons. A send is acknowledged only once
// its entry is committed, and the state machine fsyncs every batch it
// applies, so an acknowledged message survives the loss of a minority and a
// whole-cluster crash.
//
// Receive long-polls without log entries: it proposes a receive only when the
// local state machine says one would deliver, and otherwise sleeps until new
// messages are applied or the next one comes due. Consume streams deliver the
// same way, keeping at most a prefetch window of unsettled deliveries. The
// leader proposes a sweep when a timer comes due (store.NextDue), which
// brings counts up to date, dead-letters poison messages and drops expired
// ones; visibility deadlines need no entry per tick.
//
//	srv, err := queued.New(cfg, logger)
//	err = srv.Serve(ctx) // until ctx is cancelled, then a graceful stop
//
// The Go client lives in queued/client, an in-process test cluster in
// queued/queuedtest. The SQS HTTP API (queued/sqs) calls QueueService and
// TopicService in-process when Config.SQSAddr is set.
package queued
