// Package streamchaos holds streamd's chaos scenarios, run by its tests
// through the chaos framework (cluster/chaos): Jepsen's Kafka workload.
// Producers send unique records with acks=all to the partitions of one
// replicated topic; the members of a consumer group poll and commit
// throughout, some crashing (their sessions expire) or leaving, and new ones
// joining (Stream). Once the faults are over a fresh member drains the group
// up to every partition's high watermark, and a plain read takes every
// partition from offset 0 to its high watermark (Stream.Drain).
//
// The checkers are pure functions of the history (checkLog, checkGroup)
// behind Check methods that first drain, so that they are table-tested on
// hand-made histories: LogChecker judges lost writes, inconsistent offsets,
// non-monotonic sends, unexpected and unseen records, and counts duplicates;
// GroupChecker judges non-monotonic polls, skips within a member's polls and
// skips of the group as a whole. The scenarios (StreamLeaderKill,
// StreamPartition, StreamPause, StreamRollingRestart, StreamCrashAll,
// StreamTornTail; StreamdScenarios lists them) kill, cut off and pause
// partition leaders and the controller, restart and crash the cluster, and
// tear the tail of a partition's segment file on a killed node.
package streamchaos
