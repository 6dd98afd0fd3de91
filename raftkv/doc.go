// Package raftkv is cairn's Raft-replicated, multi-version key-value store: the
// daemon library behind `cairn raftkv`.
//
// A Server hosts one member of a raftkv group. It serves the cairn.raftkv.v1 gRPC
// services (KV, Watch, Lease, Cluster) on one port, beside the group's Raft traffic.
// Writes go through the Raft log (node/raftnode) and are applied to a bbolt-backed
// MVCC store (raftkv/mvcc); a write is acknowledged only after a quorum has fsynced
// it. Reads are linearizable by default (a read barrier through the leader) or
// serializable (the local replica, possibly stale) on request. Followers forward
// writes and linearizable reads to the leader, so clients may talk to any member.
//
//	srv, err := raftkv.New(cfg, logger)
//	err = srv.Serve(ctx) // until ctx is cancelled, then a graceful stop
//
// The Go client lives in raftkv/client.
package raftkv
