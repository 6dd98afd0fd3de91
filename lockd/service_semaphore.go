package lockd

import (
	"context"

	lockdraftv1 "cairn.dev/cairn/proto/cairn/lockd/raft/v1"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// semaphoreService handlers validate, call the domain, and translate the error.
type semaphoreService struct {
	lockdv1.UnimplementedSemaphoreServiceServer
	s *Server
}

func semaphoreInfo(name string, r *resource) *lockdv1.SemaphoreInfo {
	info := &lockdv1.SemaphoreInfo{Name: name}
	if r != nil {
		info.Permits = r.Permits
		info.Holders = holdersProto(r.Holders)
		info.Waiters = waitersProto(r.Waiters)
	}
	return info
}

func (h *semaphoreService) SemaphoreAcquire(ctx context.Context, req *lockdv1.SemaphoreAcquireRequest) (*lockdv1.SemaphoreAcquireResponse, error) {
	s := h.s
	if err := s.limits.validateSemaphoreAcquire(req); err != nil {
		return nil, toStatus(err)
	}
	op := &lockdraftv1.AcquireOp{
		Kind: lockdv1.ResourceKind_RESOURCE_KIND_SEMAPHORE, SessionId: req.GetSessionId(), Name: req.GetName(),
		Owner: req.GetOwner(), Wait: req.GetWait(), Permits: req.GetPermits(),
	}
	grant, res, err := s.acquire(ctx, op)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &lockdv1.SemaphoreAcquireResponse{}
	if grant != nil {
		resp.Acquired, resp.Holder = true, grant
		// A grant learned from the leader may not be applied here yet; the
		// semaphore's description below should include it. If the deadline
		// comes first the grant is still returned, with this node's view.
		if err := s.node.WaitApplied(ctx, grant.GetToken()); err != nil {
			s.logger.Debug("describing a semaphore before this node applied its grant", "err", err)
		}
	}
	s.m.view(func(st *state) {
		resp.Semaphore = semaphoreInfo(req.GetName(), st.Resources[resKey{op.Kind, op.Name}])
		if resp.Semaphore.Permits == 0 {
			resp.Semaphore.Permits = res.GetPermits()
		}
	})
	idx := res.GetIndex()
	if grant != nil {
		idx = grant.GetToken()
	}
	resp.Header = s.header(idx)
	return resp, nil
}

func (h *semaphoreService) SemaphoreRelease(ctx context.Context, req *lockdv1.SemaphoreReleaseRequest) (*lockdv1.SemaphoreReleaseResponse, error) {
	s := h.s
	if err := s.limits.validateRelease(req.GetSessionId(), "name", req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	res, err := s.propose(ctx, &lockdraftv1.Command{Op: &lockdraftv1.Command_Release{Release: &lockdraftv1.ReleaseOp{
		Kind: lockdv1.ResourceKind_RESOURCE_KIND_SEMAPHORE, SessionId: req.GetSessionId(), Name: req.GetName(),
	}}})
	if err != nil {
		return nil, toStatus(err)
	}
	return &lockdv1.SemaphoreReleaseResponse{Header: s.header(res.GetIndex())}, nil
}

func (h *semaphoreService) SemaphoreDescribe(ctx context.Context, req *lockdv1.SemaphoreDescribeRequest) (*lockdv1.SemaphoreDescribeResponse, error) {
	s := h.s
	if err := s.limits.name("name", req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	if err := s.barrier(ctx); err != nil {
		return nil, toStatus(err)
	}
	resp := &lockdv1.SemaphoreDescribeResponse{}
	var applied uint64
	s.m.view(func(st *state) {
		resp.Semaphore = semaphoreInfo(req.GetName(), st.Resources[resKey{lockdv1.ResourceKind_RESOURCE_KIND_SEMAPHORE, req.GetName()}])
		applied = st.Applied
	})
	resp.Header = s.header(applied)
	return resp, nil
}

func (h *semaphoreService) SemaphoreList(ctx context.Context, req *lockdv1.SemaphoreListRequest) (*lockdv1.SemaphoreListResponse, error) {
	s := h.s
	limit, err := s.limits.validateList(req.GetPrefix(), req.GetStartAfter(), req.GetLimit())
	if err != nil {
		return nil, toStatus(err)
	}
	if err := s.barrier(ctx); err != nil {
		return nil, toStatus(err)
	}
	resp := &lockdv1.SemaphoreListResponse{}
	var applied uint64
	s.m.view(func(st *state) {
		rs, more := st.list(lockdv1.ResourceKind_RESOURCE_KIND_SEMAPHORE, req.GetPrefix(), req.GetStartAfter(), limit)
		for _, r := range rs {
			resp.Semaphores = append(resp.Semaphores, semaphoreInfo(r.Name, r))
		}
		resp.More = more
		applied = st.Applied
	})
	resp.Header = s.header(applied)
	return resp, nil
}
