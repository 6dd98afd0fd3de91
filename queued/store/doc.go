// Package store is queued's replicated state machine: a durable message queue
// on one bbolt file. It holds named queues (standard and FIFO), their
// messages, and topics with their subscriptions, and implements
// raftnode.StateMachine.
//
// The Raft layer feeds committed log entries to [Store.ApplyBatch], always
// from one goroutine. Each entry is a proto-encoded queuedraftv1.Command and
// each result a proto-encoded queuedraftv1.CommandResult. Applying is
// deterministic: it compares and records times only through the command's
// unix_nanos (the proposer's clock), derives message ids and receipt nonces
// from the entry index, never draws random numbers and never reads the local
// clock, so replicas that apply the same entries hold byte-identical state and
// return byte-identical results. The last applied index is written in the same
// bbolt transaction as a batch's effects, and entries at or below it are
// skipped, so the log replayed after a restart changes nothing twice.
//
// Commits are batched. ApplyBatch writes into one open bbolt write transaction
// that collects the batches applied since the last commit; it is committed,
// and fsynced unless Options.NoSync, once it is Options.CommitInterval old
// (default 100 ms; a goroutine of the store commits it when no further batch
// comes) or holds Options.CommitEntries entries (default 10000), before
// Snapshot captures the state, before Restore replaces it, and on Close. So
// the apply loop, on which every send, receive and ack waits, pays an fsync
// about every CommitInterval instead of on every batch. [Store.AppliedIndex]
// is the index of the last commit, as raftnode.StateMachine requires;
// [Store.LastApplied] the index of the last applied batch, which readers see.
//
// This is safe because Raft makes entries durable before the store sees them:
// an entry is applied only once it is in the fsynced log of a quorum, and
// after a crash Raft replays the log from its last snapshot, so the batches
// whose commit was lost are applied again, from the same state, to the same
// effects and results (applying is deterministic); the results already
// returned for them stay right. Raft compacts its log only up to a snapshot,
// and Snapshot commits first, so the log keeps every entry above AppliedIndex.
// A storage failure that loses applied batches (a commit that fails, or an
// apply that fails with earlier batches uncommitted) fails the store:
// ApplyBatch, reads, Snapshot and Restore return the error from then on and
// the node stops, to replay the log after its restart.
//
// A command that fails as a whole (no such queue, a loop of dead letter
// queues, ...) carries a reason code of node/rpcerr in CommandResult.error;
// batch commands (send, ack, nack, extend) fail entry by entry inside their
// result. [ResultError] turns a reason back into this package's sentinels.
//
// Reads ([Store.GetQueue], [Store.ListQueues], [Store.Receivable], ...) may be
// called concurrently with each other and with ApplyBatch, and see every batch
// ApplyBatch returned: while a write transaction is pending they read through
// it, one at a time and not during an apply or a commit (a bbolt transaction
// is not safe for concurrent use), otherwise in bbolt read transactions of
// their own, side by side. They read the local state: a caller that needs a
// linearizable read does the Raft read barrier first.
//
// Every message lives in bbolt only; the store keeps nothing per message in
// memory, and the indexes a sweep needs (timers by time) are buckets too.
// Purging and deleting a queue is constant work in the entry that does it: the
// queue gets a fresh id (or loses its record) and later sweeps free the old
// id's buckets in bounded chunks.
//
// On-disk layout (bbolt buckets; integers big-endian, times are unix nanos
// with the sign bit flipped so that they sort):
//
//	meta     "applied" → raft index, "next_id" → next queue id,
//	         "queues", "topics", "messages" → counts
//	queues   name → QueueRecord
//	ids      queue id → name, for every id ever given (also purged and
//	         deleted ones), so that a receipt of an earlier incarnation of a
//	         queue is told from another queue's
//	dlsrc    dead letter queue name ‖ 0 ‖ source name → ∅
//	subs     queue name ‖ 0 ‖ topic name → ∅
//	topics   name → TopicRecord (subscriptions sorted by queue)
//	dead     queue id → ∅: ids whose buckets a sweep still has to free
//	timers   time ‖ kind ‖ queue id ‖ tail → ∅: everything a sweep must do
//	         at a time; kinds: visible (tail seq: a DELAYED or IN_FLIGHT
//	         message comes due), retention (the queue's oldest message
//	         expires), dedup (tail dedup id: a window ends), free (a dead
//	         id's buckets)
//	q/<id>   one bucket per queue id, holding:
//	  m      seq → MessageRecord
//	  a      visible_at ‖ seq → ∅; standard: every message; FIFO: the heads
//	         of groups that were not visible when last looked at
//	  r      seq → ∅ (FIFO): heads of groups seen visible, receivable in
//	         seq order
//	  g      len16 ‖ group ‖ seq → ∅ (FIFO): each group's messages in order;
//	         its first key is the group's head
//	  e      sent ‖ seq → ∅: messages by age, for retention and oldest_age
//	  d      dedup id → seq ‖ expiry ‖ message id (FIFO)
package store
