package raftkv

import (
	"context"
	"errors"
	"io"
	"os"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

type clusterService struct {
	raftkvv1.UnimplementedClusterServiceServer
	s *Server
}

func (c *clusterService) members() ([]*raftkvv1.Member, error) {
	ms, err := c.s.node.Members()
	if err != nil {
		return nil, err
	}
	out := make([]*raftkvv1.Member, 0, len(ms))
	for _, m := range ms {
		out = append(out, &raftkvv1.Member{Id: m.ID, Address: m.Addr, IsLearner: m.Learner})
	}
	return out, nil
}

func (c *clusterService) MemberList(ctx context.Context, _ *raftkvv1.MemberListRequest) (*raftkvv1.MemberListResponse, error) {
	ms, err := c.members()
	if err != nil {
		return nil, toStatus(err)
	}
	leader, _ := c.s.node.Leader()
	return &raftkvv1.MemberListResponse{Header: c.s.header(0), Members: ms, LeaderId: leader}, nil
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

func (c *clusterService) MemberAdd(ctx context.Context, req *raftkvv1.MemberAddRequest) (*raftkvv1.MemberAddResponse, error) {
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
	return &raftkvv1.MemberAddResponse{Header: c.s.header(0), Members: ms}, nil
}

func (c *clusterService) MemberRemove(ctx context.Context, req *raftkvv1.MemberRemoveRequest) (*raftkvv1.MemberRemoveResponse, error) {
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
	return &raftkvv1.MemberRemoveResponse{Header: c.s.header(0), Members: ms}, nil
}

func (c *clusterService) MemberPromote(ctx context.Context, req *raftkvv1.MemberPromoteRequest) (*raftkvv1.MemberPromoteResponse, error) {
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
	return &raftkvv1.MemberPromoteResponse{Header: c.s.header(0), Members: ms}, nil
}

func (c *clusterService) Status(ctx context.Context, _ *raftkvv1.StatusRequest) (*raftkvv1.StatusResponse, error) {
	st := c.s.node.Status()
	resp := &raftkvv1.StatusResponse{
		Header:          c.s.header(0),
		LeaderId:        st.LeaderID,
		LeaderAddress:   st.LeaderAddr,
		State:           st.State,
		RaftTerm:        st.Term,
		LastIndex:       st.LastIndex,
		CommitIndex:     st.CommitIndex,
		AppliedIndex:    st.AppliedIndex,
		DbSize:          c.s.store.Size(),
		CompactRevision: c.s.store.CompactRevision(),
		Version:         Version,
	}
	for _, m := range st.Members {
		resp.Members = append(resp.Members, &raftkvv1.Member{Id: m.ID, Address: m.Addr, IsLearner: m.Learner})
	}
	return resp, nil
}

func (c *clusterService) TransferLeadership(ctx context.Context, req *raftkvv1.TransferLeadershipRequest) (*raftkvv1.TransferLeadershipResponse, error) {
	if err := c.s.node.TransferLeadership(ctx, req.GetTargetId()); err != nil {
		return nil, toStatus(err)
	}
	return &raftkvv1.TransferLeadershipResponse{Header: c.s.header(0)}, nil
}

// snapshotChunk is the size of each Snapshot stream message.
const snapshotChunk = 256 << 10

// Snapshot streams a consistent copy of this member's database, taken after a
// linearizable read barrier. It is spooled to a
// temporary file first so that the size is known and a slow reader does not hold
// a database transaction open.
func (c *clusterService) Snapshot(_ *raftkvv1.SnapshotRequest, stream raftkvv1.ClusterService_SnapshotServer) error {
	// A backup holds every write acknowledged before it was asked for, even when
	// this member lags the leader.
	if err := c.s.barrier(stream.Context(), raftkvv1.Consistency_CONSISTENCY_LINEARIZABLE); err != nil {
		return toStatus(err)
	}
	f, err := os.CreateTemp(c.s.cfg.DataDir, "backup-*.db")
	if err != nil {
		return toStatus(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := c.s.store.Snapshot(f); err != nil {
		return toStatus(err)
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return toStatus(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return toStatus(err)
	}
	buf := make([]byte, snapshotChunk)
	var sent int64
	for {
		n, err := io.ReadFull(f, buf)
		if n > 0 {
			sent += int64(n)
			if err := stream.Send(&raftkvv1.SnapshotResponse{Blob: buf[:n], RemainingBytes: size - sent}); err != nil {
				return err
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return toStatus(err)
		}
	}
}
