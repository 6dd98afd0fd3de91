// Package meta is searchd's metadata state machine, replicated by the
// node/raftnode group every searchd node belongs to and stored in one bbolt
// file hosted by node/boltsm: the indexes (settings, mappings JSON and its
// version, uuid, streamd topic) and the placement of their shard copies
// with each copy's state (INITIALIZING, STARTED, LOST).
//
// Commands and records are JSON (the state is small: one record per
// index). Commands are built by the constructors in commands.go and
// committed with Propose; every command checks its preconditions before it
// writes, so a failed command changes nothing and comes back as one of the
// package's sentinels with rpcerr metadata naming the field.
//
// Node liveness is not in the state machine: the daemon's metadata leader
// keeps it in memory (as blobd does) and proposes copy state changes.
package meta
