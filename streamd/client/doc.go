// Package client is the Go client of streamd, cairn's partitioned,
// replicated log.
//
// A Client keeps one connection per streamd node it talks to. Topic and
// group calls go to the controller (the Raft leader of the controller
// group), which the client finds and follows; any node also accepts topic
// calls and forwards their writes. Produce, Fetch and ListOffsets go
// straight to each partition's leader, found from metadata the client
// caches and refreshes when a node says it does not lead the partition
// (after a failover), so a produce costs one hop.
//
// Produce is idempotent by default: the client takes a producer id and
// numbers each partition's batches, sends one batch per partition at a
// time, and resends a batch whose outcome is unknown; the leader appends a
// resent batch once. GroupConsumer joins a consumer group, heartbeats,
// fetches its partitions and commits offsets; after a rebalance it commits,
// joins again and resumes from the committed offsets (at least once, never
// skipping).
//
// Errors are *Error values (clusterconn.Error) that keep the gRPC status and
// match the sentinels of this package with errors.Is.
package client
