package raftkv

import (
	"context"
	"errors"

	"google.golang.org/grpc"

	"cairn.dev/cairn/node/raftnode"
	raftkvraftv1 "cairn.dev/cairn/proto/cairn/raftkv/raft/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv/mvcc"
)

type leaseService struct {
	raftkvv1.UnimplementedLeaseServiceServer
	s *Server
}

func (l *leaseService) LeaseGrant(ctx context.Context, req *raftkvv1.LeaseGrantRequest) (*raftkvv1.LeaseGrantResponse, error) {
	s := l.s
	if err := s.limits.validateLeaseTTL(req.GetTtl()); err != nil {
		return nil, toStatus(err)
	}
	if req.GetId() < 0 {
		return nil, toStatus(errors.Join(ErrInvalidArgument, errors.New("lease_grant.id must be >= 0")))
	}
	res, err := s.propose(ctx, &raftkvraftv1.Command{Op: &raftkvraftv1.Command_LeaseGrant{LeaseGrant: req}})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := res.GetLeaseGrant()
	resp.Header = s.fillHeader(resp.GetHeader())
	return resp, nil
}

func (l *leaseService) LeaseRevoke(ctx context.Context, req *raftkvv1.LeaseRevokeRequest) (*raftkvv1.LeaseRevokeResponse, error) {
	s := l.s
	res, err := s.propose(ctx, &raftkvraftv1.Command{Op: &raftkvraftv1.Command_LeaseRevoke{LeaseRevoke: req}})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := res.GetLeaseRevoke()
	if resp == nil {
		resp = &raftkvv1.LeaseRevokeResponse{}
	}
	resp.Header = s.fillHeader(resp.GetHeader())
	return resp, nil
}

// LeaseKeepAlive renews leases on the leader. On a follower the stream is relayed to
// the leader, request by request, re-dialling when leadership moves. A graceful
// stop ends the stream at once with Unavailable (see raftnode.KeepAliveRelay).
func (l *leaseService) LeaseKeepAlive(stream raftkvv1.LeaseService_LeaseKeepAliveServer) error {
	return l.s.keepAlive.Serve(stream)
}

// newKeepAliveRelay returns the relay that serves LeaseKeepAlive streams.
func (s *Server) newKeepAliveRelay() *raftnode.KeepAliveRelay[raftkvv1.LeaseKeepAliveRequest, raftkvv1.LeaseKeepAliveResponse] {
	return &raftnode.KeepAliveRelay[raftkvv1.LeaseKeepAliveRequest, raftkvv1.LeaseKeepAliveResponse]{
		Name:    "raftkv",
		Node:    s.node,
		Stop:    s.stopping(),
		StopErr: toStatus(ErrShuttingDown),
		Renew: func(_ context.Context, req *raftkvv1.LeaseKeepAliveRequest) (*raftkvv1.LeaseKeepAliveResponse, bool, error) {
			ttl, isLeader, err := s.lessor.renew(req.GetId())
			if !isLeader {
				return nil, true, nil
			}
			if err != nil {
				return nil, false, toStatus(err)
			}
			return &raftkvv1.LeaseKeepAliveResponse{Header: s.header(0), Id: req.GetId(), Ttl: ttl}, false, nil
		},
		Open: func(ctx context.Context, conn *grpc.ClientConn) (raftkvv1.LeaseService_LeaseKeepAliveClient, error) {
			return raftkvv1.NewLeaseServiceClient(conn).LeaseKeepAlive(ctx)
		},
		Relayed:  func(resp *raftkvv1.LeaseKeepAliveResponse) { resp.Header = s.header(0) },
		ToStatus: toStatus,
	}
}

func (l *leaseService) LeaseTimeToLive(ctx context.Context, req *raftkvv1.LeaseTimeToLiveRequest) (*raftkvv1.LeaseTimeToLiveResponse, error) {
	s := l.s
	left, granted, isLeader, err := s.lessor.remaining(req.GetId())
	if !isLeader {
		conn, err := s.node.LeaderConn()
		if err != nil {
			return nil, toStatus(err)
		}
		return raftkvv1.NewLeaseServiceClient(conn).LeaseTimeToLive(ctx, req)
	}
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &raftkvv1.LeaseTimeToLiveResponse{Header: s.header(0), Id: req.GetId(), Ttl: left, GrantedTtl: granted}
	if req.GetKeys() {
		_, keys, err := s.store.Lease(req.GetId())
		if err != nil && !errors.Is(err, mvcc.ErrLeaseNotFound) {
			return nil, toStatus(err)
		}
		resp.Keys = keys
	}
	return resp, nil
}

func (l *leaseService) LeaseLeases(ctx context.Context, _ *raftkvv1.LeaseLeasesRequest) (*raftkvv1.LeaseLeasesResponse, error) {
	s := l.s
	if err := s.barrier(ctx, raftkvv1.Consistency_CONSISTENCY_LINEARIZABLE); err != nil {
		return nil, toStatus(err)
	}
	resp := &raftkvv1.LeaseLeasesResponse{Header: s.header(0)}
	for _, rec := range s.store.Leases() {
		resp.Leases = append(resp.Leases, &raftkvv1.LeaseStatus{Id: rec.GetId()})
	}
	return resp, nil
}
