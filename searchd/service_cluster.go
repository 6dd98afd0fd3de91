package searchd

import (
	"context"

	"cairn.dev/cairn/node/raftnode"
	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
)

// clusterService serves cairn.searchd.v1.ClusterService.
type clusterService struct {
	searchdv1.UnimplementedClusterServiceServer
	s *Server
}

// Status reports this node's view of the group, answered locally.
func (c *clusterService) Status(context.Context, *searchdv1.StatusRequest) (*searchdv1.StatusResponse, error) {
	st := c.s.node.Status()
	return &searchdv1.StatusResponse{
		Header: c.s.header(), LeaderId: st.LeaderID, LeaderAddress: st.LeaderAddr, State: st.State,
		RaftTerm: st.Term, LastIndex: st.LastIndex, CommitIndex: st.CommitIndex, AppliedIndex: st.AppliedIndex,
		Members: raftnode.MembersProto(st.Members), Version: Version, HttpAddr: c.s.HTTPAddr(),
	}, nil
}

// ListNodes lists the members, with liveness as the leader sees it (the
// call is answered by the leader when this node does not lead).
func (c *clusterService) ListNodes(ctx context.Context, req *searchdv1.ListNodesRequest) (*searchdv1.ListNodesResponse, error) {
	if !c.s.node.IsLeader() {
		if conn, err := c.s.node.LeaderConn(); err == nil {
			if resp, err := searchdv1.NewClusterServiceClient(conn).ListNodes(ctx, req); err == nil {
				return resp, nil
			}
		}
	}
	return &searchdv1.ListNodesResponse{Header: c.s.header(), Nodes: c.s.nodeInfos()}, nil
}
