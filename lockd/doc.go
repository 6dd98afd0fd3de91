// Package lockd is cairn's Raft-replicated lock service: the daemon library
// behind `cairn lockd`.
//
// A Server hosts one member of a lockd group (its own Raft group, on
// node/raftnode). It serves the cairn.lockd.v1 gRPC services (Session, Lock,
// Semaphore, Election, Cluster) on one port, beside the group's Raft traffic.
//
// Clients create sessions with a TTL and keep them alive; locks, semaphore
// permits and election leaderships are held by sessions. Every grant carries a
// fencing token, the Raft index of the log entry that granted it, so tokens of
// one name strictly increase across grants and leader changes. A session that
// is not kept alive expires by an entry the leader proposes: its grants are
// released, its waits dropped and the next waiters granted, identically on
// every replica. Blocking acquires wait, on the node they reached, for the
// replicated state machine to grant them. docs/lockd.md states the guarantees.
//
// The state machine is kept in memory and snapshotted as deterministic JSON;
// after a restart the latest snapshot is restored and the log after it replayed.
//
//	srv, err := lockd.New(cfg, logger)
//	err = srv.Serve(ctx) // until ctx is cancelled, then a graceful stop
//
// The Go client lives in lockd/client.
package lockd
