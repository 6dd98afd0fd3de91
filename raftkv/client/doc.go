// Package client is the Go client of raftkv, cairn's Raft-replicated, multi-version
// key-value store. Its semantics follow etcd's v3 API: keys and values are bytes,
// ranges are [key, range_end) with the same conventions ("\x00" as range_end means
// "every key >= key", PrefixEnd(p) as range_end means "every key with prefix p"),
// every write creates a store revision, transactions compare and then act
// atomically, and leases are measured in seconds.
//
// # Connecting
//
// New opens one gRPC connection over all configured endpoints. A manual resolver
// hands every endpoint to the round_robin balancer, which keeps a subconnection per
// node and sends each call to the next ready one, so dead nodes are skipped. Every
// node serves every service (followers forward writes and linearizable reads to the
// leader), so any ready node will do. Writes go to the leader first: the client
// asks the nodes which one leads (every second, and at once when a write finds the
// leader it followed gone: not leading, no quorum, or unreachable) and sends writes
// there while it is connected, saving the follower-to-leader hop; until a leader is
// known, writes go round robin like everything else. Calls are made with WaitForReady(true): while
// no node is reachable a call waits, bounded by its deadline. A call whose context
// has no deadline gets Config.RequestTimeout; long-lived streams (Watch, KeepAlive,
// Snapshot) do not.
//
// A Client is safe for concurrent use. Close stops every watch and keep-alive the
// client started, waits for their goroutines and closes the connection.
//
// # Retry policy
//
// The policy decides correctness, so it is strict:
//
//   - Reads (Get, MemberList, TimeToLive, Leases, Snapshot before its first byte)
//     have no side effect and are retried with backoff on codes.Unavailable (node
//     down, no leader, connection reset) until the call's deadline. Each attempt
//     goes to the next ready node. KeepAliveOnce is retried the same way: renewing a
//     lease twice is harmless. Status is the exception: it asks one named endpoint,
//     makes a single fail-fast attempt and reports that endpoint as unreachable
//     rather than waiting for it.
//   - Writes (Put, Delete, Txn, Compact, Grant, Revoke, MemberAdd,
//     MemberRemove, MemberPromote, TransferLeadership) are retried, on another
//     node, only when the failure says they were certainly not applied: reasons
//     NO_LEADER, NOT_LEADER, NO_QUORUM and SHUTTING_DOWN (see node/rpcerr), or a
//     request that never left the client. Otherwise the server, or the leader it
//     forwarded to, may have applied it, and repeating a Put or a Txn could apply
//     it twice. When a write fails with Unavailable, DeadlineExceeded or Canceled
//     and no such reason, its outcome is unknown: IsUnknownOutcome reports true
//     and errors.Is(err, ErrUnknownOutcome) holds. The caller must read back
//     before trying again.
//   - When no endpoint accepts a connection, every call fails at once with
//     Unavailable and reason UNREACHABLE, naming each endpoint and its error.
//     Txn is even a write when all its ops are reads.
//   - Watch resumes a broken stream transparently, on whichever node is ready, from
//     the revision after the last one it delivered; it drops anything older, so no
//     event is lost or delivered twice.
//   - KeepAlive reconnects its stream until its context is done or the lease is gone.
//
// # Errors
//
// Errors returned by calls wrap the gRPC status error: status.FromError and
// status.Code see the original code, message and details. Error.Reason is the
// stable reason code of the status details (node/rpcerr); where it has a
// well-known meaning the error also matches a sentinel with errors.Is, e.g.
// ErrCompacted or ErrLeaseNotFound. Messages are for people: never match them.
//
// # Example
//
//	c, err := client.New(client.Config{Endpoints: []string{"127.0.0.1:7001", "127.0.0.1:7002"}})
//	if err != nil { ... }
//	defer c.Close()
//	if _, err := c.Put(ctx, "config/a", "1"); client.IsUnknownOutcome(err) {
//		// read "config/a" back before deciding to put again
//	}
//	resp, err := c.Get(ctx, "config/", client.WithPrefix())
//	txn, err := c.Txn(ctx).
//		If(client.Compare(client.CreateRevision("leader"), "=", 0)).
//		Then(client.OpPut("leader", "me")).
//		Else(client.OpGet("leader")).
//		Commit()
package client
