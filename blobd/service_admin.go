package blobd

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	"cairn.dev/cairn/node/raftnode"
	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
)

// adminService serves cairn.blobd.v1.AdminService.
type adminService struct {
	blobdv1.UnimplementedAdminServiceServer
	s *Server
}

func validateCreateAccessKey(req *blobdv1.CreateAccessKeyRequest) error {
	if p := req.GetPrincipal(); p == "" || len(p) > 256 {
		return invalid("principal", "must be 1 to 256 bytes, got %d", len(p))
	}
	return nil
}

func (h *adminService) CreateAccessKey(ctx context.Context, req *blobdv1.CreateAccessKeyRequest) (*blobdv1.CreateAccessKeyResponse, error) {
	if err := validateCreateAccessKey(req); err != nil {
		return nil, toStatus(err)
	}
	k, err := h.s.CreateAccessKey(ctx, req.GetPrincipal())
	if err != nil {
		return nil, toStatus(err)
	}
	return &blobdv1.CreateAccessKeyResponse{Header: h.s.header(0), AccessKey: accessKeyProto(k)}, nil
}

func (h *adminService) ListAccessKeys(ctx context.Context, _ *blobdv1.ListAccessKeysRequest) (*blobdv1.ListAccessKeysResponse, error) {
	ks, err := h.s.AccessKeys(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	out := make([]*blobdv1.AccessKey, len(ks))
	for i, k := range ks {
		out[i] = accessKeyProto(k)
	}
	return &blobdv1.ListAccessKeysResponse{Header: h.s.header(0), AccessKeys: out}, nil
}

func (h *adminService) DeleteAccessKey(ctx context.Context, req *blobdv1.DeleteAccessKeyRequest) (*blobdv1.DeleteAccessKeyResponse, error) {
	if id := req.GetId(); id == "" || len(id) > 128 {
		return nil, toStatus(invalid("id", "must be 1 to 128 characters, got %d", len(id)))
	}
	if err := h.s.DeleteAccessKey(ctx, req.GetId()); err != nil {
		return nil, toStatus(err)
	}
	return &blobdv1.DeleteAccessKeyResponse{Header: h.s.header(0)}, nil
}

// ListServers reads the metadata after the read barrier.
func (h *adminService) ListServers(ctx context.Context, _ *blobdv1.ListServersRequest) (*blobdv1.ListServersResponse, error) {
	if err := h.s.barrier(ctx); err != nil {
		return nil, toStatus(err)
	}
	applied := h.s.meta.LastApplied()
	rs, err := h.s.meta.Servers()
	if err != nil {
		return nil, toStatus(err)
	}
	out := make([]*blobdv1.Server, len(rs))
	for i, r := range rs {
		out[i] = serverProto(r)
	}
	return &blobdv1.ListServersResponse{Header: h.s.header(applied), Servers: out}, nil
}

// ListVolumes reads the metadata after the read barrier.
func (h *adminService) ListVolumes(ctx context.Context, _ *blobdv1.ListVolumesRequest) (*blobdv1.ListVolumesResponse, error) {
	if err := h.s.barrier(ctx); err != nil {
		return nil, toStatus(err)
	}
	applied := h.s.meta.LastApplied()
	vs, err := h.s.meta.Volumes()
	if err != nil {
		return nil, toStatus(err)
	}
	out := make([]*blobdv1.Volume, len(vs))
	for i, v := range vs {
		out[i] = volumeProto(v)
	}
	return &blobdv1.ListVolumesResponse{Header: h.s.header(applied), Volumes: out}, nil
}

func (h *adminService) RepairStatus(ctx context.Context, _ *blobdv1.RepairStatusRequest) (*blobdv1.RepairStatusResponse, error) {
	st, err := h.s.Repair(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return repairStatusProto(h.s.header(0), st), nil
}

func repairStatusProto(hdr *blobdv1.ResponseHeader, st *RepairStatus) *blobdv1.RepairStatusResponse {
	resp := &blobdv1.RepairStatusResponse{
		Header: hdr, Healthy: st.Healthy, Volumes: int32(st.Volumes), Degraded: int32(st.Degraded), Repairing: int32(st.Repairing),
		BytesToCopy: st.BytesToCopy, BytesCopied: st.BytesCopied, CorruptFound: st.CorruptFound,
	}
	for _, r := range st.Servers {
		resp.Servers = append(resp.Servers, serverProto(r))
	}
	if !st.LastScrub.IsZero() {
		resp.LastScrub = timestamppb.New(st.LastScrub)
	}
	return resp
}

// clusterService serves cairn.blobd.v1.ClusterService: the harness's role
// probe and the Go client's leader lookup.
type clusterService struct {
	blobdv1.UnimplementedClusterServiceServer
	s *Server
}

// Status reports this node's view of the group, answered locally (no barrier).
func (c *clusterService) Status(_ context.Context, _ *blobdv1.StatusRequest) (*blobdv1.StatusResponse, error) {
	st := c.s.node.Status()
	return &blobdv1.StatusResponse{
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
		S3Addr:        c.s.cfg.S3Addr,
	}, nil
}
