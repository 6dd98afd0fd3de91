package lbd

import (
	"context"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"cairn.dev/cairn/lbd/balance"
	"cairn.dev/cairn/lbd/pool"
	"cairn.dev/cairn/node/rpcerr"
	lbdv1 "cairn.dev/cairn/proto/cairn/lbd/v1"
)

// adminService is cairn.lbd.v1.LBService: validate, call the node, map the
// error.
type adminService struct {
	lbdv1.UnimplementedLBServiceServer
	s *Server
}

func (a *adminService) GetStatus(ctx context.Context, _ *lbdv1.GetStatusRequest) (*lbdv1.GetStatusResponse, error) {
	return a.s.status(), nil
}

func (a *adminService) ListPools(ctx context.Context, req *lbdv1.ListPoolsRequest) (*lbdv1.ListPoolsResponse, error) {
	pools, err := a.s.listPools(req.GetPool())
	if err != nil {
		return nil, toStatus(err)
	}
	return &lbdv1.ListPoolsResponse{Pools: pools}, nil
}

func (a *adminService) SetBackendState(ctx context.Context, req *lbdv1.SetBackendStateRequest) (*lbdv1.SetBackendStateResponse, error) {
	var st pool.AdminState
	switch req.GetState() {
	case lbdv1.AdminState_ADMIN_STATE_ENABLED:
		st = pool.AdminEnabled
	case lbdv1.AdminState_ADMIN_STATE_DRAINING:
		st = pool.AdminDraining
	case lbdv1.AdminState_ADMIN_STATE_DISABLED:
		st = pool.AdminDisabled
	default:
		return nil, toStatus(rpcerr.WithMetadata(fmt.Errorf("%w: state must be ENABLED, DRAINING or DISABLED", ErrInvalidArgument), rpcerr.KeyField, "state"))
	}
	name, b, err := a.s.setAdmin(ctx, req.GetPool(), req.GetBackend(), func(cur pool.AdminSetting) pool.AdminSetting {
		if cur.State != st {
			cur.State, cur.Since = st, time.Now()
		}
		return cur
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &lbdv1.SetBackendStateResponse{Pool: name, Backend: b}, nil
}

func (a *adminService) SetBackendWeight(ctx context.Context, req *lbdv1.SetBackendWeightRequest) (*lbdv1.SetBackendWeightResponse, error) {
	w := int(req.GetWeight())
	if w < 0 || w > balance.MaxWeight {
		return nil, toStatus(rpcerr.WithMetadata(fmt.Errorf("%w: weight %d is outside 0..%d", ErrInvalidArgument, w, balance.MaxWeight),
			rpcerr.KeyField, "weight", rpcerr.KeyLimit, fmt.Sprint(balance.MaxWeight)))
	}
	name, b, err := a.s.setAdmin(ctx, req.GetPool(), req.GetBackend(), func(cur pool.AdminSetting) pool.AdminSetting {
		cur.Weight = w
		return cur
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &lbdv1.SetBackendWeightResponse{Pool: name, Backend: b}, nil
}

// findBackend resolves (pool, backend) to the pool holding it; pool may be
// "" when the backend's name is unique.
func (s *Server) findBackend(poolName, backend string) (*pool.Pool, error) {
	if backend == "" {
		return nil, rpcerr.WithMetadata(fmt.Errorf("%w: backend is required", ErrInvalidArgument), rpcerr.KeyField, "backend")
	}
	rt := s.live.Load()
	if poolName != "" {
		lp := rt.pools[poolName]
		if lp == nil {
			return nil, fmt.Errorf("%w: %q", ErrPoolNotFound, poolName)
		}
		if !lp.l7.Has(backend) {
			return nil, fmt.Errorf("%w: pool %s has no backend %q", ErrBackendNotFound, poolName, backend)
		}
		return lp.l7.Pool, nil
	}
	var found []*pool.Pool
	for _, lp := range rt.pools {
		if lp.l7.Has(backend) {
			found = append(found, lp.l7.Pool)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%w: %q", ErrBackendNotFound, backend)
	case 1:
		return found[0], nil
	}
	names := make([]string, len(found))
	for i, p := range found {
		names[i] = p.Name()
	}
	slices.Sort(names)
	return nil, fmt.Errorf("%w: %q is in %v", ErrAmbiguousBackend, backend, names)
}

// setAdmin changes a backend's admin setting through the store.
func (s *Server) setAdmin(ctx context.Context, poolName, backend string, change func(pool.AdminSetting) pool.AdminSetting) (string, *lbdv1.Backend, error) {
	p, err := s.findBackend(poolName, backend)
	if err != nil {
		return "", nil, err
	}
	k := adminKey{pool: p.Name(), backend: backend}
	cur, ok := s.admin.all()[k]
	if !ok {
		cur = pool.AdminSetting{State: pool.AdminEnabled}
	}
	if err := s.admin.set(ctx, k, change(cur)); err != nil {
		return "", nil, err
	}
	for _, m := range p.Status() {
		if m.Name == backend {
			return p.Name(), backendProto(m), nil
		}
	}
	return p.Name(), nil, fmt.Errorf("%w: %q left pool %s", ErrBackendNotFound, backend, p.Name())
}

// status is the node's GetStatus answer.
func (s *Server) status() *lbdv1.GetStatusResponse {
	resp := &lbdv1.GetStatusResponse{Node: s.cfg.ID, Role: s.Role(), VirtualAddress: s.cfg.VIP}
	if s.elector != nil {
		leader, since := s.elector.Leader()
		resp.Active = leader
		if !since.IsZero() {
			resp.ActiveSince = timestamppb.New(since)
		}
	} else {
		resp.Active = s.cfg.ID
	}
	for _, f := range s.fronts.list() {
		active, accepted, requests, failed := f.counters()
		resp.Frontends = append(resp.Frontends, &lbdv1.Frontend{
			Name: f.spec.Name, Mode: f.spec.Mode, Address: f.addr(), Listening: f.listening.Load(),
			ActiveConnections: active, Accepted: accepted, Requests: requests, Failed: failed,
		})
	}
	return resp
}

// listPools is the ListPools answer, sorted by pool name.
func (s *Server) listPools(only string) ([]*lbdv1.Pool, error) {
	rt := s.live.Load()
	names := make([]string, 0, len(rt.pools))
	for name := range rt.pools {
		if only == "" || name == only {
			names = append(names, name)
		}
	}
	if only != "" && len(names) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrPoolNotFound, only)
	}
	slices.Sort(names)
	out := make([]*lbdv1.Pool, 0, len(names))
	for _, name := range names {
		p := rt.pools[name].l7
		spec := p.Spec()
		pp := &lbdv1.Pool{Name: name, Algorithm: spec.Algorithm, Service: spec.Service, Panic: p.Panicking()}
		for _, m := range p.Status() {
			pp.Backends = append(pp.Backends, backendProto(m))
		}
		out = append(out, pp)
	}
	return out, nil
}

func backendProto(m pool.MemberStatus) *lbdv1.Backend {
	b := &lbdv1.Backend{
		Name: m.Name, Address: m.Address, AdminState: adminProto(m.Admin),
		Healthy: m.Healthy, Health: m.Health,
		Weight: int32(m.Weight), EffectiveWeight: int32(m.EffectiveWeight),
		Active: m.Active, Total: m.Total, Failures: m.Failures, RequestsPerSecond: m.PerSecond,
		LatencyP50: durationpb.New(m.P50), LatencyP99: durationpb.New(m.P99), LatencyEwma: durationpb.New(m.EWMA),
	}
	if !m.DrainDeadline.IsZero() {
		b.DrainDeadline = timestamppb.New(m.DrainDeadline)
	}
	for _, t := range m.Transitions {
		b.Transitions = append(b.Transitions, &lbdv1.Transition{At: timestamppb.New(t.At), State: t.State, Reason: t.Reason})
	}
	return b
}

func adminProto(s pool.AdminState) lbdv1.AdminState {
	switch s {
	case pool.AdminDraining:
		return lbdv1.AdminState_ADMIN_STATE_DRAINING
	case pool.AdminDisabled:
		return lbdv1.AdminState_ADMIN_STATE_DISABLED
	}
	return lbdv1.AdminState_ADMIN_STATE_ENABLED
}
