package queued

import (
	"context"

	"cairn.dev/cairn/node/raftnode"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

type clusterService struct {
	queuedv1.UnimplementedClusterServiceServer
	s *Server
}

// Status reports this node's view of the group, answered locally (no barrier).
func (c *clusterService) Status(_ context.Context, _ *queuedv1.StatusRequest) (*queuedv1.StatusResponse, error) {
	st := c.s.node.Status()
	queues, topics, messages := c.s.store.Counts()
	return &queuedv1.StatusResponse{
		Header:        c.s.header(0),
		LeaderId:      st.LeaderID,
		LeaderAddress: st.LeaderAddr,
		State:         st.State,
		RaftTerm:      st.Term,
		LastIndex:     st.LastIndex,
		CommitIndex:   st.CommitIndex,
		AppliedIndex:  st.AppliedIndex,
		Members:       raftnode.MembersProto(st.Members),
		Version:       Version,
		Queues:        queues,
		Topics:        topics,
		Messages:      messages,
	}, nil
}
