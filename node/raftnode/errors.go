package raftnode

import (
	"errors"
	"fmt"

	"cairn.dev/cairn/node/rpcerr"
)

// Errors returned by Node. Callers test them with errors.Is. ErrNoLeader,
// ErrNotLeader, ErrNoQuorum and ErrShutdown (alone) mean the command was not
// applied and will not be: the caller may send it to another member.
// ErrUnknownOutcome means it may have been applied.
var (
	// ErrNoLeader means this member knows no leader it can reach right now
	// (election under way, or it is cut off from the others). The operation
	// was not applied.
	ErrNoLeader = errors.New("raftnode: no leader")
	// ErrNotLeader means a leader-only operation reached a follower. It was not
	// applied.
	ErrNotLeader = errors.New("raftnode: not the leader")
	// ErrNoQuorum means this member leads but has not heard from a quorum lately
	// (it is likely cut off and about to step down), so it refused to propose
	// the command. The command was not applied.
	ErrNoQuorum = errors.New("raftnode: leader cannot reach a quorum")
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

// StatusRules map this package's errors to rpcerr reasons. Every Raft daemon's
// mapper lists them (after its own) so that group errors read the same from every
// daemon: ErrUnknownOutcome comes first, since an unknown outcome may wrap
// ErrShutdown or ErrNoLeader as its cause.
var StatusRules = []rpcerr.Rule{
	{Err: ErrUnknownOutcome, Reason: rpcerr.OutcomeUnknown},
	{Err: ErrNoQuorum, Reason: rpcerr.NoQuorum},
	{Err: ErrNotLeader, Reason: rpcerr.NotLeader},
	{Err: ErrNoLeader, Reason: rpcerr.NoLeader},
	{Err: ErrShutdown, Reason: rpcerr.ShuttingDown},
	{Err: ErrUnknownMember, Reason: rpcerr.UnknownMember},
	{Err: ErrInvalidArgument, Reason: rpcerr.InvalidArgument},
}

// notLeader returns ErrNotLeader annotated with the leader this node knows of,
// so that the status tells clients where to go.
func (n *Node) notLeader() error {
	id, addr := n.Leader()
	if id == "" {
		return ErrNotLeader
	}
	return rpcerr.WithMetadata(fmt.Errorf("%w (the leader is %s at %s)", ErrNotLeader, id, addr),
		rpcerr.KeyLeader, id, rpcerr.KeyLeaderAddr, addr)
}
