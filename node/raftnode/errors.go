package raftnode

import "errors"

// Errors returned by Node. Callers test them with errors.Is.
var (
	// ErrNoLeader means the group has no known leader right now (election under way,
	// or no quorum). The operation was not applied.
	ErrNoLeader = errors.New("raftnode: no leader")
	// ErrNotLeader means a leader-only operation reached a follower.
	ErrNotLeader = errors.New("raftnode: not the leader")
	// ErrUnknownOutcome means a command was proposed but its commit could not be
	// confirmed (leadership lost, or the deadline passed): it may or may not apply.
	ErrUnknownOutcome = errors.New("raftnode: outcome unknown")
	// ErrShutdown means the node is closed.
	ErrShutdown = errors.New("raftnode: node is shut down")
	// ErrUnknownMember means a membership change named a member that is not in the group.
	ErrUnknownMember = errors.New("raftnode: unknown member")
	// ErrInvalidArgument means a request to the membership service was malformed
	// (a missing member id or address); the message names the field.
	ErrInvalidArgument = errors.New("raftnode: invalid argument")
)
