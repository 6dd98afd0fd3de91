package lockd

import (
	"context"
	"errors"

	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

type clusterService struct {
	lockdv1.UnimplementedClusterServiceServer
	s *Server
}

func (c *clusterService) members() ([]*lockdv1.Member, error) {
	ms, err := c.s.node.Members()
	if err != nil {
		return nil, err
	}
	out := make([]*lockdv1.Member, 0, len(ms))
	for _, m := range ms {
		out = append(out, &lockdv1.Member{Id: m.ID, Address: m.Addr, IsLearner: m.Learner})
	}
	return out, nil
}

func (c *clusterService) MemberList(ctx context.Context, _ *lockdv1.MemberListRequest) (*lockdv1.MemberListResponse, error) {
	ms, err := c.members()
	if err != nil {
		return nil, toStatus(err)
	}
	leader, _ := c.s.node.Leader()
	return &lockdv1.MemberListResponse{Header: c.s.header(0), Members: ms, LeaderId: leader}, nil
}

func checkMember(id, addr string, needAddr bool) error {
	if id == "" {
		return errors.Join(ErrInvalidArgument, errors.New("member.id must not be empty"))
	}
	if needAddr && addr == "" {
		return errors.Join(ErrInvalidArgument, errors.New("member.address must not be empty"))
	}
	return nil
}

func (c *clusterService) MemberAdd(ctx context.Context, req *lockdv1.MemberAddRequest) (*lockdv1.MemberAddResponse, error) {
	if err := checkMember(req.GetId(), req.GetAddress(), true); err != nil {
		return nil, toStatus(err)
	}
	var err error
	if req.GetIsLearner() {
		err = c.s.node.AddLearner(ctx, req.GetId(), req.GetAddress())
	} else {
		err = c.s.node.AddVoter(ctx, req.GetId(), req.GetAddress())
	}
	if err != nil {
		return nil, toStatus(err)
	}
	ms, err := c.members()
	if err != nil {
		return nil, toStatus(err)
	}
	return &lockdv1.MemberAddResponse{Header: c.s.header(0), Members: ms}, nil
}

func (c *clusterService) MemberRemove(ctx context.Context, req *lockdv1.MemberRemoveRequest) (*lockdv1.MemberRemoveResponse, error) {
	if err := checkMember(req.GetId(), "", false); err != nil {
		return nil, toStatus(err)
	}
	if err := c.s.node.RemoveMember(ctx, req.GetId()); err != nil {
		return nil, toStatus(err)
	}
	ms, err := c.members()
	if err != nil {
		return nil, toStatus(err)
	}
	return &lockdv1.MemberRemoveResponse{Header: c.s.header(0), Members: ms}, nil
}

func (c *clusterService) MemberPromote(ctx context.Context, req *lockdv1.MemberPromoteRequest) (*lockdv1.MemberPromoteResponse, error) {
	if err := checkMember(req.GetId(), "", false); err != nil {
		return nil, toStatus(err)
	}
	if err := c.s.node.Promote(ctx, req.GetId()); err != nil {
		return nil, toStatus(err)
	}
	ms, err := c.members()
	if err != nil {
		return nil, toStatus(err)
	}
	return &lockdv1.MemberPromoteResponse{Header: c.s.header(0), Members: ms}, nil
}

func (c *clusterService) Status(ctx context.Context, _ *lockdv1.StatusRequest) (*lockdv1.StatusResponse, error) {
	st := c.s.node.Status()
	resp := &lockdv1.StatusResponse{
		Header:        c.s.header(0),
		LeaderId:      st.LeaderID,
		LeaderAddress: st.LeaderAddr,
		State:         st.State,
		RaftTerm:      st.Term,
		LastIndex:     st.LastIndex,
		CommitIndex:   st.CommitIndex,
		AppliedIndex:  st.AppliedIndex,
		Version:       Version,
	}
	c.s.m.view(func(ms *state) {
		resp.Sessions = int64(len(ms.Sessions))
		resp.Locks = int64(ms.count(lockdv1.ResourceKind_RESOURCE_KIND_LOCK))
		resp.Semaphores = int64(ms.count(lockdv1.ResourceKind_RESOURCE_KIND_SEMAPHORE))
		resp.Elections = int64(ms.count(lockdv1.ResourceKind_RESOURCE_KIND_ELECTION))
	})
	for _, m := range st.Members {
		resp.Members = append(resp.Members, &lockdv1.Member{Id: m.ID, Address: m.Addr, IsLearner: m.Learner})
	}
	return resp, nil
}

func (c *clusterService) TransferLeadership(ctx context.Context, req *lockdv1.TransferLeadershipRequest) (*lockdv1.TransferLeadershipResponse, error) {
	if err := c.s.node.TransferLeadership(ctx, req.GetTargetId()); err != nil {
		return nil, toStatus(err)
	}
	return &lockdv1.TransferLeadershipResponse{Header: c.s.header(0)}, nil
}
