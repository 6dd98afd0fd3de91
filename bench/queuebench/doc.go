// Package queuebench measures message queues with the workload of `cairn bench
// queue`: 1 KiB messages (by default) sent by closed-loop producers that wait
// for each message's confirmation, and received by consumers that ack each
// message, with at most Prefetch unacknowledged deliveries each.
//
// The same workload runs against three targets, so that bench/queue-compare.sh
// can put them side by side in one run:
//
//   - queued: a send returns once the message is committed and fsynced on a
//     quorum; consumers use the Consume stream and ack on it.
//   - rabbitmq: a quorum queue (Raft, fsync before the confirm), publisher
//     confirms, manual acks, basic.qos prefetch.
//   - nats: a JetStream work-queue stream with file storage and 3 replicas, a
//     publish waits for its PubAck, a pull consumer with explicit acks and
//     at most Prefetch pending.
//
// Scenarios:
//
//	publish  producers only: send-and-confirm throughput and latency.
//	consume  the queue is filled with Total messages first (not measured; in
//	         batches of 100 where the target's API has batch sends: queued),
//	         then consumers drain it: receive+ack throughput (the backlog drain).
//	e2e      producers and consumers together: throughput and end-to-end
//	         latency, from the send to the delivery (each body starts with its
//	         send time).
//
// Every run uses a fresh queue (Config.Queue, unique per run by default) and
// deletes it afterwards.
package queuebench
