package lockd

import (
	"context"

	"cairn.dev/cairn/node/raftnode"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

type clusterService struct {
	lockdv1.UnimplementedClusterServiceServer
	s *Server
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
	resp.Members = raftnode.MembersProto(st.Members)
	return resp, nil
}
