package raftnode

import (
	"context"
	"fmt"

	"google.golang.org/grpc"

	clusterv1 "cairn.dev/cairn/proto/cairn/cluster/v1"
)

// RegisterMembership adds cairn.cluster.v1.MembershipService, the client-facing
// membership and Raft status API every Raft daemon serves, to s. toStatus is
// the daemon's one error mapper: every error the service returns goes through
// it (validation errors wrap ErrInvalidArgument, unknown members
// ErrUnknownMember, and the Node's own errors are returned as they come).
func (n *Node) RegisterMembership(s grpc.ServiceRegistrar, toStatus func(error) error) {
	clusterv1.RegisterMembershipServiceServer(s, &membershipService{n: n, toStatus: toStatus})
}

// membershipService serves MembershipService for one Node.
type membershipService struct {
	clusterv1.UnimplementedMembershipServiceServer
	n        *Node
	toStatus func(error) error
}

func (m *membershipService) members() ([]*clusterv1.Member, error) {
	ms, err := m.n.Members()
	if err != nil {
		return nil, mapRaftError(err)
	}
	return MembersProto(ms), nil
}

// MembersProto converts members to their cairn.cluster.v1 form, for the
// daemons' status responses.
func MembersProto(ms []Member) []*clusterv1.Member {
	out := make([]*clusterv1.Member, 0, len(ms))
	for _, m := range ms {
		out = append(out, &clusterv1.Member{Id: m.ID, Address: m.Addr, IsLearner: m.Learner})
	}
	return out
}

// checkMember validates the member fields of a change request.
func checkMember(id, addr string, needAddr bool) error {
	if id == "" {
		return fmt.Errorf("%w: id must not be empty", ErrInvalidArgument)
	}
	if needAddr && addr == "" {
		return fmt.Errorf("%w: address must not be empty", ErrInvalidArgument)
	}
	return nil
}

// change validates, applies one membership change and returns the members
// after it.
func (m *membershipService) change(ctx context.Context, id, addr string, needAddr bool, apply func(context.Context) error) ([]*clusterv1.Member, error) {
	if err := checkMember(id, addr, needAddr); err != nil {
		return nil, m.toStatus(err)
	}
	if err := apply(ctx); err != nil {
		return nil, m.toStatus(err)
	}
	ms, err := m.members()
	if err != nil {
		return nil, m.toStatus(err)
	}
	return ms, nil
}

func (m *membershipService) MemberList(context.Context, *clusterv1.MemberListRequest) (*clusterv1.MemberListResponse, error) {
	ms, err := m.members()
	if err != nil {
		return nil, m.toStatus(err)
	}
	leader, _ := m.n.Leader()
	return &clusterv1.MemberListResponse{Members: ms, LeaderId: leader}, nil
}

func (m *membershipService) MemberAdd(ctx context.Context, req *clusterv1.MemberAddRequest) (*clusterv1.MemberAddResponse, error) {
	ms, err := m.change(ctx, req.GetId(), req.GetAddress(), true, func(ctx context.Context) error {
		if req.GetIsLearner() {
			return m.n.AddLearner(ctx, req.GetId(), req.GetAddress())
		}
		return m.n.AddVoter(ctx, req.GetId(), req.GetAddress())
	})
	if err != nil {
		return nil, err
	}
	return &clusterv1.MemberAddResponse{Members: ms}, nil
}

func (m *membershipService) MemberRemove(ctx context.Context, req *clusterv1.MemberRemoveRequest) (*clusterv1.MemberRemoveResponse, error) {
	ms, err := m.change(ctx, req.GetId(), "", false, func(ctx context.Context) error {
		return m.n.RemoveMember(ctx, req.GetId())
	})
	if err != nil {
		return nil, err
	}
	return &clusterv1.MemberRemoveResponse{Members: ms}, nil
}

func (m *membershipService) MemberPromote(ctx context.Context, req *clusterv1.MemberPromoteRequest) (*clusterv1.MemberPromoteResponse, error) {
	ms, err := m.change(ctx, req.GetId(), "", false, func(ctx context.Context) error {
		return m.n.Promote(ctx, req.GetId())
	})
	if err != nil {
		return nil, err
	}
	return &clusterv1.MemberPromoteResponse{Members: ms}, nil
}

func (m *membershipService) TransferLeadership(ctx context.Context, req *clusterv1.TransferLeadershipRequest) (*clusterv1.TransferLeadershipResponse, error) {
	if err := m.n.TransferLeadership(ctx, req.GetTargetId()); err != nil {
		return nil, m.toStatus(err)
	}
	return &clusterv1.TransferLeadershipResponse{}, nil
}

func (m *membershipService) RaftStatus(context.Context, *clusterv1.RaftStatusRequest) (*clusterv1.RaftStatusResponse, error) {
	st := m.n.Status()
	return &clusterv1.RaftStatusResponse{
		Id:            st.ID,
		State:         st.State,
		Term:          st.Term,
		LeaderId:      st.LeaderID,
		LeaderAddress: st.LeaderAddr,
		LastIndex:     st.LastIndex,
		CommitIndex:   st.CommitIndex,
		AppliedIndex:  st.AppliedIndex,
		Members:       MembersProto(st.Members),
	}, nil
}
