package raftkv

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/raftnode"
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
	res, err := s.propose(ctx, &raftkvv1.Command{Op: &raftkvv1.Command_LeaseGrant{LeaseGrant: req}})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := res.GetLeaseGrant()
	resp.Header = s.fillHeader(resp.GetHeader())
	return resp, nil
}

func (l *leaseService) LeaseRevoke(ctx context.Context, req *raftkvv1.LeaseRevokeRequest) (*raftkvv1.LeaseRevokeResponse, error) {
	s := l.s
	res, err := s.propose(ctx, &raftkvv1.Command{Op: &raftkvv1.Command_LeaseRevoke{LeaseRevoke: req}})
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
// the leader, request by request, re-dialling when leadership moves.
func (l *leaseService) LeaseKeepAlive(stream raftkvv1.LeaseService_LeaseKeepAliveServer) error {
	s := l.s
	var upstream raftkvv1.LeaseService_LeaseKeepAliveClient
	var cancelUp context.CancelFunc
	defer func() {
		if cancelUp != nil {
			cancelUp()
		}
	}()
	// Receive on a goroutine so that the handler also ends when the server stops:
	// a graceful stop must not wait for clients to close their keep-alive streams.
	type recv struct {
		req *raftkvv1.LeaseKeepAliveRequest
		err error
	}
	reqs := make(chan recv, 1)
	go func() {
		for {
			req, err := stream.Recv()
			select {
			case reqs <- recv{req, err}:
			case <-stream.Context().Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for {
		var r recv
		select {
		case r = <-reqs:
		case <-s.stop:
			return toStatus(ErrShuttingDown)
		case <-stream.Context().Done():
			return stream.Context().Err()
		}
		req, err := r.req, r.err
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		ttl, isLeader, err := s.lessor.renew(req.GetId())
		if isLeader {
			if err != nil {
				return toStatus(err)
			}
			if err := stream.Send(&raftkvv1.LeaseKeepAliveResponse{Header: s.header(0), Id: req.GetId(), Ttl: ttl}); err != nil {
				return err
			}
			continue
		}
		// Relay to the leader.
		resp, err := func() (*raftkvv1.LeaseKeepAliveResponse, error) {
			if upstream == nil {
				conn, err := s.node.LeaderConn()
				if err != nil {
					return nil, err
				}
				var uctx context.Context
				uctx, cancelUp = context.WithCancel(stream.Context())
				upstream, err = raftkvv1.NewLeaseServiceClient(conn).LeaseKeepAlive(uctx)
				if err != nil {
					return nil, err
				}
			}
			if err := upstream.Send(req); err != nil {
				return nil, err
			}
			return upstream.Recv()
		}()
		if err != nil {
			if cancelUp != nil {
				cancelUp()
				cancelUp, upstream = nil, nil
			}
			if st, ok := status.FromError(err); ok && st.Code() == codes.NotFound {
				return err
			}
			if errors.Is(err, raftnode.ErrNoLeader) || errors.Is(err, raftnode.ErrNotLeader) {
				return toStatus(err)
			}
			return toStatus(fmt.Errorf("%w: raftkv: relaying keep-alive to the leader: %v", raftnode.ErrNoLeader, err))
		}
		resp.Header = s.header(0)
		if err := stream.Send(resp); err != nil {
			return err
		}
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
