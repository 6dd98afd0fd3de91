// Package streambench measures partitioned logs with the workload of `cairn
// bench stream`, Kreps's Kafka benchmark scaled to one machine: 100-byte
// records without keys, a topic of 6 partitions with 3 replicas, one
// producer by default.
//
// A producer works like Kafka's: it accumulates records into one batch per
// partition (up to BatchBytes of values; with a Rate, a batch also leaves
// when its first record has waited Linger) and keeps one batch per
// partition in flight, so Partitions batches at once; more Producers (each
// with its own connections) add more. The produce latency is a batch's,
// from its send to its acknowledgement.
//
// The same workload runs against two targets, so that
// bench/stream-compare.sh can put them side by side in one run:
//
//   - streamd: a topic; Acks leader (fsynced on the partition leader) or
//     all (fsynced on every in-sync replica); the client's idempotent
//     producer; consumers are members of one consumer group (commits once a
//     second) or, without Group, fetch their share of the partitions from
//     the leaders directly.
//   - nats: JetStream, one stream per partition (file storage, Replication
//     replicas, its own Raft group), async publishes whose PubAcks the
//     producer waits for per batch (a message is acknowledged once a quorum
//     stored it, whatever Acks says; whether it was fsynced depends on the
//     server's sync_interval), ordered consumers (no acks) per partition.
//
// Scenarios:
//
//	produce  producers only: records/s, MiB/s and batch latency.
//	consume  the topic is filled with Total records first (not measured),
//	         then consumers read it from the beginning.
//	e2e      producers and consumers together: both rates and the latency
//	         from a record's creation to its receipt (each value starts with
//	         its creation time); with Rate, at a given load.
//	growth   produce, with the throughput and latency sampled every
//	         Interval bytes, to see it change as the stored data outgrows
//	         the page cache.
//
// A consumer counts each record once (by partition and offset) even when a
// consumer group delivers it again after a rebalance. Every run uses a
// fresh topic (Config.Topic, unique per run by default) and deletes it
// afterwards.
package streambench
