// Package client is the Go client of queued, cairn's Raft-replicated message
// queue.
//
// A Client connects to every configured endpoint and sends its calls to the
// Raft leader, which it finds by asking each node's ClusterService.Status;
// every node serves every call (a follower forwards writes and receives), so
// while no leader is known calls go round robin to the ready nodes. Calls
// wait for a ready node, bounded by their context; calls whose context has no
// deadline get Config.RequestTimeout (plus the long-poll wait for Receive).
//
// # Retry policy
//
//   - Reads (GetQueue, ListQueues, GetTopic, ListTopics, Status) are retried
//     with backoff on codes.Unavailable until the deadline.
//   - Writes whose repetition has the same effect (CreateQueue, CreateTopic,
//     SetQueueAttributes, Subscribe, Ack) are retried on Unavailable too.
//   - Other writes (Send, Receive, Nack, ExtendVisibility, Publish, Purge,
//     Delete, Redrive) are retried only when the failure says they were not
//     applied (rpcerr.TryOther: no leader, not the leader, no quorum, shutting
//     down, unreachable). When one fails otherwise with Unavailable,
//     DeadlineExceeded or Canceled its outcome is unknown: IsUnknownOutcome
//     reports true. A Send whose outcome is unknown may have enqueued its
//     messages: delivery is at least once, so consumers must tolerate
//     duplicates (FIFO queues deduplicate by deduplication id).
//
// Errors are *Error values: they keep the gRPC status and match, with
// errors.Is, a sentinel chosen by the rpcerr reason (ErrQueueNotFound,
// ErrReceiptStale, …), never by the message text. Batch calls report failed
// entries in their response; EntryErr turns one into such an error.
//
// # Example
//
//	c, err := client.New(client.Config{Endpoints: []string{"127.0.0.1:7300"}})
//	if err != nil { ... }
//	defer c.Close()
//	_, _, err = c.CreateQueue(ctx, "orders", nil)
//	_, err = c.SendMessage(ctx, "orders", []byte(`{"order":1}`))
//	msgs, err := c.Receive(ctx, "orders", client.WithWait(5*time.Second))
//	for _, m := range msgs {
//		process(m)
//		_, err = c.Ack(ctx, "orders", m.GetReceiptHandle())
//	}
package client
