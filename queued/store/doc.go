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
// A command that fails as a whole (no such queue, a loop of dead letter
// queues, ...) carries a reason code of node/rpcerr in CommandResult.error;
// batch commands (send, ack, nack, extend) fail entry by entry inside their
// result. [ResultError] turns a reason back into this package's sentinels.
//
// Reads ([Store.GetQueue], [Store.ListQueues], [Store.Receivable], ...) run in
// bbolt read transactions and may be called concurrently with each other and
// with ApplyBatch. They read the local state: a caller that needs a
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
