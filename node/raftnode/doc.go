// Package raftnode is the Raft host shared by every replicated cairn daemon.
//
// A Node wraps hashicorp/raft with raft-boltdb log and stable stores, file snapshots
// and a Raft transport over gRPC, so that a daemon serves its client API, its peers'
// Raft traffic and write forwarding on one gRPC port. The daemon supplies a
// StateMachine; the Node gives it:
//
//   - Apply: commit a command through the log. On a follower the command is forwarded
//     to the leader, so callers never need to know who leads.
//   - LinearizableRead: a read barrier. After it returns, the local state machine has
//     applied every entry committed before the call began, so a local read is
//     linearizable. Followers ask the leader for its read index.
//   - Membership: add a voter or a learner, promote, remove, transfer leadership.
//
// Typical use:
//
//	n, err := raftnode.New(cfg, sm, logger)
//	n.Register(grpcServer)          // before the gRPC server serves
//	err = n.Start()                 // opens stores, bootstraps if new
//	...
//	res, err := n.Apply(ctx, cmd)
//	n.Close()
package raftnode
