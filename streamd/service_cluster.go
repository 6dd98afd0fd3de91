package streamd

import (
	"context"

	"cairn.dev/cairn/node/raftnode"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
)

// clusterService is cairn.streamd.v1.ClusterService.
type clusterService struct {
	streamdv1.UnimplementedClusterServiceServer
	s *Server
}

// Status reports this node's view, answered locally (no barrier).
func (cs *clusterService) Status(_ context.Context, _ *streamdv1.StatusRequest) (*streamdv1.StatusResponse, error) {
	s := cs.s
	st := s.node.Status()
	resp := &streamdv1.StatusResponse{
		Header:        s.header(),
		LeaderId:      st.LeaderID,
		LeaderAddress: st.LeaderAddr,
		State:         st.State,
		RaftTerm:      st.Term,
		LastIndex:     st.LastIndex,
		CommitIndex:   st.CommitIndex,
		AppliedIndex:  st.AppliedIndex,
		Members:       raftnode.MembersProto(st.Members),
		Version:       Version,
		Fenced:        s.fencedNode(s.cfg.ID),
	}
	if topics, err := s.meta.Topics(); err == nil {
		resp.Topics = int32(len(topics))
	}
	for _, p := range s.parts.all() {
		resp.Replicas++
		if _, leading := p.snapshot(); leading {
			resp.PartitionsLed++
		}
	}
	return resp, nil
}
