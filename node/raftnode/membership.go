package raftnode

import (
	"context"
	"fmt"

	"github.com/hashicorp/raft"

	raftv1 "cairn.dev/cairn/proto/cairn/raft/v1"
)

// AddVoter adds a voting member (or makes a learner a voter). Forwarded to the leader.
func (n *Node) AddVoter(ctx context.Context, id, addr string) error {
	return n.changeMembership(ctx, raftv1.MembershipOp_MEMBERSHIP_OP_ADD_VOTER, id, addr)
}

// AddLearner adds a non-voting member that receives the log but does not vote.
func (n *Node) AddLearner(ctx context.Context, id, addr string) error {
	return n.changeMembership(ctx, raftv1.MembershipOp_MEMBERSHIP_OP_ADD_LEARNER, id, addr)
}

// Promote makes a learner a voter.
func (n *Node) Promote(ctx context.Context, id string) error {
	return n.changeMembership(ctx, raftv1.MembershipOp_MEMBERSHIP_OP_PROMOTE, id, "")
}

// RemoveMember removes a member from the group.
func (n *Node) RemoveMember(ctx context.Context, id string) error {
	return n.changeMembership(ctx, raftv1.MembershipOp_MEMBERSHIP_OP_REMOVE, id, "")
}

// TransferLeadership asks the leader to hand leadership to id, or to the most
// up-to-date voter when id is empty.
func (n *Node) TransferLeadership(ctx context.Context, id string) error {
	return n.changeMembership(ctx, raftv1.MembershipOp_MEMBERSHIP_OP_TRANSFER_LEADERSHIP, id, "")
}

func (n *Node) changeMembership(ctx context.Context, op raftv1.MembershipOp, id, addr string) error {
	ctx, cancel := n.bounded(ctx)
	defer cancel()
	for {
		var err error
		if n.IsLeader() {
			err = n.changeMembershipLocal(ctx, op, id, addr)
		} else {
			var c raftv1.RaftNodeServiceClient
			c, err = n.leaderClient()
			if err == nil {
				_, err = c.ChangeMembership(ctx, &raftv1.ChangeMembershipRequest{Op: op, Id: id, Address: addr})
				if err != nil {
					err = errorFromStatus(err, true)
				}
			}
		}
		if err == nil || (!isNotLeader(err)) {
			return err
		}
		if err := n.pauseForLeader(ctx); err != nil {
			return err
		}
	}
}

func (n *Node) changeMembershipLocal(ctx context.Context, op raftv1.MembershipOp, id, addr string) error {
	timeout := n.applyTimeout(ctx)
	members, err := n.Members()
	if err != nil {
		return mapRaftError(err)
	}
	var current *Member
	for i := range members {
		if members[i].ID == id {
			current = &members[i]
		}
	}
	var f raft.Future
	switch op {
	case raftv1.MembershipOp_MEMBERSHIP_OP_ADD_VOTER:
		f = n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, timeout)
	case raftv1.MembershipOp_MEMBERSHIP_OP_ADD_LEARNER:
		f = n.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(addr), 0, timeout)
	case raftv1.MembershipOp_MEMBERSHIP_OP_PROMOTE:
		if current == nil {
			return fmt.Errorf("%w: %q", ErrUnknownMember, id)
		}
		f = n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(current.Addr), 0, timeout)
	case raftv1.MembershipOp_MEMBERSHIP_OP_REMOVE:
		if current == nil {
			return fmt.Errorf("%w: %q", ErrUnknownMember, id)
		}
		f = n.raft.RemoveServer(raft.ServerID(id), 0, timeout)
	case raftv1.MembershipOp_MEMBERSHIP_OP_TRANSFER_LEADERSHIP:
		if id == "" {
			f = n.raft.LeadershipTransfer()
		} else {
			if current == nil {
				return fmt.Errorf("%w: %q", ErrUnknownMember, id)
			}
			f = n.raft.LeadershipTransferToServer(raft.ServerID(id), raft.ServerAddress(current.Addr))
		}
	default:
		return fmt.Errorf("raftnode: unknown membership op %v", op)
	}
	if err := f.Error(); err != nil {
		return mapRaftError(err)
	}
	return nil
}
