package lockd

import (
	"context"
	"fmt"

	lockdraftv1 "cairn.dev/cairn/proto/cairn/lockd/raft/v1"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// acquire proposes an acquire and, when it was queued and op.Wait is set, waits
// for the grant. It returns the grant (nil if not acquired) and the result of the
// acquire entry.
func (s *Server) acquire(ctx context.Context, op *lockdraftv1.AcquireOp) (*lockdv1.Holder, *lockdraftv1.CommandResult, error) {
	k := resKey{op.GetKind(), op.GetName()}
	propose := s.propose
	if op.GetWait() {
		var queued int
		var queues bool
		s.m.view(func(st *state) {
			if r := st.Resources[k]; r != nil {
				queued = len(r.Waiters)
			}
			queues = st.wouldQueue(op)
		})
		if queued >= s.cfg.MaxWaiters {
			return nil, nil, fmt.Errorf("%w: %s %q has %d waiters, the limit (max_waiters) is %d", ErrTooMany, kindNoun(k.Kind), k.Name, queued, s.cfg.MaxWaiters)
		}
		if queues && s.node.IsLeader() {
			// It would wait anyway: let its entry go with the next release.
			propose = s.proposeParked
		}
	}
	res, err := propose(ctx, &lockdraftv1.Command{Op: &lockdraftv1.Command_Acquire{Acquire: op}})
	if err != nil {
		return nil, nil, err
	}
	if res.GetAcquired() {
		return res.GetHolder(), res, nil
	}
	if !op.GetWait() || res.GetWaitId() == 0 {
		return nil, res, nil
	}
	h, err := s.awaitGrant(ctx, k, op.GetSessionId(), res.GetWaitId())
	if err != nil {
		return nil, nil, err
	}
	return h, res, nil
}

// lockService handlers validate, call the domain, and translate the error.
type lockService struct {
	lockdv1.UnimplementedLockServiceServer
	s *Server
}

func (h *lockService) Acquire(ctx context.Context, req *lockdv1.AcquireRequest) (*lockdv1.AcquireResponse, error) {
	s := h.s
	delay, err := s.limits.validateAcquire(req)
	if err != nil {
		return nil, toStatus(err)
	}
	op := &lockdraftv1.AcquireOp{
		Kind: lockdv1.ResourceKind_RESOURCE_KIND_LOCK, SessionId: req.GetSessionId(), Name: req.GetName(),
		Owner: req.GetOwner(), Mode: req.GetMode(), Wait: req.GetWait(), LockDelayMs: delay.Milliseconds(),
	}
	grant, res, err := s.acquire(ctx, op)
	if err != nil {
		return nil, toStatus(err)
	}
	if grant != nil {
		return &lockdv1.AcquireResponse{Header: s.header(grant.GetToken()), Acquired: true, Holder: grant}, nil
	}
	return &lockdv1.AcquireResponse{Header: s.header(res.GetIndex()), Holders: res.GetHolders()}, nil
}

func (h *lockService) Release(ctx context.Context, req *lockdv1.ReleaseRequest) (*lockdv1.ReleaseResponse, error) {
	s := h.s
	if err := s.limits.validateRelease(req.GetSessionId(), "name", req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	res, err := s.propose(ctx, &lockdraftv1.Command{Op: &lockdraftv1.Command_Release{Release: &lockdraftv1.ReleaseOp{
		Kind: lockdv1.ResourceKind_RESOURCE_KIND_LOCK, SessionId: req.GetSessionId(), Name: req.GetName(),
	}}})
	if err != nil {
		return nil, toStatus(err)
	}
	return &lockdv1.ReleaseResponse{Header: s.header(res.GetIndex())}, nil
}

func lockInfo(name string, r *resource) *lockdv1.LockInfo {
	info := &lockdv1.LockInfo{Name: name}
	if r != nil {
		info.Holders = holdersProto(r.Holders)
		info.Waiters = waitersProto(r.Waiters)
		info.DelayUntil = tsProto(r.DelayUntil)
	}
	return info
}

func (h *lockService) Describe(ctx context.Context, req *lockdv1.DescribeRequest) (*lockdv1.DescribeResponse, error) {
	s := h.s
	if err := s.limits.name("name", req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	if err := s.barrier(ctx); err != nil {
		return nil, toStatus(err)
	}
	resp := &lockdv1.DescribeResponse{}
	var applied uint64
	s.m.view(func(st *state) {
		resp.Lock = lockInfo(req.GetName(), st.Resources[resKey{lockdv1.ResourceKind_RESOURCE_KIND_LOCK, req.GetName()}])
		applied = st.Applied
	})
	resp.Header = s.header(applied)
	return resp, nil
}

func (h *lockService) List(ctx context.Context, req *lockdv1.ListRequest) (*lockdv1.ListResponse, error) {
	s := h.s
	limit, err := s.limits.validateList(req.GetPrefix(), req.GetStartAfter(), req.GetLimit())
	if err != nil {
		return nil, toStatus(err)
	}
	if err := s.barrier(ctx); err != nil {
		return nil, toStatus(err)
	}
	resp := &lockdv1.ListResponse{}
	var applied uint64
	s.m.view(func(st *state) {
		rs, more := st.list(lockdv1.ResourceKind_RESOURCE_KIND_LOCK, req.GetPrefix(), req.GetStartAfter(), limit)
		for _, r := range rs {
			resp.Locks = append(resp.Locks, lockInfo(r.Name, r))
		}
		resp.More = more
		applied = st.Applied
	})
	resp.Header = s.header(applied)
	return resp, nil
}
