package blobd

// Garbage collection (every node, its own volumes, every GCInterval):
//
//   - A live local needle that no object or part references and whose id
//     was allocated more than GCGrace ago is deleted: a failed upload's
//     chunk, a needle freed while its server was unreachable, a needle a
//     replica missed the delete of. The local needle list is taken before
//     the Raft read barrier and the references read after it, so a needle
//     referenced before the pass began is always seen referenced; a needle
//     written since is not in the list. Ages are measured by the metadata's
//     clock (meta.Store.Clock, read after the barrier and before the
//     references), not this node's: every command this node proposes
//     carries GCGrace as its needle_max_age_nanos, and the state machine
//     refuses a command that would make a needle older than that by the
//     same, never decreasing, clock referenced. So a commit that arrives
//     after the references were read (a slow upload, a delayed proposal, a
//     tier move or shard rebuild) fails instead of naming a needle deleted
//     here; nothing depends on the nodes' clocks agreeing. When the clock
//     lags this node's by over max(GCInterval, GCGrace/8) (an idle group)
//     the pass first proposes a Tick, so needles still age. Every node must
//     use the same GCGrace.
//   - A volume whose deleted bytes exceed compactRatio of its size is
//     compacted.
//   - A local volume the metadata no longer lists for this server (repair
//     moved it, or it was dropped) is deleted once GC has seen it so for
//     GCGrace (a copy being received is unlisted until its swap commits).
//   - On the leader: a FULL volume no needle of which is referenced any more
//     is dropped once seen so for GCGrace, in the metadata and then on its
//     servers.

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/blobd/volume"
	blobdpeerv1 "cairn.dev/cairn/proto/cairn/blobd/peer/v1"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// gcLoop runs gcPass every GCInterval.
func (s *Server) gcLoop(ctx context.Context) {
	every(ctx, s.cfg.GCInterval, s.gcPass)
}

// gcPass collects this node's garbage once (see the top of this file).
func (s *Server) gcPass(ctx context.Context) {
	infos := s.vols.Volumes()
	live := make(map[uint32][]uint64, len(infos))
	for _, vi := range infos {
		if vi.Damaged != nil {
			continue
		}
		var nids []uint64
		_ = s.vols.Needles(vi.ID, func(n volume.NeedleInfo) bool {
			if !n.Deleted {
				nids = append(nids, n.ID)
			}
			return true
		})
		live[vi.ID] = nids
	}
	clock, err := s.gcClock(ctx)
	if err != nil {
		return
	}
	now := s.now()
	local := map[uint32]bool{}
	for _, vi := range infos {
		if ctx.Err() != nil {
			return
		}
		local[vi.ID] = true
		v, err := s.meta.Volume(vi.ID)
		if err != nil && !errors.Is(err, meta.ErrVolumeNotFound) {
			return
		}
		if err != nil || !slices.Contains(v.Servers, s.cfg.ID) {
			s.maint.mu.Lock()
			since, seen := s.maint.orphanSince[vi.ID]
			if !seen {
				s.maint.orphanSince[vi.ID] = now
			}
			s.maint.mu.Unlock()
			if seen && now.Sub(since) > s.cfg.GCGrace {
				if err := s.vols.Drop(vi.ID); err != nil && !errors.Is(err, volume.ErrVolumeNotFound) {
					s.logger.Warn("gc: drop unlisted volume", "volume", vi.ID, "err", err)
				} else {
					s.logger.Info("gc: dropped a volume no longer listed for this server", "volume", vi.ID)
				}
			}
			continue
		}
		s.maint.mu.Lock()
		delete(s.maint.orphanSince, vi.ID)
		s.maint.mu.Unlock()
		if vi.Damaged != nil {
			continue
		}
		s.gcVolume(vi.ID, live[vi.ID], clock)
	}
	s.maint.mu.Lock()
	for vid := range s.maint.orphanSince {
		if !local[vid] {
			delete(s.maint.orphanSince, vid)
		}
	}
	s.maint.mu.Unlock()
	if s.isLeader() {
		s.dropEmptyVolumes(ctx)
	}
}

// gcClock does the pass's read barrier and returns the metadata clock that
// needle ages are measured by, first advancing it with a Tick when it lags
// this node's clock by over max(GCInterval, GCGrace/8) (a failed Tick
// leaves the older, safer clock).
func (s *Server) gcClock(ctx context.Context) (time.Time, error) {
	if err := s.barrier(ctx); err != nil {
		return time.Time{}, err
	}
	clock, err := s.meta.Clock()
	if err != nil || s.now().Sub(clock) <= max(s.cfg.GCInterval, s.cfg.GCGrace/8) {
		return clock, err
	}
	if _, err := s.propose(ctx, meta.Tick()); err != nil {
		return clock, nil
	}
	if err := s.barrier(ctx); err != nil {
		return time.Time{}, err
	}
	return s.meta.Clock()
}

// gcVolume deletes the unreferenced needles among nids (live before the
// barrier) of local volume vid allocated more than GCGrace before clock
// (the metadata clock, read before the references), then compacts the
// volume if worth it.
func (s *Server) gcVolume(vid uint32, nids []uint64, clock time.Time) {
	refs := map[uint64]bool{}
	for r, err := range s.meta.NeedleRefs(vid) {
		if err != nil {
			return
		}
		refs[r.Nid] = true
	}
	deleted := 0
	for _, nid := range nids {
		if refs[nid] {
			continue
		}
		at, ok, err := s.meta.NeedleAllocatedAt(nid)
		if err != nil || !ok || clock.Sub(at) <= s.cfg.GCGrace {
			continue
		}
		if err := s.vols.Delete(vid, nid); err != nil {
			if !errors.Is(err, volume.ErrNotFound) && !errors.Is(err, volume.ErrReadOnly) {
				s.logger.Warn("gc: delete needle", "volume", vid, "needle", nid, "err", err)
			}
			continue
		}
		deleted++
	}
	if deleted > 0 {
		if err := s.vols.Sync(vid); err != nil {
			s.logger.Warn("gc: sync", "volume", vid, "err", err)
		}
		s.logger.Info("gc: deleted unreferenced needles", "volume", vid, "count", deleted)
	}
	vi, err := s.vols.Info(vid)
	if err != nil || vi.Size == 0 || float64(vi.DeletedBytes) <= compactRatio*float64(vi.Size) {
		return
	}
	if err := s.vols.Compact(vid); err != nil {
		s.logger.Warn("gc: compact", "volume", vid, "err", err)
	}
}

// dropEmptyVolumes (leader) drops FULL volumes that have had no referenced
// needle for GCGrace.
func (s *Server) dropEmptyVolumes(ctx context.Context) {
	vols, err := s.meta.Volumes()
	if err != nil {
		return
	}
	now := s.now()
	full := map[uint32]bool{}
	for _, v := range vols {
		if v.State != blobdraftv1.VolumeState_VOLUME_STATE_FULL || s.hasRefs(v.Id) {
			continue
		}
		full[v.Id] = true
		s.maint.mu.Lock()
		since, seen := s.maint.emptySince[v.Id]
		if !seen {
			s.maint.emptySince[v.Id] = now
		}
		s.maint.mu.Unlock()
		if !seen || now.Sub(since) <= s.cfg.GCGrace {
			continue
		}
		if _, err := s.propose(ctx, meta.DropVolume(v.Id)); err != nil {
			if !errors.Is(err, meta.ErrVolumeNotFound) {
				s.logger.Warn("gc: drop empty volume", "volume", v.Id, "err", err)
			}
			continue
		}
		s.logger.Info("gc: dropped an empty full volume", "volume", v.Id, "servers", v.Servers)
		var wg sync.WaitGroup
		for _, id := range v.Servers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if c, _, err := s.volumeClientOf(id); err == nil {
					_, _ = c.DropVolume(ctx, &blobdpeerv1.DropVolumeRequest{Vid: v.Id})
				}
			}()
		}
		wg.Wait()
	}
	s.maint.mu.Lock()
	for vid := range s.maint.emptySince {
		if !full[vid] {
			delete(s.maint.emptySince, vid)
		}
	}
	s.maint.mu.Unlock()
}
