package lockd

import (
	"context"

	lockdraftv1 "cairn.dev/cairn/proto/cairn/lockd/raft/v1"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// electionService handlers validate, call the domain, and translate the error.
type electionService struct {
	lockdv1.UnimplementedElectionServiceServer
	s *Server
}

func (h *electionService) Campaign(ctx context.Context, req *lockdv1.CampaignRequest) (*lockdv1.CampaignResponse, error) {
	s := h.s
	if err := s.limits.validateCampaign(req.GetSessionId(), req.GetElection(), req.GetValue()); err != nil {
		return nil, toStatus(err)
	}
	op := &lockdraftv1.AcquireOp{
		Kind: lockdv1.ResourceKind_RESOURCE_KIND_ELECTION, SessionId: req.GetSessionId(), Name: req.GetElection(),
		Owner: req.GetValue(), Wait: true,
	}
	grant, _, err := s.acquire(ctx, op)
	if err != nil {
		return nil, toStatus(err)
	}
	return &lockdv1.CampaignResponse{Header: s.header(grant.GetToken()), Leader: &lockdv1.LeaderInfo{
		Election: req.GetElection(), SessionId: grant.GetSessionId(), Value: grant.GetOwner(), Token: grant.GetToken(), Since: grant.GetSince(),
	}}, nil
}

func (h *electionService) Proclaim(ctx context.Context, req *lockdv1.ProclaimRequest) (*lockdv1.ProclaimResponse, error) {
	s := h.s
	if err := s.limits.validateCampaign(req.GetSessionId(), req.GetElection(), req.GetValue()); err != nil {
		return nil, toStatus(err)
	}
	res, err := s.propose(ctx, &lockdraftv1.Command{Op: &lockdraftv1.Command_Proclaim{Proclaim: &lockdraftv1.ProclaimOp{
		SessionId: req.GetSessionId(), Election: req.GetElection(), Value: req.GetValue(),
	}}})
	if err != nil {
		return nil, toStatus(err)
	}
	g := res.GetHolder()
	return &lockdv1.ProclaimResponse{Header: s.header(res.GetIndex()), Leader: &lockdv1.LeaderInfo{
		Election: req.GetElection(), SessionId: g.GetSessionId(), Value: g.GetOwner(), Token: g.GetToken(), Since: g.GetSince(),
	}}, nil
}

func (h *electionService) Resign(ctx context.Context, req *lockdv1.ResignRequest) (*lockdv1.ResignResponse, error) {
	s := h.s
	if err := s.limits.validateRelease(req.GetSessionId(), "election", req.GetElection()); err != nil {
		return nil, toStatus(err)
	}
	res, err := s.propose(ctx, &lockdraftv1.Command{Op: &lockdraftv1.Command_Release{Release: &lockdraftv1.ReleaseOp{
		Kind: lockdv1.ResourceKind_RESOURCE_KIND_ELECTION, SessionId: req.GetSessionId(), Name: req.GetElection(),
	}}})
	if err != nil {
		return nil, toStatus(err)
	}
	return &lockdv1.ResignResponse{Header: s.header(res.GetIndex())}, nil
}

func (h *electionService) Leader(ctx context.Context, req *lockdv1.LeaderRequest) (*lockdv1.LeaderResponse, error) {
	s := h.s
	if err := s.limits.name("election", req.GetElection()); err != nil {
		return nil, toStatus(err)
	}
	if err := s.barrier(ctx); err != nil {
		return nil, toStatus(err)
	}
	resp := &lockdv1.LeaderResponse{}
	var applied uint64
	s.m.view(func(st *state) {
		resp.Leader = leaderInfo(req.GetElection(), st.Resources[resKey{lockdv1.ResourceKind_RESOURCE_KIND_ELECTION, req.GetElection()}])
		applied = st.Applied
	})
	resp.Header = s.header(applied)
	return resp, nil
}

// Observe sends the current leadership after a read barrier, then every change
// this node applies, in log order. A reader that falls more than observerBuffer
// changes behind is cut off with ABORTED rather than silently skipping changes.
func (h *electionService) Observe(req *lockdv1.ObserveRequest, stream lockdv1.ElectionService_ObserveServer) error {
	s := h.s
	if err := s.limits.name("election", req.GetElection()); err != nil {
		return toStatus(err)
	}
	ctx := stream.Context()
	if err := s.barrier(ctx); err != nil {
		return toStatus(err)
	}
	o, cur, idx := s.m.subscribe(req.GetElection())
	defer s.m.unsubscribe(o)
	if err := stream.Send(&lockdv1.ObserveResponse{Header: s.header(idx), Leader: cur}); err != nil {
		return err
	}
	for {
		select {
		case ev := <-o.ch:
			if err := stream.Send(&lockdv1.ObserveResponse{Header: s.header(ev.index), Leader: ev.leader}); err != nil {
				return err
			}
		case <-o.lagged:
			// Deliver what was buffered before the overflow, then end the stream.
			for {
				select {
				case ev := <-o.ch:
					if err := stream.Send(&lockdv1.ObserveResponse{Header: s.header(ev.index), Leader: ev.leader}); err != nil {
						return err
					}
				default:
					return toStatus(ErrObserverLagged)
				}
			}
		case <-s.stopping():
			return toStatus(ErrShuttingDown)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
