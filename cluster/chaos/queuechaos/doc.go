// Package queuechaos holds queued's chaos scenarios, run by its tests through
// the chaos framework (cluster/chaos): producers that send unique messages and
// consumers that receive, ack or "crash" before acking, on a standard queue, a
// FIFO queue or a queue with a dead letter queue and poison messages (Queue),
// followed by a drain once the faults are over (Queue.Drain); Jepsen's
// total-queue check (TotalQueue), delivery and visibility rules (Deliveries),
// per-group order and one message in flight per group (FIFOChecker) and dead
// lettering after exactly max_receives deliveries (DeadLetter); and the
// scenarios (QueueLeaderKill, QueueLeaderPartition, QueuePause, QueueRestart,
// QueueFullCrash, QueueFIFO, QueueDLQ; QueuedScenarios lists them).
//
// The checkers are pure functions of the history (checkTotalQueue,
// checkDeliveries, checkFIFO, checkDeadLetter) behind Check methods that first
// drain the queues, so that they can be table-tested without a cluster.
package queuechaos
