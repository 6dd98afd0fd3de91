package edge

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"cairn.dev/cairn/gatewayd/edge/purge"
	"cairn.dev/cairn/node/rpcerr"
	edgev1 "cairn.dev/cairn/proto/cairn/edge/v1"
)

// maxPurgeWait bounds how long PurgeAll waits for the edges without a
// deadline of its own.
const maxPurgeWait = 30 * time.Second

// adminService implements cairn.edge.v1.EdgeService.
type adminService struct {
	edgev1.UnimplementedEdgeServiceServer
	s *Server
}

func (a *adminService) GetStats(context.Context, *edgev1.GetStatsRequest) (*edgev1.GetStatsResponse, error) {
	return a.s.Stats(), nil
}

// Stats returns the node's counters.
func (s *Server) Stats() *edgev1.GetStatsResponse {
	cs := s.cache.Stats()
	var last int64
	if s.purges != nil {
		last = s.purges.LastApplied()
	}
	return &edgev1.GetStatsResponse{
		Node:          s.cfg.ID,
		Region:        s.cfg.Region,
		Requests:      s.stats.requests.Load(),
		Hits:          cs.Hits,
		Misses:        cs.Misses,
		StaleServed:   cs.StaleServed,
		Revalidated:   cs.Revalidated,
		Passes:        cs.Passes,
		HitRatio:      cs.HitRatio,
		BytesServed:   cs.BytesServed,
		OriginFetches: s.stats.originFetches.Load(),
		ShieldFetches: s.stats.shieldFetches.Load(),
		Coalesced:     cs.Coalesced,
		Objects:       cs.Objects,
		MemoryBytes:   cs.MemoryBytes,
		DiskBytes:     cs.DiskBytes,
		Evictions:     cs.Evictions,
		PurgesApplied: s.stats.purgesApplied.Load(),
		LastPurge:     last,
		UnderAttack:   s.policy.underAttack(),
		Uptime:        durationpb.New(time.Since(s.started)),
	}
}

func (a *adminService) Inspect(_ context.Context, req *edgev1.InspectRequest) (*edgev1.InspectResponse, error) {
	if req.GetUrl() == "" {
		return nil, toStatus(rpcerr.WithMetadata(fmt.Errorf("%w: url must be set", ErrInvalidArgument), rpcerr.KeyField, "url"))
	}
	key := purgeKey(req.GetUrl())
	resp := &edgev1.InspectResponse{Node: a.s.cfg.ID, Key: key}
	for _, v := range a.s.cache.Inspect(key) {
		resp.Variants = append(resp.Variants, &edgev1.Variant{
			Vary:         v.Vary,
			Status:       int32(v.Status),
			Size:         v.Size,
			Age:          durationpb.New(v.Age),
			Ttl:          durationpb.New(v.TTL),
			Stored:       timestamppb.New(v.Stored),
			Etag:         v.ETag,
			LastModified: v.LastModified,
			Tags:         v.Tags,
			Tier:         v.Tier,
			SoftPurged:   v.SoftPurged,
			Headers:      v.Headers,
		})
	}
	return resp, nil
}

func (a *adminService) Purge(_ context.Context, req *edgev1.PurgeRequest) (*edgev1.PurgeResponse, error) {
	spec, err := specOf(req.GetSpec())
	if err != nil {
		return nil, err
	}
	n := a.s.applyPurge(purge.Record{Spec: spec})
	return &edgev1.PurgeResponse{Removed: n}, nil
}

func (a *adminService) PurgeAll(ctx context.Context, req *edgev1.PurgeAllRequest) (*edgev1.PurgeAllResponse, error) {
	spec, err := specOf(req.GetSpec())
	if err != nil {
		return nil, err
	}
	if a.s.kv == nil {
		return nil, toStatus(ErrNoRegistry)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, maxPurgeWait)
		defer cancel()
	}
	rec, err := purge.Publish(ctx, a.s.kv, a.s.cfg.PurgePrefix, spec, a.s.cfg.ID)
	if err != nil {
		return nil, toStatus(err)
	}
	res, err := purge.Wait(ctx, a.s.kv, a.s.cfg.PurgePrefix, rec.Seq)
	resp := &edgev1.PurgeAllResponse{Seq: rec.Seq, Applied: res.Applied, Pending: res.Pending, Removed: res.Removed}
	if err != nil && len(res.Pending) == 0 {
		return nil, toStatus(err)
	}
	return resp, nil
}

// specOf validates a purge spec of the API.
func specOf(p *edgev1.PurgeSpec) (purge.Spec, error) {
	spec := purge.Spec{URL: p.GetUrl(), Prefix: p.GetPrefix(), Tag: p.GetTag(), Soft: p.GetSoft()}
	if err := spec.Validate(); err != nil {
		return spec, toStatus(rpcerr.WithMetadata(fmt.Errorf("%w: spec: %v", ErrInvalidArgument, err), rpcerr.KeyField, "spec"))
	}
	return spec, nil
}

// applyPurge applies one purge to this node's cache and returns how many
// entries it removed (or marked stale).
func (s *Server) applyPurge(rec purge.Record) int64 {
	if rec.Seq > 0 {
		storeMax(&s.purgeSeqApplying, rec.Seq)
		defer storeMax(&s.purgeSeqDone, rec.Seq)
	}
	var n int
	switch sp := rec.Spec; {
	case sp.URL != "":
		key := purgeKey(sp.URL)
		n = s.cache.PurgeKey(key, sp.Soft) + s.cache.PurgePrefix(key+"\x00", sp.Soft)
	case sp.Prefix != "":
		n = s.cache.PurgePrefix(purgeKey(sp.Prefix), sp.Soft)
	case sp.Tag != "":
		n = s.cache.PurgeTag(sp.Tag, sp.Soft)
	}
	s.stats.purgesApplied.Add(1)
	s.logger.Info("purge applied", "seq", rec.Seq, "url", rec.Spec.URL, "prefix", rec.Spec.Prefix, "tag", rec.Spec.Tag, "soft", rec.Spec.Soft, "removed", n)
	return int64(n)
}

// storeMax raises v to n unless it is already higher.
func storeMax(v *atomic.Int64, n int64) {
	for {
		old := v.Load()
		if old >= n || v.CompareAndSwap(old, n) {
			return
		}
	}
}
