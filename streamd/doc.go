// Package streamd is cairn's partitioned, replicated append-only log: the
// daemon library behind `cairn streamd`.
//
// A Server is one node. Every node is a member of the controller's Raft
// group (node/raftnode over the streamd/meta state machine), which owns
// topics, partition placement, leaders and leader epochs, the in-sync
// replica sets (ISR), consumer-group offsets and producer ids; the Raft
// leader is the controller, which fences nodes that stop heartbeating
// (their partitions get new leaders from the ISR) and runs the group
// coordinator (streamd/group). Data never passes through Raft: each
// partition replica is a streamd/partlog log, its leader appends produced
// batches, followers copy them by long-polling fetches, truncating a
// divergent tail by leader epoch first, and the leader advances the high
// watermark to the least fsynced end among the ISR. Consumers see records
// below the high watermark only; acks=ALL returns once a batch is below it.
//
// Every node serves cairn.streamd.v1 (topics, produce and fetch, groups,
// status) on one port beside the Raft and replica traffic; a node that does
// not lead a partition forwards a produce or fetch to the leader, and
// errors leave through one mapper (toStatus) with rpcerr reasons.
//
//	srv, err := streamd.New(cfg, logger)
//	err = srv.Serve(ctx) // until ctx is cancelled, then a graceful stop
//
// The Go client lives in streamd/client, an in-process test cluster in
// streamd/streamdtest.
package streamd
